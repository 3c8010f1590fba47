import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import marimo as mo
    import pandas as pd

    from workbench.analysis.explain import item_label, with_item_names
    from workbench.data import load_dataset
    from workbench.data.split import stratified_split
    from workbench.evaluation import evaluate_per_user, summarize
    from workbench.models import ALSRecommender, PopularityRecommender
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report
    from workbench.report.charts import distribution_chart, metric_comparison_chart

    return (
        data_choice,
        ALSRecommender,
        PopularityRecommender,
        Report,
        distribution_chart,
        evaluate_per_user,
        item_label,
        load_dataset,
        metric_comparison_chart,
        mo,
        pd,
        publish,
        stage,
        stratified_split,
        summarize,
        with_item_names,
    )


@app.cell
def _(mo):
    mo.md("""
    # ALS candidates

    Implicit-feedback ALS against a most-popular baseline. Each user's
    interactions are split at random, 75% for training and 25% for testing
    (seed 42); both models recommend `k` unseen items per test user.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)")
    factors = mo.ui.slider(16, 128, step=16, value=64, label="ALS factors")
    run = mo.ui.run_button(label="Train models")
    mo.hstack([dataset, k, factors, run], justify="start")
    return dataset, factors, k, run


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
def _(ALSRecommender, PopularityRecommender, factors, mo, run, stage, train):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Train models** to fit popularity and ALS."),
    )
    stage("training popularity and ALS")
    models = {
        "popularity": PopularityRecommender().fit(train),
        "als": ALSRecommender(factors=factors.value, seed=0).fit(train),
    }
    return (models,)


@app.cell
def _(k, models, stage, test_users):
    stage("recommending")
    recs = {name: model.recommend(test_users, k=k.value) for name, model in models.items()}
    return (recs,)


@app.cell
def _(evaluate_per_user, k, recs, summarize, test):
    per_user_by_model = {name: evaluate_per_user(frame, test, k=k.value) for name, frame in recs.items()}
    scores = summarize(per_user_by_model)
    scores
    return per_user_by_model, scores


@app.cell
def _(k, metric_comparison_chart, scores):
    comparison_chart = metric_comparison_chart(scores, title=f"Popularity vs ALS, metrics @ {k.value}")
    comparison_chart
    return (comparison_chart,)


@app.cell
def _(pd, per_user_by_model):
    per_user = pd.concat(
        [frame.assign(model=name) for name, frame in per_user_by_model.items()],
        ignore_index=True,
    )
    per_user.groupby("model")["ndcg"].describe()
    return (per_user,)


@app.cell
def _(distribution_chart, k, per_user):
    ndcg_chart = distribution_chart(per_user, "ndcg", color="model", title=f"Per-user nDCG@{k.value}")
    ndcg_chart
    return (ndcg_chart,)


@app.cell
def _(ds, recs, test_users, with_item_names):
    example_users = test_users[:3]
    examples = with_item_names(recs["als"][recs["als"]["user_id"].isin(example_users)].reset_index(drop=True), ds.items)
    examples
    return (examples,)


@app.cell
def _(ds, models, train, with_item_names):
    popular_item = train.interactions["item_id"].value_counts().index[0]
    similar = with_item_names(models["als"].similar_items([popular_item], k=10), ds.items, on="similar_item_id")
    similar
    return popular_item, similar


@app.cell
def _(
    Report,
    comparison_chart,
    dataset,
    ds,
    examples,
    item_label,
    k,
    ndcg_chart,
    per_user,
    popular_item,
    publish,
    scores,
    similar,
    stage,
    test_users,
    train,
):
    stage("writing report")
    headline = {
        "ndcg_als": float(scores.loc["als", "ndcg"]),
        "ndcg_popularity": float(scores.loc["popularity", "ndcg"]),
        "recall_als": float(scores.loc["als", "recall"]),
        "test_users": int(len(test_users)),
    }
    report = Report(f"ALS candidates: {dataset.value}", description="Popularity vs implicit ALS, per-user 75/25 split")
    report.markdown(
        f"Trained on **{len(train):,}** interactions; evaluated on **{len(test_users):,}** test users at k = {k.value}."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Metrics")
    report.table(scores, caption="Means over test users; a user without hits scores 0.")
    report.chart(comparison_chart)
    report.markdown("## Per-user nDCG")
    report.table(per_user.groupby("model")["ndcg"].describe())
    report.chart(ndcg_chart)
    report.markdown("## Example recommendations (ALS)")
    report.table(examples, max_rows=30)
    report.markdown(f"## Items similar to the most popular item: {item_label(popular_item, ds.items)}")
    report.table(similar.drop(columns="item_id"))  # the popular item, named in the heading
    publish(report, "03_als", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
