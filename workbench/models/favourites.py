"""Favourites of cold users: scores of every item for a user known only by demographics.

Both kinds share one form: a user is a *design row* ``z`` and their favourites are
``max(0, z @ weights)`` (:class:`Favourites`), the last row of ``weights`` being the global share
of each item (what a user without demographics gets).

- :class:`ClusterFavourites`: ``z`` is the one-hot of the user's cluster and a cluster's row its
  interaction shares shrunk toward the global ones, ``(count + m * global_share) / (total + m)``
  with ``m = shrinkage`` pseudo-interactions: a small cluster leans on the global ranking, and a
  single cluster ranks exactly like popularity.
- :class:`RidgeFavourites`: ``z = [x, 1]`` (the encoded demographics ``x``) and the weights a
  ridge regression of the item columns of the user x item matrix on them, in closed form,
  ``[b; c] = (D'D + penalty * P)^-1 D' seen`` with ``D = [X, 1]`` and ``P`` the identity on ``b``
  only: the intercept ``c`` is free, so a huge penalty ranks like popularity, and a level held by
  ``penalty`` users moves halfway toward its own rates. Negative predictions count as 0.

>>> favourites = ClusterFavourites(n_clusters=2, shrinkage=50.0).fit(seen, clusters, features)  # doctest: +SKIP
>>> favourites.scores(favourites.design(features, clusters))  # doctest: +SKIP
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench.guards import check_dense
from workbench.models.base import BATCH_CELLS, top_k
from workbench.models.selection import Scorer, lists_ndcg

#: Ridge penalties (in pseudo-users) tried on warm users held out as if cold when no penalty is given.
RIDGE_PENALTIES = (10.0, 30.0, 100.0, 300.0, 1000.0)
#: Top lists over more items than this score only the items that can reach them (:func:`reachable_items`),
#: probing each row's k-th best score on this many items of highest bound.
PRUNE_ITEMS = 5000
PROBE_ITEMS = 256
BOUND_CHUNK = 2048


def global_share(seen: sp.csr_matrix) -> np.ndarray:
    """Each item's share of all interactions in ``seen``."""
    counts = np.asarray(seen.sum(axis=0)).ravel().astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def cluster_shares(seen: sp.csr_matrix, labels: np.ndarray, n_clusters: int, shrinkage: float) -> np.ndarray:
    """Scores (n_clusters + 1, n_items): each cluster's shrunk shares, then the global share (last row).

    ``labels`` gives the cluster of each row of ``seen`` (-1: no demographics, counted in global only).
    """
    shares = global_share(seen)
    rows = np.flatnonzero(labels >= 0)
    member = sp.csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(n_clusters, seen.shape[0]))
    check_dense(n_clusters, seen.shape[1], what=f"cluster favourites (n_clusters={n_clusters})")
    counts = np.asarray((member @ seen).todense(), dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    scores = (counts + shrinkage * shares) / np.maximum(totals + shrinkage, 1e-12)
    return np.vstack([scores, shares])


def ridge_coefficients(features: np.ndarray, seen: sp.csr_matrix, penalty: float) -> np.ndarray:
    """(n_features + 1, n_items) ridge regression of the rows of ``seen`` on ``features``, intercept last.

    Closed form, ``(D'D + penalty * P)^-1 D' seen`` with ``D = [features, 1]`` and ``P`` the identity
    without the intercept (not penalised): a demographic level held by ``penalty`` users moves its
    items' predicted rates halfway from the global mean toward its own.

    >>> seen = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    >>> coef = ridge_coefficients(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), seen, 1.0)
    >>> np.round(np.array([[1.0, 0.0, 1.0]]) @ coef * 7, 6).tolist()  # the first user: 5/7 and 2/7
    [[5.0, 2.0]]
    """
    return _ridge_solve(*_ridge_normal(features, seen), penalty)


def _ridge_normal(features: np.ndarray, seen: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """``D'D`` and ``D' seen`` with ``D = [features, 1]``: what every penalty of :func:`ridge_coefficients` shares."""
    design = np.hstack([features, np.ones((len(features), 1))])
    check_dense(design.shape[1], seen.shape[1], what=f"ridge coefficients ({features.shape[1]} demographic features)")
    return design.T @ design, np.asarray((seen.T @ design).T, dtype=np.float64)


def _ridge_solve(gram: np.ndarray, rhs: np.ndarray, penalty: float) -> np.ndarray:
    """The coefficients of :func:`ridge_coefficients` from its normal equations (:func:`_ridge_normal`)."""
    return np.linalg.solve(gram + penalty * np.diag(np.r_[np.ones(len(gram) - 1), 0.0]), rhs)


def reachable_items(design: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray | None:
    """Sorted item codes that may be among the top ``k`` of ``max(0, design @ weights)`` in some row;
    None when there are at most :data:`PRUNE_ITEMS` items or no item can be ruled out.

    An item's score in any row is at most its bound over the box of the rows, ``zmax . w+ + zmin . w-``
    (``w+`` / ``w-`` the positive / negative parts of its weights). Each row's ``k``-th best score among
    the :data:`PROBE_ITEMS` items of highest bound is at most its ``k``-th best overall; an item whose
    bound (plus a rounding margin) is below the smallest of those, which is positive, scores below
    ``k`` others in every row: it can neither enter a list nor move a tie, so leaving it out changes no list.
    """
    n_items = weights.shape[1]
    if n_items <= max(PRUNE_ITEMS, 4 * k) or len(design) == 0 or k < 1:
        return None
    high, low = design.max(axis=0), design.min(axis=0)
    # bound = high . w+ + low . w- = low . w + (high - low) . w+;  margin ~ max(|high|, |low|) . |w|, |w| = 2 w+ - w
    scale = np.maximum(np.abs(high), np.abs(low))
    on_weights, on_positive = np.vstack([low, scale]), np.vstack([high - low, scale])
    bound, margin = np.empty(n_items), np.empty(n_items)
    for start in range(0, n_items, BOUND_CHUNK):  # chunks that stay in cache: no large temporaries
        part = weights[:, start : start + BOUND_CHUNK]
        plain, positive = on_weights @ part, on_positive @ np.maximum(part, 0.0)
        bound[start : start + BOUND_CHUNK] = plain[0] + positive[0]
        margin[start : start + BOUND_CHUNK] = 1e-9 * (2.0 * positive[1] - plain[1])
    size = max(PROBE_ITEMS, 4 * k)  # fewer than n_items
    probe = np.sort(np.argpartition(-bound, size)[:size])
    check_dense(len(design), size, what="probe scores")
    probe_scores = np.maximum(design @ weights[:, probe], 0.0)
    threshold = float(np.partition(probe_scores, size - k, axis=1)[:, size - k].min())
    if threshold <= 0.0:
        return None
    keep = bound + margin >= threshold
    keep[probe] = True
    return None if keep.all() else np.flatnonzero(keep)


def top_lists(design: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Item codes of each design row's top ``k`` of ``max(0, design @ weights)``, scored in batches of
    bounded size, over the items that can reach a top ``k`` (:func:`reachable_items`; the lists are
    those of every item)."""
    items = reachable_items(design, weights, k)
    if items is not None:
        weights = np.ascontiguousarray(weights[:, items])  # the layout of the whole: the same products
    lists = np.full((len(design), k), -1, dtype=np.int64)
    batch = max(1, BATCH_CELLS // max(weights.shape[1], 1))
    for start in range(0, len(design), batch):
        part = slice(start, start + batch)
        lists[part] = top_k(np.maximum(design[part] @ weights, 0.0), k)[0]
    if items is not None:
        lists = np.where(lists >= 0, items[np.maximum(lists, 0)], -1)
    return lists


class Favourites(ABC):
    """Favourites as ``max(0, design @ weights)``; a subclass fits ``weights`` and builds design rows."""

    #: The value of ``ClusterColdStart(favourites=...)`` that selects this kind.
    name: ClassVar[str]
    #: (design width, n_items); the last row is the global share of each item.
    weights: np.ndarray

    @abstractmethod
    def fit(self, seen: sp.csr_matrix, clusters: np.ndarray, features: np.ndarray) -> Favourites:
        """Fit on the user x item matrix ``seen``, the cluster of each of its rows (-1: no demographics,
        counted in the global share only) and their encoded demographics (any values where -1)."""

    @abstractmethod
    def design(self, features: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        """Design rows of users by their encoded demographics and clusters; cluster -1 (no
        demographics) selects the global row."""

    def scores(self, design: np.ndarray) -> np.ndarray:
        """Dense (len(design), n_items) favourites, negative predictions raised to 0."""
        return np.maximum(design @ self.weights, 0.0)

    def top_lists(self, design: np.ndarray, k: int) -> np.ndarray:
        """Item codes of each design row's top ``k`` favourites (:func:`top_lists`)."""
        return top_lists(design, self.weights, k)


class ClusterFavourites(Favourites):
    """Each cluster's interaction shares shrunk toward the global ones (module docstring).

    >>> seen = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    >>> favourites = ClusterFavourites(2, shrinkage=0.0).fit(seen, np.array([0, 1, 1]), np.zeros((3, 0)))
    >>> favourites.weights.round(3).tolist()  # cluster 0, cluster 1, global
    [[1.0, 0.0], [0.0, 1.0], [0.333, 0.667]]
    """

    name = "clusters"

    def __init__(self, n_clusters: int, shrinkage: float) -> None:
        self.n_clusters = n_clusters
        self.shrinkage = shrinkage

    def fit(self, seen: sp.csr_matrix, clusters: np.ndarray, features: np.ndarray) -> ClusterFavourites:
        self.weights = cluster_shares(seen, clusters, self.n_clusters, self.shrinkage)
        return self

    def design(self, features: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        n = len(clusters)
        design = np.zeros((n, self.n_clusters + 1))
        design[np.arange(n), clusters] = 1.0  # -1 is the last, global, row
        return design


class RidgeFavourites(Favourites):
    """A ridge regression of the item columns on the encoded demographics (module docstring).

    >>> seen = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    >>> onehot = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> favourites = RidgeFavourites(1.0).fit(seen, np.zeros(3, np.int64), onehot)
    >>> np.round(favourites.scores(favourites.design(onehot[:1], np.zeros(1, np.int64))) * 7, 6).tolist()
    [[5.0, 2.0]]
    """

    name = "ridge"

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def fit(self, seen: sp.csr_matrix, clusters: np.ndarray, features: np.ndarray) -> RidgeFavourites:
        rows = np.flatnonzero(clusters >= 0)
        coef = ridge_coefficients(features[rows], seen[rows], self.penalty)
        self.weights = np.vstack([coef, global_share(seen)])
        return self

    def design(self, features: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        n = len(clusters)
        design = np.hstack([features, np.ones((n, 1)), np.zeros((n, 1))])
        design[clusters < 0] = 0.0
        design[clusters < 0, -1] = 1.0
        return design


def ridge_selection(
    features: np.ndarray,
    seen: sp.csr_matrix,
    pool: np.ndarray,
    folds: list[np.ndarray],
    penalties: Sequence[float],
    k: int,
    scorer: Scorer | None = None,
) -> pd.DataFrame:
    """Cross-validated nDCG@k of ridge favourites for each of ``penalties``: ``penalty, ndcg``.

    Rows of ``seen`` and ``features`` are users; ``pool`` the rows with demographics and
    interactions, ``folds`` a partition of them, each held out in turn as if cold while the
    others fit (``scorer``: :mod:`workbench.models.selection`).
    """
    blocks = []  # (lists, truth) by fold, then penalty
    for fold in folds:
        fit_rows = np.setdiff1d(pool, fold)
        design = RidgeFavourites(0.0).design(features[fold], np.zeros(len(fold), np.int64))  # pool: demographics
        normal = _ridge_normal(features[fit_rows], seen[fit_rows])  # the same for every penalty
        truth = seen[fold]
        for penalty in penalties:
            coef = _ridge_solve(*normal, penalty)
            weights = np.vstack([coef, np.zeros((1, coef.shape[1]))])  # no global row needed
            blocks.append((top_lists(design, weights, k), truth))
    ndcg = np.array(lists_ndcg(blocks, scorer)).reshape(len(folds), len(penalties)).T
    table = pd.DataFrame({"penalty": np.array(penalties, dtype=np.float64)})
    table["ndcg"] = np.average(ndcg, axis=1, weights=[len(f) for f in folds])
    return table
