"""notebooks/02_coldstart.py on synthetic-small: held-out users, cluster choice, cold nDCG, content neighbours, hybrid."""

import json

import numpy as np
import pandas as pd
import pytest
from test_notebooks import run_in_process, small_log

from workbench.data.synthetic import SIZES, make_ecommerce


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("02_coldstart", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def brute_ndcg(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> float:
    """Mean nDCG@k over truth users, one user at a time (binary relevance)."""
    relevant = truth.groupby("user_id")["item_id"].apply(set)
    ranked = recs.sort_values(["user_id", "rank"]).groupby("user_id")["item_id"].apply(list)
    values = []
    for user, items in relevant.items():
        listed = ranked.get(user, [])[:k]
        dcg = sum(1 / np.log2(r + 2) for r, item in enumerate(listed) if item in items)
        idcg = sum(1 / np.log2(r + 2) for r in range(min(len(items), k)))
        values.append(dcg / idcg)
    return float(np.mean(values))


def test_cold_users_are_held_out_entirely(run):
    defs, _ = run
    log = small_log()
    train, test = defs["train"].interactions, defs["test"].interactions
    assert len(train) + len(test) == len(log)
    cold = set(defs["cold_users"])
    assert cold == set(test["user_id"]) and not cold & set(train["user_id"])
    assert len(cold) == round(0.2 * log["user_id"].nunique())
    # demographics of the cold users stay available to the cluster model
    assert cold <= set(defs["train"].users.index)


def test_cluster_count_is_the_best_cross_validated_ndcg(run):
    defs, _ = run
    selection = defs["selection"]
    assert list(selection.columns) == ["n_clusters", "ndcg", "silhouette", "bic"]
    assert selection["n_clusters"].tolist() == list(range(2, 13))
    best = selection.loc[selection["ndcg"] == selection["ndcg"].max(), "n_clusters"].min()
    assert defs["cluster_model"].n_clusters_ == best
    profiles = defs["profiles"]
    assert len(profiles) == best and profiles["size"].sum() == len(defs["ds"].users)
    # top items are shown by name with the id beside it, "; " apart (titles may hold commas)
    items = defs["ds"].items
    labels = {f"{name} (item {item})" for item, name in items["name"].items()}
    assert all(set(row.split("; ")) <= labels for row in profiles["top_items"])


def test_cold_user_ndcg_against_popularity(run):
    defs, report_dir = run
    k = defs["k"].value
    test = defs["test"].interactions
    scores, recs = defs["cold_scores"], defs["cold_recs"]
    for name in ("clusters", "popularity"):
        assert scores.loc[name, "ndcg"] == pytest.approx(brute_ndcg(recs[name], test, k))
    assert defs["ndcg_ratio"] == pytest.approx(scores.loc["clusters", "ndcg"] / scores.loc["popularity", "ndcg"])
    # popularity serves every cold user the k items with the most training interactions
    counts = defs["train"].interactions["item_id"].value_counts()
    popular = recs["popularity"]
    assert (popular.groupby("user_id").size() == k).all()
    assert set(popular["item_id"]) == set(counts.index[:k]) or counts.iloc[k - 1] == counts.iloc[k]
    # on the small shop the demographic clusters beat global popularity (0.358 vs 0.336 when written)
    assert defs["ndcg_ratio"] > 1
    # per-cluster rows add up to the cold users and average back to the overall nDCG
    by_cluster = defs["by_cluster"]
    assert by_cluster["count"].sum() == len(defs["cold_users"])
    weighted = (by_cluster["ndcg"] * by_cluster["count"]).sum() / by_cluster["count"].sum()
    assert weighted == pytest.approx(scores.loc["clusters", "ndcg"])
    headline = json.loads((report_dir / "02_coldstart.json").read_text(encoding="utf-8"))["headline"]
    assert headline["ndcg_ratio"] == pytest.approx(defs["ndcg_ratio"])
    assert headline["cold_users"] == len(defs["cold_users"])
    assert (report_dir / "02_coldstart.html").is_file()


def test_new_item_neighbours_share_content(run):
    defs, report_dir = run
    items = make_ecommerce(**SIZES["small"], seed=0).items
    query = defs["query_item"]
    assert query not in set(defs["train"].interactions["item_id"])
    assert defs["cold_item_count"] == len(items.index.difference(defs["train"].interactions["item_id"].unique()))
    similar = defs["similar"]
    assert len(similar) == defs["k"].value and query not in set(similar["similar_item_id"])
    assert (similar["score"] > 0).all() and similar["score"].is_monotonic_decreasing
    # TF-IDF similarity is positive only between items sharing a token: category, brand or a name word
    words = set(items.loc[query, "name"].lower().split())
    for other in similar["similar_item_id"]:
        shared = {c for c in ("category", "brand") if items.loc[other, c] == items.loc[query, c]}
        assert shared or words & set(items.loc[other, "name"].lower().split())
    counts = defs["train"].interactions["item_id"].value_counts()
    assert (similar["train_interactions"] == counts.reindex(similar["similar_item_id"], fill_value=0).values).all()
    # neighbours are named beside their ids; the report names the query item the same way
    assert list(similar.columns).index("name") == list(similar.columns).index("similar_item_id") + 1
    assert (similar["name"] == items["name"].reindex(similar["similar_item_id"]).to_numpy()).all()
    text = (report_dir / "02_coldstart.html").read_text(encoding="utf-8")
    assert f"New items: content neighbours of {items.loc[query, 'name']} (item {query})" in text


def test_hybrid_segments_route_by_training_interactions(run):
    defs, _ = run
    hybrid, segments, by_segment = defs["hybrid"], defs["hybrid_segments"], defs["by_segment"]
    switch = defs["min_interactions"].value
    warm_counts = hybrid.counts_
    counts = warm_counts.reindex(segments.index, fill_value=0)
    assert ((segments == "cold") == (counts < switch)).all()
    assert (segments[list(defs["cold_users"])] == "cold").all()
    assert set(segments.index) == set(defs["hybrid_truth"]["user_id"])
    # the hybrid only changes the cold segment: light and heavy users get ALS either way
    table = by_segment.set_index(["model", "segment"])
    for segment in ("light", "heavy"):
        assert table.loc[("hybrid", segment), "ndcg"] == pytest.approx(table.loc[("als", segment), "ndcg"])
    assert table.loc[("hybrid", "cold"), "count"] == (segments == "cold").sum()
