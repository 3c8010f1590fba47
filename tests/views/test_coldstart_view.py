"""workbench.views.coldstart (notebook 02): held-out users, cluster choice, cold nDCG, content neighbours, hybrid."""

import re

import numpy as np
import pytest
from reference import mean_reference, reference_metrics

from workbench.analysis.onboarding import reveal_first
from workbench.data import Dataset
from workbench.errors import ConfigError, DataError
from workbench.models import ClusterColdStart, ContentSimilarity
from workbench.views.coldstart import (
    PAGE,
    cold_split,
    cold_users_view,
    coldstart_note,
    coldstart_page,
    coldstart_report,
    hybrid_view,
    item_options,
    new_items_view,
)


@pytest.fixture(scope="module")
def split(shop):
    return cold_split(shop)


@pytest.fixture(scope="module")
def users(split):
    return cold_users_view(split, method="kmeans", k=10)


@pytest.fixture(scope="module")
def ridge(split):
    return cold_users_view(split, method="kmeans", favourites="ridge", k=10)


@pytest.fixture(scope="module")
def items(split):
    return new_items_view(split, ContentSimilarity().fit(split.ds), next(iter(item_options(split).values())), k=10)


@pytest.fixture(scope="module")
def hybrid(split):
    return hybrid_view(split, method="kmeans", min_interactions=5, k=10)


def test_changing_k_rescores_without_fitting_again(split, users, hybrid):
    at_20 = users.at_k(20)
    assert at_20.cluster_model is users.cluster_model and users.at_k(10) is users
    fresh = cold_users_view(split, method="kmeans", k=20)
    assert at_20.k == 20 and at_20.cold_scores.equals(fresh.cold_scores)
    hybrid_20 = hybrid.at_k(20)
    assert hybrid_20.hybrid is hybrid.hybrid and hybrid.at_k(10) is hybrid
    assert hybrid_20.by_segment.equals(hybrid_view(split, method="kmeans", min_interactions=5, k=20).by_segment)
    # a longer list finds more of the held-out items
    assert at_20.cold_scores["recall"].min() > users.cold_scores["recall"].min()


def test_cold_users_are_held_out_entirely(split, shop):
    log = shop.interactions
    train, test = split.train.interactions, split.test.interactions
    assert len(train) + len(test) == len(log)
    cold = set(split.cold_users)
    assert cold == set(test["user_id"]) and not cold & set(train["user_id"])
    assert len(cold) == round(0.2 * log["user_id"].nunique())
    # demographics of the cold users stay available to the cluster model
    assert cold <= set(split.train.users.index)
    assert split.describe() == "20%, seed 0"


def test_cluster_count_is_the_best_cross_validated_ndcg(users, shop):
    selection = users.selection
    assert list(selection.columns) == ["n_clusters", "ndcg", "silhouette", "bic"]
    assert selection["n_clusters"].tolist() == list(range(2, 13))
    best = selection.loc[selection["ndcg"] == selection["ndcg"].max(), "n_clusters"].min()
    assert users.cluster_model.n_clusters_ == best
    assert f"**{best} clusters**" in users.choice()
    profiles = users.profiles
    assert len(profiles) == best and profiles["size"].sum() == len(shop.users)
    # top items are shown by name with the id beside it, "; " apart (titles may hold commas)
    labels = {f"{name} (item {item})" for item, name in shop.items["name"].items()}
    assert all(set(row.split("; ")) <= labels for row in profiles["top_items"])


