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

    from workbench.models import ContentSimilarity
    from workbench.notebooks import data_choice, load_data, publish, stage, wait_for
    from workbench.report import format_value
    from workbench.views import (
        cold_split,
        cold_users_view,
        coldstart_report,
        hybrid_view,
        item_options,
        new_items_view,
    )

    return (
        ContentSimilarity,
        cold_split,
        cold_users_view,
        coldstart_report,
        data_choice,
        format_value,
        hybrid_view,
        item_options,
        load_data,
        mo,
        new_items_view,
        publish,
        stage,
        wait_for,
    )


@app.cell
def _(mo):
    mo.md("""
    # Cold start

    **New users.** A random share of users is held out entirely: the
    models see their demographics but none of their interactions. Users are
    clustered on demographics (k-means or a Gaussian mixture); the number of
    clusters is chosen by nDCG on warm users held out as if cold. A user's
    favourites are their cluster's (**clusters**) or, by default, **ridge**'s:
    a closed-form ridge regression of each item's column of the training log
    on the demographics, so the list follows the user's own profile (the
    clusters are still shown). On MovieLens-100K cold users
    (`benchmarks/coldstart_ml100k.py`, split seeds 0-4) ridge reaches 1.057x
    the nDCG@10 of popularity against 1.047x for cluster favourites (the gap
    between the two is within the seeds' noise). The headline is the nDCG of
    the cold users against the global most-popular list.

    **New items.** Items without training interactions are matched to others
    by their content (title words and tags).

    **Hybrid switch.** Users with few training interactions are served by the
    cold-start model (with the favourites chosen above), the others by ALS;
    evaluated per segment (cold, light, heavy).
    """)
    return


@app.cell
def _(data_choice, mo):
    dataset = mo.ui.dropdown(**data_choice())
    method = mo.ui.dropdown(options=["kmeans", "gmm"], value="kmeans", label="clustering")
    favourites = mo.ui.dropdown(options=["ridge", "clusters"], value="ridge", label="favourites")
    k = mo.ui.slider(5, 50, step=5, value=10, label="k (list length)", show_value=True)
    min_interactions = mo.ui.slider(1, 20, value=5, label="hybrid: ALS from this many interactions", show_value=True)
    run = mo.ui.run_button(label="Fit models")
    mo.hstack([dataset, method, favourites, k, min_interactions, run], justify="start", wrap=True)
    return dataset, favourites, k, method, min_interactions, run


@app.cell
def _(dataset, load_data):
    ds = load_data(dataset.value)
    return (ds,)


@app.cell
def _(cold_split, ds, mo, stage):
    stage("holding out users")
    split = cold_split(ds)
    mo.md(
        f"**{len(split.cold_users):,}** cold users ({split.describe()}) held out with **{len(split.test):,}** "
        f"interactions; **{split.train.interactions['user_id'].nunique():,}** warm users train on **{len(split.train):,}**."
    )
    return (split,)


@app.cell
def _(cold_users_view, favourites, method, mo, run, split, stage, wait_for):
    wait_for(run, "Press **Fit models** to cluster users and fit the baselines.")
    if split.users_note():
        fitted_users = None  # no demographics: this section and the hybrid switch say why
        _shown = mo.md(split.users_note())
    else:
        stage(f"clustering users ({method.value}, {favourites.value} favourites), recommending to cold users")
        with mo.status.spinner(title="Clustering users and fitting favourites"):
            fitted_users = cold_users_view(split, method=method.value, favourites=favourites.value)
        _ridge = [] if fitted_users.ridge_selection is None else [fitted_users.ridge_selection]
        _shown = mo.vstack([mo.md(fitted_users.choice()), fitted_users.selection, *_ridge])
    _shown
    return (fitted_users,)


@app.cell
def _(fitted_users, k):
    # k only changes the lists scored: changing it does not fit again
    users = None if fitted_users is None else fitted_users.at_k(k.value)
    return (users,)


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.selection_plot
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.profiles
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.cold_scores
    return


