"""top_k, mask_rows and unique_users: known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from workbench.errors import DataError
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
