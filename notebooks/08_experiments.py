import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import importlib.util
    import sys
    import tempfile

    import marimo as mo

    # Without the package, say what to do (not an import error, nor an offer to install a namesake from PyPI).
    mo.stop(
        importlib.util.find_spec("workbench") is None,
        mo.md(
            f"**workbench is not installed in this Python** (`{sys.executable}`). In the project folder run "
            "`make setup`, then open the notebook with `.venv/bin/marimo edit`."
        ),
    )

    from workbench.notebooks import data_choice, fitted, load_data, publish, stage, wait_for
    from workbench.tracking import track_run
    from workbench.views import (
        bandit_study,
        experiments_report,
        experiments_view,
        online_plan,
        search_plan,
        simulate_peeking,
        standard_run,
        tuned_als,
    )

    return (
        bandit_study,
        data_choice,
        experiments_report,
        experiments_view,
        fitted,
        load_data,
        mo,
        online_plan,
        publish,
        search_plan,
        simulate_peeking,
        stage,
        standard_run,
        tempfile,
        track_run,
        tuned_als,
        wait_for,
    )


@app.cell
def _(mo):
    mo.md("""
    # Tuning, A/B comparison and online experiments

    ALS hyper-parameters are tuned on a validation set carved out of the
    training data; the test set is scored once, with the winner refitted on all
    of train. Then the tuned model meets the default ALS and a popularity
    baseline in a paired per-user comparison, an online test is planned and
    replayed, and three bandit policies learn which model to serve.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)", show_value=True)
    run = mo.ui.run_button(label="Tune and compare")
    mo.hstack([dataset, k, run], justify="start")
    return dataset, k, run


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, mo, search_plan):
    search = search_plan(ds)
    n_trials = mo.ui.slider(
        4, 60, step=1, value=search.n_trials, label="tuning trials (default by data size)", show_value=True
    )
    n_trials
    return n_trials, search


@app.cell
def _(ds, fitted, k, mo, run, stage, standard_run, wait_for):
    wait_for(run, "Press **Tune and compare** to run the search.")
    stage("splitting, fitting the baselines")
    base = standard_run(ds, k=k.value, fit=fitted)
    mo.md(f"Baselines fitted on a {base.describe()}.")
    return (base,)


@app.cell
def _(base, mo, n_trials, run, search, stage, tuned_als, wait_for):
    # the trials slider starts a new search only when the button is pressed
    wait_for(run, "Press **Tune and compare** to run the search with the new number of trials.")
    stage(f"tuning ALS: {n_trials.value} trials on a validation split of train")
    with mo.status.spinner(title=f"Tuning ALS: {n_trials.value} trials"):
        tuned = tuned_als(base, n_trials=n_trials.value, plan=search)
    return (tuned,)


@app.cell
def _(base, experiments_view, search, stage, tuned):
    stage("scoring the test set")
    view = experiments_view(base, tuned, plan=search)
    view.section("setup")
    return (view,)


@app.cell
def _(view):
    view.section("tuning")
    return


@app.cell
def _(view):
    view.section("scores")
    return


@app.cell
def _(view):
    view.section("ab")
    return


@app.cell
def _(mo):
    baseline = mo.ui.slider(0.01, 0.5, step=0.01, value=0.1, label="baseline conversion rate", show_value=True)
    lift = mo.ui.slider(0.02, 0.5, step=0.01, value=0.1, label="relative lift to detect", show_value=True)
    target_power = mo.ui.slider(0.5, 0.95, step=0.05, value=0.8, label="power", show_value=True)
    n_per_arm = mo.ui.slider(500, 50_000, step=500, value=5_000, label="users per arm", show_value=True)
    mo.vstack([baseline, lift, target_power, n_per_arm])
    return baseline, lift, n_per_arm, target_power


@app.cell
def _(baseline, lift, n_per_arm, online_plan, target_power, view):
    plan = online_plan(baseline.value, lift.value, target_power=target_power.value, n_per_arm=n_per_arm.value)
    view.online_section(plan)
    return (plan,)


@app.cell
def _(simulate_peeking, stage):
    stage("simulating peeking")
    peeking = simulate_peeking()
    return (peeking,)


@app.cell
def _(peeking, view):
    view.peeking_section(peeking)
    return


@app.cell
def _(mo):
    n_steps = mo.ui.slider(1_000, 20_000, step=1_000, value=5_000, label="users served", show_value=True)
    n_steps
    return (n_steps,)


@app.cell
def _(bandit_study, n_steps, stage, view):
    stage("replaying bandit policies")
    bandits = bandit_study(view, n_steps=n_steps.value)
    view.bandits_section(bandits)
    return (bandits,)


@app.cell
def _(mo):
    track = mo.ui.checkbox(value=False, label="log the tuned run to MLflow (./mlruns)")
    track
    return (track,)


@app.cell
def _(dataset, mo, tempfile, track, track_run, view):
    run_id = None
    if track.value:
        with tempfile.TemporaryDirectory() as _tmp:
            run_id = track_run(
                f"08_experiments {dataset.value}",
                params={**view.tuned.best_params, "k": view.run.k, "dataset": dataset.value},
                metrics={f"test_{name}": value for name, value in view.tuned.test_metrics.items()},
                charts={"history": view.history, "importance": view.importance},
                model_dir=view.tuned.model.save(f"{_tmp}/model"),
            )
    _off = "MLflow is not installed: `pip install 'workbench[tracking]'`." if track.value else "Tracking is off."
    mo.md(f"Logged MLflow run `{run_id}` in ./mlruns." if run_id else _off)
    return


@app.cell
def _(bandits, dataset, experiments_report, peeking, plan, publish, stage, view):
    stage("writing report")
    headline = view.headline
    report = experiments_report(view, plan, peeking, bandits, dataset.value)
    publish(report, "08_experiments", headline)
    return


if __name__ == "__main__":
    app.run()