@app.cell
def _(format_value, mo, users):
    mo.stop(users is None)
    mo.hstack(
        [
            mo.stat(
                value=format_value(users.cold_scores.loc[users.name, "ndcg"]), label=f"{users.name} nDCG@{users.k}"
            ),
            mo.stat(
                value=format_value(users.cold_scores.loc["popularity", "ndcg"]), label=f"popularity nDCG@{users.k}"
            ),
            mo.stat(value=f"{users.ndcg_ratio:.3f}x", label=f"{users.name} / popularity"),
            mo.stat(
                value=f"{users.headline['ndcg_gain_over_popularity']:+.4f}",
                label=f"per-user gain, {users.name} - popularity",
            ),
        ]
    )
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    mo.md(users.verdict)
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.cold_chart
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.by_cluster
    return


@app.cell
def _(mo):
    mo.md("""
    ## Onboarding: the first interactions of a new user

    Each cold user's first 1 or 3 items (by time) are revealed, as if given in
    the first minutes after sign-up. The cold-start model adds their similarity
    to those items (co-occurrence cosine in the training log); every model is
    scored on the same remaining items and never lists the revealed ones.
    """)
    return


@app.cell
def _(mo, users):
    mo.stop(users is None)
    users.onboarding
    return


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
def _(item_options, mo, split):
    _options = item_options(split)
    item_pick = mo.ui.dropdown(
        options=_options, value=next(iter(_options), None), searchable=True, label="item without interactions"
    )
    item_pick
    return (item_pick,)


@app.cell
def _(ContentSimilarity, ds, split, stage):
    stage("indexing item content")
    similarity = None if split.items_note() else ContentSimilarity().fit(ds)
    return (similarity,)


@app.cell
def _(item_pick, k, mo, new_items_view, similarity, split):
    items = None if similarity is None else new_items_view(split, similarity, item_pick.value, k=k.value)
    _count = mo.md(f"**{items.cold_item_count:,}** items have no training interactions.") if items else None
    mo.vstack([_count, items.similar]) if items else mo.md(split.items_note())
    return (items,)


@app.cell
def _(mo):
    mo.md("""
    ## Hybrid switch by segment

    The warm users' interactions are split per user; the hybrid trains on the
    training share and is evaluated on the rest plus every interaction of the
    cold users. The cold segment gets the favourites chosen above (ridge or
    clusters). ALS alone serves unknown users the most popular items.
    """)
    return


@app.cell
def _(favourites, fitted_users, hybrid_view, method, min_interactions, mo, split, stage):
    if fitted_users is None:
        fitted_hybrid = None  # the cold segment would need demographics: the section says why
    else:
        stage("fitting and evaluating the hybrid switch")
        with mo.status.spinner(title="Fitting the hybrid switch"):
            fitted_hybrid = hybrid_view(
                split, method=method.value, favourites=favourites.value, min_interactions=min_interactions.value
            )
    return (fitted_hybrid,)


@app.cell
def _(fitted_hybrid, k, mo, split):
    hybrid = None if fitted_hybrid is None else fitted_hybrid.at_k(k.value)
    if hybrid is None:
        _shown = mo.md(split.users_note())
    else:
        _shown = mo.vstack(
            [mo.md(f"Warm users split {hybrid.describe()}; {hybrid.k} items per list."), hybrid.by_segment]
        )
    _shown
    return (hybrid,)


@app.cell
def _(hybrid, mo):
    mo.stop(hybrid is None)
    hybrid.segment_chart
    return


@app.cell
def _(coldstart_report, dataset, hybrid, items, publish, split, stage, users):
    stage("writing report")
    headline = split.headline if users is None else users.headline
    publish(coldstart_report(users, items, hybrid, dataset.value, split=split), "02_coldstart", headline)
    return


if __name__ == "__main__":
    app.run()
