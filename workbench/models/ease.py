"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): a closed-form item x item model.

With X the users x items weight matrix, ``P = (X^T X + regularization * I)^-1`` and
``B = I - P / diag(P)`` (each column j divided by ``P[j, j]``), so ``diag(B) = 0``: an item
never explains itself. A user's scores are ``X_u @ B``. One Cholesky factorisation of a dense
float32 item x item matrix: seconds for a few thousand items, quadratic memory in the items.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, ModelError
from workbench.guards import check_dense, format_bytes, positive_int
from workbench.models import storage
from workbench.models.base import Recommender
from workbench.models.weights import confidence


def ease_weights(weights: sp.spmatrix, regularization: float) -> np.ndarray:
    """The EASE item x item matrix ``B`` (float32, zero diagonal, C order) of a users x items ``weights`` matrix.

    ``B = I - P / diag(P)`` with ``P = (X^T X + regularization * I)^-1``, inverted from its Cholesky
    factor (LAPACK potrf + potri: about n^3 flops, under half of a triangular solve against I) on one
    BLAS thread, which is faster than two on a shared 2-core machine.

    >>> B = ease_weights(sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.float32)), 1.0)
    >>> B.astype(float).round(3).tolist()
    [[0.0, 0.333], [0.5, 0.0]]
    """
    gram = (weights.T @ weights).toarray().astype(np.float32, copy=False)
    gram[np.diag_indices_from(gram)] += np.float32(regularization)
    with threadpool_limits(1, "blas"):
        factor, info = scipy.linalg.lapack.spotrf(gram, lower=False, overwrite_a=True, clean=False)
        if info == 0:
            inverse, info = scipy.linalg.lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:  # X^T X + lambda I is positive definite for lambda > 0: only non-finite weights get here
        raise ModelError(
            f"EASE: the item x item system cannot be inverted (LAPACK info {info}); are the weights finite?"
        )
    del factor, gram
    inverse = np.triu(inverse)  # potri fills the upper triangle of the symmetric inverse
    inverse += np.triu(inverse, 1).T
    inverse /= -np.diag(inverse)[None, :]  # B = -P / diag(P) off the diagonal ...
    np.fill_diagonal(inverse, 0.0)  # ... and 0 on it
    return inverse


class EASERecommender(Recommender):
    """EASE: a linear item x item autoencoder in closed form, ``score = X_u @ B``.

    X holds the interaction weights of ``weighting`` (as in :class:`ALSRecommender`; by default
    ``"binary"``, 1 per interaction, repeats adding up). ``regularization`` is the ridge
    penalty lambda: 750 was best on validation splits of MovieLens-100K, 500 a close second
    (``benchmarks/ease_ml100k.py``); tune it on a validation split for other data.

    The model holds a dense float32 item x item matrix (4 n^2 bytes; 20,000 items take 1.6 GB,
    about twice that while fitting). A catalogue over ``max_items`` raises ConfigError before
    anything is allocated. ``top_items=N`` keeps only the N most popular training items in the
    model (ties to the item seen first): the others get score -inf and are never recommended,
    neither to known users nor as the popularity fallback of unknown users or short lists.
    Unknown users get popularity.

    >>> ease = EASERecommender().fit(train)  # doctest: +SKIP
    >>> ease.recommend(test_users, k=10)  # doctest: +SKIP
    >>> EASERecommender(top_items=20_000).fit(big_shop)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = ("regularization", "max_items", "top_items", "weighting")

    def __init__(
        self,
        *,
        regularization: float = 750.0,
        max_items: int = 20_000,
        top_items: int | None = None,
        weighting: str | Mapping[str, float] = "binary",
    ) -> None:
        if (
            isinstance(regularization, bool)
            or not isinstance(regularization, numbers.Real)
            or not np.isfinite(regularization)
            or regularization <= 0
        ):
            raise ConfigError(f"regularization must be a positive number, got {regularization!r}")
        self.regularization = float(regularization)
        self.max_items = positive_int(max_items, "max_items")
        self.top_items = None if top_items is None else positive_int(top_items, "top_items")
        self.weighting = dict(weighting) if isinstance(weighting, Mapping) else weighting

    def _kept_items(self) -> np.ndarray:
        """Sorted codes of the items the model ranks: all, or the ``top_items`` most popular."""
        n_items = len(self.item_map)
        if self.top_items is None or self.top_items >= n_items:
            return np.arange(n_items, dtype=np.int64)
        return np.sort(np.argsort(-self._popularity, kind="stable")[: self.top_items]).astype(np.int64)

    def _fit(self, train: Dataset) -> None:
        kept = self._kept_items()
        n = len(kept)
        if n > self.max_items:
            raise ConfigError(
                f"EASERecommender: the catalogue has {n:,} items, over max_items={self.max_items:,} (its dense "
                f"item x item matrix would take {format_bytes(4 * n * n)}); raise max_items, or pass "
                f"top_items={self.max_items} to keep only the most popular items"
            )
        check_dense(n, n, what=f"EASE's item x item matrix ({n:,} items; pass top_items= to keep fewer)", itemsize=4)
        self._weights = train.user_item_matrix(self.user_map, self.item_map, confidence(train, self.weighting))
        self._kept = kept
        subset = n < len(self.item_map)
        self._B = ease_weights(self._weights[:, kept] if subset else self._weights, self.regularization)
        if subset:  # the items left out are not recommended by the fallback either
            popularity = np.full_like(self._popularity, -np.inf)
            popularity[kept] = self._popularity[kept]
            self._popularity = popularity

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        rows = self._weights[user_codes]
        if len(self._kept) == len(self.item_map):
            return np.asarray(rows @ self._B)
        scores = np.full((len(user_codes), len(self.item_map)), -np.inf, dtype=np.float32)
        scores[:, self._kept] = rows[:, self._kept] @ self._B
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        weights = self._weights.tocsr()
        weights.sort_indices()
        return {"B": self._B, "kept": self._kept, "weights_data": weights.data}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._B = arrays["B"]
        self._kept = storage.checked_index(arrays["kept"], len(self.item_map), "kept")
        seen = self._seen
        self._weights = storage.checked_csr(arrays["weights_data"], seen.indices, seen.indptr, seen.shape, "weights")
        n = len(self._kept)
        if self._kept.ndim != 1 or self._B.shape != (n, n):
            raise ValueError("the item x item matrix does not match the item ids")
        if self._B.dtype.kind != "f" or not np.isfinite(self._B).all():
            raise ValueError("the item x item matrix holds NaN, infinite or non-float values")