def test_cold_user_ndcg_against_popularity(users, split):
    k = users.k
    test = split.test.interactions
    scores, recs = users.cold_scores, users.cold_recs
    for name in ("clusters", "popularity"):
        assert scores.loc[name, "ndcg"] == pytest.approx(mean_reference(recs[name], test, k, "ndcg"))
    assert users.ndcg_ratio == pytest.approx(scores.loc["clusters", "ndcg"] / scores.loc["popularity", "ndcg"])
    # popularity serves every cold user the k items with the most training interactions
    counts = split.train.interactions["item_id"].value_counts()
    popular = recs["popularity"]
    assert (popular.groupby("user_id").size() == k).all()
    assert set(popular["item_id"]) == set(counts.index[:k]) or counts.iloc[k - 1] == counts.iloc[k]
    # on the small shop the demographic clusters beat global popularity (0.358 vs 0.336 when written)
    assert users.ndcg_ratio > 1
    # per-cluster rows add up to the cold users and average back to the overall nDCG
    by_cluster = users.by_cluster
    assert by_cluster["count"].sum() == len(split.cold_users)
    weighted = (by_cluster["ndcg"] * by_cluster["count"]).sum() / by_cluster["count"].sum()
    assert weighted == pytest.approx(scores.loc["clusters", "ndcg"])
    assert users.headline["ndcg_ratio_to_popularity"] == users.ndcg_ratio
    assert users.headline["ndcg_clusters"] == scores.loc["clusters", "ndcg"]
    assert users.headline["cold_users"] == len(split.cold_users)


def test_new_item_neighbours_share_content(items, split, shop):
    catalogue = shop.items
    query = items.query_item
    assert query not in set(split.train.interactions["item_id"])
    assert items.cold_item_count == len(catalogue.index.difference(split.train.interactions["item_id"].unique()))
    similar = items.similar
    assert len(similar) == items.k and query not in set(similar["similar_item_id"])
    assert (similar["score"] > 0).all() and similar["score"].is_monotonic_decreasing
    # TF-IDF similarity is positive only between items sharing a token: category, brand or a name word
    words = set(catalogue.loc[query, "name"].lower().split())
    for other in similar["similar_item_id"]:
        shared = {c for c in ("category", "brand") if catalogue.loc[other, c] == catalogue.loc[query, c]}
        assert shared or words & set(catalogue.loc[other, "name"].lower().split())
    counts = split.train.interactions["item_id"].value_counts()
    assert (similar["train_interactions"] == counts.reindex(similar["similar_item_id"], fill_value=0).values).all()
    # neighbours are named beside their ids
    assert list(similar.columns).index("name") == list(similar.columns).index("similar_item_id") + 1
    assert (similar["name"] == catalogue["name"].reindex(similar["similar_item_id"]).to_numpy()).all()


def test_hybrid_segments_route_by_training_interactions(hybrid, split):
    segments, by_segment = hybrid.hybrid_segments, hybrid.by_segment
    counts = hybrid.hybrid.counts_.reindex(segments.index, fill_value=0)
    assert ((segments == "cold") == (counts < 5)).all()
    assert (segments[list(split.cold_users)] == "cold").all()
    assert set(segments.index) == set(hybrid.hybrid_truth["user_id"])
    # the hybrid only changes the cold segment: light and heavy users get ALS either way
    table = by_segment.set_index(["model", "segment"])
    for segment in ("light", "heavy"):
        assert table.loc[("hybrid", segment), "ndcg"] == pytest.approx(table.loc[("als", segment), "ndcg"])
    assert table.loc[("hybrid", "cold"), "count"] == (segments == "cold").sum()
    assert hybrid.describe() == "75/25 per user (seed 42)"


def test_report_names_the_query_item_and_the_split(users, items, hybrid, shop):
    html = coldstart_report(users, items, hybrid, "synthetic-small").to_html()
    query = items.query_item
    assert f"New items: content neighbours of {shop.items.loc[query, 'name']} (item {query})" in html
    assert (
        "(20%, seed 0)" in html and "nDCG@10 of cluster favourites for warm users held out as if cold (5 folds)" in html
    )


