import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import marimo as mo

    from workbench.data import load_dataset
    from workbench.data.profile import profile
    from workbench.notebooks import data_choice, profile_headline, profile_report, publish, stage
    from workbench.report.charts import profile_charts
    from workbench.report.render import format_value

    return (
        data_choice,
        format_value,
        load_dataset,
        mo,
        profile,
        profile_charts,
        profile_headline,
        profile_report,
        publish,
        stage,
    )


@app.cell
def _(mo):
    mo.md("""
    # Data profile

    Volume, sparsity, activity and data quality of an interaction log, with
    the user demographics. Pick a data set; the default comes from the
    `WORKBENCH_DATA` environment variable.
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
def _(mo, p):
    mo.callout(
        mo.md("\n".join(f"- {w}" for w in p.warnings) or "No data-quality warnings."),
        kind="warn" if p.warnings else "success",
    )
    return


@app.cell
def _(p):
    p.summary
    return


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
