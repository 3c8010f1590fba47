import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import html
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
    from workbench.report import format_value
    from workbench.views import profile_view

    return clean, data_choice, format_value, html, load_data, mo, profile_view, publish, stage


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
    return p, view


@app.cell
def _(format_value, mo, view):
    def stats(numbers):
        """Numbers as a row of marimo stats."""
        return mo.hstack([mo.stat(value=format_value(v), label=k) for k, v in numbers.items()])

    headline = view.headline
    stats(headline)
    return headline, stats


@app.cell
def _(html, mo, p):
    mo.callout(
        mo.md("\n".join(f"- {html.escape(w)}" for w in p.warnings) or "No data-quality warnings."),
        kind="warn" if p.warnings else "success",
    )
    return


@app.cell
def _(p):
    p.summary
    return


@app.cell
def _(mo, view):
    def section(name, *content):
        """The section's heading and note over ``content``, or over the reason it does not apply."""
        _section = view.section(name)
        shown = [*view.section_charts(name), *content] if _section.applies else []
        return mo.vstack([mo.md(_section.markdown), *shown])

    return (section,)


@app.cell
def _(p, section):
    section("top_items", p.top_items)
    return


@app.cell
def _(p, section):
    section("label_mix", p.label_mix)
    return


@app.cell
def _(p, section):
    section("funnel", p.funnel)
    return


@app.cell
def _(section, stats, view):
    section("basket_sizes", stats(view.basket_numbers))
    return


@app.cell
def _(p, section, stats, view):
    section("spend", stats(view.spend_numbers), p.spend)
    return


@app.cell
def _(mo, view):
    mo.vstack([mo.md("## Cleaning findings"), mo.ui.tabs(view.findings)])
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
def _(p):
    p.missing
    return


@app.cell
def _(stage, view):
    stage("drawing charts")
    charts = view.charts
    return (charts,)


@app.cell
def _(charts, mo):
    mo.vstack(list(charts.values()))
    return


@app.cell
def _(mo, p):
    mo.ui.tabs({column: table for column, table in p.demographics.items()}) if p.demographics else mo.md(
        "No user table with demographics."
    )
    return


@app.cell
def _(dataset, headline, publish, stage, view):
    stage("writing report")
    report = view.report(f"Data profile: {dataset.value}")
    publish(report, "01_profile", headline)
    return


if __name__ == "__main__":
    app.run()
