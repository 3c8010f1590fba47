"""HybridRecommender routing and per-segment metrics: known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.segments import segment_metrics
from workbench.data import Dataset
from workbench.errors import ConfigError, DataError, FallbackWarning, ModelError
from workbench.evaluation import evaluate_per_user
from workbench.models import ALSRecommender, PopularityRecommender, load_model
from workbench.models.base import Candidates, Recommender
from workbench.models.hybrid import HybridRecommender


class Prefers(Recommender):
    """Scores one favourite item highest for everybody (a stand-in with a recognisable output)."""

    def __init__(self, favourite: str) -> None:
        self.favourite = favourite

    def _fit(self, train: Dataset) -> None:
        self._scores = (self.item_map.ids == self.favourite).astype(float) + self._popularity

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._scores, (len(user_codes), len(self._scores)))

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        return self._score(np.zeros(len(user_ids), dtype=np.int64))


def counts_dataset() -> Dataset:
    """User 'one' has 1 interaction, 'four' 4, 'five' 5 and 'nine' 9; items x0..x9 and 'cold', 'warm'."""
    rows = [("one", "x0")]
    rows += [("four", f"x{i}") for i in range(4)]
    rows += [("five", f"x{i}") for i in range(5)]
    rows += [("nine", f"x{i}") for i in range(9)]
    rows += [("other", "cold"), ("other", "warm")]
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id"]))


@pytest.fixture()
def hybrid() -> HybridRecommender:
    return HybridRecommender(Prefers("cold"), Prefers("warm"), min_interactions=5).fit(counts_dataset())


def test_routing_by_training_interactions(hybrid):
    recs = hybrid.recommend(["nine", "one", "stranger", "four", "five"], k=1)
    first = recs.set_index("user_id")["item_id"]
    assert first.to_dict() == {"five": "warm", "four": "cold", "nine": "warm", "one": "cold", "stranger": "cold"}
    assert recs["user_id"].tolist() == ["five", "four", "nine", "one", "stranger"]  # sorted by user


def test_output_follows_the_contract(hybrid):
    recs = hybrid.recommend(["one", "nine"], k=3)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    # 'nine' has seen 9 of the 11 items, so only 2 are left for it
    assert recs["user_id"].tolist() == ["nine", "nine", "one", "one", "one"]
    assert recs["rank"].tolist() == [1, 2, 1, 2, 3]
    assert set(recs.loc[recs.user_id == "nine", "item_id"]) == {"cold", "warm"}


def test_segments(hybrid):
    segments = hybrid.segments(["one", "four", "five", "nine", "stranger"], heavy_from=9)
    assert segments.to_dict() == {"five": "light", "four": "cold", "nine": "heavy", "one": "cold", "stranger": "cold"}
    # default heavy_from: median count of warm training users (five: 5, nine: 9) -> 7
    assert hybrid.segments(["five", "nine"]).to_dict() == {"five": "light", "nine": "heavy"}


def test_segment_metrics_known_answer():
    per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.0, 1.0, 0.5, 0.25], "hit_rate": [0.0, 1, 1, 1]})
    segments = pd.Series(["heavy", "cold", "cold", "light"], index=[1, 2, 3, 4])
    table = segment_metrics(per_user, segments)
    assert table["segment"].tolist() == ["cold", "light", "heavy"]
    assert table["ndcg"].tolist() == [0.75, 0.25, 0.0]
    assert table["count"].tolist() == [2, 1, 1]
    with pytest.raises(DataError, match="no segment"):
        segment_metrics(per_user, segments.iloc[:2])


def test_segment_metrics_on_evaluate_per_user(hybrid):
    truth = pd.DataFrame({"user_id": ["one", "nine"], "item_id": ["cold", "cold"]})
    per_user = evaluate_per_user(hybrid.recommend(truth["user_id"], k=1), truth, k=1)
    table = segment_metrics(per_user, hybrid.segments(truth["user_id"])).set_index("segment")
    assert table.loc["cold", "hit_rate"] == 1.0 and table.loc["heavy", "hit_rate"] == 0.0


def test_errors():
    with pytest.raises(ConfigError, match="min_interactions"):
        HybridRecommender(Prefers("a"), Prefers("b"), min_interactions=0)
    with pytest.raises(ConfigError, match="cold_model"):
        HybridRecommender(object(), Prefers("b"))
    with pytest.raises(ModelError):
        HybridRecommender(Prefers("a"), Prefers("b")).recommend(["u"])


def real_hybrid() -> HybridRecommender:
    warm = ALSRecommender(factors=4, iterations=3, seed=0)
    return HybridRecommender(PopularityRecommender(), warm, min_interactions=5).fit(counts_dataset())


def test_save_load_round_trip(tmp_path):
    model = real_hybrid()
    path = model.save(tmp_path / "hybrid")
    assert {p.name for p in path.iterdir()} >= {"cold_model", "warm_model", "manifest.json"}
    loaded = HybridRecommender.load(path)
    assert type(loaded.cold_model) is PopularityRecommender and type(loaded.warm_model) is ALSRecommender
    users = ["nine", "one", "stranger", "four", "five"]
    pd.testing.assert_frame_equal(model.recommend(users, k=3), loaded.recommend(users, k=3))
    pd.testing.assert_series_equal(model.segments(users), loaded.segments(users))
    assert loaded.min_interactions == 5
    assert type(load_model(path)) is HybridRecommender


def test_a_damaged_part_or_an_unfitted_hybrid_is_refused(tmp_path):
    with pytest.raises(ModelError, match="fitted"):
        HybridRecommender(PopularityRecommender(), PopularityRecommender()).save(tmp_path / "unfitted")
    path = real_hybrid().save(tmp_path / "hybrid")
    arrays = path / "warm_model" / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    with pytest.raises(ModelError, match="checksum"):
        HybridRecommender.load(path)
    (path / "warm_model" / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="warm_model/manifest.json does not match its checksum"):
        HybridRecommender.load(path)


def test_load_model_refuses_a_class_it_does_not_know(tmp_path):
    Prefers("cold").fit(counts_dataset()).save(tmp_path / "prefers")
    with pytest.raises(ModelError, match="'Prefers' model, which workbench cannot load"):
        load_model(tmp_path / "prefers")


def test_a_hybrid_is_a_recommender_with_the_protocol(hybrid):
    assert isinstance(hybrid, Recommender)
    assert hybrid.recommend([], k=3).empty
    first = hybrid.recommend(["one", "nine"], k=1, exclude_items=["cold", "warm"])
    assert not set(first["item_id"]) & {"cold", "warm"}
    assert hybrid.recommend(["one", "nine"], k=2, items=["warm"])["item_id"].tolist() == ["warm", "warm"]
    assert hybrid.is_cold(["one", "nine"]).to_dict() == {"nine": False, "one": True}


class Listed(Recommender):
    """A candidate-list model: its own lists (``_candidates``), no dense scores at all."""

    def _fit(self, train: Dataset) -> None:
        pass

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        raise AssertionError("a candidate-list model is never asked for dense scores")

    def _candidates(self, ids, codes, k, exclude_seen, allowed):
        items = self.item_map.codes(["x8", "warm", "x0"])[:k]  # x8: seen by 'nine' only; x0 by all
        rows = np.repeat(np.arange(len(ids)), len(items))
        listed = np.tile(items, len(ids))
        keep = ~(exclude_seen & (np.asarray(self._seen[np.maximum(codes[rows], 0), listed]).ravel() > 0))
        keep &= codes[rows] >= 0
        scores = np.tile(np.arange(len(items), 0, -1, dtype=float), len(ids))
        return Candidates(rows[keep], listed[keep], scores[keep], np.zeros(keep.sum(), dtype=bool))


def test_the_hybrid_routes_candidate_lists_without_dense_scores():
    hybrid = HybridRecommender(Prefers("cold"), Listed(), min_interactions=5).fit(counts_dataset())
    with pytest.warns(FallbackWarning) as caught:
        recs = hybrid.recommend(["nine", "one", "stranger"], k=3, exclude_items=["x0"])
    assert len(caught) == 1  # one warning for the call, named after the hybrid
    assert str(caught[0].message).startswith("HybridRecommender: 1 of 3 users are unknown")
    nine = recs[recs["user_id"] == "nine"]
    assert nine["item_id"].tolist()[:1] == ["warm"] and not nine["fallback"].iloc[0]
    assert nine["fallback"].tolist()[1:] == [True] * (len(nine) - 1)  # completed with popularity
    assert "x0" not in set(recs["item_id"])
    assert recs.loc[recs["user_id"] == "stranger", "fallback"].all()
    allowed = hybrid.recommend(["nine"], k=3, items=["x8", "cold"], exclude_seen=False)
    assert allowed["item_id"].tolist() == ["x8", "cold"]


def test_score_pairs_reads_the_model_each_user_is_routed_to(hybrid):
    pairs = hybrid.score_pairs(["one", "nine", "nine", "stranger"], ["cold", "warm", "cold", "cold"])
    cold, warm = hybrid.cold_model, hybrid.warm_model
    expected = [
        cold.score_pairs(["one"], ["cold"])[0],
        warm.score_pairs(["nine"], ["warm"])[0],
        warm.score_pairs(["nine"], ["cold"])[0],
    ]
    np.testing.assert_allclose(pairs[:3], expected)
    assert np.isnan(pairs[3])  # an unknown user
