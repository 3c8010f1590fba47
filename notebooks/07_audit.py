import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import altair as alt
    import marimo as mo
    import pandas as pd

    from workbench.analysis.audit import audit, exposure, group_labels, popularity_bias, summary_flags
    from workbench.analysis.segments import user_segments
    from workbench.data import load_dataset
    from workbench.data.split import stratified_split
    from workbench.evaluation import METRICS, evaluate_per_user, summarize
    from workbench.models import ALSRecommender, PopularityRecommender
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report

    return (
        data_choice,
        ALSRecommender,
        METRICS,
        PopularityRecommender,
        Report,
        alt,
        audit,
        evaluate_per_user,
        summarize,
        exposure,
        group_labels,
        load_dataset,
        mo,
        pd,
        popularity_bias,
        publish,
        stage,
        stratified_split,
        summary_flags,
        user_segments,
    )


@app.cell
def _(mo):
    mo.md("""
    # Bias audit

    Who gets worse recommendations, and which items get recommended at all?
    ALS (default settings) and a most-popular baseline are trained on a
    per-user 75/25 split (seed 42). Per-user metrics are compared across the
    user segments the data has (gender, region, occupation, age band, training
    activity band), with 95% bootstrap intervals and a Kruskal-Wallis test.
    Gaps to the best group above the threshold are flagged in plain words.
    Popularity bias and exposure by item category close the audit.
    """)
    return


@app.cell
def _(METRICS, data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)")
    metric = mo.ui.dropdown(options=list(METRICS), value="ndcg", label="audited metric")
    threshold = mo.ui.slider(0.05, 0.5, step=0.05, value=0.1, label="flag gaps above")
    run = mo.ui.run_button(label="Train models")
    mo.hstack([dataset, k, metric, threshold, run], justify="start", wrap=True)
    return dataset, k, metric, run, threshold


@app.cell
def _(dataset, load_dataset, stage):
    stage("loading data")
    ds = load_dataset(dataset.value)
    return (ds,)


@app.cell
def _(ds, stage, stratified_split):
    stage("splitting 75/25 per user")
    train, test = stratified_split(ds, ratio=0.75, seed=42)
    test_users = test.interactions["user_id"].unique()
    return test, test_users, train


@app.cell
def _(ALSRecommender, PopularityRecommender, mo, run, stage, train):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Train models** to fit popularity and ALS."),
    )
    stage("training popularity and ALS")
    models = {"popularity": PopularityRecommender().fit(train), "als": ALSRecommender(seed=0).fit(train)}
    return (models,)


@app.cell
def _(evaluate_per_user, k, models, stage, summarize, test, test_users):
    stage("recommending and scoring per user")
    recs = {name: model.recommend(test_users, k=k.value) for name, model in models.items()}
    per_user = {name: evaluate_per_user(frame, test, k=k.value) for name, frame in recs.items()}
    scores = summarize(per_user)
    scores
    return per_user, recs, scores


@app.cell
def _(ds, mo, train, user_segments):
    segments = user_segments(ds, train)
    mo.md(
        "Segments: " + ", ".join(f"**{name}** ({segments[name].nunique()} groups)" for name in segments.columns)
    )
    return (segments,)


@app.cell
def _(audit, per_user, segments, stage):
    stage("bootstrapping group intervals")
    audits = {
        (model, segment): audit(frame, segments[[segment]], seed=0)
        for model, frame in per_user.items()
        for segment in segments.columns
    }
    return (audits,)


@app.cell
def _(audits, group_labels, metric, pd):
    audit_table = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": model,
                    "segment": segment,
                    "group": group_labels(result.by_group.index, with_names=False),
                    "count": result.by_group["count"].to_numpy(),
                    metric.value: result.by_group[metric.value].to_numpy(),
                    "lower": result.ci[(metric.value, "lower")].to_numpy(),
                    "upper": result.ci[(metric.value, "upper")].to_numpy(),
                    "small": result.by_group["small"].to_numpy(),
                }
            )
            for (model, segment), result in audits.items()
        ],
        ignore_index=True,
    )
    audit_table
    return (audit_table,)


