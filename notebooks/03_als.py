import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import importlib.util
    import sys

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
    from workbench.views import als_view, standard_run

    return als_view, data_choice, fitted, load_data, mo, publish, stage, standard_run, wait_for


@app.cell
def _(mo):
    mo.md("""
    # ALS candidates

    Implicit-feedback ALS against a most-popular baseline. Each user's
    interactions are split at random into training and test (the split is
    named below); both models recommend `k` unseen items per test user.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)", show_value=True)
    factors = mo.ui.slider(16, 128, step=16, value=64, label="ALS factors", show_value=True)
    run = mo.ui.run_button(label="Train models")
    mo.hstack([dataset, k, factors, run], justify="start")
    return dataset, factors, k, run


@app.cell
def _(dataset, load_data, mo):
    ds = load_data(dataset.value)
    mo.md(f"**{dataset.value}**: {len(ds):,} interactions, {ds.n_users:,} users, {ds.n_items:,} items.")
    return (ds,)


@app.cell
def _(ds, factors, fitted, mo, run, stage, standard_run, wait_for):
    wait_for(run, "Press **Train models** to fit popularity and ALS.")
    stage("splitting, training popularity and ALS, recommending")
    with mo.status.spinner(title="Training popularity and ALS"):
        # k only changes the lists scored: the next cell rescores, and changing k does not train again
        trained = standard_run(ds, factors=factors.value, fit=fitted)
    return (trained,)


@app.cell
def _(als_view, k, trained):
    view = als_view(trained.at_k(k.value))
    view.section("setup")
    return (view,)


@app.cell
def _(view):
    view.section("metrics")
    return


@app.cell
def _(view):
    view.section("ndcg")
    return


@app.cell
def _(view):
    view.section("examples")
    return


@app.cell
def _(view):
    view.section("similar")
    return


@app.cell
def _(dataset, publish, stage, view):
    stage("writing report")
    headline = view.headline
    publish(view.report(dataset.value), "03_als", headline)
    return


if __name__ == "__main__":
    app.run()
