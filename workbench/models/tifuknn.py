"""TIFU-KNN (Hu et al., SIGIR 2020): time-decayed item frequencies, mixed with those of the nearest users.

Haoji Hu, Xiangnan He, Jinyang Gao, Zhi-Li Zhang, "Modeling Personalized Item Frequency Information
for Next-basket Recommendation", SIGIR 2020 (arXiv 2006.00556). Followed: the authors' reference
code, github.com/HaojiHu/TIFUKNN, ``TIFUKNN.py`` (``temporal_decay_sum_history``,
``group_history_list``, ``KNN``, ``merge_history``), which the Reality Check (Li et al., TOIS 2023,
github.com/liming-7/A-Next-Basket-Recommendation-Reality-Check, ``methods/tifuknn/tifuknn_new.py``)
ran unchanged. Where the paper's prose and the code differ, the code is followed (it produced the
published figures); the differences are named in :class:`TIFUKNNRecommender`.
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
from workbench.models.base import BATCH_CELLS, Recommender, top_k

METRICS = ("euclidean", "cosine")


@numba.njit(cache=True, nogil=True)
def _mix_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    users: np.ndarray,
    neighbours: np.ndarray,
    alpha: float,
    out: np.ndarray,
) -> None:
    """``out[r] = alpha * V[users[r]] + (1 - alpha) * mean of V[neighbours[users[r]]]`` (CSR V, -1 pads
    ignored), -inf where that is not positive; one row buffer per user, so the adds stay in cache."""
    row = np.zeros(out.shape[1])
    for r in range(len(users)):
        u = users[r]
        row[:] = 0.0
        for e in range(indptr[u], indptr[u + 1]):
            row[indices[e]] += alpha * data[e]
        count = 0
        for j in range(neighbours.shape[1]):
            count += neighbours[u, j] >= 0
        if count > 0:
            weight = (1.0 - alpha) / count
            for j in range(neighbours.shape[1]):
                v = neighbours[u, j]
                if v >= 0:
                    for e in range(indptr[v], indptr[v + 1]):
                        row[indices[e]] += weight * data[e]
        for i in range(out.shape[1]):
            out[r, i] = row[i] if row[i] > 0 else -np.inf


def unit_interval(value: object, name: str) -> float:
    """``value`` as a float when it is a number in [0, 1] (not a bool), else a one-line ConfigError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"{name} must be a number from 0 to 1, got {value!r}")
    return float(value)


