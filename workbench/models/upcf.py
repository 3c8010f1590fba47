"""UP-CF@r (Faggioli et al., UMAP 2020): recency-aware user popularity, spread by user-based CF.

Guglielmo Faggioli, Mirko Polato, Fabio Aiolli, "Recency Aware Collaborative Filtering for Next
Basket Recommendation", UMAP 2020. Followed: the paper's formulas and the UP-CF@r code the Reality
Check ran (Li et al., TOIS 2023, github.com/liming-7/A-Next-Basket-Recommendation-Reality-Check,
``methods/upcf/racf.py``: the recency popularity of the last r baskets, the asymmetric cosine of
``methods/upcf/similarity.py`` ``Compute_Similarity(similarity="asymmetric")`` with each user's
similarity to itself set to 1, and ``similarity ** q @ popularity``), and the RACF implementation
the same directory carries (``methods/upcf/NextBasketRecFramework.py``: ``uwPopMat``, ``upcf``; also
github.com/miferroudjene/RACF). The asymmetric cosine is Aiolli's (RecSys 2013).
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numba
import numpy as np
import scipy.sparse as sp

from workbench.data.baskets import Baskets, user_baskets
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError
from workbench.guards import positive_int
from workbench.models import storage
from workbench.models.base import BATCH_CELLS, Recommender
from workbench.models.tifuknn import unit_interval


@numba.njit(cache=True, nogil=True)
def _spread_rows(
    weights: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, out: np.ndarray
) -> None:
    """``out[r] = weights[r] @ P`` for the CSR users x items matrix P, -inf where that is not positive;
    one row buffer per row of ``weights``, rows of P with weight 0 skipped."""
    row = np.zeros(out.shape[1])
    for r in range(weights.shape[0]):
        row[:] = 0.0
        for v in range(weights.shape[1]):
            w = weights[r, v]
            if w != 0.0:
                for e in range(indptr[v], indptr[v + 1]):
                    row[indices[e]] += w * data[e]
        for i in range(out.shape[1]):
            out[r, i] = row[i] if row[i] > 0 else -np.inf


def recency_popularity(baskets: Baskets, n_items: int, recency: int | None) -> sp.csr_matrix:
    """Users x items: the share of a user's last ``recency`` baskets (all when None) holding the item,
    ``|{b in last min(r, |B_u|) baskets : i in b}| / min(r, |B_u|)`` (the paper's pi_u^r(i))."""
    n_users = len(baskets.n_baskets)
    recent = np.ones(len(baskets.user_codes), dtype=bool) if recency is None else baskets.age < recency
    window = baskets.n_baskets if recency is None else np.minimum(baskets.n_baskets, recency)
    users = baskets.user_codes[recent]
    popularity = sp.csr_matrix(
        (1.0 / window[users], (users, baskets.item_codes[recent])), shape=(n_users, n_items), dtype=np.float64
    )
    popularity.sum_duplicates()
    return popularity


def asymmetric_cosine(
    bought: sp.csr_matrix, rows: np.ndarray, alpha: float, bought_t: sp.csr_matrix | None = None
) -> np.ndarray:
    """Dense ``len(rows) x users``: ``|I_u & I_v| / (|I_u| ** alpha * |I_v| ** (1 - alpha))`` for u in
    ``rows`` and every user v, from the binary users x items matrix ``bought`` (0 where a user bought
    nothing; ``bought_t`` is its transpose in CSR, if at hand). Each user's similarity to itself is 1;
    alpha = 0.5 is the cosine."""
    sizes = np.diff(bought.indptr).astype(np.float64)
    common = (bought[rows] @ (bought.T if bought_t is None else bought_t)).toarray()
    left = np.power(sizes[rows], alpha)[:, None]
    right = np.power(sizes, 1.0 - alpha)[None, :]
    denominator = left * right
    return np.divide(common, denominator, out=np.zeros_like(common), where=denominator > 0)


class UPCFRecommender(Recommender):
    """UP-CF@r: ``score(u, i) = sum over users v of s(u, v) ** q * pi_v^r(i)``.

    ``pi_v^r(i)`` is the share of user v's last r = ``recency`` baskets (all when None) that hold
    item i (:func:`recency_popularity`), and ``s(u, v) = |I_u & I_v| / (|I_u| ** alpha * |I_v| ** (1 - alpha))``
    the asymmetric cosine of the items ever bought (:func:`asymmetric_cosine`), with s(u, u) = 1: a
    user's own recent baskets count in full. ``locality`` (the paper's q) sharpens the similarities
    (large q: mostly the user's own recent baskets). Baskets as in :class:`TIFUKNNRecommender`
    (``basket_by``; purchases only; an item once per basket). Items scoring 0 are not recommended:
    short lists are completed by popularity (``fallback=True``), as are users without purchases and
    unknown users.

    Next-basket use is ``recommend(users, k=..., exclude_seen=False)``: most of a next basket are
    repeats, which ``exclude_seen=True`` (the protocol's default) would remove.

    As the paper (and unlike the Reality Check's script, which shrank similarities by 1,000 and kept
    the top 100 per user), the sum runs over every user, unshrunk; it is computed for blocks of
    users at recommend time (a block x users similarity matrix, never users x users).
    Defaults are the Reality Check script's (r = 10, alpha = 0.75, q = 10); :data:`default_grid` is a
    small grid inside the paper's ranges for ``workbench.tuning.tune_next_basket``.

    >>> UPCFRecommender(recency=5, alpha=0.25, locality=5).fit(train).recommend(users, exclude_seen=False)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = ("recency", "alpha", "locality")
    #: Read at recommend time only: ``tune_next_basket`` varies them on one fitted model.
    scoring_params: ClassVar[tuple[str, ...]] = ("alpha", "locality")
    #: A small grid inside the paper's ranges (r 1..inf, alpha 0..1, q 1..1000).
    default_grid: ClassVar[dict[str, tuple[Any, ...]]] = {
        "recency": (1, 5, 25, None),
        "alpha": (0.25, 0.5, 0.75),
        "locality": (1, 5, 25),
    }

    def __init__(self, *, recency: int | None = 10, alpha: float = 0.75, locality: float = 10) -> None:
        self.recency = None if recency is None else positive_int(recency, "recency")
        self.alpha = unit_interval(alpha, "alpha")
        if isinstance(locality, bool) or not isinstance(locality, numbers.Real) or not locality > 0:
            raise ConfigError(f"locality must be a positive number, got {locality!r}")
        self.locality = locality

    def _fit(self, train: Dataset) -> None:
        baskets = user_baskets(train, self.user_map, self.item_map)
        shape = (len(self.user_map), len(self.item_map))
        bought = sp.csr_matrix(
            (np.ones(len(baskets.user_codes)), (baskets.user_codes, baskets.item_codes)), shape=shape
        )
        bought.sum_duplicates()
        bought.data[:] = 1.0
        self.bought_ = bought
        self.popularity_ = recency_popularity(baskets, len(self.item_map), self.recency)
        self._prepare()

    def _prepare(self) -> None:
        self._bought_t = self.bought_.T.tocsr()

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        n_users = self.bought_.shape[0]
        scores = np.empty((len(user_codes), len(self.item_map)))
        popularity = self.popularity_
        block = max(1, BATCH_CELLS // max(n_users, 1))  # a block x users similarity matrix at a time
        for start in range(0, len(user_codes), block):
            rows = np.asarray(user_codes[start : start + block])
            weights = np.power(asymmetric_cosine(self.bought_, rows, self.alpha, self._bought_t), self.locality)
            _spread_rows(
                weights, popularity.indptr, popularity.indices, popularity.data, scores[start : start + len(rows)]
            )
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "bought_indices": self.bought_.indices,
            "bought_indptr": self.bought_.indptr,
            "popularity_data": self.popularity_.data,
            "popularity_indices": self.popularity_.indices,
            "popularity_indptr": self.popularity_.indptr,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        shape = (len(self.user_map), len(self.item_map))
        indices = arrays["bought_indices"]
        self.bought_ = storage.checked_csr(np.ones(len(indices)), indices, arrays["bought_indptr"], shape, "bought")
        self.popularity_ = storage.checked_csr(
            arrays["popularity_data"], arrays["popularity_indices"], arrays["popularity_indptr"], shape, "popularity"
        )
        self._prepare()
