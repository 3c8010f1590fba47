import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():

    import altair as alt
    import marimo as mo

    from workbench.analysis.explain import (
        additivity_error as shap_additivity_error,
        beeswarm_chart,
        dependence_chart,
        global_importance,
        importance_by_segment,
        item_label,
        item_labels,
        waterfall_chart,
    )
    from workbench.analysis.segments import activity_bands
    from workbench.data import load_dataset
    from workbench.data.split import stratified_split
    from workbench.models import CandidateGenerator, LightGBMReranker
    from workbench.notebooks import data_choice, fitted, publish, stage
    from workbench.report import Report
    from workbench.report.charts import bar_chart

    return (
        data_choice,
        CandidateGenerator,
        LightGBMReranker,
        Report,
        activity_bands,
        alt,
        bar_chart,
        beeswarm_chart,
        dependence_chart,
        fitted,
        global_importance,
        importance_by_segment,
        item_label,
        item_labels,
        load_dataset,
        mo,
        publish,
        shap_additivity_error,
        stage,
        stratified_split,
        waterfall_chart,
    )


@app.cell
def _(mo):
    mo.md("""
    # Explaining the re-ranker

    Why does the LightGBM re-ranker put an item in a user's top `k`? Exact
    TreeSHAP splits each raw score into a base value, the fixed ALS prior
    the trees boost from, and one contribution per feature. The model is
    trained as in *04 Two-stage re-ranking* (per-user 75/25 split, seed 42)
    and explained on the test users' top `k`.
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)")
    n_candidates = mo.ui.slider(20, 100, step=10, value=50, label="candidates per user")
    n_folds = mo.ui.slider(2, 5, step=1, value=3, label="holdout folds")
    run = mo.ui.run_button(label="Train the re-ranker")
    mo.hstack([dataset, k, n_candidates, n_folds, run], justify="start", wrap=True)
    return dataset, k, n_candidates, n_folds, run


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
    return test_users, train


@app.cell
def _(CandidateGenerator, LightGBMReranker, fitted, mo, n_candidates, n_folds, run, stage, train):
    mo.stop(
        mo.app_meta().mode == "edit" and not run.value,
        mo.md("Press **Train the re-ranker** to fit and explain it."),
    )
    stage("training the re-ranker")
    model = fitted(  # the model of 04 (same parameters and data): a report run fits it once
        LightGBMReranker(
            CandidateGenerator(seed=0), n_candidates=n_candidates.value, n_folds=n_folds.value, holdout="random", seed=0
        ),
        train,
    )
    return (model,)


@app.cell
def _(k, model, stage, test_users):
    stage("explaining the top k")
    recs = model.recommend(test_users, k=k.value)
    contrib = model.explain(test_users, k=k.value)
    values = model.feature_table(test_users, k=k.value)
    return contrib, recs, values


@app.cell
def _(contrib, mo, recs, shap_additivity_error):
    additivity_error = shap_additivity_error(contrib, recs)
    mo.callout(
        mo.md(
            f"Additivity: over **{len(contrib):,}** recommendations, max |base + prior + contributions - score| "
            f"= **{additivity_error:.2e}**."
        ),
        kind="success" if additivity_error < 1e-4 else "danger",
    )
    return (additivity_error,)


@app.cell
def _(contrib, global_importance):
    importance = global_importance(contrib)
    importance
    return (importance,)


@app.cell
def _(bar_chart, importance):
    importance_chart = bar_chart(
        importance.head(15), "feature", "mean_abs_shap", title="Global importance: mean |SHAP| (raw score)"
    )
    importance_chart
    return (importance_chart,)


@app.cell
def _(beeswarm_chart, contrib, values):
    beeswarm = beeswarm_chart(contrib, values, seed=0)
    beeswarm
    return (beeswarm,)


@app.cell
def _(importance, mo, values):
    _options = [_f for _f in importance["feature"] if _f in values.columns]
    feature = mo.ui.dropdown(options=_options, value=_options[0], label="dependence plot of")
    feature
    return (feature,)


@app.cell
def _(contrib, dependence_chart, feature, values):
    dependence = dependence_chart(contrib, values, feature.value, seed=0)
    dependence
    return (dependence,)


@app.cell
def _(mo):
    mo.md("""
    ## Why item X for user Y
    """)
    return


@app.cell
def _(contrib, mo):
    _users = {str(_u): _u for _u in contrib["user_id"].unique()}
    user = mo.ui.dropdown(options=_users, value=next(iter(_users)), label="user")
    user
    return (user,)


@app.cell
def _(ds, item_labels, mo, recs, user):
    _mine = recs[recs["user_id"] == user.value]
    _labels = item_labels(_mine["item_id"], ds.items)
    _items = {f"{_r}. {_l}": _i for _r, _l, _i in zip(_mine["rank"], _labels, _mine["item_id"], strict=True)}
    item = mo.ui.dropdown(options=_items, value=next(iter(_items)), label="recommended item")
    item
    return (item,)


@app.cell
def _(contrib, ds, item, item_label, mo, user, waterfall_chart):
    _mask = (contrib["user_id"] == user.value) & (contrib["item_id"] == item.value)
    why_row = contrib[_mask].astype({"user_id": object, "item_id": object}).iloc[0]  # keep ids as they are
    why_name = item_label(item.value, ds.items)
    waterfall = waterfall_chart(why_row, items=ds.items)
    mo.vstack([mo.md(f"**{why_name}** for user **{user.value}**"), waterfall])
    return waterfall, why_name, why_row


@app.cell
def _(mo):
    mo.md("""
    ## SHAP by user activity

    Do the features matter differently for light and heavy users? Test
    users are banded by their number of training interactions (quartiles,
    light to heavy); the table shows mean |SHAP| per feature and band.
    """)
    return


@app.cell
def _(activity_bands, contrib, importance, importance_by_segment, train):
    bands = activity_bands(train, contrib["user_id"].unique())
    by_segment = importance_by_segment(contrib, bands)
    _order = [_b for _b in bands.cat.categories if _b in set(by_segment["segment"])]
    segment_table = by_segment.pivot(index="feature", columns="segment", values="mean_abs_shap")[_order]
    segment_table = segment_table.loc[importance["feature"]].rename_axis(columns="activity band")
    segment_table
    return bands, by_segment, segment_table


@app.cell
def _(alt, by_segment, importance, segment_table):
    _top = importance["feature"].head(8).tolist()
    _data = by_segment[by_segment["feature"].isin(_top)].assign(segment=lambda f: f["segment"].astype(str))
    _bands = [str(_b) for _b in segment_table.columns]
    segment_chart = (
        alt.Chart(_data, title="Mean |SHAP| by activity band (top features)")
        .mark_bar()
        .encode(
            x=alt.X("feature:N", sort=_top, title=None, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("segment:N", sort=_bands),
            y=alt.Y("mean_abs_shap:Q", title="Mean |SHAP| (raw score)"),
            color=alt.Color("segment:N", sort=_bands, title="Training interactions"),
            tooltip=["segment", "feature", alt.Tooltip("mean_abs_shap:Q", format=".4f"), "n_rows"],
        )
        .properties(width=520, height=260)
    )
    segment_chart
    return (segment_chart,)


@app.cell
def _(
    Report,
    additivity_error,
    beeswarm,
    contrib,
    dataset,
    dependence,
    feature,
    importance,
    importance_chart,
    k,
    model,
    n_candidates,
    n_folds,
    publish,
    segment_chart,
    segment_table,
    stage,
    test_users,
    user,
    waterfall,
    why_name,
):
    stage("writing report")
    headline = {
        "recommendations_explained": int(len(contrib)),
        "test_users": int(len(test_users)),
        "additivity_max_error": additivity_error,
        "top_feature": str(importance["feature"].iloc[0]),
        "top_mean_abs_shap": float(importance["mean_abs_shap"].iloc[0]),
    }
    report = Report(
        f"Explaining the re-ranker: {dataset.value}",
        description="Exact TreeSHAP of the LightGBM re-ranker's top k: importance, dependence, single lists, segments",
    )
    report.markdown(
        f"Re-ranker with **{n_candidates.value}** candidates per user and **{n_folds.value}** holdout folds "
        f"({model.best_iteration_} boosting rounds); the top {k.value} of **{len(test_users):,}** test users "
        "explained. Contributions are in raw-score space: base value + ALS prior + features = score."
    )
    report.metrics(headline, k=k.value)
    report.markdown("## Global importance")
    report.table(importance, max_rows=30, caption="Mean |SHAP| and mean SHAP per feature over all explained rows.")
    report.chart(importance_chart)
    report.chart(beeswarm)
    report.markdown(f"## Dependence: {feature.value}")
    report.chart(dependence)
    report.markdown(f"## Why {why_name} for user {user.value}")
    report.chart(waterfall)
    report.markdown("## SHAP by user activity band")
    report.table(segment_table, max_rows=30, caption="Mean |SHAP| per feature (rows) and training-activity band (columns).")
    report.chart(segment_chart)
    publish(report, "06_explain", headline)
    return (headline,)


if __name__ == "__main__":
    app.run()