def test_the_page_is_the_views_sections_in_order(users, items, hybrid, split):
    view = coldstart_page(users, items, hybrid, split)
    sections = view.sections()
    assert [section.key for section in sections] == list(PAGE) and sections[0].title is None
    assert sections[1:5] == users.sections()  # the same objects: the users' sections are laid out once
    assert [(s.key, s.title) for s in sections[5:]] == [
        (s.key, s.title) for s in [*items.sections(), *hybrid.sections()]
    ]
    assert view.headline == users.headline
    # the opening counts the split; the cold users' section holds the cards, the scores and the verdict
    warm = split.train.interactions["user_id"].nunique()
    assert view.section("split").parts == (
        f"**{len(split.cold_users):,}** cold users (20%, seed 0) are held out with their **{len(split.test):,}** "
        f"interactions; **{warm:,}** warm users train on **{len(split.train):,}**.",
    )
    cold = view.section("cold_users")
    assert cold.parts[1].values == users.cards and cold.parts[2].frame.equals(users.cold_scores)
    assert cold.parts[3] == users.verdict
    assert view.section("onboarding").parts[1].frame.equals(users.onboarding)
    assert "tags (genres, categories) weigh 0.7 and title words 0.3" in view.section("new_items").parts[0]
    assert view.section("hybrid").parts[1].frame.equals(hybrid.by_segment)
    # the report shows the same headings, in order
    html = view.report("synthetic-small").to_html()
    assert re.findall(r"<h3>([^<]*)</h3>", html) == [section.title for section in sections[1:]]
    assert coldstart_report(users, items, hybrid, "synthetic-small").to_html() == html


def test_data_without_users_or_items_says_so(shop):
    bare = Dataset.from_frames(shop.interactions[["user_id", "item_id"]])
    assert "no users table" in coldstart_note(bare) and coldstart_note(shop) == ""
    split = cold_split(bare)  # the split still holds users out; the sections needing demographics say why not
    assert split.users_note() == coldstart_note(bare) and split.headline == {"cold_users": len(split.cold_users)}
    for view in (cold_users_view, hybrid_view):
        with pytest.raises(DataError, match="no users table"):
            view(split)
    bare_page = coldstart_page(None, None, None, split)
    assert [section.key for section in bare_page.sections()] == list(PAGE)  # each section says why it is empty
    assert bare_page.section("clusters").parts == ("Not computed: it needs the users' demographics (see Cold users).",)
    assert bare_page.headline == split.headline
    html = coldstart_report(None, None, None, "bare", split=split).to_html()
    # the heading, then the section's first part: why
    assert re.search(
        r"<h3>Cold users</h3></section>\s*<section[^>]*><p>No demographics: the data set has no users", html
    )
    assert "<h3>Hybrid switch</h3>" in html and "New items do not apply: the data set has no items table" in html
    with pytest.raises(ConfigError, match="split="):
        coldstart_report(None, None, None, "bare")
    ids_only = Dataset.from_frames(shop.interactions, users=shop.users[[]])  # a users table without columns
    assert "no usable demographic column" in coldstart_note(ids_only)
    no_items = cold_split(Dataset.from_frames(shop.interactions, users=shop.users))
    assert "no items table" in no_items.items_note() and item_options(no_items) == {}
    with pytest.raises(DataError, match="no items table"):
        new_items_view(no_items, ContentSimilarity(), "p1")
    users = cold_users_view(no_items, k=5)
    html = coldstart_report(users, None, hybrid_view(no_items, k=5), "no items").to_html()
    assert "New items do not apply: the data set has no items table" in html


def test_paired_difference_of_clusters_against_popularity(users, split):
    k, test = users.k, split.test.interactions
    clusters = reference_metrics(users.cold_recs["clusters"], test, k)
    popular = reference_metrics(users.cold_recs["popularity"], test, k)
    diffs = np.array([clusters[u]["ndcg"] - popular[u]["ndcg"] for u in popular])
    paired = users.paired
    assert paired.n_users == len(split.cold_users) == len(diffs)
    assert paired.diff == pytest.approx(diffs.mean())
    assert paired.ci_low < paired.diff < paired.ci_high
    assert users.headline["ndcg_gain_over_popularity"] == pytest.approx(diffs.mean())
    assert users.verdict.startswith(f"Clusters - popularity, nDCG@{k}: {diffs.mean():+.4f} [")
    # the model's nDCG is keyed by its name; ratio and gain keys name no model (true for either favourites)
    assert list(users.headline) == [
        "ndcg_clusters",
        "ndcg_popularity",
        "ndcg_ratio_to_popularity",
        "ndcg_gain_over_popularity",
        "n_clusters",
        "cold_users",
    ]


