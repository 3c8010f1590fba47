import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import html

    import marimo as mo

    from workbench.data import clean, load_dataset
    from workbench.data.profile import profile
    from workbench.notebooks import BASKET_METRICS, data_choice, profile_headline, profile_report, publish, stage
    from workbench.report.charts import profile_charts, shop_charts
    from workbench.report.render import format_value

    return (
        BASKET_METRICS,
        clean,
        data_choice,
        format_value,
        html,
        load_dataset,
        mo,
        profile,
        profile_charts,
        profile_headline,
        profile_report,
        publish,
        shop_charts,
        stage,
    )


@app.cell
def _(mo):
    mo.md("""
    # Data profile

    Volume, sparsity, activity and data quality of an interaction log, with
    the user demographics, and the shop's view: top items, category and
    brand mix, funnel, baskets and repeat purchases, and what cleaning
    could fix. Pick a data set; the default comes from the `WORKBENCH_DATA`
    environment variable.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    dataset
    return (dataset,)


@app.cell
def _(dataset, load_dataset, stage):
    stage("loading data")
    ds = load_dataset(dataset.value)
    return (ds,)


@app.cell
def _(ds, profile, stage):
    stage("profiling")
    p = profile(ds)
    return (p,)


@app.cell
def _(format_value, mo, p, profile_headline):
    headline = profile_headline(p)
    mo.hstack([mo.stat(value=format_value(v), label=k) for k, v in headline.items()])
    return (headline,)


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
def _(mo, p):
    def section(name, title, *content):
        """``title`` over ``content``, or over the reason the profile gives for the section not applying."""
        reason = p.not_applicable.get(name)
        if reason and getattr(p, name).empty:
            return mo.vstack([mo.md(f"## {title}"), mo.md(f"Does not apply: {reason}.")])
        note = [mo.md(f"Note: {reason}.")] if reason else []
        return mo.vstack([mo.md(f"## {title}"), *note, *content])

    return (section,)


@app.cell
def _(p, shop_charts, stage):
    stage("drawing the shop's charts")
    shop = shop_charts(p)
    return (shop,)


@app.cell
def _(p, section):
    section("top_items", "Top items", p.top_items)
    return


@app.cell
def _(p, section, shop):
    section("label_mix", "Category and brand mix", *[c for n, c in shop.items() if n.startswith("mix_")], p.label_mix)
    return


@app.cell
def _(p, section, shop):
    section("funnel", "Funnel", *[c for n, c in shop.items() if n == "funnel"], p.funnel)
    return


@app.cell
def _(BASKET_METRICS, format_value, mo, p, section, shop):
    _numbers = {k: v for k, v in p.to_dict().items() if k in BASKET_METRICS}
    section(
        "basket_sizes",
        "Baskets and repeat purchases",
        *[c for n, c in shop.items() if n == "basket_sizes"],
        mo.hstack([mo.stat(value=format_value(v), label=k) for k, v in _numbers.items()]),
    )
    return


@app.cell
def _(mo, p):
    mo.vstack(
        [
            mo.md("## Cleaning findings"),
            mo.ui.tabs(
                {
                    "labels spelled several ways": p.spellings,
                    "outlier users and items": p.outliers,
                    "missing attributes": p.missing_attributes,
                }
            ),
        ]
    )
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
    mo.vstack([mo.md("Clean a copy of the data (nothing changes unless ticked):"), cleaning])
    return (cleaning,)


@app.cell
def _(clean, cleaning, ds):
    cleaned = clean(ds, **cleaning.value)
    cleaned.changes
    return (cleaned,)


@app.cell
def _(p):
    p.missing
    return


@app.cell
def _(p, profile_charts, stage):
    stage("drawing charts")
    charts = profile_charts(p)
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
def _(dataset, headline, p, profile_report, publish, stage):
    stage("writing report")
    report = profile_report(p, title=f"Data profile: {dataset.value}")
    publish(report, "01_profile", headline)
    return (report,)


if __name__ == "__main__":
    app.run()