@app.cell
def _(audits, pd):
    significance = pd.concat(
        [result.significance().assign(model=model, segment=segment) for (model, segment), result in audits.items()],
        ignore_index=True,
    ).pivot(index=["model", "segment"], columns="metric", values="p_value")
    significance
    return (significance,)


@app.cell
def _(alt, audits, metric, mo, segments):
    def _titled(model, segment):
        result = audits[(model, segment)]
        chart = result.chart(metric.value)
        width = min(440, max(200, 28 * len(result.by_group)))
        return chart.properties(title=f"{model}: {chart.title}", width=width, height=220)

    audit_charts = {
        segment: alt.hconcat(*(_titled(model, segment) for model in ("popularity", "als"))).resolve_scale(
            y="shared"
        )
        for segment in segments.columns
    }
    mo.ui.tabs(audit_charts)
    return (audit_charts,)


@app.cell
def _(audits, metric, pd, summary_flags, threshold):
    flags = pd.concat(
        [
            summary_flags(*(r for (m, _), r in audits.items() if m == model), threshold=threshold.value).assign(
                model=model
            )
            for model in ("popularity", "als")
        ],
        ignore_index=True,
    )
    flagged = flags[flags["flagged"] & (flags["metric"] == metric.value)].reset_index(drop=True)
    worst = flagged.drop_duplicates(["model", "segment"])  # flags are sorted by gap: the largest per segment
    return flagged, flags, worst


@app.cell
def _(flagged, metric, mo, threshold, worst):
    _lines = [f"- **{row.model}**: {row.message}" for row in worst.itertuples()]
    if len(flagged) > len(worst):
        _lines.append(f"- ... and {len(flagged) - len(worst)} smaller flagged gaps (table below)")
    mo.callout(
        mo.md("\n".join(_lines) or f"No {metric.value} gap above {threshold.value:.0%}."),
        kind="warn" if len(flagged) else "success",
    )
    return


@app.cell
def _(k, pd, popularity_bias, recs, train):
    bias = pd.DataFrame({name: popularity_bias(frame, train, k=k.value) for name, frame in recs.items()}).T
    bias.index.name = "model"
    bias
    return (bias,)


