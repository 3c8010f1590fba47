"""EASERecommender: the closed form against numpy written out, scores, a known answer, persistence, guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError, FallbackWarning
from workbench.guards import BUDGET_ENV
from workbench.models import EASERecommender, PopularityRecommender, load_model

LAMBDA = 2.0

# 6 users x 5 items; rows are users u0..u5, columns items i0..i4 (every item interacted)
X = np.array(
    [
        [1, 1, 0, 0, 1],
        [1, 0, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [1, 1, 0, 1, 0],
        [0, 0, 1, 1, 1],
        [1, 0, 0, 0, 0],
    ],
    dtype=np.float64,
)
RATINGS = X * np.array([[5, 3, 1, 4, 2]])  # a rating per interaction, for weighting="rating"
USERS = [f"u{i}" for i in range(X.shape[0])]
ITEMS = [f"i{j}" for j in range(X.shape[1])]


def _log(matrix: np.ndarray) -> pd.DataFrame:
    rows, cols = np.nonzero(matrix)
    return pd.DataFrame(
        {"user_id": np.array(USERS)[rows], "item_id": np.array(ITEMS)[cols], "rating": matrix[rows, cols]}
    )


def brute_force_b(matrix: np.ndarray, regularization: float) -> np.ndarray:
    """The closed form written directly: P = inv(X^T X + lambda I), B = I - P diagMat(1 / diag(P))."""
    p = np.linalg.inv(matrix.T @ matrix + regularization * np.eye(matrix.shape[1]))
    return np.eye(matrix.shape[1]) - p @ np.diag(1.0 / np.diag(p))


@pytest.fixture(scope="module")
def model() -> EASERecommender:
    return EASERecommender(regularization=LAMBDA).fit(Dataset.from_frames(_log(X)))


def _dense_scores(model: EASERecommender, user: str) -> np.ndarray:
    """The user's score of every item (in ITEMS order) as recommend returns them."""
    recs = model.recommend([user], k=len(ITEMS), exclude_seen=False)
    return recs.set_index("item_id")["score"].reindex(ITEMS).to_numpy()


def test_b_is_the_closed_form_with_a_zero_diagonal(model):
    order = model.item_map.codes(ITEMS)  # the model's column of each item of ITEMS
    b = model._B[np.ix_(order, order)]
    assert b.dtype == np.float32
    np.testing.assert_allclose(b, brute_force_b(X, LAMBDA), rtol=1e-5, atol=1e-6)
    assert (np.diag(b) == 0).all()


@pytest.mark.parametrize(("weighting", "matrix"), [("binary", X), ("rating", RATINGS)])
def test_scores_are_the_users_row_times_b(weighting, matrix):
    fitted = EASERecommender(regularization=LAMBDA, weighting=weighting).fit(Dataset.from_frames(_log(matrix)))
    b = brute_force_b(matrix, LAMBDA)
    for u, user in enumerate(USERS):
        np.testing.assert_allclose(_dense_scores(fitted, user), matrix[u] @ b, rtol=1e-4, atol=1e-5)


def test_recommends_the_item_that_co_occurs():
    # a, b, c take shoes with socks; d has shoes only. hat and scarf are more popular than socks,
    # but taken by others: d's next item is socks, where popularity says hat.
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "b", "c", "c", "d", *"eeffgghh"],
            "item_id": ["shoes", "socks"] * 3 + ["shoes"] + ["hat", "scarf"] * 4,
        }
    )
    ds = Dataset.from_frames(log)
    ease = EASERecommender(regularization=1.0).fit(ds).recommend(["d"], k=1)
    assert ease["item_id"].tolist() == ["socks"] and not ease["fallback"].any()
    assert PopularityRecommender().fit(ds).recommend(["d"], k=1)["item_id"].tolist() != ["socks"]


@pytest.mark.parametrize("top_items", [None, 3])
def test_save_load_round_trip_is_identical(top_items, tmp_path):
    model = EASERecommender(regularization=LAMBDA, top_items=top_items).fit(Dataset.from_frames(_log(X)))
    loaded = load_model(model.save(tmp_path / "ease"))
    assert type(loaded) is EASERecommender and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded._B, model._B)
    users = [*USERS, "stranger"]
    for exclude_seen in (True, False):
        pd.testing.assert_frame_equal(
            loaded.recommend(users, k=4, exclude_seen=exclude_seen),
            model.recommend(users, k=4, exclude_seen=exclude_seen),
        )


def test_a_catalogue_over_max_items_raises_one_line():
    with pytest.raises(ConfigError, match=r"catalogue has 5 items, over max_items=3 .*top_items=3") as info:
        EASERecommender(max_items=3).fit(Dataset.from_frames(_log(X)))
    assert "\n" not in str(info.value)


def test_the_memory_budget_is_checked_before_allocating(monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "64B")  # 5 x 5 float32 takes 100 bytes
    with pytest.raises(ConfigError, match=r"EASE's item x item matrix .* over the memory budget"):
        EASERecommender().fit(Dataset.from_frames(_log(X)))


def test_top_items_keeps_only_the_most_popular_items():
    # popularity: i0 x4, i1 x3, i2 x3, i3 x3, i4 x2; ties go to the item seen first (i1 before i3)
    model = EASERecommender(regularization=LAMBDA, top_items=3, max_items=3).fit(Dataset.from_frames(_log(X)))
    top = {"i0", "i1", "i2"}
    assert set(model.item_map.to_ids(model._kept)) == top and model._B.shape == (3, 3)
    users = [*USERS, "stranger"]
    for exclude_seen in (True, False):
        with pytest.warns(FallbackWarning):  # short lists and the stranger are counted as fallbacks
            recs = model.recommend(users, k=5, exclude_seen=exclude_seen)
        assert set(recs["item_id"]) <= top
        assert len(recs[recs["user_id"] == "stranger"]) == 3  # the fallback holds the kept items only
    recs = model.recommend(["u4"], k=5, exclude_seen=False)
    kept_x = X[:, [0, 1, 2]]  # the model is EASE on the kept columns alone
    expected = kept_x[4] @ brute_force_b(kept_x, LAMBDA)
    scores = recs.set_index("item_id")["score"].reindex(["i0", "i1", "i2"])
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf"), True, "500", None])
def test_bad_regularization_raises(bad):
    with pytest.raises(ConfigError, match="regularization must be a positive number") as info:
        EASERecommender(regularization=bad)
    assert "\n" not in str(info.value)


def test_bad_sizes_raise():
    for kwargs in ({"max_items": 0}, {"max_items": 2.5}, {"top_items": 0}, {"top_items": True}):
        with pytest.raises(ConfigError, match="must be a positive integer"):
            EASERecommender(**kwargs)
