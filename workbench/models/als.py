"""Implicit-feedback ALS (Hu, Koren & Volinsky) on the ``implicit`` library, or on Spark."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError
from workbench.guards import check_dense, positive_int
from workbench.models import storage
from workbench.models.base import BATCH_CELLS, Recommender, top_k
from workbench.models.weights import confidence

BACKENDS = ("implicit", "spark")
#: Seconds of one core per unit of work of one ALS iteration of implicit's CPU solver (conjugate
#: gradient): per (user or item) row x factors², per distinct (user, item) pair x factors, per pair
#: and per row. Least squares over 16-256 factors on MovieLens-100K, a 150,000-line shop export and
#: The Complete Journey; estimates within about 0.6-1.3x of measured seconds (``benchmarks/als_cost.py``).
FIT_COST = (0.135e-9, 1.27e-9, 111e-9, 595e-9)
#: Seconds of one core per (user, item) score of a top-k ranking: a fixed part and a part per factor.
RANK_COST = (5e-9, 0.05e-9)


def fit_seconds(
    n_users: int,
    n_items: int,
    n_pairs: int,
    *,
    factors: float | tuple[int, int],
    iterations: float | tuple[int, int],
) -> float:
    """Estimated seconds of one core for one ALS fit of ``factors`` x ``iterations`` on a log of ``n_users``
    users, ``n_items`` items and ``n_pairs`` distinct (user, item) pairs (coefficients :data:`FIT_COST`).

    A ``(low, high)`` range gives the mean over it as a search samples it: factors on a log scale,
    iterations uniformly (``workbench.tuning.AlsSpace``). A rule of size, not a clock: the same sizes
    always give the same estimate, so work chosen by it is reproducible.

    >>> round(fit_seconds(943, 1682, 100_000, factors=64, iterations=15), 2)
    0.33
    >>> round(fit_seconds(943, 1682, 100_000, factors=(16, 256), iterations=(5, 30)), 2)
    0.48
    """
    per_square, per_pair_factor, per_pair, per_row = FIT_COST
    rows = n_users + n_items
    mean, mean_square = _factor_moments(factors)
    per_iteration = per_square * rows * mean_square + per_pair_factor * n_pairs * mean + per_pair * n_pairs
    low, high = (iterations, iterations) if np.isscalar(iterations) else iterations
    return (per_iteration + per_row * rows) * (low + high) / 2


def _factor_moments(factors: float | tuple[int, int]) -> tuple[float, float]:
    """Mean of factors and of their square: of one number, or of a range sampled on a log scale (as
    optuna's ``suggest_int(..., log=True)``: every integer weighted by the log width it rounds from)."""
    if np.isscalar(factors):
        return float(factors), float(factors) ** 2
    low, high = factors
    values = np.arange(low, high + 1, dtype=np.float64)
    weights = np.log((values + 0.5) / (values - 0.5))
    weights /= weights.sum()
    return float(weights @ values), float(weights @ values**2)


def rank_seconds(n_users: int, n_items: int, *, factors: float | tuple[int, int]) -> float:
    """Estimated seconds of one core to score every item for ``n_users`` users and keep the top k
    (coefficients :data:`RANK_COST`; a ``(low, high)`` range of factors as in :func:`fit_seconds`).

    >>> round(rank_seconds(2_469, 68_509, factors=64), 2)
    1.39
    """
    fixed, per_factor = RANK_COST
    return n_users * n_items * (fixed + per_factor * _factor_moments(factors)[0])


def log_size(ds: Dataset) -> tuple[int, int, int]:
    """``(users, items, distinct user-item pairs)`` of ``ds``: the sizes :func:`fit_seconds` takes.

    >>> log_size(Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "a", "b"]})))
    (2, 2, 2)
    """
    log = ds.interactions
    users, n_users = _codes(log[C.USER])
    items, n_items = _codes(log[C.ITEM])
    n_pairs = len(pd.unique(users.astype(np.int64) * max(n_items, 1) + items))
    return n_users, n_items, n_pairs


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values)
    return codes, len(uniques)


