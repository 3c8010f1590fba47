"""top_k, mask_rows, unique_users and the scoring hook: known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError
from workbench.models.base import mask_rows, top_k, unique_users


def test_top_k_orders_best_first_and_pads():
    scores = np.array([[0.1, 0.9, 0.5, -np.inf], [3.0, -np.inf, -np.inf, -np.inf]])
    index, values = top_k(scores, 3)
    assert index.tolist() == [[1, 2, 0], [0, -1, -1]]
    assert values[0].tolist() == [0.9, 0.5, 0.1]
    assert values[1, 0] == 3.0 and np.isneginf(values[1, 1:]).all()


def test_top_k_with_k_above_the_number_of_columns():
    index, values = top_k(np.array([[2.0, 1.0]]), 4)
    assert index.tolist() == [[0, 1, -1, -1]]
    assert values.shape == (1, 4)


def test_top_k_matches_a_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 30))
    index, values = top_k(scores, 7)
    expected = np.argsort(-scores, axis=1)[:, :7]
    assert (index == expected).all()
    assert np.array_equal(values, np.take_along_axis(scores, expected, axis=1))


def test_mask_rows_sets_stored_cells_to_minus_infinity():
    seen = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=np.float32))
    scores = np.zeros((2, 3))
    mask_rows(scores, seen, np.array([1, 0]))
    assert np.isneginf(scores).tolist() == [[False, True, True], [True, False, False]]


def test_unique_users_sorts_and_dedupes_and_rejects_missing():
    assert unique_users([3, 1, 3]).tolist() == [1, 3]
    assert unique_users("u1").tolist() == ["u1"]
    assert unique_users(pd.Series(["b", "a"])).tolist() == ["a", "b"]
    with pytest.raises(DataError, match="missing"):
        unique_users([1, None])


# -- fallbacks are marked and counted ---------------------------------------------------------
def _tiny() -> Dataset:
    log = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "a", "c", "d"]})
    return Dataset.from_frames(log)


def test_unknown_users_are_marked_and_counted_in_one_warning():
    from workbench.errors import FallbackWarning
    from workbench.models import PopularityRecommender

    model = PopularityRecommender().fit(_tiny())
    with pytest.warns(FallbackWarning, match=r"2 of 3 users are unknown to the model: served popularity") as caught:
        recs = model.recommend([1, "x", "y"], k=2)
    assert len(caught) == 1
    assert recs.groupby("user_id")["fallback"].all().to_dict() == {1: False, "x": True, "y": True}


def test_short_lists_are_completed_with_popularity_and_marked():
    from workbench.errors import FallbackWarning
    from workbench.models import RepeatRecommender

    model = RepeatRecommender().fit(_tiny())  # user 3 bought one item
    with pytest.warns(FallbackWarning, match=r"1 of 1 users have fewer than 3 items of their own"):
        recs = model.recommend([3], k=3, exclude_seen=False)
    assert recs["item_id"].tolist() == ["d", "a", "b"]  # own item, then the most popular others
    assert recs["fallback"].tolist() == [False, True, True]
    assert recs["rank"].tolist() == [1, 2, 3]


def test_no_warning_and_no_fallback_rows_for_known_users_with_full_lists():
    import warnings

    from workbench.models import PopularityRecommender

    model = PopularityRecommender().fit(_tiny())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recs = model.recommend([1, 2], k=2)
    assert not recs["fallback"].any()


# -- the items allow-list and the exclude_items filter -----------------------------------------
def test_item_filter_mask_known_answers():
    from workbench.data.dataset import IdMap
    from workbench.models.base import ItemFilter

    items = IdMap.from_values([1, 2, 3, 4])
    assert ItemFilter().mask(items) is None
    assert ItemFilter(allow=np.array(["2", 3, 9], dtype=object)).mask(items).tolist() == [False, True, True, False]
    assert ItemFilter(block=np.array([3, "x"], dtype=object)).mask(items).tolist() == [True, True, False, True]
    mask = ItemFilter(allow=np.array([2, 3]), block=np.array(["3"], dtype=object)).mask(items)
    assert mask.tolist() == [False, True, False, False]


def test_filters_apply_to_the_fill_rows_known_answer():
    from workbench.models import PopularityRecommender, RepeatRecommender

    model = RepeatRecommender().fit(_tiny())  # user 3 bought d; a is the most popular item
    recs = model.recommend([3], k=3, exclude_seen=False, items=["d", "b", "c"], exclude_items=["b"])
    assert recs["item_id"].tolist() == ["d", "c"] and recs["fallback"].tolist() == [False, True]
    stranger = PopularityRecommender().fit(_tiny()).recommend(["x"], k=2, exclude_items=["a"])
    assert stranger["item_id"].tolist() == ["b", "c"] and stranger["fallback"].all()


def test_score_pairs_matches_the_dense_scores_and_marks_what_it_cannot_score():
    from workbench.models import RepeatRecommender

    log = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "a", "b", "c"], "timestamp": [0, 1, 2, 3]})
    model = RepeatRecommender().fit(Dataset.from_frames(log))
    model.batch_cells = 3  # one user per block: the blocks' rows must still line up
    scores = model.score_pairs(["2", 1, 1, 2, 1, 9, 1], ["c", "a", "b", "a", "zz", "a", "c"])
    dense = model._score(model.user_map.codes(pd.Index([1, 2])))
    a, b, c = model.item_map.codes(pd.Index(["a", "b", "c"]))
    assert scores[:3].tolist() == [dense[1, c], dense[0, a], dense[0, b]]
    # user 2 never bought a (-inf: not scored), zz and user 9 are unknown, user 1 never bought c
    assert np.isnan(scores[3:]).all()
    with pytest.raises(ConfigError, match="3 users but 2 items"):
        model.score_pairs([1, 1, 2], ["a", "b"])


# -- the scoring hook ----------------------------------------------------------------------------
class _Listed:
    """Builds a model whose only lists are those of ``_candidates``: [c, b, a] for every known user,
    whatever the item filters (the base class applies the allow-list and block-list to them)."""

    @staticmethod
    def make(n_per_user: int = 3):
        from workbench.models.base import Candidates, Recommender

        class Listed(Recommender):
            def _fit(self, train):
                pass

            def _score(self, user_codes):
                raise AssertionError("a candidate-list model is never asked for dense scores")

            def _candidates(self, ids, codes, k, exclude_seen, allowed):
                items = self.item_map.codes(["c", "b", "a", "d"][:n_per_user])
                rows = np.repeat(np.flatnonzero(codes >= 0), len(items))
                listed = np.tile(items, int((codes >= 0).sum()))
                scores = np.tile(np.arange(len(items), 0, -1, dtype=float), int((codes >= 0).sum()))
                return Candidates(rows, listed, scores, np.zeros(len(rows), dtype=bool))

        return Listed().fit(_tiny())


def test_a_model_of_candidate_lists_gets_the_protocol_from_the_base_class():
    from workbench.errors import FallbackWarning, ModelError

    model = _Listed.make()
    with pytest.warns(FallbackWarning) as caught:
        recs = model.recommend([1, "x"], k=3, exclude_seen=False, items=["a", "b", "d"], exclude_items=["a"])
    assert len(caught) == 1 and "1 of 2 users are unknown" in str(caught[0].message)
    mine = recs[recs["user_id"] == 1]
    assert mine["item_id"].tolist() == ["b", "d"]  # its own list, filtered; then popularity
    assert mine["fallback"].tolist() == [False, True] and mine["rank"].tolist() == [1, 2]
    assert recs.loc[recs["user_id"] == "x", "fallback"].all()
    np.testing.assert_array_equal(mine["score"].iloc[:1], [2.0])
    with pytest.raises(ModelError, match="more than k=2 candidates"):
        model.recommend([1], k=2)
