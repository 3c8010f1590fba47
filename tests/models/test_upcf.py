"""UP-CF@r: recency popularity, asymmetric cosine and scores by hand and against a per-user transcription
of the paper's formulas, the recency window, the protocol on a tiny log."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from basket_logs import basket_log, own_scores

from workbench.data import Dataset
from workbench.errors import ConfigError, FallbackWarning
from workbench.models import UPCFRecommender, load_model


@pytest.fixture
def tiny() -> Dataset:
    # user 1: {x}, {x, y}, {y}; user 2: {z}; user 3: {y}, {y, w}; user 4: {y}
    return Dataset.from_frames(
        basket_log({1: [["x"], ["x", "y"]] + [["y"]], 2: [["z"]], 3: [["y"], ["y", "w"]], 4: [["y"]]})
    )


def test_scores_by_hand(tiny):
    """r = 2, alpha = 0.5 (the cosine), q = 2.

    Recency popularity over the last min(2, |B_u|) baskets: user 1 x 1/2, y 2/2; user 2 z 1;
    user 3 y 1, w 1/2; user 4 y 1. Items ever bought: I1 = {x, y}, I2 = {z}, I3 = {y, w}, I4 = {y}.
    s(1, 3) = 1 / (sqrt 2 sqrt 2) = 1/2, s(1, 4) = 1 / sqrt 2, s(1, 2) = 0, s(1, 1) = 1; squared:
    score(1) = pi_1 + pi_3 / 4 + pi_4 / 2 = x 0.5, y 1 + 0.25 + 0.5 = 1.75, w 0.125.
    """
    model = UPCFRecommender(recency=2, alpha=0.5, locality=2).fit(tiny)
    recs = model.recommend([1, 2], k=4, exclude_seen=False)
    assert own_scores(recs, 1) == pytest.approx({"y": 1.75, "x": 0.5, "w": 0.125}, rel=1e-12)
    assert recs[recs["user_id"] == 1]["item_id"].tolist() == ["y", "x", "w", "z"]
    assert recs[recs["user_id"] == 1]["fallback"].tolist() == [False, False, False, True]  # z: nobody similar
    assert own_scores(recs, 2) == {"z": 1.0}


def test_the_cosine_is_asymmetric(tiny):
    """alpha = 1: s(u, v) = |I_u & I_v| / |I_u|, so s(3, 4) = 1/2 and s(4, 3) = 1; q = 1, all baskets.

    pi (all baskets): user 1 x 2/3, y 2/3; user 3 y 1, w 1/2; user 4 y 1. s(3, 1) = 1/2, s(4, 1) = 1.
    score(3) = pi_3 + pi_4 / 2 + pi_1 / 2 = y 1 + 0.5 + 1/3, w 0.5, x 1/3;
    score(4) = pi_4 + pi_3 + pi_1 = y 1 + 1 + 2/3, w 0.5, x 2/3.
    """
    recs = UPCFRecommender(recency=None, alpha=1.0, locality=1).fit(tiny).recommend([3, 4], k=3, exclude_seen=False)
    assert own_scores(recs, 3) == pytest.approx({"y": 11 / 6, "w": 0.5, "x": 1 / 3}, rel=1e-12)
    assert own_scores(recs, 4) == pytest.approx({"y": 8 / 3, "w": 0.5, "x": 2 / 3}, rel=1e-12)


def test_recency_one_is_the_last_basket(tiny):
    """r = 1: user 1's popularity is its last basket {y}; a large q leaves mostly the user itself."""
    recs = UPCFRecommender(recency=1, alpha=0.5, locality=50).fit(tiny).recommend([1], k=2, exclude_seen=False)
    assert recs["item_id"].tolist()[0] == "y" and recs["score"].iloc[0] == pytest.approx(1 + 0.5**50 + 0.5**25)