@app.cell
def _(alt, bias, k):
    _long = bias.reset_index().melt(id_vars="model", var_name="measure")
    bias_chart = (
        alt.Chart(_long)
        .mark_bar()
        .encode(
            x=alt.X("model:N", title=None, sort=list(bias.index), axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("model:N", sort=list(bias.index)),
            column=alt.Column("measure:N", title=None, sort=list(bias.columns)),
            tooltip=["model:N", "measure:N", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=110, height=180, title=f"Popularity bias of the top {k.value}")
        .resolve_scale(y="independent")
    )
    bias_chart
    return (bias_chart,)


@app.cell
def _(ds):
    attribute = next((c for c in ("genres", "category") if ds.items is not None and c in ds.items.columns), None)
    return (attribute,)


@app.cell
def _(attribute, exposure, k, pd, recs, train):
    exposure_table = (
        pd.concat(
            [exposure(frame, train, by=attribute, k=k.value).assign(model=name) for name, frame in recs.items()],
            ignore_index=True,
        )
        if attribute
        else pd.DataFrame()
    )
    exposure_wide = (
        exposure_table.pivot(index=attribute, columns="model", values="rec_share")
        .add_suffix(" share")
        .join(exposure_table.drop_duplicates(attribute).set_index(attribute)["train_share"].rename("train share"))
        .sort_values("train share", ascending=False)[["train share", *(f"{name} share" for name in recs)]]
        if attribute
        else pd.DataFrame()
    )
    exposure_wide
    return exposure_table, exposure_wide


@app.cell
def _(alt, attribute, exposure_table, k, pd):
    _order = list(pd.unique(exposure_table[attribute])) if attribute else []
    _bars = (
        alt.Chart(exposure_table)
        .mark_bar()
        .encode(
            x=alt.X(f"{attribute}:N", sort=_order, title=attribute, axis=alt.Axis(labelAngle=-45)),
            xOffset=alt.XOffset("model:N", sort=["popularity", "als"]),
            y=alt.Y("ratio:Q", title="share of recommendations / share of training"),
            color=alt.Color("model:N", sort=["popularity", "als"]),
            tooltip=[f"{attribute}:N", "model:N", alt.Tooltip("rec_share:Q", format=".1%"),
                     alt.Tooltip("train_share:Q", format=".1%"), alt.Tooltip("ratio:Q", format=".2f")],
        )
    )
    _parity = alt.Chart(pd.DataFrame({"ratio": [1.0]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="ratio:Q")
    exposure_chart = alt.layer(_bars, _parity).properties(
        width=560, height=240, title=f"Exposure by {attribute} in the top {k.value} (1 = as often as in training)"
    )
    exposure_chart if attribute else None
    return (exposure_chart,)


@app.cell
def _(
    Report,
    attribute,
    audit_charts,
    audit_table,
    bias,
    bias_chart,
    dataset,
    exposure_chart,
    exposure_wide,
    flagged,
    k,
    metric,
    publish,
    scores,
    significance,
    stage,
    test_users,
    threshold,
    worst,
):
    stage("writing report")
    _als_flags = flagged[flagged["model"] == "als"]
    headline = {
        f"{metric.value}_als": float(scores.loc["als", metric.value]),
        f"{metric.value}_popularity": float(scores.loc["popularity", metric.value]),
        "flags_als": int(len(_als_flags)),
        "max_gap_als": float(_als_flags["gap"].max()) if len(_als_flags) else 0.0,
        "aplt_als": float(bias.loc["als", "aplt"]),
        "coverage_als": float(bias.loc["als", "coverage"]),
    }
    report = Report(f"Bias audit: {dataset.value}", description="Metrics across user segments; popularity bias and exposure")
    report.markdown(
        f"Popularity and ALS on a per-user 75/25 split (seed 42), top {k.value} for **{len(test_users):,}** test users. "
        f"Audited metric: **{metric.value}**; a group is flagged when it trails the best group of its segment "
        f"by more than **{threshold.value:.0%}**."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Overall")
    report.table(scores, caption="Means over test users.")
    report.markdown(f"## Flagged gaps in {metric.value}: the largest per model and segment")
    report.warnings(f"{row.model}: {row.message}" for row in worst.itertuples())
    report.markdown(f"## {metric.value} by segment")
    for _chart in audit_charts.values():
        report.chart(_chart)
    report.table(significance, caption="Kruskal-Wallis p-values across the groups of each segment.")
    report.markdown("## Popularity bias")
    report.table(
        bias,
        caption="arp: mean training popularity of recommended items; aplt: share from the long tail; "
        "coverage: share of the catalogue recommended; gini: concentration of recommendations; "
        "novelty: mean self-information in bits.",
    )
    report.chart(bias_chart)
    if attribute:
        report.markdown(f"## Exposure by {attribute}")
        report.chart(exposure_chart)
        report.table(exposure_wide, max_rows=100, caption="Share of top-k recommendations (or training interactions) per value.")
    report.markdown("## Details")
    report.table(
        flagged[["model", "segment", "group", "value", "best_group", "best_value", "gap", "count", "p_value"]],
        max_rows=100,
        caption=f"Every group trailing the best of its segment in {metric.value} by more than {threshold.value:.0%}.",
    )
    report.table(audit_table, max_rows=200, caption="Group means with 95% bootstrap intervals; small: fewer than 10 users.")
    publish(report, "07_audit", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