def test_onboarding_scores_every_model_on_the_same_remaining_items(users, split):
    k, log = users.k, split.test.interactions
    table = users.onboarding.set_index(["first_items", "model"])
    assert sorted(set(table.index.get_level_values(0))) == [1, 3]
    for n in (1, 3):
        first, rest = reveal_first(split.test, n)
        # the first n distinct items by time are revealed; users with nothing left are dropped
        ordered = log.sort_values("timestamp", kind="stable").drop_duplicates(["user_id", "item_id"])
        user = next(iter(first))
        assert first[user] == ordered.loc[ordered.user_id == user, "item_id"].head(n).tolist()
        assert set(first) == set(rest["user_id"])
        assert not any(item in first[u] for u, item in zip(rest["user_id"], rest["item_id"], strict=True))
        per_user = users.onboarding_per_user[n]
        for name, frame in per_user.items():
            assert set(frame["user_id"]) == set(rest["user_id"])
            row = table.loc[(n, name)]
            assert row["users"] == len(first)
            assert row["ndcg"] == pytest.approx(frame["ndcg"].mean())
        # onboarded lists never hold a revealed item and match the model's own call
        recs = users.cluster_model.recommend_onboarded(list(first), first_items=first, k=k)
        assert row["ndcg"] == pytest.approx(mean_reference(recs, rest, k, "ndcg"))
        assert not any(item in first[u] for u, item in zip(recs["user_id"], recs["item_id"], strict=True))
        base = per_user["popularity"].set_index("user_id")["ndcg"]
        onboarded = per_user[name].set_index("user_id")["ndcg"]
        assert row["gain_vs_popularity"] == pytest.approx((onboarded - base.reindex(onboarded.index)).mean())
        assert row["ci_low"] <= row["gain_vs_popularity"] <= row["ci_high"]
        assert row["ratio_to_popularity"] == pytest.approx(onboarded.mean() / base.mean())


def card_labels(html: str) -> list[str]:
    return re.findall(r'<div class="label">([^<]*)</div>', html)


def test_ridge_favourites_are_the_ridge_models_rows(ridge, users, split):
    k, test = ridge.k, split.test.interactions
    model = ridge.cluster_model
    assert model.favourites == "ridge" and users.cluster_model.favourites == "clusters"
    assert ridge.name == "ridge" and users.name == "clusters"
    assert set(ridge.cold_recs) == {"ridge", "popularity"} and list(ridge.cold_scores.index) == ["ridge", "popularity"]
    # the rows are the ridge model's own lists, and not the clusters' under another name
    own = model.recommend(split.cold_users, k=k)
    assert ridge.cold_recs["ridge"][["user_id", "item_id"]].equals(own[["user_id", "item_id"]])
    lists = {
        name: frame.groupby("user_id")["item_id"].agg(tuple)
        for name, frame in (("r", own), ("c", users.cold_recs["clusters"]))
    }
    assert (lists["r"] != lists["c"].reindex(lists["r"].index)).any()
    # same clusters, same popularity baseline
    assert model.n_clusters_ == users.cluster_model.n_clusters_
    assert ridge.cold_recs["popularity"].equals(users.cold_recs["popularity"])
    ndcg = mean_reference(own, test, k, "ndcg")
    popular = mean_reference(ridge.cold_recs["popularity"], test, k, "ndcg")
    assert ridge.cold_scores.loc["ridge", "ndcg"] == pytest.approx(ndcg)
    assert ridge.ndcg_ratio == pytest.approx(ndcg / popular)
    headline = ridge.headline
    assert list(headline) == [
        "ndcg_ridge",
        "ndcg_popularity",
        "ndcg_ratio_to_popularity",
        "ndcg_gain_over_popularity",
        "n_clusters",
        "cold_users",
    ]
    assert headline["ndcg_ridge"] == pytest.approx(ndcg) and headline["ndcg_popularity"] == pytest.approx(popular)
    assert headline["ndcg_ratio_to_popularity"] == pytest.approx(headline["ndcg_ridge"] / headline["ndcg_popularity"])
    # on the small shop ridge beats popularity (0.449 vs 0.403 when written)
    assert ridge.ndcg_ratio > 1
    per_ridge, per_popular = reference_metrics(own, test, k), reference_metrics(ridge.cold_recs["popularity"], test, k)
    gain = np.mean([per_ridge[u]["ndcg"] - per_popular[u]["ndcg"] for u in per_popular])
    assert ridge.paired.diff == pytest.approx(gain) and headline["ndcg_gain_over_popularity"] == pytest.approx(gain)
    assert ridge.verdict.startswith(f"Ridge - popularity, nDCG@{k}: {gain:+.4f} [")
    by_cluster = ridge.by_cluster
    weighted = (by_cluster["ndcg"] * by_cluster["count"]).sum() / by_cluster["count"].sum()
    assert weighted == pytest.approx(ndcg)
    # the penalty is shown beside the cluster choice; cluster favourites have none
    assert f"penalty **{model.ridge_penalty_:g}**" in ridge.choice() and "penalty" not in users.choice()
    assert list(ridge.ridge_selection.columns) == ["penalty", "ndcg"] and users.ridge_selection is None


