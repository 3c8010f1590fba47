import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import marimo as mo
    import pandas as pd

    from workbench.analysis.explain import item_label, item_labels, with_item_names
    from workbench.analysis.segments import segment_metrics
    from workbench.data import load_dataset
    from workbench.data.split import cold_user_split, stratified_split
    from workbench.evaluation import evaluate_per_user, summarize
    from workbench.models import (
        ALSRecommender,
        ClusterColdStart,
        ContentSimilarity,
        HybridRecommender,
        PopularityRecommender,
    )
    from workbench.notebooks import data_choice, publish, stage
    from workbench.report import Report
    from workbench.report.charts import metric_comparison_chart, selection_chart
    from workbench.report.render import format_value

    return (
        data_choice,
        ALSRecommender,
        ClusterColdStart,
        ContentSimilarity,
        HybridRecommender,
        PopularityRecommender,
        Report,
        cold_user_split,
        evaluate_per_user,
        summarize,
        format_value,
        item_label,
        item_labels,
        load_dataset,
        metric_comparison_chart,
        mo,
        pd,
        publish,
        segment_metrics,
        selection_chart,
        stage,
        stratified_split,
        with_item_names,
    )


@app.cell
def _(mo):
    mo.md("""
    # Cold start

    **New users.** A random 20% of users is held out entirely (seed 0): the
    models see their demographics but none of their interactions. Users are
    clustered on demographics (k-means or a Gaussian mixture); each cluster
    gets its own favourites, and the number of clusters is chosen by nDCG on
    warm users held out as if cold. The headline is the nDCG of the cold users
    against the global most-popular list.

    **New items.** Items without training interactions are matched to others
    by their content (title words and tags).

    **Hybrid switch.** Users with few training interactions are served by the
    cluster model, the others by ALS; evaluated per segment (cold, light, heavy).
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    method = mo.ui.dropdown(options=["kmeans", "gmm"], value="kmeans", label="clustering")
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)")
    min_interactions = mo.ui.slider(1, 20, value=5, label="hybrid: ALS from this many interactions")
    run = mo.ui.run_button(label="Fit models")
    mo.hstack([dataset, method, k, min_interactions, run], justify="start", wrap=True)
    return dataset, k, method, min_interactions, run


@app.cell
def _(dataset, load_dataset, stage):
    stage("loading data")
    ds = load_dataset(dataset.value)
    return (ds,)


@app.cell
def _(cold_user_split, ds, mo, stage):
    stage("holding out 20% of users")
    train, test = cold_user_split(ds, fraction=0.2, seed=0)
    cold_users = test.interactions["user_id"].unique()
    mo.md(
        f"**{len(cold_users):,}** cold users held out with **{len(test):,}** interactions; "
        f"**{train.interactions['user_id'].nunique():,}** warm users train on **{len(train):,}**."
    )
    return cold_users, test, train


@app.cell
def _(ClusterColdStart, method, mo, run, stage, train):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Fit models** to cluster users and fit the baselines."),
    )
    stage(f"clustering users ({method.value})")
    cluster_model = ClusterColdStart(method=method.value, seed=0).fit(train)
    return (cluster_model,)


@app.cell
def _(cluster_model, mo):
    selection = cluster_model.selection_
    mo.vstack(
        [
            mo.md(f"Chosen: **{cluster_model.n_clusters_} clusters** (highest nDCG@10 of held-out warm users)."),
            selection,
        ]
    )
    return (selection,)


@app.cell
def _(selection, selection_chart):
    selection_plot = selection_chart(selection)
    selection_plot
    return (selection_plot,)


@app.cell
def _(cluster_model, ds, item_labels):
    profiles = cluster_model.profiles(top=5)
    profiles["top_items"] = ["; ".join(item_labels(ids.split(", "), ds.items)) for ids in profiles["top_items"]]
    profiles
    return (profiles,)


@app.cell
def _(PopularityRecommender, cluster_model, cold_users, k, stage, train):
    stage("recommending to cold users")
    baselines = {"clusters": cluster_model, "popularity": PopularityRecommender().fit(train)}
    cold_recs = {name: model.recommend(cold_users, k=k.value) for name, model in baselines.items()}
    return (cold_recs,)


@app.cell
def _(cold_recs, evaluate_per_user, k, summarize, test):
    cold_per_user = {name: evaluate_per_user(frame, test, k=k.value) for name, frame in cold_recs.items()}
    cold_scores = summarize(cold_per_user)
    ndcg_ratio = float(cold_scores.loc["clusters", "ndcg"] / cold_scores.loc["popularity", "ndcg"])
    cold_scores
    return cold_per_user, cold_scores, ndcg_ratio


@app.cell
def _(cold_scores, format_value, k, mo, ndcg_ratio):
    mo.hstack(
        [
            mo.stat(value=format_value(cold_scores.loc["clusters", "ndcg"]), label=f"clusters nDCG@{k.value}"),
            mo.stat(value=format_value(cold_scores.loc["popularity", "ndcg"]), label=f"popularity nDCG@{k.value}"),
            mo.stat(value=f"{ndcg_ratio:.3f}x", label="clusters / popularity"),
        ]
    )
    return


@app.cell
def _(cold_scores, k, metric_comparison_chart):
    cold_chart = metric_comparison_chart(cold_scores, title=f"Cold users: clusters vs popularity, metrics @ {k.value}")
    cold_chart
    return (cold_chart,)


@app.cell
def _(cluster_model, cold_per_user, cold_users, ds, segment_metrics):
    cold_clusters = cluster_model.assign(ds.users.reindex(cold_users)).astype(str)
    by_cluster = segment_metrics(cold_per_user["clusters"], cold_clusters)
    by_cluster = by_cluster.rename(columns={"segment": "cluster"})
    by_cluster
    return (by_cluster,)


@app.cell
def _(mo):
    mo.md("""
    ## New items: similar by content

    Pick an item that has no training interactions; its neighbours come from
    TF-IDF over tags and title words, so they need no interactions either.
    Tags (genres, categories) weigh 0.7 and title words 0.3 (`text_weight`):
    on MovieLens-100K that keeps neighbours in the same genres and still finds
    sequels (`benchmarks/content_ml100k.py`).
    """)
    return


@app.cell
def _(ds, item_labels, mo, pd, train):
    _cold = ds.items.index.difference(pd.Index(train.interactions["item_id"].unique()), sort=False)
    _pool = _cold if len(_cold) else ds.items.index
    _options = dict(zip(item_labels(_pool, ds.items), _pool, strict=True))
    cold_item_count = int(len(_cold))
    item_pick = mo.ui.dropdown(
        options=_options, value=next(iter(_options)), searchable=True, label="item without interactions"
    )
    mo.vstack([mo.md(f"**{cold_item_count:,}** items have no training interactions."), item_pick])
    return cold_item_count, item_pick


@app.cell
def _(ContentSimilarity, ds, stage):
    stage("indexing item content")
    similarity = ContentSimilarity().fit(ds)
    return (similarity,)


@app.cell
def _(ds, item_pick, k, similarity, train, with_item_names):
    query_item = item_pick.value
    similar = with_item_names(similarity.similar_items([query_item], k=k.value), ds.items, on="similar_item_id")
    _attributes = ds.items.select_dtypes(exclude="number")
    similar = similar.join(_attributes.drop(columns=similar.columns, errors="ignore"), on="similar_item_id")
    _counts = train.interactions["item_id"].value_counts()
    similar["train_interactions"] = _counts.reindex(similar["similar_item_id"], fill_value=0).to_numpy()
    similar
    return query_item, similar


@app.cell
def _(mo):
    mo.md("""
    ## Hybrid switch by segment

    The warm users' interactions are split 75/25 per user (seed 42); the
    hybrid trains on the 75% and is evaluated on the 25% plus every
    interaction of the cold users. ALS alone serves unknown users the most
    popular items.
    """)
    return


@app.cell
def _(
    ALSRecommender,
    ClusterColdStart,
    HybridRecommender,
    method,
    min_interactions,
    pd,
    stage,
    stratified_split,
    test,
    train,
):
    stage("fitting the hybrid switch")
    warm_train, warm_test = stratified_split(train, ratio=0.75, seed=42)
    hybrid_truth = pd.concat([warm_test.interactions, test.interactions], ignore_index=True)
    hybrid = HybridRecommender(
        ClusterColdStart(method=method.value, seed=0),
        ALSRecommender(seed=0),
        min_interactions=min_interactions.value,
    ).fit(warm_train)
    return hybrid, hybrid_truth


@app.cell
def _(evaluate_per_user, hybrid, hybrid_truth, k, pd, segment_metrics, stage):
    stage("evaluating the hybrid by segment")
    _users = hybrid_truth["user_id"].unique()
    hybrid_segments = hybrid.segments(_users)
    _models = {"hybrid": hybrid, "als": hybrid.warm_model}
    by_segment = pd.concat(
        [
            segment_metrics(
                evaluate_per_user(model.recommend(_users, k=k.value), hybrid_truth, k=k.value), hybrid_segments
            ).assign(model=name)[["model", "segment", "ndcg", "recall", "hit_rate", "count"]]
            for name, model in _models.items()
        ],
        ignore_index=True,
    )
    by_segment
    return by_segment, hybrid_segments


@app.cell
def _(by_segment, k, metric_comparison_chart):
    _ndcg = by_segment.pivot(index="model", columns="segment", values="ndcg")
    segment_chart = metric_comparison_chart(
        _ndcg[list(dict.fromkeys(by_segment["segment"]))].loc[["hybrid", "als"]],
        title=f"nDCG@{k.value} by segment: hybrid vs ALS alone",
    )
    segment_chart
    return (segment_chart,)


@app.cell
def _(
    Report,
    by_cluster,
    by_segment,
    cluster_model,
    cold_chart,
    cold_item_count,
    cold_scores,
    cold_users,
    dataset,
    ds,
    hybrid,
    item_label,
    k,
    method,
    ndcg_ratio,
    profiles,
    publish,
    query_item,
    segment_chart,
    selection,
    selection_plot,
    similar,
    similarity,
    stage,
    test,
):
    stage("writing report")
    headline = {
        "ndcg_clusters": float(cold_scores.loc["clusters", "ndcg"]),
        "ndcg_popularity": float(cold_scores.loc["popularity", "ndcg"]),
        "ndcg_ratio": ndcg_ratio,
        "n_clusters": int(cluster_model.n_clusters_),
        "cold_users": int(len(cold_users)),
    }
    report = Report(f"Cold start: {dataset.value}", description="User clusters vs popularity for new users; content similarity for new items; hybrid switch")
    report.markdown(
        f"**{len(cold_users):,}** users (20%, seed 0) are held out with their **{len(test):,}** interactions; "
        f"users are clustered with **{method.value}** on demographics. nDCG@{k.value} of the cold users: "
        f"clusters **{headline['ndcg_clusters']:.4f}** vs popularity **{headline['ndcg_popularity']:.4f}**, "
        f"a ratio of **{ndcg_ratio:.3f}**."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Choosing the number of clusters")
    report.table(selection, caption="nDCG@10 of warm users held out as if cold (5 folds); higher silhouette and lower BIC mean tighter clusters.")
    report.chart(selection_plot)
    report.markdown(f"## Cluster profiles ({cluster_model.n_clusters_} clusters)")
    report.table(profiles, caption="Mean of numeric columns, most common value (with its share) of categorical ones, the cluster's top items.")
    report.markdown("## Cold users: clusters vs popularity")
    report.table(cold_scores, caption="Means over the held-out users, who had no interactions in training.")
    report.chart(cold_chart)
    report.table(by_cluster, caption="Cold users by the cluster their demographics assign them to.")
    report.markdown(f"## New items: content neighbours of {item_label(query_item, ds.items)}")
    report.markdown(f"{cold_item_count:,} items have no training interactions.")
    _weight = similarity.text_weight
    report.table(
        similar.drop(columns="item_id"),  # the query item, named in the heading
        caption=f"Cosine similarity of TF-IDF vectors: tags weigh {1 - _weight:.1f}, title words {_weight:.1f}.",
    )
    report.markdown(f"## Hybrid switch (cluster model below {hybrid.min_interactions} training interactions, ALS above)")
    report.table(by_segment, caption="cold: fewer interactions than the switch (held-out users included); heavy: at least the median of warm users.")
    report.chart(segment_chart)
    publish(report, "02_coldstart", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
