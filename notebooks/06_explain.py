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
    from workbench.views import ExplainView, rerank_run

    return (
        ExplainView,
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
    # Explaining the re-ranker

    Why does the LightGBM re-ranker put an item in a user's top `k`? Exact
    TreeSHAP contributions of every feature to the re-ranker's scores:
    which features matter, how, for one list item and for light and heavy
    users.
    """)
    return


@app.cell
def _(data_choice, mo, rerank_controls):
    dataset = mo.ui.dropdown(**data_choice())
    k, n_candidates, n_folds = rerank_controls()
    run = mo.ui.run_button(label="Train the re-ranker")
    mo.hstack([dataset, k, n_candidates, n_folds, run], justify="start", wrap=True)
    return dataset, k, n_candidates, n_folds, run


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, fitted, mo, n_candidates, n_folds, rerank_run, run, stage, wait_for):
    wait_for(run, "Press **Train the re-ranker** to fit and explain it.")
    stage("training the re-ranker")
    with mo.status.spinner(title="Training popularity, ALS and the re-ranker"):
        trained = rerank_run(ds, n_candidates=n_candidates.value, n_folds=n_folds.value, fit=fitted)
    return (trained,)


@app.cell
def _(ExplainView, k, trained):
    # k only changes the lists explained: changing it does not train again
    view = ExplainView(trained.at_k(k.value))
    return (view,)


@app.cell
def _(stage, view):
    stage("explaining the top k")
    view.section("setup")
    return


@app.cell
def _(view):
    view.section("importance")
    return


@app.cell
def _(mo, view):
    feature = mo.ui.dropdown(options=view.features, value=view.features[0], label="dependence plot of")
    feature
    return (feature,)


@app.cell
def _(feature, view):
    view.dependence_section(feature.value)
    return


@app.cell
def _(mo, view):
    user = mo.ui.dropdown(
        options={str(_u): _u for _u in view.users}, value=str(view.users[0]), label="waterfall for user"
    )
    user
    return (user,)


@app.cell
def _(mo, user, view):
    _items = view.items_of(user.value)
    item = mo.ui.dropdown(options=_items, value=next(iter(_items)), label="recommended item")
    item
    return (item,)


@app.cell
def _(item, user, view):
    why = view.why(user.value, item.value)
    view.why_section(why)
    return (why,)


@app.cell
def _(view):
    view.section("bands")
    return


@app.cell
def _(dataset, feature, publish, stage, view, why):
    stage("writing report")
    headline = view.headline
    publish(view.report(dataset.value, feature=feature.value, why=why), "06_explain", headline)
    return


if __name__ == "__main__":
    app.run()
