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
    from workbench.report import readable
    from workbench.views import RerankView, buy_again_view, rerank_run

    return (
        RerankView,
        buy_again_view,
        data_choice,
        fitted,
        load_data,
        mo,
        publish,
        readable,
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
    per-user random split (stated under the metrics) and is scored on the
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
def _(ds, fitted, mo, n_candidates, n_folds, readable, rerank_run, run, stage, wait_for):
    wait_for(run, "Press **Train models** to fit popularity, ALS and the re-ranker.")
    stage("splitting 75/25 per user; training popularity, ALS and the re-ranker")
    with mo.status.spinner(title="Training popularity, ALS and the re-ranker"):
        # a report run fits each model once for all notebooks (fitted)
        trained = rerank_run(ds, n_candidates=n_candidates.value, n_folds=n_folds.value, fit=fitted)
    readable(trained.fit_seconds)
    return (trained,)


@app.cell
def _(RerankView, k, trained):
    # k only changes the lists scored: changing it does not train again
    view = RerankView(trained.at_k(k.value))
    return (view,)


@app.cell
def _(mo):
    mo.md("""
    ## Candidate recall

    Recall of the first `n` fused candidates (the ceiling any re-ranker can
    reach at that depth), and of the part of that pool each source put in
    (an item can come from several sources).
    """)
    return


@app.cell
def _(readable, stage, view):
    stage("candidate recall by source")
    readable(view.recall_table)
    return


@app.cell
def _(view):
    view.recall_chart
    return


@app.cell
def _(mo, readable, view):
    mo.vstack(
        [readable(view.run.scores), mo.md(f"Means over the test users of the {view.run.describe()}. {view.verdict}")]
    )
    return


@app.cell
def _(view):
    view.comparison_chart
    return


@app.cell
def _(mo):
    mo.md("""
    ## Example re-ranked lists

    The re-ranker's top items for three test users, with the sources that
    proposed each one and its rank in the ALS baseline's full ordering
    (`moved` > 0: the re-ranker lifted it above its ALS position).
    """)
    return


@app.cell
def _(readable, view):
    readable(view.examples)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Buy again vs discover

    In groceries, drugstores and pet food much of the next basket repeats
    earlier ones, and a user's own purchase counts are a baseline most
    published models fail to beat (Li et al., *A Next Basket
    Recommendation Reality Check*, TOIS 2023); TIFU-KNN (Hu et al., SIGIR
    2020) and UP-CF@r (Faggioli et al., UMAP 2020), the published methods
    that do, stand beside it with their default settings. Here each user's
    last basket is held out and every model recommends with repeats allowed
    (ALS also without): quality on repeat items and on explore items (new
    to the user), and the repeat share of each model's lists, for all
    users and by activity band, at k = 10 as in the Reality Check (the k
    slider above does not apply here). The section applies to logs where
    someone bought an item twice.
    """)
    return


@app.cell
def _(buy_again_view, ds, mo, n_candidates, n_folds, run, stage, wait_for):
    wait_for(run, "Press **Train models** to compare buying again with discovering.")
    stage("buy again vs discover")
    with mo.status.spinner(title="Fitting buy again, TIFU-KNN, UP-CF@r, ALS and the re-ranker on last baskets"):
        buy_again = buy_again_view(ds, n_candidates=n_candidates.value, n_folds=n_folds.value)
    mo.md(buy_again.note)
    return (buy_again,)


@app.cell
def _(buy_again, mo, readable):
    mo.vstack([buy_again.chart, readable(buy_again.study.table)]) if buy_again.study is not None else None
    return


@app.cell
def _(buy_again, dataset, publish, stage, view):
    stage("writing report")
    headline = view.headline
    report = view.report(dataset.value, buy_again)
    publish(report, "04_rerank", headline)
    return


if __name__ == "__main__":
    app.run()
