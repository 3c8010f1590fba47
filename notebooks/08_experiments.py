import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import tempfile

    import marimo as mo
    import pandas as pd

    from workbench.analysis.bandits import bandit_chart, rewards_table, simulate_bandits
    from workbench.analysis.experiment import (
        compare,
        compare_many,
        peeking_chart,
        peeking_curve,
        power,
        sample_size,
        simulate_conversions,
    )
    from workbench.data import load_dataset
    from workbench.data.split import stratified_split
    from workbench.evaluation import evaluate_per_user, summarize
    from workbench.models import ALSRecommender, PopularityRecommender
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report
    from workbench.report.render import format_value
    from workbench.tracking import track_run
    from workbench.tuning import history_chart, importance_chart, tune_and_test

    return (
        data_choice,
        ALSRecommender,
        PopularityRecommender,
        Report,
        bandit_chart,
        compare,
        compare_many,
        evaluate_per_user,
        summarize,
        format_value,
        history_chart,
        importance_chart,
        load_dataset,
        mo,
        pd,
        peeking_chart,
        peeking_curve,
        power,
        publish,
        rewards_table,
        sample_size,
        simulate_bandits,
        simulate_conversions,
        stage,
        stratified_split,
        tempfile,
        track_run,
        tune_and_test,
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
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)")
    run = mo.ui.run_button(label="Tune and compare")
    mo.hstack([dataset, k, run], justify="start")
    return dataset, k, run


@app.cell
def _(dataset, load_dataset, stage):
    stage("loading data")
    ds = load_dataset(dataset.value)
    return (ds,)


@app.cell
def _(ds, mo):
    _default_trials = 8 if len(ds) < 20_000 else 20
    n_trials = mo.ui.slider(4, 60, step=1, value=_default_trials, label="tuning trials (default by data size)")
    n_trials
    return (n_trials,)


@app.cell
def _(ds, stage, stratified_split):
    stage("splitting 75/25 per user")
    train, test = stratified_split(ds, ratio=0.75, seed=42)
    test_users = test.interactions["user_id"].unique()
    return test, test_users, train


@app.cell
def _(k, mo, n_trials, run, stage, test, train, tune_and_test):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Tune and compare** to run the search."),
    )
    stage(f"tuning ALS: {n_trials.value} trials on a validation split of train")
    tuned = tune_and_test(train, test, n_trials=n_trials.value, k=k.value, seed=0, show_progress_bar=False)
    return (tuned,)


@app.cell
def _(history_chart, importance_chart, k, mo, tuned):
    history = history_chart(tuned.study, metric=f"validation nDCG@{k.value}")
    importance = importance_chart(tuned.study, seed=0)
    mo.hstack([history, importance], justify="start")
    return history, importance


@app.cell
def _(pd, tuned):
    best = pd.Series(tuned.best_params, name="best value").rename_axis("parameter").to_frame()
    best.loc["validation nDCG"] = tuned.study.best_value
    best
    return (best,)


@app.cell
def _(ALSRecommender, PopularityRecommender, stage, train, tuned):
    stage("fitting the baselines")
    models = {
        "popularity": PopularityRecommender().fit(train),
        "default als": ALSRecommender(seed=0).fit(train),
        "tuned als": tuned.model,
    }
    return (models,)


@app.cell
def _(evaluate_per_user, k, models, stage, summarize, test, test_users):
    stage("scoring the test set")
    per_user = {
        name: evaluate_per_user(model.recommend(test_users, k=k.value), test, k=k.value)
        for name, model in models.items()
    }
    scores = summarize(per_user)
    scores
    return per_user, scores


@app.cell
def _(mo):
    mo.md("""
    ## Offline A/B: paired per-user comparison

    Each test user is scored under both models, so the comparison is paired:
    `diff` is the mean of (b - a), with a 95% bootstrap interval, a paired
    t-test and a Wilcoxon signed-rank test.
    """)
    return


@app.cell
def _(compare, pd, per_user):
    pairs = [("popularity", "default als"), ("default als", "tuned als"), ("popularity", "tuned als")]
    ab = pd.DataFrame(
        [{"a": a, "b": b, **compare(per_user[a], per_user[b], metric="ndcg", seed=0)} for a, b in pairs]
    )
    ab
    return (ab,)


