"""DecayedPopularity, popularity placement of new items and the frozen / incremental / refit replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.freshness import (
    freshness_summary,
    place_new_items,
    plan_replay,
    replay_experiment,
)
from workbench.data import Dataset
from workbench.data.split import user_sample
from workbench.data.stream import replay
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, DecayedPopularity
from workbench.models.als import fit_seconds, log_size

DAY = 86_400
SMALL_ALS = {"factors": 8, "iterations": 5}


def events(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return frame.assign(timestamp=frame["timestamp"] * DAY)


def test_decayed_popularity_known_answer_and_update():
    train = events([("u1", "a", 0), ("u2", "a", 0), ("u3", "a", 0), ("u1", "b", 7)])
    model = DecayedPopularity(half_life="7D").fit(Dataset.from_frames(train))
    scores = dict(zip(model.item_map.ids, model.scores_, strict=False))
    assert scores == pytest.approx({"a": 1.5, "b": 1.0})  # three events one half-life old vs one fresh
    assert model.recommend(["new"], k=2)["item_id"].tolist() == ["a", "b"]
    model.partial_fit(events([("u9", "c", 14)]))
    scores = dict(zip(model.item_map.ids, model.scores_, strict=False))
    assert scores == pytest.approx({"a": 0.75, "b": 0.5, "c": 1.0})
    assert model.recommend(["someone"], k=3)["item_id"].tolist() == ["c", "a", "b"]
    assert model.recommend(["u9"], k=3)["item_id"].tolist() == ["a", "b"]  # the new user's item is seen


def test_fit_then_partial_fit_equals_one_fit_on_everything():
    ds = make_ecommerce(150, 80, 2_000, seed=2)
    log = ds.interactions
    early = log["timestamp"] < log["timestamp"].quantile(0.7)
    step = DecayedPopularity(half_life="2D").fit(ds.with_interactions(log[early]))
    for batch in replay(ds.with_interactions(log[~early]), window="1D"):
        step.partial_fit(ds.with_interactions(batch.interactions))
    whole = DecayedPopularity(half_life=2 * DAY).fit(ds)
    order = step.item_map.codes(whole.item_map.ids)
    np.testing.assert_allclose(step.scores_[order], whole.scores_, rtol=1e-9)
    users = log["user_id"].unique()[:40]
    pd.testing.assert_frame_equal(step.recommend(users, k=5), whole.recommend(users, k=5))


def test_decayed_popularity_save_and_load(tmp_path):
    model = DecayedPopularity(half_life="3D").fit(Dataset.from_frames(events([("u", "a", 0), ("v", "b", 1)])))
    model.save(tmp_path / "pop")
    loaded = DecayedPopularity.load(tmp_path / "pop")
    assert loaded.half_life == "3D" and loaded.clock_ == model.clock_
    pd.testing.assert_frame_equal(loaded.recommend(["u", "w"], k=2), model.recommend(["u", "w"], k=2))


def test_place_new_items_goes_before_the_item_of_equal_rank():
    recs = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2], "item_id": list("abcabc"), "score": 0.5, "rank": [1, 2, 3] * 2})
    popular = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 2],
            "item_id": ["n1", "a", "n2", "a", "b", "c"],
            "score": 9.0,
            "rank": [1, 2, 3] * 2,
        }
    )
    placed = place_new_items(recs, popular, pd.Index(list("abc")), k=3)
    assert placed[placed["user_id"] == 1]["item_id"].tolist() == ["n1", "a", "b"]
    assert placed[placed["user_id"] == 2]["item_id"].tolist() == ["a", "b", "c"]  # nothing new for user 2
    assert placed["rank"].tolist() == [1, 2, 3] * 2


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return make_ecommerce(300, 150, 6_000, seed=4)


@pytest.fixture(scope="module")
def table(shop) -> pd.DataFrame:
    return replay_experiment(shop, start_fraction=0.7, window="4D", k=5, model_params=SMALL_ALS, seed=0)


def test_table_shape_and_window_counts(table, shop):
    stamps = shop.interactions["timestamp"]
    cut = int(np.ceil(stamps.min() + 0.7 * (stamps.max() - stamps.min())))
    batches = [b for b in replay(shop, window="4D", start=cut) if len(b)]
    assert len(table) == 3 * len(batches)
    assert list(table["strategy"].unique()) == ["frozen", "incremental", "refit"]
    for _strategy, rows in table.groupby("strategy"):
        assert rows["n_events"].tolist() == [len(b) for b in batches]
        assert rows["n_users"].tolist() == [b.interactions["user_id"].nunique() for b in batches]
    assert (table.loc[table["strategy"] == "frozen", "update_seconds"] == 0).all()
    assert (table.loc[table["strategy"] != "frozen", "update_seconds"] > 0).all()
    assert table[["ndcg", "hit_rate"]].apply(lambda c: c.between(0, 1).all()).all()


def test_frozen_scores_match_an_independent_model(table, shop):
    stamps = shop.interactions["timestamp"]
    cut = int(np.ceil(stamps.min() + 0.7 * (stamps.max() - stamps.min())))
    model = ALSRecommender(**SMALL_ALS, seed=0).fit(shop.with_interactions(shop.interactions[stamps < cut]))
    frozen = table[table["strategy"] == "frozen"].reset_index(drop=True)
    for i, batch in enumerate(b for b in replay(shop, window="4D", start=cut) if len(b)):
        recs = model.recommend(batch.interactions["user_id"].unique(), k=5)
        expected = evaluate(recs, batch.interactions, k=5)
        assert frozen.loc[i, "ndcg"] == pytest.approx(expected["ndcg"])
        assert frozen.loc[i, "hit_rate"] == pytest.approx(expected["hit_rate"])
    # before any update, the refit model is the frozen one
    first = table[table["window"] == table["window"].min()].set_index("strategy")
    assert first.loc["refit", "ndcg"] == pytest.approx(first.loc["frozen", "ndcg"])


def test_refit_every_and_strategies(shop):
    table = replay_experiment(
        shop, start_fraction=0.7, window="2D", strategies=("refit",), refit_every=2, k=5, model_params=SMALL_ALS
    )
    refits = table["update_seconds"].to_numpy() > 0
    assert refits.tolist() == ((table["window"].to_numpy() + 1) % 2 == 0).tolist()
    with pytest.raises(ConfigError, match="strategies"):
        replay_experiment(shop, strategies=("nightly",))
    with pytest.raises(ConfigError, match="start_fraction"):
        replay_experiment(shop, start_fraction=1.0)
    with pytest.raises(DataError, match="timestamp"):
        replay_experiment(Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [1]})))


def test_a_window_with_more_active_users_is_scored_on_a_seeded_sample(shop):
    table = replay_experiment(
        shop, start_fraction=0.7, window="4D", strategies=("frozen",), k=5, model_params=SMALL_ALS, max_users=20
    )
    stamps = shop.interactions["timestamp"]
    cut = int(np.ceil(stamps.min() + 0.7 * (stamps.max() - stamps.min())))
    model = ALSRecommender(**SMALL_ALS, seed=0).fit(shop.with_interactions(shop.interactions[stamps < cut]))
    batches = [b for b in replay(shop, window="4D", start=cut) if len(b)]
    assert max(b.interactions["user_id"].nunique() for b in batches) > 20  # some windows are sampled
    assert table["n_users"].tolist() == [min(20, b.interactions["user_id"].nunique()) for b in batches]
    assert table["n_events"].tolist() == [len(b) for b in batches]  # the window's events, all of them
    for row, (number, batch) in zip(table.itertuples(), enumerate(batches), strict=True):
        scored = user_sample(shop.with_interactions(batch.interactions), 20, seed=number).interactions
        expected = evaluate(model.recommend(scored["user_id"].unique(), k=5), scored, k=5)
        assert row.ndcg == pytest.approx(expected["ndcg"])


def test_the_replay_plan_refits_as_often_as_its_budget_affords(shop):
    stamps = shop.interactions["timestamp"]
    cut = int(np.ceil(stamps.min() + 0.7 * (stamps.max() - stamps.min())))
    batches = [b for b in replay(shop, window="2D", start=cut) if len(b)]
    one = fit_seconds(*log_size(shop), factors=8, iterations=5)

    def plan(refits: float):
        return plan_replay(shop, start_fraction=0.7, window="2D", model_params=SMALL_ALS, budget=refits * one)

    n = len(batches)
    assert n >= 4 and plan(1.01).refit_seconds == pytest.approx(one)
    assert (plan(n + 0.01).refit_every, plan(n + 0.01).refits) == (1, n)  # the budget affords a refit per window
    for refits in (1, 2, 3):  # else the shortest interval whose refits (one per n-th window) fit the budget
        chosen = plan(refits + 0.01)
        every = min(e for e in range(1, n + 1) if n // e <= refits)
        assert (chosen.refit_every, chosen.refits, chosen.windows) == (every, n // every, n)
    assert plan(0.01).refits == 1  # at least one refit
    active = max(b.interactions["user_id"].nunique() for b in batches)
    assert plan(1).most_active == active and plan(1).max_users == 500
    sampled = plan_replay(shop, start_fraction=0.7, window="2D", max_users=active - 1)
    assert f"sample of {active - 1:,}" in sampled.describe() and "sample" not in plan(1).describe()


def test_summary_weights_windows_by_users(table):
    summary = freshness_summary(table)
    assert list(summary.index) == ["frozen", "incremental", "refit"]
    rows = table[table["strategy"] == "incremental"]
    assert summary.loc["incremental", "ndcg"] == pytest.approx(np.average(rows["ndcg"], weights=rows["n_users"]))
    assert summary.loc["incremental", "update_ms_per_1000"] == pytest.approx(
        1e6 * rows["update_seconds"].sum() / rows["n_events"].sum()
    )
    assert summary.loc["frozen", "update_seconds"] == 0
