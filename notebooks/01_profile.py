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

    from workbench.data import clean
    from workbench.notebooks import data_choice, load_data, publish, stage
    from workbench.views import profile_view

    return clean, data_choice, load_data, mo, profile_view, publish, stage


@app.cell
def _(mo):
    mo.md("""
    # Data profile

    Volume, sparsity, activity and data quality of an interaction log, with
    the user demographics, and the shop's view: top items, category and
    brand mix, funnel, baskets and repeat purchases, spend, and what
    cleaning could fix. Pick a data set; the default comes from the
    `WORKBENCH_DATA` environment variable.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    dataset
    return (dataset,)


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(ds, profile_view, stage):
    stage("profiling")
    view = profile_view(ds)
    p = view.profile
    stage("drawing charts")
    charts = view.charts
    return charts, p, view


@app.cell
def _(view):
    view.section("headline")
    return


@app.cell
def _(view):
    view.section("warnings")
    return


@app.cell
def _(view):
    view.section("summary")
    return


@app.cell
def _(view):
    view.section("top_items")
    return


@app.cell
def _(view):
    view.section("label_mix")
    return


@app.cell
def _(view):
    view.section("funnel")
    return


@app.cell
def _(view):
    view.section("basket_sizes")
    return


@app.cell
def _(view):
    view.section("spend")
    return


@app.cell
def _(view):
    view.section("findings")
    return


@app.cell
def _(view):
    view.section("spellings")
    return


@app.cell
def _(view):
    view.section("outliers")
    return


@app.cell
def _(view):
    view.section("missing_attributes")
    return


@app.cell
def _(mo):
    cleaning = mo.ui.dictionary(
        {
            "merge_labels": mo.ui.checkbox(label="merge label spellings"),
            "drop_outlier_users": mo.ui.checkbox(label="drop outlier users"),
            "impute": mo.ui.checkbox(label="impute missing attributes"),
        }
    )
    # the boxes themselves, not the dictionary (which marimo shows as a tree of its keys)
    mo.vstack([mo.md("Clean a copy of the data (nothing changes unless ticked):"), *cleaning.elements.values()])
    return (cleaning,)


@app.cell
def _(clean, cleaning, ds):
    cleaned = clean(ds, **cleaning.value)
    cleaned.changes
    return


@app.cell
def _(view):
    view.section("missing")
    return


@app.cell
def _(view):
    view.section("distributions")
    return


@app.cell
def _(view):
    view.section("demographics")
    return


@app.cell
def _(dataset, publish, stage, view):
    stage("writing report")
    report = view.report(f"Data profile: {dataset.value}")
    publish(report, "01_profile", view.headline)
    return


if __name__ == "__main__":
    app.run()
