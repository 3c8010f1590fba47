"""ALSRecommender: protocol, known answers, reproducibility, persistence and real-data quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import two_blocks

from workbench.data import Dataset, load_movielens_100k
from workbench.data.split import stratified_split
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, PopularityRecommender
from workbench.models.als import FIT_COST, fit_seconds, log_size, rank_seconds

PARAMS = {"factors": 4, "regularization": 0.1, "iterations": 20, "alpha": 2.0}


def blocks() -> Dataset:
    """Two blocks: users u0..u4 x items a0..a4 and v0..v4 x b0..b4; user i of a block misses item i.

    Item b0 is made the most popular overall, so a popularity-like model would push it to block a."""
    extra = pd.DataFrame({"user_id": [f"w{i}" for i in range(6)], "item_id": "b0"})
    return Dataset.from_frames(pd.concat([two_blocks(), extra], ignore_index=True))


@pytest.fixture(scope="module")
def model() -> ALSRecommender:
    return ALSRecommender(**PARAMS, seed=1).fit(blocks())


def test_recommends_the_missing_item_of_the_users_own_block(model):
    recs = model.recommend([f"u{i}" for i in range(5)] + [f"v{i}" for i in range(5)], k=1)
    assert recs["item_id"].tolist() == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]


def test_protocol_columns_order_and_seen_items(model):
    recs = model.recommend(["v1", "u3"], k=3)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    assert recs["user_id"].tolist() == ["u3"] * 3 + ["v1"] * 3
    assert recs["rank"].tolist() == [1, 2, 3, 1, 2, 3]
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 0).all()
    seen = set(map(tuple, blocks().interactions[["user_id", "item_id"]].to_numpy()))
    assert not any((u, i) in seen for u, i in zip(recs["user_id"], recs["item_id"], strict=False))
    kept = model.recommend(["u3"], k=4, exclude_seen=False)
    assert set(kept["item_id"]) == {"a0", "a1", "a2", "a4"}  # its own items score highest


def test_k_larger_than_the_catalog_and_unknown_users(model):
    recs = model.recommend(["u0", "nobody"], k=100)
    assert len(recs[recs.user_id == "u0"]) == 10 - 4
    fallback = recs.loc[recs.user_id == "nobody", "item_id"].tolist()
    assert len(fallback) == 10 and fallback[0] == "b0"  # the most popular item


def test_same_seed_same_recommendations():
    users = ["u0", "v2", "w1"]
    first = ALSRecommender(**PARAMS, seed=7).fit(blocks()).recommend(users, k=4)
    second = ALSRecommender(**PARAMS, seed=7).fit(blocks()).recommend(users, k=4)
    pd.testing.assert_frame_equal(first, second)


def test_save_load_round_trip(model, tmp_path):
    loaded = ALSRecommender.load(model.save(tmp_path / "als"))
    users = ["u0", "u4", "v2", "w5", "stranger"]
    pd.testing.assert_frame_equal(loaded.recommend(users, k=5), model.recommend(users, k=5))
    assert loaded.get_params() == model.get_params()


def test_similar_items_excludes_the_item_and_returns_external_ids(model):
    similar = model.similar_items(["a0", "b3"], k=3)
    assert list(similar.columns) == ["item_id", "similar_item_id", "score", "rank"]
    for item, group in similar.groupby("item_id"):
        assert item not in set(group["similar_item_id"])
        assert {s[0] for s in group["similar_item_id"]} == {item[0]}  # same block
    with pytest.raises(DataError, match="'zz'"):
        model.similar_items(["zz"])


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError):
        ALSRecommender(factors=0)
    with pytest.raises(ConfigError):
        ALSRecommender(alpha=0)


def test_beats_popularity_on_movielens_100k():
    train, test = stratified_split(load_movielens_100k(), ratio=0.75, seed=42)
    users = test.interactions["user_id"].unique()
    als = evaluate(ALSRecommender(seed=0).fit(train).recommend(users, k=10), test, k=10)
    pop = evaluate(PopularityRecommender().fit(train).recommend(users, k=10), test, k=10)
    assert als["ndcg"] > pop["ndcg"] + 0.05
    assert als["precision"] > pop["precision"]


def test_fit_seconds_is_a_rule_of_size_and_a_range_is_its_log_scale_mean():
    a, b, c, d = FIT_COST
    # known answer: per iteration a rows f² + b pairs f + c pairs + d rows
    expected = 10 * (a * 300 * 64**2 + b * 5_000 * 64 + c * 5_000 + d * 300)
    assert fit_seconds(100, 200, 5_000, factors=64, iterations=10) == pytest.approx(expected)
    # a range is the mean over its integers weighted as optuna's log-scale suggest_int samples them
    values = np.arange(16, 65)
    weights = np.log((values + 0.5) / (values - 0.5))
    one = [fit_seconds(100, 200, 5_000, factors=int(f), iterations=10) for f in values]
    mean = fit_seconds(100, 200, 5_000, factors=(16, 64), iterations=(5, 15))
    assert mean == pytest.approx(np.average(one, weights=weights))
    assert rank_seconds(10, 200, factors=64) < rank_seconds(10, 200, factors=128) < rank_seconds(20, 200, factors=128)
    log = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "a", "b", "a"]})
    assert log_size(Dataset.from_frames(log)) == (2, 2, 3)
