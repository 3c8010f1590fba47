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
    from workbench.views import ResidualsView, residuals_run

    return ResidualsView, data_choice, fitted, load_data, mo, publish, residuals_run, stage, wait_for


@app.cell
def _(mo):
    mo.md("""
    # Residual analysis

    Where is the re-ranker most wrong, and for whom? Its calibrated residuals
    (observed - predicted relevance) by user and item segment, and, for rated
    data, the rating errors of a bias baseline.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    n_candidates = mo.ui.slider(20, 100, step=10, value=50, label="candidates per user", show_value=True)
    min_pairs = mo.ui.slider(
        50, 1000, step=50, value=200, label="worst segments: at least this many pairs", show_value=True
    )
    run = mo.ui.run_button(label="Train re-ranker")
    mo.hstack([dataset, n_candidates, min_pairs, run], justify="start", wrap=True)
    return dataset, min_pairs, n_candidates, run


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ResidualsView, ds, fitted, mo, n_candidates, residuals_run, run, stage, wait_for):
    wait_for(run, "Press **Train re-ranker** to fit the candidates and the LightGBM ranker.")
    stage("training candidates and the LightGBM re-ranker")
    with mo.status.spinner(title="Training the candidates and the LightGBM re-ranker"):
        view = ResidualsView(residuals_run(ds, n_candidates=n_candidates.value, fit=fitted))
    return (view,)


@app.cell
def _(min_pairs, stage, view):
    stage("scoring candidates and calibrating")
    view.opening(min_pairs.value)
    return


@app.cell
def _(min_pairs, stage, view):
    stage("bootstrapping segment intervals")
    view.worst_section(min_pairs.value)
    return


@app.cell
def _(view):
    view.section("calibration")
    return


@app.cell
def _(view):
    view.section("segments")
    return


@app.cell
def _(stage, view):
    if view.rated:
        stage("rating residuals of the bias baseline")
    view.section("ratings")
    return


@app.cell
def _(dataset, min_pairs, publish, stage, view):
    stage("writing report")
    headline = view.headline(min_pairs.value)
    publish(view.report(dataset.value, min_pairs=min_pairs.value), "05_residuals", headline)
    return


if __name__ == "__main__":
    app.run()