def test_ridge_onboarding_rows_carry_the_ridge_name(ridge, split):
    k = ridge.k
    table = ridge.onboarding
    for n in (1, 3):
        assert table.loc[table["first_items"] == n, "model"].tolist() == ["popularity", "ridge", f"ridge + {n} first"]
        first, rest = reveal_first(split.test, n)
        recs = ridge.cluster_model.recommend_onboarded(list(first), first_items=first, k=k)
        row = table.set_index(["first_items", "model"]).loc[(n, f"ridge + {n} first")]
        assert row["ndcg"] == pytest.approx(mean_reference(recs, rest, k, "ndcg"))
    assert not table["model"].str.contains("clusters").any()


def test_report_says_which_favourites_were_used(ridge, users, split):
    hybrid = hybrid_view(split, method="kmeans", favourites="ridge", min_interactions=5, k=10)
    assert hybrid.hybrid.cold_model.favourites == "ridge" and hybrid.cold_label == "ridge favourites"
    html = coldstart_report(ridge, None, hybrid, "synthetic-small").to_html()
    assert (
        "Favourites (<strong>ridge</strong>): each user gets the favourites of a closed-form ridge regression" in html
    )
    assert f"ridge <strong>{ridge.headline['ndcg_ridge']:.4f}</strong> vs popularity" in html
    assert "Cold users: ridge vs popularity" in html and ridge.verdict in html
    assert "Hybrid switch (ridge favourites below 5 training interactions, ALS above)" in html
    assert card_labels(html)[:4] == [
        "nDCG@10, ridge favourites",
        "nDCG@10, popularity",
        "nDCG@10 ratio, ridge / popularity",
        "nDCG@10 gain of ridge over popularity, per user",
    ]
    assert "clusters / popularity" not in html and "gain of clusters" not in html and "cluster model" not in html
    # with cluster favourites the same report names clusters
    plain = coldstart_report(users, None, hybrid_view(split, k=10), "synthetic-small").to_html()
    assert "Favourites (<strong>clusters</strong>): each user gets their demographic cluster" in plain
    assert "nDCG@10 ratio, clusters / popularity" in card_labels(plain) and "ridge" not in plain
    assert "Hybrid switch (cluster favourites below 5" in plain


def test_unknown_favourites_are_refused(split):
    with pytest.raises(ConfigError, match="favourites must be one of"):
        cold_users_view(split, favourites="lasso")
    assert ClusterColdStart(favourites="ridge").favourites == "ridge"
