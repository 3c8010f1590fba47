import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import marimo as mo

    from workbench.analysis.drift import DEFAULT_THRESHOLDS, drift_alerts, drift_chart, drift_table
    from workbench.analysis.freshness import freshness_chart, freshness_summary, replay_experiment
    from workbench.data import load_dataset
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report

    return (
        data_choice,
        DEFAULT_THRESHOLDS,
        Report,
        drift_alerts,
        drift_chart,
        drift_table,
        freshness_chart,
        freshness_summary,
        load_dataset,
        mo,
        publish,
        replay_experiment,
        stage,
    )


@app.cell
def _(mo):
    mo.md("""
    # Fresh data: replay, incremental updates and drift

    ALS is trained on the first part of the log (by time); the rest is replayed in
    windows. In each window every strategy recommends `k` items to the users active
    in it and is scored on their events there, then sees the window: **frozen**
    never updates, **incremental** folds the window in (`partial_fit` of the user
    vectors; new items get their decayed-popularity placement until the next refit),
    **refit** trains from scratch on everything so far. Drift compares each window
    with the training period.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    start_fraction = mo.ui.slider(0.5, 0.9, step=0.05, value=0.8, label="train on the first share of time")
    window_days = mo.ui.slider(1, 14, step=1, value=7, label="window (days)")
    k = mo.ui.slider(5, 20, step=5, value=10, label="k (list length)")
    run = mo.ui.run_button(label="Replay")
    mo.hstack([dataset, start_fraction, window_days, k, run], justify="start")
    return dataset, k, run, start_fraction, window_days


@app.cell
def _(dataset, load_dataset, stage):
    stage("loading data")
    ds = load_dataset(dataset.value)
    return (ds,)


@app.cell
def _(ds, k, mo, replay_experiment, run, stage, start_fraction, window_days):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Replay** to train and replay the three strategies."),
    )
    stage("replaying frozen, incremental and refit")
    freshness = replay_experiment(
        ds, start_fraction=start_fraction.value, window=f"{window_days.value}D", k=k.value, seed=0
    )
    freshness
    return (freshness,)


@app.cell
def _(freshness, freshness_summary):
    summary = freshness_summary(freshness)
    summary
    return (summary,)


@app.cell
def _(freshness, freshness_chart, k, mo):
    ndcg_chart = freshness_chart(freshness, metric="ndcg", k=k.value)
    hit_chart = freshness_chart(freshness, metric="hit_rate", k=k.value)
    latency_chart = freshness_chart(freshness, metric="update_ms_per_1000")
    mo.vstack([ndcg_chart, hit_chart, latency_chart])
    return hit_chart, latency_chart, ndcg_chart


@app.cell
def _(drift_table, ds, freshness, stage, start_fraction, window_days):
    stage("measuring drift")
    drift = drift_table(
        ds, window=f"{window_days.value}D", start_fraction=start_fraction.value, quality=freshness
    )
    drift
    return (drift,)


@app.cell
def _(DEFAULT_THRESHOLDS, drift, drift_chart, mo):
    drift_charts = {
        signal: drift_chart(drift, signal)
        for signal in DEFAULT_THRESHOLDS
        if signal in drift.columns and drift[signal].notna().any()
    }
    mo.vstack(list(drift_charts.values()))
    return (drift_charts,)


@app.cell
def _(drift, drift_alerts):
    alerts = drift_alerts(drift)
    alerts
    return (alerts,)


@app.cell
def _(
    Report,
    alerts,
    dataset,
    drift,
    drift_charts,
    freshness,
    hit_chart,
    k,
    latency_chart,
    ndcg_chart,
    publish,
    stage,
    summary,
):
    stage("writing report")
    headline = {
        "ndcg_frozen": float(summary.loc["frozen", "ndcg"]),
        "ndcg_incremental": float(summary.loc["incremental", "ndcg"]),
        "ndcg_refit": float(summary.loc["refit", "ndcg"]),
        "update_ms_per_1k": float(summary.loc["incremental", "update_ms_per_1000"]),
        "windows": int(freshness["window"].nunique()),
        "drift_alerts": int(len(alerts)),
    }
    report = Report(
        f"Fresh data: {dataset.value}", description="Replay in time windows: frozen vs incremental vs refit ALS, drift"
    )
    report.markdown(
        f"Replayed **{int(freshness.groupby('window')['n_events'].first().sum()):,}** events in "
        f"**{headline['windows']}** windows after training; metrics at k = {k.value} over the users active in each window."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Strategies")
    report.table(
        summary,
        caption="nDCG and hit rate averaged over (user, window) pairs; update time per 1,000 replayed events.",
    )
    report.chart(ndcg_chart)
    report.chart(hit_chart)
    report.chart(latency_chart)
    report.markdown("## Drift against the training period")
    report.warnings(alerts["message"])
    report.table(drift, max_rows=60)
    for _chart in drift_charts.values():
        report.chart(_chart)
    publish(report, "09_freshness", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
