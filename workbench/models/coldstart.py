"""User cold start: cluster users on demographics, recommend each cluster's favourites (or a ridge regression's).

Demographics from ``train.users`` go through a scikit-learn ColumnTransformer
(scaled numerics, one-hot categoricals, age bands when there is an ``age``
column); KMeans or a diagonal Gaussian mixture groups them. A cluster's
favourites are its interaction shares shrunk toward global popularity::

    score(item) = (cluster_count + m * global_share) / (cluster_total + m)

with ``m = shrinkage`` pseudo-interactions, so a small cluster leans on the
global ranking and a single cluster ranks exactly like popularity (when every
user has demographics). Users known to ``train.users`` get their cluster's
favourites (minus seen items when they have interactions); users missing from
``train.users`` get the global favourites.

``favourites="ridge"`` (an option; the clusters stay what ``assign`` and ``profiles``
report) serves each user a ridge regression of the item columns of the training
user x item matrix on their demographic features ``x`` (the same encoding), in closed form::

    score(u, i) = max(0, x_u . b_i + c_i),  [b; c] = (D'D + penalty * P)^-1 D' seen,  D = [X, 1]

with ``P`` the identity on ``b`` only: ``c`` is free, so a huge penalty ranks like
popularity, and a level held by ``penalty`` users moves halfway toward its own rates.
When ``ridge_penalty`` is None the penalty is chosen from :data:`RIDGE_PENALTIES` by
nDCG@10 on the folds that choose ``n_clusters``.

Measured in ``benchmarks/coldstart_ml100k.py`` (MovieLens-100K, 20% of users held out
entirely, split seeds 0-4, nDCG@10 over popularity, mean and 95% t-interval over seeds):
clusters 1.047x [1.025, 1.068], ridge 1.057x [1.036, 1.078] (paired gain over popularity
+0.030 [+0.019, +0.040], above zero on all 5 seeds; penalty 100 chosen on every seed);
ridge - clusters per user +0.006 [-0.002, +0.013], not separable on these seeds alone.
Chosen on 20 other split seeds (100-119), not the evaluation ones: ridge 1.058x, clusters
1.052x (paired +0.007 [+0.000, +0.013]). Also tried: GMM posterior-weighted favourites (the
posteriors on one-hot demographics are all but hard: within 0.001 of hard), distance-softmax
KMeans mixtures (1.058x at best, with a temperature to tune) and the mean of the favourites
of the 11 candidate clusterings (1.058x): tied with ridge, which has one penalty chosen on
warm users and no clustering randomness.

Onboarding (:meth:`ClusterColdStart.recommend_onboarded`): what a new user gives in
the first minutes, their first interactions and a pick of genres / categories, is
blended with their favourites (their cluster's, or ridge's)::

    score(u, i) = (fav(u, i) / max_j fav(u, j)                     (in [0, 1])
                   + item_weight * mean over first items f of cos(f, i))
                * (1 + pick_weight * |labels(i) & picks(u)| / |labels(i)|)

``cos`` is the cosine of two items' columns of the binary training user x item
matrix (co-occurrence normalised by both popularities); ``labels(i)`` are the
item's ``genres`` ('|'-joined) or ``category`` in ``train.items``. A part the user
did not give changes nothing. Picks multiply rather than add: an added share lifts
every obscure single-genre item above the cluster's favourites (measured: nDCG
fell). Default weights are measured in
``benchmarks/coldstart_ml100k.py``.
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.profile import MISSING_LABEL
from workbench.errors import ConfigError, DataError, FallbackWarning, ModelError, UnknownItemsWarning
from workbench.guards import check_dense, positive_int
from workbench.models import storage
from workbench.models.base import BATCH_CELLS, Recommender, apply_mask, mask_rows, top_k, unique_users

METHODS = ("kmeans", "gmm")
#: How a user's favourites are computed: their cluster's (the default) or a ridge regression on demographics.
FAVOURITES = ("clusters", "ridge")
#: Ridge penalties (in pseudo-users) tried on warm users held out as if cold when ``ridge_penalty`` is None.
RIDGE_PENALTIES = (10.0, 30.0, 100.0, 300.0, 1000.0)
#: Upper edges of the age bands (MovieLens bands: under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+).
AGE_EDGES = np.array([18, 25, 35, 45, 50, 56])
#: Warm users are split into this many folds; each fold in turn is held out as if cold.
SELECTION_FOLDS = 5
SELECTION_K = 10
#: Top lists over more items than this score only the items that can reach them (``_reachable_items``),
#: probing each row's k-th best score on this many items of highest bound.
PRUNE_ITEMS = 5000
PROBE_ITEMS = 256
BOUND_CHUNK = 2048
#: Silhouette is computed on at most this many users (it is quadratic).
SILHOUETTE_SAMPLE = 2000
#: Item columns whose labels onboarding picks name, first present wins ('|' separates several labels).
LABEL_COLUMNS = C.CATEGORIES
#: Default onboarding weights (the cluster part weighs 1), measured in benchmarks/coldstart_ml100k.py.
ITEM_WEIGHT = 2.0
PICK_WEIGHT = 0.25


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.digitize(np.asarray(age, dtype=np.float64), AGE_EDGES)


def demographic_columns(users: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns usable for clustering.

    Entirely missing columns are dropped, and so are id-like categoricals (more
    than max(50, half the rows) distinct values, e.g. a zip code).
    """
    numeric, categorical = [], []
    limit = max(50, len(users) // 2)
    for name in users.columns:
        values = users[name]
        if values.isna().all():
            continue
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            numeric.append(str(name))
        elif values.nunique() <= limit:
            categorical.append(str(name))
    return numeric, categorical


def _preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    parts = []
    if numeric:
        parts.append(("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if "age" in numeric:
        bands = make_pipeline(
            SimpleImputer(strategy="median"),
            FunctionTransformer(_age_band),
            OneHotEncoder(categories=[np.arange(len(AGE_EDGES) + 1)], handle_unknown="ignore"),
        )
        parts.append(("age_band", bands, ["age"]))
    if categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
    return ColumnTransformer(parts, sparse_threshold=0.0)


def _demographics(users: pd.DataFrame, numeric: list[str], categorical: list[str], where: str) -> pd.DataFrame:
    """The clustering columns of ``users``: numerics as float, categoricals as text (:data:`MISSING_LABEL` for NaN)."""
    absent = [c for c in numeric + categorical if c not in users.columns]
    if absent:
        raise DataError(f"{where}: demographic column {absent[0]!r} is missing (expected {numeric + categorical})")
    frame = pd.DataFrame(index=users.index)
    for name in numeric:
        values = pd.to_numeric(users[name], errors="coerce")
        frame[name] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    for name in categorical:
        frame[name] = (
            users[name].astype(object).where(users[name].notna(), MISSING_LABEL).astype(str).to_numpy(dtype=str)
        )
    return frame


@dataclass(frozen=True)
class _Clusters:
    """Fitted cluster parameters: means, diagonal variances (gmm) and weights, one row per cluster."""

    method: str
    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, method: str, n_clusters: int, seed: int) -> _Clusters:
        if method == "kmeans":
            # one OpenMP thread: the same centres on any machine (threads split the sums), and no threads
            # waiting on a busy core for every Lloyd iteration (a few thousand users need no parallelism)
            with threadpool_limits(1, "openmp"):
                model = KMeans(n_clusters=n_clusters, n_init=4, random_state=seed).fit(features)
            ones = np.ones_like(model.cluster_centers_)
            return cls(method, model.cluster_centers_, ones, np.full(n_clusters, 1.0 / n_clusters))
        gmm = GaussianMixture(n_clusters, covariance_type="diag", reg_covar=1e-3, random_state=seed).fit(features)
        return cls(method, gmm.means_, gmm.covariances_, gmm.weights_)

    def _log_density(self, features: np.ndarray) -> np.ndarray:
        """(n, k) log density of each row under each diagonal Gaussian, without an (n, k, d) tensor."""
        precision = 1.0 / self.variances
        quad = (
            (features**2) @ precision.T
            - 2.0 * features @ (self.means * precision).T
            + (self.means**2 * precision).sum(axis=1)
        )
        return -0.5 * (np.maximum(quad, 0.0) + np.log(2 * np.pi * self.variances).sum(axis=1))

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Nearest centre (kmeans, unit variances) or most probable component (gmm)."""
        if self.method == "kmeans":
            return np.argmax(self._log_density(features), axis=1)
        return np.argmax(self._log_density(features) + np.log(self.weights), axis=1)

    def bic(self, features: np.ndarray, labels: np.ndarray) -> float:
        """BIC: the mixture's likelihood (gmm) or the hard-assignment spherical model of X-means (kmeans)."""
        n, d = features.shape
        k = len(self.means)
        if self.method == "gmm":
            joint = self._log_density(features) + np.log(self.weights)
            peak = joint.max(axis=1, keepdims=True)
            loglik = float((peak[:, 0] + np.log(np.exp(joint - peak).sum(axis=1))).sum())
            n_params = 2 * k * d + k - 1
        else:
            sse = float(((features - self.means[labels]) ** 2).sum())
            variance = max(sse / (n * d), 1e-12)
            sizes = np.bincount(labels, minlength=k)
            sizes = sizes[sizes > 0]
            loglik = float((sizes * np.log(sizes / n)).sum()) - 0.5 * n * d * (np.log(2 * np.pi * variance) + 1)
            n_params = k * d + k
        return -2.0 * loglik + n_params * np.log(n)


def _global_share(seen: sp.csr_matrix) -> np.ndarray:
    """Each item's share of all interactions in ``seen``."""
    counts = np.asarray(seen.sum(axis=0)).ravel().astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _favourites(seen: sp.csr_matrix, labels: np.ndarray, n_clusters: int, shrinkage: float) -> np.ndarray:
    """Scores (n_clusters + 1, n_items): each cluster's shrunk shares, then the global share (last row).

    ``labels`` gives the cluster of each row of ``seen`` (-1: no demographics, counted in global only).
    """
    global_share = _global_share(seen)
    rows = np.flatnonzero(labels >= 0)
    member = sp.csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(n_clusters, seen.shape[0]))
    check_dense(n_clusters, seen.shape[1], what=f"cluster favourites (n_clusters={n_clusters})")
    counts = np.asarray((member @ seen).todense(), dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    scores = (counts + shrinkage * global_share) / np.maximum(totals + shrinkage, 1e-12)
    return np.vstack([scores, global_share])


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


def _reachable_items(design: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray | None:
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


def item_labels_matrix(items: pd.DataFrame | None, item_map: IdMap) -> tuple[sp.csr_matrix, np.ndarray]:
    """Binary (n_items, n_labels) matrix of each item's labels and the label names, from the first
    column of :data:`LABEL_COLUMNS` in ``items`` ('|'-joined cells split; blanks dropped). No items
    table or no such column: a matrix without columns.

    >>> items = pd.DataFrame({"genres": ["Comedy|Drama", "Drama"]}, index=["a", "b"])
    >>> matrix, names = item_labels_matrix(items, IdMap.from_values(["b", "a", "c"]))
    >>> names.tolist(), matrix.toarray().tolist()
    (['Comedy', 'Drama'], [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    """
    column = next((c for c in LABEL_COLUMNS if items is not None and c in items.columns), None)
    if column is None:
        return sp.csr_matrix((len(item_map), 0), dtype=np.float64), np.array([], dtype=str)
    cells = items[column].reindex(item_map.ids)
    labels = cells.astype("string")
    if labels.str.contains("|", regex=False).any():  # else each cell is its one label (no split of every cell)
        labels = labels.str.split("|").explode()
    labels = labels.str.strip()
    labels = labels[(labels.notna() & (labels != "")).to_numpy(dtype=bool)]
    names, label_codes = np.unique(labels.to_numpy(dtype=str), return_inverse=True)
    rows = item_map.codes(labels.index)
    matrix = sp.csr_matrix(
        (np.ones(len(label_codes)), (rows, label_codes)), shape=(len(item_map), len(names)), dtype=np.float64
    )
    matrix.data[:] = 1.0  # an item naming a label twice has it once (duplicates were summed)
    return matrix, names.astype(str)


def _list_ndcg(lists: np.ndarray, truth: sp.csr_matrix) -> float:
    """Mean nDCG@k, by :mod:`workbench.evaluation.metrics`, of users whose top k item codes are the rows
    of ``lists`` (-1 pads; they have no seen items); NaN when no user has a relevant item.

    Row u of ``truth`` holds user u's relevant items; k is the width of ``lists``.
    """
    return _lists_ndcg([(lists, truth)])[0]


def _lists_ndcg(blocks: Sequence[tuple[np.ndarray, sp.csr_matrix]]) -> list[float]:
    """:func:`_list_ndcg` of each ``(lists, truth)`` block (one width k), scored in one call of the metrics:
    each block's users get ids of their own, and a user's nDCG does not depend on the other users, so
    each mean is the one a call per block gives."""
    # model selection is evaluation: imported here, so serving a model never loads the evaluation layer
    from workbench.evaluation.metrics import per_user_metrics

    recs, relevant, spans, offset = [], [], [], 0
    for lists, truth in blocks:
        coo = truth.tocoo()
        users, positions = np.nonzero(lists >= 0)
        recs.append(pd.DataFrame({C.USER: users + offset, C.ITEM: lists[users, positions], C.RANK: positions + 1}))
        relevant.append(pd.DataFrame({C.USER: coo.row + offset, C.ITEM: coo.col}))
        spans.append(len(np.unique(coo.row)))  # truth users, in order of first appearance (rows ascending)
        offset += max(len(lists), truth.shape[0])
    if not sum(spans):
        return [float("nan")] * len(blocks)
    k = blocks[0][0].shape[1]
    ndcg = per_user_metrics(pd.concat(recs, ignore_index=True), pd.concat(relevant, ignore_index=True), k=k)["ndcg"]
    ends = np.cumsum(spans)
    return [float(ndcg.iloc[end - n : end].mean()) if n else float("nan") for n, end in zip(spans, ends, strict=True)]


class ClusterColdStart(Recommender):
    """Cold-start recommender: cluster users on demographics, serve each cluster's favourites.

    With ``n_clusters=None`` the number of clusters is chosen from ``candidates``
    by nDCG@10 on warm users held out as if cold (5 seeded folds, each
    fold's favourites learnt from the other four); ``selection_``
    holds that table with silhouette and BIC beside it.

    ``favourites="ridge"`` serves each user a ridge regression of the item columns on their
    demographics instead of their cluster's favourites (module docstring); ``ridge_penalty``
    (pseudo-users) is then chosen from :data:`RIDGE_PENALTIES` on the same folds when None,
    ``ridge_selection_`` holds that table. The clusters stay what :meth:`assign` and
    :meth:`profiles` report.

    :meth:`recommend_onboarded` adds what a new user gives at sign-up (first
    interactions, picked genres / categories), weighted by ``item_weight`` and
    ``pick_weight`` against the user's favourites (see the module docstring).

    >>> model = ClusterColdStart(method="kmeans", seed=0).fit(train)  # doctest: +SKIP
    >>> model.recommend(new_users_with_demographics, k=10)  # doctest: +SKIP
    >>> ClusterColdStart(favourites="ridge").fit(train).ridge_penalty_  # doctest: +SKIP
    >>> model.recommend_onboarded(new_users, first_items={"u9": [50]}, picks={"u9": ["Comedy"]})  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = (
        "method",
        "n_clusters",
        "seed",
        "shrinkage",
        "candidates",
        "item_weight",
        "pick_weight",
        "favourites",
        "ridge_penalty",
    )

    def __init__(
        self,
        *,
        method: str = "kmeans",
        n_clusters: int | None = None,
        seed: int = 0,
        shrinkage: float = 50.0,
        candidates: Sequence[int] = tuple(range(2, 13)),
        item_weight: float = ITEM_WEIGHT,
        pick_weight: float = PICK_WEIGHT,
        favourites: str = "clusters",
        ridge_penalty: float | None = None,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
        if favourites not in FAVOURITES:
            raise ConfigError(f"favourites must be one of {FAVOURITES}, got {favourites!r}")
        if ridge_penalty is not None and not (
            isinstance(ridge_penalty, numbers.Real) and np.isfinite(ridge_penalty) and ridge_penalty > 0
        ):
            raise ConfigError(f"ridge_penalty must be a finite number > 0 or None, got {ridge_penalty!r}")
        self.favourites = favourites
        self.ridge_penalty = None if ridge_penalty is None else float(ridge_penalty)
        n_clusters = None if n_clusters is None else positive_int(n_clusters, "n_clusters")
        if shrinkage < 0:
            raise ConfigError(f"shrinkage must be >= 0, got {shrinkage!r}")
        for name, weight in (("item_weight", item_weight), ("pick_weight", pick_weight)):
            if not np.isfinite(weight) or weight < 0:
                raise ConfigError(f"{name} must be a finite number >= 0, got {weight!r}")
        self.item_weight = float(item_weight)
        self.pick_weight = float(pick_weight)
        candidates = tuple(candidates)
        if not candidates:
            raise ConfigError("candidates must name at least one cluster count, got none")
        candidates = tuple(positive_int(c, "each cluster count in candidates") for c in candidates)
        self.method = method
        self.n_clusters = n_clusters
        self.seed = int(seed)
        self.shrinkage = float(shrinkage)
        self.candidates = candidates

    # -- fitting ------------------------------------------------------------------
    @property
    def fallback_name(self) -> str:  # type: ignore[override]
        """What users without interactions are served, for the fallback warning."""
        served = (
            "the ridge favourites of their demographics"
            if self.favourites == "ridge"
            else "their demographic cluster's favourites"
        )
        return f"{served} (the global ones without demographics)"

    def _fit(self, train: Dataset) -> None:
        if train.users is None or len(train.users) == 0:
            raise DataError(
                "ClusterColdStart: train has no users table; clustering needs demographics in Dataset.users"
            )
        numeric, categorical = demographic_columns(train.users)
        if not numeric and not categorical:
            raise DataError(
                f"ClusterColdStart: train.users has no usable demographic column "
                f"(columns {list(map(str, train.users.columns))[:12]} are all missing or id-like)"
            )
        demo = _demographics(train.users, numeric, categorical, "train.users")
        self._set_demographics(demo, numeric, categorical)
        features = self._demo_features
        n_distinct = len(np.unique(features, axis=0))
        ks = [self.n_clusters] if self.n_clusters is not None else [c for c in self.candidates if c <= n_distinct]
        if self.n_clusters is not None and self.n_clusters > n_distinct:
            raise ConfigError(
                f"n_clusters={self.n_clusters} exceeds the {n_distinct} distinct demographic profiles in train.users"
            )
        if not ks:
            raise ConfigError(f"candidates {self.candidates} all exceed the {n_distinct} distinct demographic profiles")
        fits = {k: _Clusters.fit(features, self.method, k, self.seed) for k in ks}
        labels = {k: fit.predict(features) for k, fit in fits.items()}
        pool = np.flatnonzero(self._demo_position(self.user_map.ids) >= 0)
        if len(pool) < 2:
            raise DataError("ClusterColdStart: fewer than 2 users have both interactions and demographics")
        rng = np.random.default_rng(self.seed)
        folds = np.array_split(rng.permutation(pool), min(SELECTION_FOLDS, len(pool)))
        sample = rng.choice(len(features), size=min(len(features), SILHOUETTE_SAMPLE), replace=False)
        self.selection_ = self._selection(features, fits, labels, folds, sample)
        best = int(self.selection_.sort_values(["ndcg", "n_clusters"], ascending=[False, True]).iloc[0]["n_clusters"])
        self._clusters = fits[best]
        self._labels = labels[best].astype(np.int64)
        self.ridge_selection_ = self._ridge_selection(pool, folds) if self.favourites == "ridge" else None
        self._set_favourites()
        self._item_labels, self._label_names = item_labels_matrix(train.items, self.item_map)

    def _selection(
        self,
        features: np.ndarray,
        fits: dict[int, _Clusters],
        labels: dict[int, np.ndarray],
        folds: list[np.ndarray],
        sample: np.ndarray,
    ) -> pd.DataFrame:
        """Cross-validated nDCG@10 of cluster favourites on warm users held out as if cold (``folds``: rows
        of the user map), with silhouette (on the users ``sample``) and BIC."""
        held = [np.isin(np.arange(len(self.user_map)), fold) for fold in folds]
        fit_seen = [(sp.diags((~h).astype(np.float32)) @ self._seen).tocsr() for h in held]
        truth = [self._seen[fold] for fold in folds]
        rows = []
        for k, fit in fits.items():
            lab, row_labels = labels[k], self._cluster_of(self.user_map.ids, labels[k])
            blocks = []
            for seen, h, t, f in zip(fit_seen, held, truth, folds, strict=True):
                index, _ = top_k(_favourites(seen, np.where(h, -1, row_labels), k, self.shrinkage), SELECTION_K)
                blocks.append((index[row_labels[f]], t))
            ndcg = float(np.average(_lists_ndcg(blocks), weights=[len(f) for f in folds]))
            n_used = len(np.unique(lab[sample]))
            silhouette = float(silhouette_score(features[sample], lab[sample])) if 1 < n_used < len(sample) else np.nan
            rows.append((k, ndcg, silhouette, fit.bic(features, lab)))
        return pd.DataFrame(rows, columns=["n_clusters", "ndcg", "silhouette", "bic"])

    def _ridge_selection(self, pool: np.ndarray, folds: list[np.ndarray]) -> pd.DataFrame:
        """Cross-validated nDCG@10 of the ridge favourites for each penalty (``ridge_penalty`` or
        :data:`RIDGE_PENALTIES`), on the folds of the cluster selection."""
        penalties = RIDGE_PENALTIES if self.ridge_penalty is None else (self.ridge_penalty,)
        features = self._demo_features[np.maximum(self._demo_position(self.user_map.ids), 0)]  # read on pool rows
        blocks = []  # (lists, truth) by fold, then penalty
        for fold in folds:
            fit_rows = np.setdiff1d(pool, fold)
            design = self._design(features[fold], np.zeros(len(fold), np.int64))  # pool users have demographics
            normal = _ridge_normal(features[fit_rows], self._seen[fit_rows])  # the same for every penalty
            truth = self._seen[fold]
            for penalty in penalties:
                coef = _ridge_solve(*normal, penalty)
                weights = np.vstack([coef, np.zeros((1, coef.shape[1]))])  # no global row needed
                blocks.append((self._top_lists(design, weights, SELECTION_K), truth))
        ndcg = np.array(_lists_ndcg(blocks)).reshape(len(folds), len(penalties)).T
        table = pd.DataFrame({"penalty": np.array(penalties, dtype=np.float64)})
        table["ndcg"] = np.average(ndcg, axis=1, weights=[len(f) for f in folds])
        return table

    def _set_demographics(self, demo: pd.DataFrame, numeric: list[str], categorical: list[str]) -> None:
        self._demo = demo
        self._numeric, self._categorical = numeric, categorical
        self._transformer = _preprocessor(numeric, categorical).fit(demo)
        self._demo_features = self._features(demo)

    def _features(self, demo: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._transformer.transform(demo), dtype=np.float64)

    def _demo_position(self, user_ids: pd.Index | np.ndarray) -> np.ndarray:
        """Row of each user in train.users, -1 when missing (5 and "5" alike)."""
        return IdMap(self._demo.index).codes(user_ids)

    def _cluster_of(self, user_ids: pd.Index | np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Cluster of each user by ``labels`` (one per row of train.users; default the chosen clusters'),
        -1 for users missing from train.users."""
        position = self._demo_position(user_ids)
        labels = self._labels if labels is None else labels
        return np.where(position >= 0, labels[np.maximum(position, 0)], -1)

    def _set_favourites(self) -> None:
        """The favourite weights (clusters: each cluster's shrunk shares; ridge: the coefficients of the
        chosen penalty), the global share as their last row, and the design row of every interacting user."""
        self._vectors = None  # item vectors for onboarding, built on first use
        clusters = self._cluster_of(self.user_map.ids)
        if self.favourites == "clusters":
            self._weights = _favourites(self._seen, clusters, self.n_clusters_, self.shrinkage)
        else:
            rows = np.flatnonzero(clusters >= 0)
            features = self._demo_features[self._demo_position(self.user_map.ids[rows])]
            coef = ridge_coefficients(features, self._seen[rows], self.ridge_penalty_)
            self._weights = np.vstack([coef, _global_share(self._seen)])
        self._user_design = self._design_of(self.user_map.ids)

    def _design(self, features: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        """Rows ``z`` such that ``z @ _weights`` are the users' favourites: the one-hot of the cluster
        (clusters) or ``[features, 1, 0]`` (ridge); cluster -1 (no demographics) selects the global row."""
        n = len(clusters)
        if self.favourites == "clusters":
            design = np.zeros((n, self.n_clusters_ + 1))
            design[np.arange(n), clusters] = 1.0  # -1 is the last, global, row
            return design
        design = np.hstack([features, np.ones((n, 1)), np.zeros((n, 1))])
        design[clusters < 0] = 0.0
        design[clusters < 0, -1] = 1.0
        return design

    def _design_of(self, user_ids: pd.Index | np.ndarray) -> np.ndarray:
        """Design rows of users by id: from their row of train.users, the global row when missing."""
        position = self._demo_position(user_ids)
        return self._design(self._demo_features[np.maximum(position, 0)], self._cluster_of(user_ids))

    @staticmethod
    def _favourites_of(design: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Dense (len(design), n_items) favourites, negative ridge predictions (rates) raised to 0."""
        return np.maximum(design @ weights, 0.0)

    def _top_lists(self, design: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
        """Item codes of each design row's top ``k`` favourites, scored in batches of bounded size, over
        the items that can reach a top ``k`` (:func:`_reachable_items`; the lists are those of every item)."""
        items = _reachable_items(design, weights, k)
        if items is not None:
            weights = np.ascontiguousarray(weights[:, items])  # the layout of the whole: the same products
        lists = np.full((len(design), k), -1, dtype=np.int64)
        batch = max(1, BATCH_CELLS // max(weights.shape[1], 1))
        for start in range(0, len(design), batch):
            part = slice(start, start + batch)
            lists[part] = top_k(self._favourites_of(design[part], weights), k)[0]
        if items is not None:
            lists = np.where(lists >= 0, items[np.maximum(lists, 0)], -1)
        return lists

    # -- scoring --------------------------------------------------------------------
    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return self._favourites_of(self._user_design[user_codes], self._weights)

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Users in train.users get their favourites (cluster's or ridge's), all others the global ones."""
        return self._favourites_of(self._design_of(user_ids), self._weights)

    # -- onboarding -----------------------------------------------------------------
    @property
    def labels_(self) -> list[str]:
        """The genres / categories an onboarding pick may name (labels of the training items), sorted."""
        self._require_fitted("reading labels_")
        return self._label_names.tolist()

    def recommend_onboarded(
        self,
        users: Iterable[Any] | pd.Series | pd.DataFrame,
        *,
        first_items: Mapping[Any, Any] | None = None,
        picks: Mapping[Any, Any] | None = None,
        k: int = 10,
        exclude_seen: bool = True,
        items: Iterable[Any] | None = None,
        exclude_items: Iterable[Any] | None = None,
    ) -> pd.DataFrame:
        """Top ``k`` items for new users from their cluster plus what they gave at onboarding.

        ``users``: ids (their cluster from ``train.users``, as in :meth:`recommend`) or a
        demographics frame indexed by (or with a column) ``user_id`` for users the model has never
        seen. ``first_items`` maps a user to their first interactions (one id or a list);
        ``picks`` maps a user to picked genres / categories (names of :attr:`labels_`, any case).
        Scores add ``item_weight`` x the mean cosine to the first items to the cluster's scaled
        favourites and multiply that by 1 + ``pick_weight`` x the share of the item's labels
        picked (module docstring).
        First items are excluded from the list when ``exclude_seen`` (so are training items of
        known users); ``items`` / ``exclude_items`` as in :meth:`recommend`.

        Returns ``user_id, item_id, score, rank, fallback`` sorted by user then rank; rows of users
        with neither training interactions nor a usable first item or pick are ``fallback=True``
        (counted in one FallbackWarning). First items unknown to the model are ignored and counted
        in one UnknownItemsWarning; a pick naming an unknown label, or a user of ``first_items`` /
        ``picks`` not in ``users``, is a DataError.

        >>> model.recommend_onboarded(["n1"], first_items={"n1": [50, 181]}, picks={"n1": ["Sci-Fi"]})  # doctest: +SKIP
        """
        self._require_fitted("recommend_onboarded")
        k = positive_int(k, "k")
        request = self.item_filter(items, exclude_items)
        ids, design = self._onboarding_users(users)
        requested = IdMap(pd.Index(ids, dtype=object))
        first = self._first_item_matrix(first_items, requested)
        chosen = self._pick_matrix(picks, requested)
        codes = self.user_map.codes(ids)
        allowed = request.mask(self.item_map)
        check_dense(len(ids), k, what=f"recommend_onboarded(k={k}) for {len(ids):,} users")
        index = np.full((len(ids), k), -1, dtype=np.int64)
        values = np.full((len(ids), k), -np.inf, dtype=np.float64)
        batch = max(1, BATCH_CELLS // max(len(self.item_map), 1))
        for start in range(0, len(ids), batch):
            part = slice(start, start + batch)
            scores = self._onboarded_scores(design[part], first[part], chosen[part])
            if exclude_seen:
                known = np.flatnonzero(codes[part] >= 0)
                if len(known):
                    known_scores = scores[known]
                    mask_rows(known_scores, self._seen, codes[part][known])
                    scores[known] = known_scores
                mask_rows(scores, first[part], np.arange(scores.shape[0]))
            index[part], values[part] = top_k(apply_mask(scores, allowed), k)
        signal = (first.getnnz(axis=1) > 0) | (chosen.getnnz(axis=1) > 0)
        served_fallback = (codes < 0) & ~signal
        fallback = np.broadcast_to(served_fallback[:, None], index.shape).copy()
        if served_fallback.any():
            warnings.warn(
                f"{type(self).__name__}: {int(served_fallback.sum()):,} of {len(ids):,} users have neither training "
                f"interactions nor a usable first item or pick: served {self.fallback_name} (rows marked fallback=True)",
                FallbackWarning,
                stacklevel=2,
            )
        return self._frame(ids, index, values, fallback)

    def _onboarding_users(self, users: Any) -> tuple[np.ndarray, np.ndarray]:
        """Distinct user ids (model's spelling, sorted) and the design row of each (:meth:`_design`)."""
        if not isinstance(users, pd.DataFrame):
            ids = unique_users(users, self.user_map)
            return ids, self._design_of(ids)
        frame = users.set_index(C.USER) if C.USER in users.columns else users
        if frame.index.hasnans:
            raise DataError("users: the demographics frame has missing user ids")
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][0]
            raise DataError(f"users: user {dup!r} appears more than once in the demographics frame")
        ids = unique_users(frame.index, self.user_map)
        features = self._frame_features(frame, "users")
        design = self._design(features, self._clusters.predict(features))
        position = IdMap(pd.Index(self.user_map.own_ids(frame.index), dtype=object)).codes(ids)
        return ids, design[position]

    def _per_user(
        self, mapping: Mapping[Any, Any] | None, requested: IdMap, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat (user row, value) pairs of ``mapping`` (user -> one value or a list); rows index ``requested``."""
        if mapping is None:
            return np.zeros(0, np.int64), np.zeros(0, dtype=object)
        if not isinstance(mapping, Mapping):
            raise DataError(f"{what}: expected a dict of user_id -> list, got {type(mapping).__name__}")
        keys = pd.Index(list(mapping.keys()), dtype=object)
        rows = requested.codes(keys)
        if (rows < 0).any():
            missing = keys[rows < 0]
            raise DataError(
                f"{what}: {len(missing):,} users are not among the users to recommend for (e.g. {missing[0]!r})"
            )
        lists = []
        for value in mapping.values():
            listed = [value] if np.isscalar(value) or isinstance(value, str) else list(value)
            if pd.isna(pd.Series(listed, dtype=object)).any():
                raise DataError(f"{what}: a user's list contains missing values")
            lists.append(np.array(listed, dtype=object).reshape(-1))
        lengths = np.array([len(x) for x in lists], dtype=np.int64)
        flat = np.concatenate(lists) if lists else np.zeros(0, dtype=object)
        return np.repeat(rows, lengths), flat

    def _first_item_matrix(self, first_items: Mapping[Any, Any] | None, requested: IdMap) -> sp.csr_matrix:
        """(n users, n items) binary: the known first items of each requested user; unknown ones warned of."""
        rows, values = self._per_user(first_items, requested, "first_items")
        codes = self.item_map.codes(pd.Index(values, dtype=object)) if len(values) else np.zeros(0, np.int64)
        unknown = codes < 0
        if unknown.any():
            warnings.warn(
                f"{type(self).__name__}: {int(unknown.sum()):,} of {len(codes):,} first items are not items of the "
                f"model (e.g. {values[unknown][0]!r}) and were ignored",
                UnknownItemsWarning,
                stacklevel=3,
            )
        matrix = sp.csr_matrix(
            (np.ones(int((~unknown).sum())), (rows[~unknown], codes[~unknown])),
            shape=(len(requested), len(self.item_map)),
            dtype=np.float64,
        )
        matrix.data[:] = 1.0  # an item given twice counts once
        return matrix

    def _pick_matrix(self, picks: Mapping[Any, Any] | None, requested: IdMap) -> sp.csr_matrix:
        """(n users, n labels) binary: the labels each requested user picked (matched ignoring case)."""
        rows, values = self._per_user(picks, requested, "picks")
        names = self._label_names
        if len(values) and not len(names):
            raise DataError(
                f"picks: the training items have no {', '.join(LABEL_COLUMNS[:-1])} or {LABEL_COLUMNS[-1]} column, so there is nothing to "
                "pick; pass picks=None"
            )
        lookup = pd.Index(np.char.lower(names.astype(str)))
        given = pd.Index([str(v).strip().lower() for v in values], dtype=object)
        label_codes = lookup.get_indexer(given) if len(given) else np.zeros(0, np.int64)
        if (label_codes < 0).any():
            unknown = sorted({str(v) for v, c in zip(values, label_codes, strict=True) if c < 0})
            close = difflib.get_close_matches(unknown[0], names.tolist(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(
                f"picks: {len(unknown):,} unknown genres / categories, e.g. {unknown[0]!r}{hint}; "
                f"known ones ({len(names):,}) include {', '.join(map(repr, names[:8].tolist()))}"
            )
        matrix = sp.csr_matrix(
            (np.ones(len(label_codes)), (rows, label_codes)), shape=(len(requested), len(names)), dtype=np.float64
        )
        matrix.data[:] = 1.0
        return matrix

    def _item_vectors(self) -> sp.csr_matrix:
        """Binary training user x item matrix with unit-norm item columns: ``V.T @ V`` is the item cosine."""
        if getattr(self, "_vectors", None) is None:
            binary = self._seen.tocsr(copy=True).astype(np.float64)
            binary.eliminate_zeros()
            binary.data[:] = 1.0
            norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
            self._vectors = (binary @ sp.diags(1.0 / np.maximum(norms, 1e-12))).tocsr()
        return self._vectors

    def _onboarded_scores(self, design: np.ndarray, first: sp.csr_matrix, chosen: sp.csr_matrix) -> np.ndarray:
        """Dense (len(design), n_items): (max-scaled favourites + first-item cosine) x (1 + picked-label share)."""
        favourites = self._favourites_of(design, self._weights)
        top = favourites.max(axis=1, keepdims=True) if favourites.shape[1] else np.ones((len(design), 1))
        scores = favourites / np.where(top > 0, top, 1.0)
        if self.item_weight > 0 and first.nnz:
            vectors = self._item_vectors()
            mean = sp.diags(1.0 / np.maximum(first.getnnz(axis=1), 1)) @ first
            scores += self.item_weight * ((mean @ vectors.T) @ vectors).toarray()
        if self.pick_weight > 0 and chosen.nnz:
            counts = np.asarray(self._item_labels.sum(axis=1)).ravel()
            shares = sp.diags(1.0 / np.maximum(counts, 1.0)) @ self._item_labels
            scores *= 1.0 + self.pick_weight * (chosen @ shares.T).toarray()
        return scores

    # -- inspection -----------------------------------------------------------------
    @property
    def ridge_penalty_(self) -> float:
        """The ridge penalty in use (given or chosen: the best nDCG of ``ridge_selection_``, ties to the larger)."""
        self._require_fitted("reading ridge_penalty_")
        if self.ridge_selection_ is None:
            raise ModelError("ridge_penalty_: this model serves cluster favourites; fit with favourites='ridge'")
        table = self.ridge_selection_.sort_values(["ndcg", "penalty"], ascending=[False, False])
        return float(table.iloc[0]["penalty"])

    @property
    def n_clusters_(self) -> int:
        """The number of clusters in use (given or chosen)."""
        self._require_fitted("reading n_clusters_")
        return len(self._clusters.means)

    def assign(self, users: pd.DataFrame) -> pd.Series:
        """Cluster of each user of a demographics frame indexed by user_id, as a Series named ``cluster``.

        >>> model.assign(ds.users.head(3))  # doctest: +SKIP
        """
        self._require_fitted("assign")
        if not isinstance(users, pd.DataFrame):
            raise DataError(
                f"assign expects a DataFrame of demographics indexed by user_id, got {type(users).__name__}"
            )
        frame = users.set_index(C.USER) if C.USER in users.columns else users
        labels = self._clusters.predict(self._frame_features(frame, "assign"))
        return pd.Series(labels.astype(np.int64), index=frame.index.rename(C.USER), name="cluster")

    def _frame_features(self, frame: pd.DataFrame, where: str) -> np.ndarray:
        """Clustering features of a demographics frame indexed by user_id (``where`` names the caller in errors)."""
        demo = _demographics(frame, self._numeric, self._categorical, where)
        return self._features(demo) if len(demo) else np.zeros((0, self._demo_features.shape[1]))

    def profiles(self, *, top: int = 5) -> pd.DataFrame:
        """One row per cluster: ``cluster, size`` (users in train.users), the mean of each numeric
        column, the most common value of each categorical (with its share) and ``top_items``: a list of
        the cluster's most recommended item ids, best first, as the model spells them (with ridge
        favourites: the items of the highest mean prediction over the cluster's users).

        >>> model.profiles()  # doctest: +SKIP
        """
        self._require_fitted("profiles")
        k = self.n_clusters_
        labels = pd.Series(self._labels, index=self._demo.index)
        table = pd.DataFrame({"cluster": np.arange(k), "size": np.bincount(self._labels, minlength=k)})
        for name in self._numeric:
            table[name] = self._demo[name].groupby(labels.to_numpy()).mean().reindex(table["cluster"]).to_numpy()
        for name in self._categorical:
            shares = pd.crosstab(labels.to_numpy(), self._demo[name].to_numpy(), normalize="index")
            shares = shares.reindex(table["cluster"])
            mode, share = shares.idxmax(axis=1), shares.max(axis=1)
            table[name] = [f"{m} ({s:.0%})" if pd.notna(s) else "" for m, s in zip(mode, share, strict=False)]
        members = sp.csr_matrix(
            (np.ones(len(self._labels)), (self._labels, np.arange(len(self._labels)))), (k, len(self._labels))
        )
        means = (members @ self._demo_features) / np.maximum(table[["size"]].to_numpy(), 1)
        index = self._top_lists(self._design(means, np.arange(k)), self._weights, top)
        table["top_items"] = [self.item_map.to_ids(row[row >= 0]).tolist() for row in index]
        return table

    # -- persistence ----------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        demo_ids, _ = storage.id_array(self._demo.index)
        sel = self.selection_
        ridge = {}
        if self.ridge_selection_ is not None:
            ridge = {f"ridge_{name}": self.ridge_selection_[name].to_numpy(np.float64) for name in ("penalty", "ndcg")}
        return {
            "means": self._clusters.means,
            "variances": self._clusters.variances,
            "weights": self._clusters.weights,
            "labels": self._labels,
            "demo_ids": demo_ids,
            "numeric_columns": np.array(self._numeric, dtype=str),
            "categorical_columns": np.array(self._categorical, dtype=str),
            "demo_numeric": self._demo[self._numeric].to_numpy(dtype=np.float64).reshape(len(self._demo), -1),
            "demo_categorical": self._demo[self._categorical].to_numpy(dtype=str).reshape(len(self._demo), -1),
            **{f"selection_{name}": sel[name].to_numpy(dtype=np.float64) for name in sel.columns},
            "label_names": np.array(self._label_names, dtype=str),
            "label_indptr": self._item_labels.indptr,
            "label_indices": self._item_labels.indices,
            **ridge,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        index = storage.index_from_array(arrays["demo_ids"]).rename(C.USER)
        numeric = [str(c) for c in arrays["numeric_columns"]]
        categorical = [str(c) for c in arrays["categorical_columns"]]
        demo = pd.DataFrame(index=index)
        for j, name in enumerate(numeric):
            demo[name] = arrays["demo_numeric"][:, j]
        for j, name in enumerate(categorical):
            demo[name] = arrays["demo_categorical"][:, j].astype(object)
        self._set_demographics(demo, numeric, categorical)
        self._clusters = _Clusters(self.method, arrays["means"], arrays["variances"], arrays["weights"])
        self._labels = storage.checked_index(arrays["labels"], len(arrays["means"]), "labels")  # -1 would wrap
        if self._labels.shape != (len(index),):
            raise ValueError(f"{len(self._labels):,} cluster labels for {len(index):,} users with demographics")
        names = ["n_clusters", "ndcg", "silhouette", "bic"]
        self.selection_ = pd.DataFrame({name: arrays[f"selection_{name}"] for name in names})
        self.selection_["n_clusters"] = self.selection_["n_clusters"].astype(np.int64)
        self.ridge_selection_ = None
        if self.favourites == "ridge":
            self.ridge_selection_ = pd.DataFrame({"penalty": arrays["ridge_penalty"], "ndcg": arrays["ridge_ndcg"]})
        self._set_favourites()
        # saves from before onboarding have no item labels: picks then name nothing known
        names = arrays.get("label_names", np.array([], dtype=str)).astype(str)
        indptr = arrays.get("label_indptr", np.zeros(len(self.item_map) + 1, dtype=np.int64))
        indices = arrays.get("label_indices", np.zeros(0, dtype=np.int64))
        shape = (len(self.item_map), len(names))
        self._item_labels = storage.checked_csr(np.ones(len(indices)), indices, indptr, shape, "item labels")
        self._label_names = names

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "candidates": list(self.candidates)}


def __getattr__(name: str) -> Any:
    """``selection_chart`` moved to :mod:`workbench.report.charts` (models do not plot); the old import
    path still finds it, without this module importing the report layer."""
    if name == "selection_chart":
        from workbench.report.charts import selection_chart

        return selection_chart
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