def _reference_scores(histories, n_items, *, recency, alpha, locality):
    """The paper's formulas, one user and one basket at a time."""
    users = list(histories)
    bought = {u: {i for basket in histories[u] for i in basket} for u in users}
    popularity = {}
    for u in users:
        window = histories[u] if recency is None else histories[u][-recency:]
        popularity[u] = np.array([sum(i in basket for basket in window) / len(window) for i in range(n_items)])
    scores = {}
    for u in users:
        total = np.zeros(n_items)
        for v in users:
            common = len(bought[u] & bought[v])
            similarity = common / (len(bought[u]) ** alpha * len(bought[v]) ** (1 - alpha))
            total += similarity**locality * popularity[v]
        scores[u] = total
    return scores


@pytest.mark.parametrize("recency, alpha, locality", [(1, 0.25, 1), (3, 0.5, 5), (None, 0.75, 2.5), (50, 0.0, 3)])
def test_matches_the_papers_formulas_user_by_user(recency, alpha, locality):
    rng = np.random.default_rng(3)
    n_items = 15
    histories = {
        u: [sorted(rng.choice(n_items, size=rng.integers(1, 6), replace=False).tolist()) for _ in range(n)]
        for u, n in enumerate(rng.integers(1, 9, size=30), start=100)
    }
    log = basket_log({user: [[f"i{i}" for i in basket] for basket in history] for user, history in histories.items()})
    model = UPCFRecommender(recency=recency, alpha=alpha, locality=locality)
    model.fit(Dataset.from_frames(log.sample(frac=1.0, random_state=1)))
    recs = model.recommend(list(histories), k=n_items, exclude_seen=False)
    for user, vector in _reference_scores(histories, n_items, recency=recency, alpha=alpha, locality=locality).items():
        mine = recs[(recs["user_id"] == user) & ~recs["fallback"]]
        want = {f"i{i}": vector[i] for i in np.flatnonzero(vector > 0)}
        assert dict(zip(mine["item_id"], mine["score"], strict=True)) == pytest.approx(want, rel=1e-10)


def test_views_unknown_users_allow_lists_and_text_ids():
    log = basket_log({"a": [["x"], ["x", "y"]], "b": [["y"], ["z"]]}).assign(event="purchase")
    view = pd.DataFrame({"user_id": ["c"], "item_id": ["w"], "order_id": [99], "timestamp": [1_800_000_000]})
    model = UPCFRecommender(recency=2).fit(Dataset.from_frames(pd.concat([log, view.assign(event="view")])))
    with pytest.warns(FallbackWarning, match=r"1 of 3 users are unknown to the model"):
        recs = model.recommend(["a", "c", "d"], k=2, exclude_seen=False)
    assert recs[recs["user_id"] == "c"]["fallback"].all() and recs[recs["user_id"] == "d"]["fallback"].all()
    assert not recs[recs["user_id"] == "a"]["fallback"].any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        allowed = model.recommend(["a", "b"], k=3, exclude_seen=False, items=["z", "w"])
        blocked = model.recommend(["a"], k=3, exclude_seen=False, exclude_items=["x", "y"])
    assert set(allowed["item_id"]) <= {"z", "w"} and set(blocked["item_id"]).isdisjoint({"x", "y"})


def test_save_and_load_give_the_same_lists(tiny, tmp_path):
    model = UPCFRecommender(recency=2, alpha=0.25, locality=3).fit(tiny)
    loaded = load_model(model.save(tmp_path / "upcf"))
    assert loaded.get_params() == model.get_params()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        for kwargs in ({}, {"exclude_seen": False}, {"exclude_seen": False, "items": ["w", "y"]}):
            pd.testing.assert_frame_equal(
                loaded.recommend([1, 2, 5], k=3, **kwargs), model.recommend([1, 2, 5], k=3, **kwargs)
            )
    none = load_model(UPCFRecommender(recency=None).fit(tiny).save(tmp_path / "all"))
    assert none.recency is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"recency": 0}, "recency must be a positive integer"),
        ({"alpha": 1.5}, "alpha must be a number from 0 to 1"),
        ({"locality": 0}, "locality must be a positive number"),
        ({"locality": "5"}, "locality must be a positive number"),
    ],
)
def test_bad_parameters_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        UPCFRecommender(**kwargs)