@app.cell
def _(compare_many, per_user):
    many = compare_many(per_user["default als"], per_user["tuned als"], method="holm", seed=0)
    many
    return (many,)


@app.cell
def _(mo):
    mo.md("""
    The table above tests every metric of default vs tuned ALS at once; the
    `_adj` columns are Holm-corrected, so `significant` keeps the chance of
    any false alarm across the six metrics at 5%.

    ## Planning an online test

    Conversion: a user clicks or buys one of the recommended items. How many
    users per arm does a two-sided two-proportion z-test need to detect the
    lift, and what power does a given number of users give?
    """)
    return


@app.cell
def _(mo):
    baseline = mo.ui.slider(0.01, 0.5, step=0.01, value=0.1, label="baseline conversion rate")
    lift = mo.ui.slider(0.02, 0.5, step=0.01, value=0.1, label="relative lift to detect")
    target_power = mo.ui.slider(0.5, 0.95, step=0.05, value=0.8, label="power")
    n_per_arm = mo.ui.slider(500, 50_000, step=500, value=5_000, label="users per arm")
    mo.vstack([baseline, lift, target_power, n_per_arm])
    return baseline, lift, n_per_arm, target_power


@app.cell
def _(baseline, format_value, lift, mo, n_per_arm, power, sample_size, target_power):
    needed = sample_size(baseline.value, lift.value, power=target_power.value)
    achieved = power(baseline.value, lift.value, n_per_arm.value)
    mo.hstack(
        [
            mo.stat(value=format_value(needed), label=f"users per arm for {target_power.value:.0%} power"),
            mo.stat(value=f"{achieved:.1%}", label=f"power with {n_per_arm.value:,} users per arm"),
        ],
        justify="start",
    )
    return achieved, needed


@app.cell
def _(pd, per_user, simulate_conversions):
    conversions = simulate_conversions(per_user["default als"], per_user["tuned als"], metric="hit_rate", seed=0)
    conversions_table = (
        pd.Series(conversions.to_dict(), name="default als (a) vs tuned als (b)").drop("note").astype(float)
    ).rename_axis("statistic")
    conversions_table.to_frame()
    return conversions, conversions_table


@app.cell
def _(mo):
    mo.md("""
    The replay gives each test user to one arm at random; a user converts
    when the arm's list contains one of their held-out items. The arms are
    compared with a chi-square test.

    ## Peeking
    """)
    return


@app.cell
def _(peeking_chart, peeking_curve, stage):
    stage("simulating peeking")
    peeking = peeking_curve(seed=0)
    peeking_plot = peeking_chart(peeking)
    peeking_plot
    return peeking, peeking_plot


@app.cell
def _(peeking):
    _ten = peeking.set_index("looks").loc[10]
    peeking_warning = (
        f"Looking at a running test 10 times and stopping at the first p < {_ten['alpha']:.2f} "
        f"declares a winner in {_ten['fpr_peeking']:.0%} of tests where the two arms are identical, "
        f"not {_ten['alpha']:.0%}. Fix the number of users before the test starts and read the result once, "
        "or use a sequential test designed for repeated looks."
    )
    return (peeking_warning,)


@app.cell
def _(mo, peeking_warning):
    mo.callout(mo.md(peeking_warning), kind="warn")
    return


@app.cell
def _(mo):
    mo.md("""
    ## Bandits: learning which model to serve

    Test users arrive one at a time in random order (several passes) and each
    policy serves them one model's list; the reward is a hit in the user's
    held-out items. Regret is measured against the best model in hindsight.
    """)
    return


@app.cell
def _(mo):
    n_steps = mo.ui.slider(1_000, 20_000, step=1_000, value=5_000, label="users served")
    n_steps
    return (n_steps,)


@app.cell
def _(n_steps, per_user, rewards_table, simulate_bandits, stage):
    stage("replaying bandit policies")
    rewards = rewards_table(per_user, metric="hit_rate")
    bandits = simulate_bandits(rewards, n_steps=n_steps.value, seed=0)
    return bandits, rewards


@app.cell
def _(bandit_chart, bandits):
    bandit_plot = bandit_chart(bandits)
    bandit_plot
    return (bandit_plot,)


