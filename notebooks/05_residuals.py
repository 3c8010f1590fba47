import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import marimo as mo
    import pandas as pd

    from workbench.analysis.residuals import (
        calibration_chart,
        calibration_curve,
        rating_residuals,
        residual_chart,
        residual_table,
        residuals_by_segment,
        worst_segments,
    )
    from workbench.data import load_dataset
    from workbench.data.split import stratified_split
    from workbench.models.candidates import CandidateGenerator
    from workbench.models.rerank import LightGBMReranker
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report

    return (
        data_choice,
        CandidateGenerator,
        LightGBMReranker,
        Report,
        calibration_chart,
        calibration_curve,
        load_dataset,
        mo,
        pd,
        publish,
        rating_residuals,
        residual_chart,
        residual_table,
        residuals_by_segment,
        stage,
        stratified_split,
        worst_segments,
    )


@app.cell
def _(mo):
    mo.md("""
    # Residual analysis

    Where is the re-ranker most wrong? A LightGBM re-ranker (ALS, item-neighbour and
    popularity candidates; quick settings: 2 holdout folds, learning rate 0.3) is trained
    on a per-user 75/25 split (seed 42) and scores its candidates for every test user.
    Its raw score becomes a probability of relevance by isotonic regression, fitted on
    the candidates of a random half of the test users; the residual
    (observed - predicted, observed = the pair is in the test set) is reported for the
    **other half only**, so no user calibrates its own residuals. Residuals are averaged
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
    n_candidates = mo.ui.slider(20, 100, step=10, value=50, label="candidates per user")
    min_pairs = mo.ui.slider(50, 1000, step=50, value=200, label="worst segments: at least this many pairs")
    run = mo.ui.run_button(label="Train re-ranker")
    mo.hstack([dataset, n_candidates, min_pairs, run], justify="start", wrap=True)
    return dataset, min_pairs, n_candidates, run


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
def _(CandidateGenerator, LightGBMReranker, mo, n_candidates, run, stage, train):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Train re-ranker** to fit the candidates and the LightGBM ranker."),
    )
    stage("training candidates and the LightGBM re-ranker")
    model = LightGBMReranker(
        CandidateGenerator(seed=0), n_candidates=n_candidates.value, seed=0, n_folds=2, learning_rate=0.3
    ).fit(train)
    return (model,)


@app.cell
def _(model, n_candidates, residual_table, stage, test, test_users, train):
    stage("scoring candidates and calibrating")
    scored = model.recommend(test_users, k=n_candidates.value)
    table = residual_table(scored, test, train, seed=0)
    segment_names = list(table.columns[table.columns.get_loc("residual") + 1 :])
    return scored, segment_names, table


@app.cell
def _(mo, table):
    _summary = (
        f"Residuals of **{len(table):,}** candidate pairs of **{table['user_id'].nunique():,}** report users: "
        f"mean predicted probability **{table['probability'].mean():.2%}**, observed share relevant "
        f"**{table['observed'].mean():.2%}**, mean residual **{table['residual'].mean():+.4f}**."
    )
    mo.md(_summary)
    return


@app.cell
def _(residuals_by_segment, segment_names, stage, table):
    stage("bootstrapping segment intervals")
    by_segment = residuals_by_segment(table, segment_names, n_boot=1000, seed=0)
    by_segment
    return (by_segment,)


@app.cell
def _(by_segment, mo, residual_chart, segment_names):
    residual_charts = {name: residual_chart(by_segment, name) for name in segment_names}
    mo.ui.tabs(residual_charts)
    return (residual_charts,)


@app.cell
def _(by_segment, min_pairs, worst_segments):
    worst = worst_segments(by_segment, min_pairs=min_pairs.value, n=8)
    return (worst,)


@app.cell
def _(min_pairs, mo, worst):
    mo.callout(
        mo.md("\n".join(f"- {message}" for message in worst["message"]) or f"No segment has {min_pairs.value} pairs."),
        kind="warn" if worst["significant"].any() else "success",
    )
    return


@app.cell
def _(calibration_chart, calibration_curve, table):
    curve = calibration_curve(table, n_bins=10)
    reliability_chart = calibration_chart(curve)
    reliability_chart
    return curve, reliability_chart


@app.cell
def _(ds, pd, rating_residuals, segment_names, stage, test, train):
    rated = "rating" in ds.interactions.columns
    if rated:
        stage("rating residuals of the bias baseline")
    rating_table = rating_residuals(train, test, by=segment_names) if rated else pd.DataFrame()
    rating_table
    return rated, rating_table


@app.cell
def _(
    Report,
    by_segment,
    curve,
    dataset,
    min_pairs,
    n_candidates,
    publish,
    rated,
    rating_table,
    reliability_chart,
    residual_charts,
    stage,
    table,
    worst,
):
    stage("writing report")
    headline = {
        "report_users": int(table["user_id"].nunique()),
        "pairs": int(len(table)),
        "mean_probability": float(table["probability"].mean()),
        "observed_rate": float(table["observed"].mean()),
        "worst_residual": float(worst["residual"].iloc[0]) if len(worst) else 0.0,
        "significant_segments": int(worst["significant"].sum()),
    }
    if rated:
        headline["rating_rmse"] = float(rating_table["rmse"].iloc[0])
    report = Report(
        f"Residual analysis: {dataset.value}",
        description="Calibrated re-ranker residuals by user and item segment; rating residuals",
    )
    report.markdown(
        f"LightGBM re-ranker over {n_candidates.value} candidates per test user (per-user 75/25 split, seed 42). "
        "Scores are calibrated by isotonic regression on half of the test users; residuals "
        "(observed - predicted probability) are reported on the other half."
    )
    report.metrics(headline)
    report.markdown(f"## Where the model is most wrong (segments with at least {min_pairs.value} pairs)")
    report.warnings(worst["message"])
    report.markdown(
        "Read residuals by training activity with care: the score ranks items within a user, so the same score "
        "means more relevance for a user with many test items (a heavy user) than for a light one."
    )
    report.markdown("## Calibration")
    report.chart(reliability_chart)
    report.table(curve, caption="Equal-count bins of the calibrated probability.")
    report.markdown("## Residual by segment")
    for _chart in residual_charts.values():
        report.chart(_chart)
    report.table(
        by_segment,
        max_rows=300,
        caption="Means over candidate pairs; lower / upper: 95% bootstrap interval of the mean residual.",
    )
    if rated:
        report.markdown("## Rating residuals: user + item bias baseline")
        report.table(rating_table, max_rows=300, caption="RMSE, MAE and mean residual (rating - prediction) of the test ratings.")
    publish(report, "05_residuals", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
