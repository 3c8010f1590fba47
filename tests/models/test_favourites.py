"""workbench.models.favourites: cluster and ridge favourites on one base, and the pruned top lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from workbench.models import favourites
from workbench.models.base import top_k
from workbench.models.favourites import (
    ClusterFavourites,
    RidgeFavourites,
    reachable_items,
    ridge_coefficients,
    top_lists,
)

# rows x1, y1, y2: x1 took p, y1 and y2 took q
SEEN = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
ONEHOT = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])


def test_cluster_favourites_are_shrunk_shares_with_the_global_row_last():
    shares = ClusterFavourites(2, shrinkage=2.0).fit(SEEN, np.array([0, 1, 1]), ONEHOT)
    # global p 1/3, q 2/3; cluster 0: (1 + 2/3) / 3, (4/3) / 3; cluster 1: (2/3) / 4, (2 + 4/3) / 4
    expected = [[(1 + 2 / 3) / 3, (4 / 3) / 3], [(2 / 3) / 4, (2 + 4 / 3) / 4], [1 / 3, 2 / 3]]
    np.testing.assert_allclose(shares.weights, expected)
    design = shares.design(np.zeros((3, 0)), np.array([1, 0, -1]))
    np.testing.assert_allclose(shares.scores(design), np.array(expected)[[1, 0, 2]])


def test_ridge_favourites_by_hand():
    # penalty 1 on the one-hot of the group, intercept free: p is 5/7 for X and 1/7 for Y; q mirrors it
    ridge = RidgeFavourites(1.0).fit(SEEN, np.zeros(3, np.int64), ONEHOT)
    np.testing.assert_allclose(ridge.weights[:-1] * 7, [[2, -2], [-2, 2], [3, 4]])  # a_X, a_Y, c
    np.testing.assert_allclose(ridge.weights, np.vstack([ridge_coefficients(ONEHOT, SEEN, 1.0), [[1 / 3, 2 / 3]]]))
    design = ridge.design(ONEHOT[[0, 1, 0]], np.array([0, 0, -1]))  # the last user has no demographics
    np.testing.assert_allclose(ridge.scores(design), [[5 / 7, 2 / 7], [1 / 7, 6 / 7], [1 / 3, 2 / 3]])


def test_both_kinds_share_the_base():
    for part in (ClusterFavourites(1, 0.0), RidgeFavourites(1.0)):
        assert isinstance(part, favourites.Favourites)
    with pytest.raises(TypeError):
        favourites.Favourites()  # abstract


def test_top_lists_over_the_reachable_items_equal_those_over_every_item(monkeypatch):
    """Ridge-like favourites over a long tail: the pruned lists (ties included) are the full-catalogue ones."""
    rng = np.random.default_rng(3)
    n_items, n_levels = 3000, 9
    popularity = np.sort(rng.pareto(1.2, n_items))[::-1] / 5
    effects = rng.normal(0, 0.3, (n_levels, n_items)) * popularity
    weights = np.vstack([effects, popularity, np.zeros(n_items)])
    weights[:, 40] = weights[:, 7]  # an exact tie: the earlier column must win in both
    design = np.zeros((60, n_levels + 2))
    design[np.arange(60), rng.integers(0, n_levels, 60)] = 1.0
    design[:, n_levels] = 1.0

    def full(design, weights, k):
        return top_k(np.maximum(design @ weights, 0.0), k)[0]

    monkeypatch.setattr(favourites, "PRUNE_ITEMS", 100)
    monkeypatch.setattr(favourites, "PROBE_ITEMS", 50)
    reachable = reachable_items(design, weights, 10)
    assert reachable is not None and 10 < len(reachable) < n_items // 4
    for k in (1, 10, 12):
        np.testing.assert_array_equal(top_lists(design, weights, k), full(design, weights, k))
    # fewer than k positive scores in a row: nothing can be ruled out, every item is scored
    few = np.full_like(weights, -1.0)
    few[:, :5] = weights[:, :5]
    assert reachable_items(design, few, 10) is None
    np.testing.assert_array_equal(top_lists(design, few, 10), full(design, few, 10))