@app.cell
def _(bandits, rewards):
    best_arm = rewards.mean().idxmax()
    policy_summary = (
        bandits.assign(served_best=bandits["arm"] == best_arm)
        .groupby("policy")
        .agg(
            mean_reward=("reward", "mean"),
            regret=("cumulative_regret", "max"),
            share_best_arm=("served_best", "mean"),
        )
    )
    policy_summary
    return best_arm, policy_summary


@app.cell
def _(mo):
    track = mo.ui.checkbox(value=False, label="log the tuned run to MLflow (./mlruns)")
    track
    return (track,)


@app.cell
def _(dataset, history, importance, k, mo, tempfile, track, track_run, tuned):
    run_id = None
    if track.value:
        with tempfile.TemporaryDirectory() as _tmp:
            run_id = track_run(
                f"08_experiments {dataset.value}",
                params={**tuned.best_params, "k": k.value, "dataset": dataset.value},
                metrics={f"test_{name}": value for name, value in tuned.test_metrics.items()},
                charts={"history": history, "importance": importance},
                model_dir=tuned.model.save(f"{_tmp}/model"),
            )
    _off = "MLflow is not installed: `pip install 'workbench[tracking]'`." if track.value else "Tracking is off."
    mo.md(f"Logged MLflow run `{run_id}` in ./mlruns." if run_id else _off)
    return (run_id,)


@app.cell
def _(
    Report,
    ab,
    achieved,
    bandit_plot,
    baseline,
    best,
    best_arm,
    conversions,
    conversions_table,
    dataset,
    history,
    importance,
    k,
    lift,
    many,
    n_per_arm,
    needed,
    peeking_plot,
    peeking_warning,
    policy_summary,
    publish,
    scores,
    stage,
    target_power,
    test_users,
    tuned,
):
    stage("writing report")
    _tuned_vs_default = ab.set_index(["a", "b"]).loc[("default als", "tuned als")]
    headline = {
        "ndcg_tuned_als": float(scores.loc["tuned als", "ndcg"]),
        "ndcg_default_als": float(scores.loc["default als", "ndcg"]),
        "p_tuned_vs_default": float(_tuned_vs_default["p_ttest"]),
        "trials": len(tuned.study.trials),
        "test_users": int(len(test_users)),
    }
    report = Report(
        f"Experiments: {dataset.value}",
        description="ALS tuning, paired A/B comparison, online test planning, peeking and bandits",
    )
    report.markdown(
        f"{len(tuned.study.trials)} tuning trials on a validation split of train; "
        f"the best parameters were refitted on all of train and scored once on **{len(test_users):,}** "
        f"test users at k = {k.value}."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Tuning")
    report.chart(history)
    report.chart(importance)
    report.table(best, caption="Best parameters and their validation nDCG.")
    report.markdown("## Test metrics")
    report.table(scores, caption="Means over test users; a user without hits scores 0.")
    report.markdown("## Offline A/B (nDCG, paired per user)")
    _ab_columns = ["a", "b", "mean_a", "mean_b", "diff", "ci_low", "ci_high", "p_ttest", "p_wilcoxon", "n_users"]
    report.table(ab[_ab_columns], caption="diff = mean of b - a; 95% bootstrap CI.")
    _many_columns = ["metric", "mean_a", "mean_b", "diff", "ci_low", "ci_high", "p_ttest_adj", "p_wilcoxon_adj"]
    report.table(
        many[[*_many_columns, "significant"]],
        caption="Default (a) vs tuned (b) ALS on every metric; p-values Holm-corrected.",
    )
    report.markdown("## Online test planning")
    report.metrics(
        {
            f"users per arm for {target_power.value:.0%} power": needed,
            f"power with {n_per_arm.value:,} per arm": achieved,
        },
        caption=f"Baseline conversion {baseline.value:.0%}, relative lift {lift.value:.0%}, alpha 5%, two-sided.",
    )
    report.table(
        conversions_table.to_frame(),
        caption="Replayed test, default ALS (a) vs tuned ALS (b): a user converts on a hit; chi-square test."
        + (f" Note: {conversions.note}." if conversions.note else ""),
    )
    report.markdown("## Peeking")
    report.warnings([peeking_warning])
    report.chart(peeking_plot)
    report.markdown(f"## Bandits choosing a model (best in hindsight: {best_arm})")
    report.chart(bandit_plot)
    report.table(policy_summary)
    publish(report, "08_experiments", headline)
    return headline, report


if __name__ == "__main__":
    app.run()
