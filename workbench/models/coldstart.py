"""User cold start: cluster users on demographics, recommend each cluster's favourites.

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
"""

from __future__ import annotations

from collections.abc import Sequence
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

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.profile import MISSING_LABEL
from workbench.errors import ConfigError, DataError
from workbench.guards import check_dense, positive_int
from workbench.models import storage
from workbench.models.base import Recommender, top_k

METHODS = ("kmeans", "gmm")
#: Upper edges of the age bands (MovieLens bands: under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+).
AGE_EDGES = np.array([18, 25, 35, 45, 50, 56])
#: Warm users are split into this many folds; each fold in turn is held out as if cold.
SELECTION_FOLDS = 5
SELECTION_K = 10
#: Silhouette is computed on at most this many users (it is quadratic).
SILHOUETTE_SAMPLE = 2000


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


def _favourites(seen: sp.csr_matrix, labels: np.ndarray, n_clusters: int, shrinkage: float) -> np.ndarray:
    """Scores (n_clusters + 1, n_items): each cluster's shrunk shares, then the global share (last row).

    ``labels`` gives the cluster of each row of ``seen`` (-1: no demographics, counted in global only).
    """
    global_counts = np.asarray(seen.sum(axis=0)).ravel().astype(np.float64)
    global_share = global_counts / max(global_counts.sum(), 1.0)
    rows = np.flatnonzero(labels >= 0)
    member = sp.csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(n_clusters, seen.shape[0]))
    check_dense(n_clusters, seen.shape[1], what=f"cluster favourites (n_clusters={n_clusters})")
    counts = np.asarray((member @ seen).todense(), dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    scores = (counts + shrinkage * global_share) / np.maximum(totals + shrinkage, 1e-12)
    return np.vstack([scores, global_share])


def _list_ndcg(favourites: np.ndarray, truth: sp.csr_matrix, rows_cluster: np.ndarray, k: int) -> float:
    """Mean nDCG@k, by :mod:`workbench.evaluation.metrics`, of users whose list is their row of
    ``favourites`` (they have no seen items); NaN when no user has a relevant item.

    Row u of ``truth`` holds user u's relevant items and ``rows_cluster[u]`` names their row of
    ``favourites``: every user of a cluster gets the same list, so lists are ranked per row once.
    """
    # model selection is evaluation: imported here, so serving a model never loads the evaluation layer
    from workbench.evaluation.metrics import per_user_metrics

    coo = truth.tocoo()
    if coo.nnz == 0:
        return float("nan")
    index, _ = top_k(favourites, k)
    lists = index[rows_cluster]
    users, positions = np.nonzero(lists >= 0)
    recs = pd.DataFrame({C.USER: users, C.ITEM: lists[users, positions], C.RANK: positions + 1})
    relevant = pd.DataFrame({C.USER: coo.row, C.ITEM: coo.col})
    return float(per_user_metrics(recs, relevant, k=k)["ndcg"].mean())


class ClusterColdStart(Recommender):
    """Cold-start recommender: cluster users on demographics, serve each cluster's favourites.

    With ``n_clusters=None`` the number of clusters is chosen from ``candidates``
    by nDCG@10 on warm users held out as if cold (5 seeded folds, each
    fold's favourites learnt from the other four); ``selection_``
    holds that table with silhouette and BIC beside it.

    >>> model = ClusterColdStart(method="kmeans", seed=0).fit(train)  # doctest: +SKIP
    >>> model.recommend(new_users_with_demographics, k=10)  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = ("method", "n_clusters", "seed", "shrinkage", "candidates")

    def __init__(
        self,
        *,
        method: str = "kmeans",
        n_clusters: int | None = None,
        seed: int = 0,
        shrinkage: float = 50.0,
        candidates: Sequence[int] = tuple(range(2, 13)),
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
        n_clusters = None if n_clusters is None else positive_int(n_clusters, "n_clusters")
        if shrinkage < 0:
            raise ConfigError(f"shrinkage must be >= 0, got {shrinkage!r}")
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
        features = self._features(demo)
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
        self.selection_ = self._selection(features, fits, labels)
        best = int(self.selection_.sort_values(["ndcg", "n_clusters"], ascending=[False, True]).iloc[0]["n_clusters"])
        self._clusters = fits[best]
        self._labels = labels[best].astype(np.int64)
        self._set_scores()

    def _selection(
        self, features: np.ndarray, fits: dict[int, _Clusters], labels: dict[int, np.ndarray]
    ) -> pd.DataFrame:
        """Cross-validated nDCG@10 of cluster favourites on warm users held out as if cold, with silhouette and BIC."""
        user_rows = {k: self._cluster_of(self.user_map.ids, lab) for k, lab in labels.items()}
        pool = np.flatnonzero(next(iter(user_rows.values())) >= 0)  # users with demographics, whatever k
        if len(pool) < 2:
            raise DataError("ClusterColdStart: fewer than 2 users have both interactions and demographics")
        rng = np.random.default_rng(self.seed)
        folds = np.array_split(rng.permutation(pool), min(SELECTION_FOLDS, len(pool)))
        held = [np.isin(np.arange(len(self.user_map)), fold) for fold in folds]
        fit_seen = [(sp.diags((~h).astype(np.float32)) @ self._seen).tocsr() for h in held]
        truth = [self._seen[fold] for fold in folds]
        sample = rng.choice(len(features), size=min(len(features), SILHOUETTE_SAMPLE), replace=False)
        rows = []
        for k, fit in fits.items():
            lab, row_labels = labels[k], user_rows[k]
            fold_ndcg = [
                _list_ndcg(
                    _favourites(seen, np.where(h, -1, row_labels), k, self.shrinkage), t, row_labels[f], SELECTION_K
                )
                for seen, h, t, f in zip(fit_seen, held, truth, folds, strict=False)
            ]
            ndcg = float(np.average(fold_ndcg, weights=[len(f) for f in folds]))
            n_used = len(np.unique(lab[sample]))
            silhouette = float(silhouette_score(features[sample], lab[sample])) if 1 < n_used < len(sample) else np.nan
            rows.append((k, ndcg, silhouette, fit.bic(features, lab)))
        return pd.DataFrame(rows, columns=["n_clusters", "ndcg", "silhouette", "bic"])

    def _set_demographics(self, demo: pd.DataFrame, numeric: list[str], categorical: list[str]) -> None:
        self._demo = demo
        self._numeric, self._categorical = numeric, categorical
        self._transformer = _preprocessor(numeric, categorical).fit(demo)

    def _features(self, demo: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._transformer.transform(demo), dtype=np.float64)

    def _cluster_of(self, user_ids: pd.Index | np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Cluster of each user by ``labels`` (one per row of train.users; default the chosen clusters'),
        -1 for users missing from train.users: -1 is also the global row of ``_scores``."""
        position = IdMap(self._demo.index).codes(user_ids)  # 5 and "5" alike
        labels = self._labels if labels is None else labels
        return np.where(position >= 0, labels[np.maximum(position, 0)], -1)

    def _set_scores(self) -> None:
        """Favourites of the chosen clusters and the cluster row of every interacting user."""
        self._user_cluster = self._cluster_of(self.user_map.ids)
        self._scores = _favourites(self._seen, self._user_cluster, len(self._clusters.means), self.shrinkage)

    # -- scoring --------------------------------------------------------------------
    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return self._scores[self._user_cluster[user_codes]]

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Users in train.users get their cluster's favourites, all others the global ones."""
        return self._scores[self._cluster_of(user_ids)]

    # -- inspection -----------------------------------------------------------------
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
        demo = _demographics(frame, self._numeric, self._categorical, "assign")
        labels = self._clusters.predict(self._features(demo)) if len(demo) else np.zeros(0, np.int64)
        return pd.Series(labels.astype(np.int64), index=frame.index.rename(C.USER), name="cluster")

    def profiles(self, *, top: int = 5) -> pd.DataFrame:
        """One row per cluster: ``cluster, size`` (users in train.users), the mean of each numeric
        column, the most common value of each categorical (with its share) and ``top_items``: a list of
        the cluster's most recommended item ids, best first, as the model spells them.

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
        index, _ = top_k(self._scores[:k], top)
        table["top_items"] = [self.item_map.to_ids(row[row >= 0]).tolist() for row in index]
        return table

    # -- persistence ----------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        demo_ids, _ = storage.id_array(self._demo.index)
        sel = self.selection_
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
        self._labels = arrays["labels"].astype(np.int64)
        names = ["n_clusters", "ndcg", "silhouette", "bic"]
        self.selection_ = pd.DataFrame({name: arrays[f"selection_{name}"] for name in names})
        self.selection_["n_clusters"] = self.selection_["n_clusters"].astype(np.int64)
        self._set_scores()

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "candidates": list(self.candidates)}


def __getattr__(name: str) -> Any:
    """``selection_chart`` moved to :mod:`workbench.report.charts` (models do not plot); the old import
    path still finds it, without this module importing the report layer."""
    if name == "selection_chart":
        from workbench.report.charts import selection_chart

        return selection_chart
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