def user_vectors(
    baskets: Baskets, n_items: int, *, n_groups: int, within_decay: float, group_decay: float
) -> sp.csr_matrix:
    """The TIFU-KNN user vectors (users x items, float64) of ``baskets``, as the reference code's
    ``temporal_decay_sum_history``.

    A user with n baskets b_1..b_n (oldest first, each a 0/1 vector) and m = ``n_groups``: basket j
    weighs ``within_decay ** (n - j)``. When n >= m the baskets are split into m consecutive groups,
    the first ``m - n % m`` of ``n // m`` baskets and the last ``n % m`` of one more; when n < m each
    basket is a group of its own. A group vector is the mean of its weighted baskets; group g
    (1 = oldest) weighs ``group_decay ** (m - g)``, and the user vector is the weighted sum of the
    group vectors divided by the number of groups (m, or n when n < m).
    """
    m = n_groups
    n = baskets.n_baskets[baskets.user_codes]
    p = baskets.position
    base = np.maximum(n // m, 1)
    extra = n % m
    short_end = (m - extra) * base  # the first groups hold `base` baskets, the last `extra` groups one more
    few = n < m
    late = ~few & (p >= short_end)
    group = np.where(few, p, np.where(late, (m - extra) + (p - short_end) // (base + 1), p // base))
    size = np.where(few, 1, np.where(late, base + 1, base))
    n_real_groups = np.where(few, n, m)
    weight = (np.power(within_decay, n - 1 - p) * np.power(group_decay, m - 1 - group) / (size * n_real_groups)).astype(
        np.float64
    )
    vectors = sp.csr_matrix((weight, (baskets.user_codes, baskets.item_codes)), shape=(len(baskets.n_baskets), n_items))
    vectors.sum_duplicates()
    return vectors


def nearest_users(vectors: sp.csr_matrix, active: np.ndarray, k: int, *, metric: str = "euclidean") -> np.ndarray:
    """For each user, the codes of the ``k`` nearest other ``active`` users (by Euclidean distance
    between the vectors, as sklearn's ``NearestNeighbors`` in the reference code, or by cosine),
    nearest first; ties to the smaller code; rows padded with -1 (inactive users get none).

    Distances are computed for blocks of users (``||u||^2 + ||v||^2 - 2 u.v`` from one sparse
    product per block): never a dense users x users matrix.
    """
    n_users = vectors.shape[0]
    candidates = np.flatnonzero(active)
    k = min(k, max(len(candidates) - 1, 0))
    neighbours = np.full((n_users, k), -1, dtype=np.int64)
    if k == 0:
        return neighbours
    if metric == "cosine":
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        vectors = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ vectors
    rows = vectors[candidates].tocsr()
    columns = rows.T.tocsr()
    squares = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    block = max(1, BATCH_CELLS // len(candidates))
    for start in range(0, len(candidates), block):
        stop = min(start + block, len(candidates))
        dots = (rows[start:stop] @ columns).toarray()
        distance = squares[start:stop, None] + squares[None, :] - 2.0 * dots
        distance[np.arange(stop - start), np.arange(start, stop)] = np.inf  # never one's own neighbour
        index, _ = top_k(-distance, k)
        neighbours[candidates[start:stop]] = candidates[index]
    return neighbours


class TIFUKNNRecommender(Recommender):
    """TIFU-KNN: a user's time-decayed item frequencies mixed with those of the nearest users.

    Each user's purchase baskets (``workbench.data.repeats.basket_by``: orders, sessions, order
    numbers or days; purchases only, an item once per basket) become a vector of decayed item
    frequencies (:func:`user_vectors`: within-basket decay r_b = ``within_decay``, group decay
    r_g = ``group_decay``, m = ``n_groups`` groups). The ``n_neighbours`` users nearest to a user
    (:func:`nearest_users`, ``metric="euclidean"`` as the reference code, or ``"cosine"``; the user
    itself excluded, as the reference code draws neighbours from other users) give their mean
    vector, and ``score = alpha * own + (1 - alpha) * neighbours' mean``. Items scoring 0 are not
    recommended: short lists are completed by popularity (``fallback=True``), as are users without
    purchases and unknown users.

    Next-basket use is ``recommend(users, k=..., exclude_seen=False)``: most of a next basket are
    repeats, which ``exclude_seen=True`` (the protocol's default) would remove.

    Faithful to the reference code, including where the paper reads otherwise:

    - ``n_groups`` is the reference code's ``group_size`` argument, the number of groups a
      history is split into (the paper's m: t baskets in m groups of t/m); Cornac calls it ``n_groups``;
    - the within-basket decay runs over the whole history (basket j of n weighs r_b^(n-j)), not
      restarted in each group as the paper's formula reads;
    - a user with fewer baskets than ``n_groups`` has one group per basket, the latest weighted
      r_g^(m - n) rather than 1, and the sum divided by n.

    Defaults are the reference code's example run (300 neighbours, r_b 0.9, r_g 0.7, alpha 0.7,
    7 groups); :data:`default_grid` is a small grid within the paper's ranges for
    ``workbench.tuning.tune_next_basket``.

    >>> TIFUKNNRecommender(n_neighbours=300).fit(train).recommend(users, k=10, exclude_seen=False)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = (
        "n_neighbours",
        "within_decay",
        "group_decay",
        "alpha",
        "n_groups",
        "metric",
    )
    #: Read at recommend time only: ``tune_next_basket`` varies them on one fitted model.
    scoring_params: ClassVar[tuple[str, ...]] = ("alpha",)
    #: A small grid spread over the paper's ranges (decays and alpha in (0, 1], neighbours in the
    #: hundreds), around the reference code's example run.
    default_grid: ClassVar[dict[str, tuple[Any, ...]]] = {
        "n_groups": (3, 7),
        "within_decay": (0.9, 1.0),
        "group_decay": (0.4, 0.7),
        "n_neighbours": (50, 300),
        "alpha": (0.3, 0.6, 0.9),
    }

    def __init__(
        self,
        *,
        n_neighbours: int = 300,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        alpha: float = 0.7,
        n_groups: int = 7,
        metric: str = "euclidean",
    ) -> None:
        self.n_neighbours = positive_int(n_neighbours, "n_neighbours")
        self.within_decay = unit_interval(within_decay, "within_decay")
        self.group_decay = unit_interval(group_decay, "group_decay")
        self.alpha = unit_interval(alpha, "alpha")
        self.n_groups = positive_int(n_groups, "n_groups")
        if metric not in METRICS:
            raise ConfigError(f"metric must be one of {list(METRICS)}, got {metric!r}")
        self.metric = metric

    def _fit(self, train: Dataset) -> None:
        baskets = user_baskets(train, self.user_map, self.item_map)
        self.vectors_ = user_vectors(
            baskets,
            len(self.item_map),
            n_groups=self.n_groups,
            within_decay=self.within_decay,
            group_decay=self.group_decay,
        )
        active = baskets.n_baskets > 0
        self.neighbours_ = nearest_users(self.vectors_, active, self.n_neighbours, metric=self.metric)

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        """``alpha * own + (1 - alpha) * mean of the neighbours' vectors``, -inf where that is 0."""
        vectors = self.vectors_
        dense = np.empty((len(user_codes), len(self.item_map)))
        codes = np.asarray(user_codes, dtype=np.int64)
        _mix_rows(vectors.indptr, vectors.indices, vectors.data, codes, self.neighbours_, self.alpha, dense)
        return dense

    def _state(self) -> dict[str, np.ndarray]:
        vectors = self.vectors_
        return {
            "vectors_data": vectors.data,
            "vectors_indices": vectors.indices,
            "vectors_indptr": vectors.indptr,
            "neighbours": self.neighbours_,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        shape = (len(self.user_map), len(self.item_map))
        self.vectors_ = storage.checked_csr(
            arrays["vectors_data"], arrays["vectors_indices"], arrays["vectors_indptr"], shape, "vectors"
        )
        neighbours = storage.checked_index(arrays["neighbours"], shape[0], "neighbours", low=-1)
        if neighbours.ndim != 2 or len(neighbours) != shape[0]:
            raise ValueError(f"neighbours has shape {neighbours.shape} for {shape[0]:,} users")
        self.neighbours_ = neighbours