class ALSRecommender(Recommender):
    """Matrix factorisation for implicit feedback; confidence = alpha * weight
    (implicit's convention: unobserved pairs have confidence 1 and preference 0).

    Weights come from event types (purchase > cart > view), ratings, or counts
    (see :func:`workbench.models.weights.confidence`); repeated interactions add up.
    BLAS is single-threaded around implicit (faster and silent).

    >>> als = ALSRecommender(factors=64, seed=0).fit(train)  # doctest: +SKIP
    >>> als.recommend(test_users, k=10)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = (
        "factors",
        "regularization",
        "iterations",
        "alpha",
        "seed",
        "weighting",
        "backend",
    )

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 20.0,
        iterations: int = 15,
        alpha: float = 0.5,
        seed: int = 0,
        weighting: str | Mapping[str, float] = "auto",
        backend: str = "implicit",
        spark_master: str | None = None,
    ) -> None:
        if regularization < 0 or alpha <= 0:
            raise ConfigError(f"regularization must be >= 0 and alpha > 0, got {regularization!r}, {alpha!r}")
        if backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.factors = positive_int(factors, "factors")
        self.regularization = float(regularization)
        self.iterations = positive_int(iterations, "iterations")
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.weighting = dict(weighting) if isinstance(weighting, Mapping) else weighting
        self.backend = backend
        self.spark_master = spark_master

    def _fit(self, train: Dataset) -> None:
        weights = confidence(train, self.weighting)
        self._weights = train.user_item_matrix(self.user_map, self.item_map, weights)
        if self.backend == "spark":
            from workbench.models.als_spark import fit_spark_als

            self.user_factors, self.item_factors = fit_spark_als(self, self._weights)
        else:
            self.user_factors, self.item_factors = fit_implicit_als(self._weights, **self._implicit_params())

    def _implicit_params(self) -> dict[str, Any]:
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "iterations": self.iterations,
            "alpha": self.alpha,
            "seed": self.seed,
        }

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        """Scores in float64: a float32 product's last digits depend on how many users a batch holds
        (BLAS picks other kernels), and a user's scores must not change with the company they come in."""
        return self.user_factors[user_codes].astype(np.float64) @ self._item_factors_f64().T

    def _item_factors_f64(self) -> np.ndarray:
        """``item_factors`` as float64, converted once per set of factors."""
        cached = getattr(self, "_items_f64", None)
        if cached is None or cached[0] is not self.item_factors:
            cached = self._items_f64 = (self.item_factors, self.item_factors.astype(np.float64))
        return cached[1]

    def partial_fit(self, new: Dataset | pd.DataFrame) -> Self:
        """Fold in new interactions: recompute the vectors of the users in ``new`` against the
        current item factors (exact least squares for those users; item factors stay fixed).

        New users are added; their new items count as seen from then on. Items unknown to the
        model cannot get factors without a full refit: their rows are ignored here and counted
        in ``skipped_items_``.

        >>> als.partial_fit(todays_events).recommend(["u1"], k=5)  # doctest: +SKIP
        """
        self._require_fitted("partial_fit")
        batch = new if isinstance(new, Dataset) else Dataset.from_frames(new)
        log = batch.interactions
        item_codes = self.item_map.codes(log[C.ITEM])
        known_item = item_codes >= 0
        self.skipped_items_ = int((~known_item).sum())
        extended = self.user_map.extended(log[C.USER])
        if extended is not self.user_map:
            self.user_map = extended
            n_users = len(self.user_map)
            pad = np.zeros((n_users - self.user_factors.shape[0], self.factors), dtype=np.float32)
            self.user_factors = np.vstack([self.user_factors, pad])
            self._seen = _resize_rows(self._seen, n_users)
            self._weights = _resize_rows(self._weights, n_users)
        seen = batch.user_item_matrix(self.user_map, self.item_map)  # rows of unknown items dropped
        self._seen = (self._seen + seen).tocsr()
        weights = batch.user_item_matrix(self.user_map, self.item_map, confidence(batch, self.weighting))
        self._weights = (self._weights + weights).tocsr()
        touched = np.flatnonzero(np.diff(seen.indptr))
        if len(touched):
            self.user_factors[touched] = recompute_users(
                self._weights[touched], self.item_factors, **self._implicit_params()
            )
        return self

    def similar_items(self, items: Any, *, k: int = 10) -> pd.DataFrame:
        """Most similar items by cosine of item factors: ``item_id, similar_item_id, score, rank``.

        >>> als.similar_items([50], k=5)  # doctest: +SKIP
        """
        self._require_fitted("similar_items")
        k = positive_int(k, "k")
        ids = pd.unique(pd.Series(np.atleast_1d(np.asarray(items, dtype=object))))
        codes = self.item_map.codes(ids)
        if (codes < 0).any():
            raise DataError(f"similar_items: item {ids[np.flatnonzero(codes < 0)[0]]!r} is not in the training data")
        norms = np.linalg.norm(self.item_factors, axis=1)
        unit = self.item_factors / np.where(norms > 0, norms, 1.0)[:, None]
        check_dense(len(ids), k, what=f"similar_items(k={k})")
        index = np.empty((len(ids), k), dtype=np.int64)
        values = np.empty((len(ids), k), dtype=np.float64)
        batch = max(1, BATCH_CELLS // len(self.item_map))
        for start in range(0, len(ids), batch):
            rows = slice(start, start + batch)
            scores = (unit[codes[rows]] @ unit.T).astype(np.float64)
            scores[np.arange(scores.shape[0]), codes[rows]] = -np.inf
            index[rows], values[rows] = top_k(scores, k)
        filled = index >= 0
        return pd.DataFrame(
            {
                C.ITEM: np.repeat(ids, k)[filled.ravel()],
                "similar_item_id": self.item_map.to_ids(index[filled]),
                C.SCORE: values[filled],
                C.RANK: np.tile(np.arange(1, k + 1), len(ids))[filled.ravel()],
            }
        )

    def _state(self) -> dict[str, np.ndarray]:
        weights = self._weights.tocsr()
        weights.sort_indices()
        return {"user_factors": self.user_factors, "item_factors": self.item_factors, "weights_data": weights.data}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_factors = arrays["user_factors"]
        self.item_factors = arrays["item_factors"]
        seen = self._seen
        self._weights = storage.checked_csr(arrays["weights_data"], seen.indices, seen.indptr, seen.shape, "weights")
        if self.user_factors.shape != (len(self.user_map), self.factors) or self.item_factors.shape != (
            len(self.item_map),
            self.factors,
        ):
            raise ValueError("factor shapes do not match the id maps")
        if not (np.isfinite(self.user_factors).all() and np.isfinite(self.item_factors).all()):
            raise ValueError("the factors hold NaN or infinite values")  # every known user would fall back


def _resize_rows(matrix: sp.csr_matrix, n_rows: int) -> sp.csr_matrix:
    """The same CSR matrix with empty rows appended up to ``n_rows``."""
    indptr = np.concatenate([matrix.indptr, np.full(n_rows - matrix.shape[0], matrix.indptr[-1])])
    return sp.csr_matrix((matrix.data, matrix.indices, indptr), shape=(n_rows, matrix.shape[1]))


def _implicit_model(*, factors: int, regularization: float, iterations: int, alpha: float, seed: int) -> Any:
    return AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        iterations=iterations,
        alpha=alpha,
        random_state=seed,
        calculate_training_loss=False,
    )


def recompute_users(weights: sp.csr_matrix, item_factors: np.ndarray, **params: Any) -> np.ndarray:
    """Exact least-squares user vectors for the rows of ``weights`` against fixed item factors."""
    with threadpool_limits(1, "blas"):
        model = _implicit_model(**params)
        model.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        return model.recalculate_user(np.arange(weights.shape[0]), weights.astype(np.float32))


def fit_implicit_als(
    weights: Any, *, factors: int, regularization: float, iterations: int, alpha: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit implicit's CPU ALS on a users x items weight matrix; returns float32 (user, item) factors."""
    with threadpool_limits(1, "blas"):
        model = _implicit_model(
            factors=factors, regularization=regularization, iterations=iterations, alpha=alpha, seed=seed
        )
        model.fit(weights, show_progress=False)
    return np.asarray(model.user_factors, dtype=np.float32), np.asarray(model.item_factors, dtype=np.float32)
