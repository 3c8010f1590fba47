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
    from workbench.report import readable
    from workbench.views import ResidualsView, residuals_run

    return ResidualsView, data_choice, fitted, load_data, mo, publish, readable, residuals_run, stage, wait_for


@app.cell
def _(mo):
    mo.md("""
    # Residual analysis

    Where is the re-ranker most wrong? The LightGBM re-ranker of notebooks 04 and 06 (ALS,
    EASE, item-neighbour and popularity candidates; a report fits it once for the three) is
    trained on the notebooks' standard per-user split and scores its candidates for every
    test user.
    Its raw score becomes a probability of relevance by isotonic regression, fitted on
    the candidates of a random part of the test users; the residual
    (observed - predicted, observed = the pair is in the test set) is reported for the
    **other users only**, so no user calibrates its own residuals. Residuals are averaged
    by user and item segment with 95% bootstrap intervals (users resampled with all their
    pairs). For rated data, a damped user + item bias baseline predicts the test
    ratings, and its RMSE is broken down by the same segments.

    Residuals by training activity are expected: the score ranks items within a user, so
    the same score means more relevance for a heavy user (many test items) than for a
    light one.
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
def _(mo, stage, view):
    stage("scoring candidates and calibrating")
    mo.md(view.summary)
    return


@app.cell
def _(readable, stage, view):
    stage("bootstrapping segment intervals")
    readable(view.by_segment, max_rows=1000)
    return


@app.cell
def _(mo, view):
    mo.ui.tabs(view.residual_charts)
    return


@app.cell
def _(min_pairs, mo, view):
    worst = view.worst(min_pairs.value)
    mo.callout(
        mo.md("\n".join(f"- {message}" for message in worst["message"]) or f"No segment has {min_pairs.value} pairs."),
        kind="warn" if worst["significant"].any() else "success",
    )
    return


@app.cell
def _(view):
    view.reliability_chart
    return


@app.cell
def _(readable, stage, view):
    if view.rated:
        stage("rating residuals of the bias baseline")
    readable(view.rating_table)
    return


@app.cell
def _(dataset, min_pairs, publish, stage, view):
    stage("writing report")
    headline = view.headline(min_pairs.value)
    publish(view.report(dataset.value, min_pairs=min_pairs.value), "05_residuals", headline)
    return


if __name__ == "__main__":
    app.run()
