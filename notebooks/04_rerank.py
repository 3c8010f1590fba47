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

    from workbench.notebooks import data_choice, fitted, load_data, publish, rerank_controls, stage, wait_for
    from workbench.views import RerankView, buy_again_view, rerank_run

    return (
        RerankView,
        buy_again_view,
        data_choice,
        fitted,
        load_data,
        mo,
        publish,
        rerank_controls,
        rerank_run,
        stage,
        wait_for,
    )


@app.cell
def _(mo):
    mo.md("""
    # Two-stage re-ranking

    Stage one proposes `n` candidates per user from four sources (ALS,
    EASE, item neighbours, popularity) fused by reciprocal rank; stage two, a
    LightGBM lambdarank model, re-orders them using user, item and
    user-item features. Every model trains on the notebooks' standard
    per-user random split (stated below) and is scored on the
    held-out rest; the re-ranker is set against the best single model by
    the per-user paired difference and its interval.

    The defaults (3 folds, 50 candidates) keep a run on MovieLens-100K
    under a minute; `benchmarks/rerank_ml100k.py` measures the benchmark
    setting over several split seeds.
    """)
    return


@app.cell
def _(data_choice, mo, rerank_controls):
    dataset = mo.ui.dropdown(**data_choice())
    k, n_candidates, n_folds = rerank_controls()
    run = mo.ui.run_button(label="Train models")
    mo.hstack([dataset, k, n_candidates, n_folds, run], justify="start", wrap=True)
    return dataset, k, n_candidates, n_folds, run


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, fitted, mo, n_candidates, n_folds, rerank_run, run, stage, wait_for):
    wait_for(run, "Press **Train models** to fit popularity, ALS and the re-ranker.")
    stage("splitting 75/25 per user; training popularity, ALS and the re-ranker")
    with mo.status.spinner(title="Training popularity, ALS and the re-ranker"):
        # a report run fits each model once for all notebooks (fitted)
        trained = rerank_run(ds, n_candidates=n_candidates.value, n_folds=n_folds.value, fit=fitted)
    return (trained,)


@app.cell
def _(RerankView, k, stage, trained):
    # k only changes the lists scored: changing it does not train again
    view = RerankView(trained.at_k(k.value))
    stage("candidate recall by source")
    view.section("setup")
    return (view,)


@app.cell
def _(view):
    view.section("verdict")
    return


@app.cell
def _(view):
    view.section("recall")
    return


@app.cell
def _(view):
    view.section("metrics")
    return


@app.cell
def _(view):
    view.section("fit_time")
    return


@app.cell
def _(view):
    view.section("examples")
    return


@app.cell
def _(buy_again_view, ds, mo, n_candidates, n_folds, run, stage, wait_for):
    wait_for(run, "Press **Train models** to compare buying again with discovering.")
    stage("buy again vs discover")
    with mo.status.spinner(title="Fitting buy again, TIFU-KNN, UP-CF@r, ALS and the re-ranker on last baskets"):
        buy_again = buy_again_view(ds, n_candidates=n_candidates.value, n_folds=n_folds.value)
    # the buy-again section, last on the page (view.report appends it)
    buy_again.section("buy_again")
    return (buy_again,)


@app.cell
def _(buy_again, dataset, publish, stage, view):
    stage("writing report")
    headline = view.headline
    report = view.report(dataset.value, buy_again)
    publish(report, "04_rerank", headline)
    return


if __name__ == "__main__":
    app.run()
