"""ALSRecommender.partial_fit: exact least squares against fixed item factors, new users, seen items, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import two_blocks

from workbench.data import Dataset
from workbench.errors import ModelError
from workbench.models import ALSRecommender

PARAMS = {"factors": 4, "regularization": 0.1, "iterations": 30, "alpha": 2.0, "weighting": "binary"}


@pytest.fixture()
def model() -> ALSRecommender:
    return ALSRecommender(**PARAMS, seed=1).fit(Dataset.from_frames(two_blocks()))


def vector(model: ALSRecommender, user: str) -> np.ndarray:
    return model.user_factors[model.user_map.codes([user])[0]]


def test_a_new_user_with_a_known_users_history_gets_that_users_vector(model):
    history = two_blocks()
    twin = history[history["user_id"] == "u2"].assign(user_id="twin")
    model.partial_fit(twin)
    fitted, recomputed = vector(model, "u2"), vector(model, "twin")
    cosine = fitted @ recomputed / (np.linalg.norm(fitted) * np.linalg.norm(recomputed))
    assert cosine > 0.99
    assert np.linalg.norm(recomputed - fitted) < 0.05 * np.linalg.norm(fitted)


def test_recomputed_vector_is_the_exact_least_squares_solution(model):
    # implicit's objective: confidence c = alpha * weight on the user's items, 1 elsewhere, preference 1 on them
    items_before = model.item_factors.copy()
    model.partial_fit(pd.DataFrame({"user_id": ["new", "new"], "item_id": ["a0", "b3"]}))
    Y = items_before.astype(np.float64)
    rows = model.item_map.codes(["a0", "b3"])
    c = np.full(2, PARAMS["alpha"] * 1.0)
    A = Y.T @ Y + (Y[rows].T * (c - 1)) @ Y[rows] + PARAMS["regularization"] * np.eye(PARAMS["factors"])
    expected = np.linalg.solve(A, Y[rows].T @ c)
    np.testing.assert_allclose(vector(model, "new"), expected, rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(model.item_factors, items_before)  # item factors stay fixed


def test_a_new_user_is_recommended_the_rest_of_their_block(model):
    model.partial_fit(pd.DataFrame({"user_id": ["new"] * 3, "item_id": ["b0", "b1", "b2"]}))
    recs = model.recommend(["new"], k=2)
    assert set(recs["item_id"]) == {"b3", "b4"}  # the user's block, their own items excluded as seen


def test_new_items_of_a_known_user_count_as_seen_and_other_users_are_untouched(model):
    assert model.recommend(["u0"], k=1)["item_id"].tolist() == ["a0"]
    others = model.user_factors[model.user_map.codes(["u1", "v0"])].copy()
    model.partial_fit(pd.DataFrame({"user_id": ["u0"], "item_id": ["a0"]}))
    recs = model.recommend(["u0"], k=10)
    assert "a0" not in set(recs["item_id"]) and len(recs) == 5  # 10 items, 5 seen
    np.testing.assert_array_equal(model.user_factors[model.user_map.codes(["u1", "v0"])], others)


def test_unknown_items_are_skipped_and_counted(model):
    n_items = len(model.item_map)
    model.partial_fit(pd.DataFrame({"user_id": ["u0", "u0", "x"], "item_id": ["zz", "yy", "a0"]}))
    assert model.skipped_items_ == 2
    assert len(model.item_map) == n_items and model.item_factors.shape[0] == n_items
    assert "zz" not in set(model.recommend(["u0", "x"], k=10)["item_id"])


def test_dataset_input_and_input_not_mutated(model):
    frame = pd.DataFrame({"user_id": ["new"], "item_id": ["a1"]})
    before = frame.copy()
    ds = Dataset.from_frames(frame)
    assert model.partial_fit(ds) is model
    pd.testing.assert_frame_equal(frame, before)
    assert "new" in set(model.user_map.ids)


def test_save_and_load_after_partial_fit(model, tmp_path):
    model.partial_fit(pd.DataFrame({"user_id": ["new", "u0"], "item_id": ["b1", "a0"]}))
    model.save(tmp_path / "als")
    loaded = ALSRecommender.load(tmp_path / "als")
    users = ["new", "u0", "v3"]
    pd.testing.assert_frame_equal(loaded.recommend(users, k=5), model.recommend(users, k=5))
    # the loaded model keeps folding in
    loaded.partial_fit(pd.DataFrame({"user_id": ["new"], "item_id": ["b2"]}))
    assert "b2" not in set(loaded.recommend(["new"], k=10)["item_id"])


def test_partial_fit_before_fit_is_a_model_error():
    with pytest.raises(ModelError, match="fitted before partial_fit"):
        ALSRecommender().partial_fit(pd.DataFrame({"user_id": [1], "item_id": [2]}))
