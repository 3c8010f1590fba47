"""User cold start: users known by their demographics get the favourites of users like them.

:class:`ClusterColdStart` puts the parts together: the demographics of ``train.users`` encoded
(:mod:`~workbench.models.demographics`), users clustered on them (:mod:`~workbench.models.clusters`),
favourites of each cluster or of a ridge regression (:mod:`~workbench.models.favourites`), settings
chosen on warm users held out as if cold (:mod:`~workbench.models.selection`) and onboarding
(:mod:`~workbench.models.onboarding`). Measured against popularity in ``benchmarks/coldstart_ml100k.py``
(``benchmarks/README.md``, "Cold start").
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError, ModelError
from workbench.guards import positive_int
from workbench.models import storage
from workbench.models.base import Recommender
from workbench.models.clusters import METHODS, Clusters, cluster_selection
from workbench.models.demographics import DemographicEncoder
from workbench.models.favourites import (
    RIDGE_PENALTIES,
    ClusterFavourites,
    Favourites,
    RidgeFavourites,
    ridge_selection,
)
from workbench.models.onboarding import ITEM_WEIGHT, PICK_WEIGHT, Onboarding, item_labels_matrix
from workbench.models.selection import Scorer

__all__ = [
    "FAVOURITES",
    "SELECTION_FOLDS",
    "SELECTION_K",
    "ClusterColdStart",
]

#: How a user's favourites are computed: their cluster's (the default) or a ridge regression on demographics.
FAVOURITES = ("clusters", "ridge")
#: Warm users are split into this many folds; each fold in turn is held out as if cold.
SELECTION_FOLDS = 5
SELECTION_K = 10
#: Silhouette is computed on at most this many users (it is quadratic).
SILHOUETTE_SAMPLE = 2000


class ClusterColdStart(Recommender):
    """Cold-start recommender: cluster users on demographics, serve each user their favourites.

    ``favourites="clusters"`` serves each cluster's interaction shares shrunk toward popularity
    (``shrinkage`` pseudo-interactions), ``"ridge"`` a ridge regression of the items on the
    demographics (``ridge_penalty`` pseudo-users); the clusters stay what :meth:`assign` and
    :meth:`profiles` report. ``n_clusters=None`` picks it from ``candidates`` (``selection_``), and
    ``ridge_penalty=None`` from :data:`RIDGE_PENALTIES` (``ridge_selection_``), by nDCG@10 on warm users
    held out as if cold (5 folds); ``scorer`` scores them, e.g. ``workbench.evaluation.evaluate_per_user``
    (default: :func:`workbench.models.selection.ndcg_of_lists`, the same numbers).
    :meth:`recommend_onboarded` adds first items and picks (:mod:`~workbench.models.onboarding`).

    >>> model = ClusterColdStart(method="kmeans", seed=0).fit(train)  # doctest: +SKIP
    >>> model.recommend(new_users_with_demographics, k=10)  # doctest: +SKIP
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
        scorer: Scorer | None = None,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
        if favourites not in FAVOURITES:
            raise ConfigError(f"favourites must be one of {FAVOURITES}, got {favourites!r}")
        if ridge_penalty is not None and not (
            isinstance(ridge_penalty, numbers.Real) and np.isfinite(ridge_penalty) and ridge_penalty > 0
        ):
            raise ConfigError(f"ridge_penalty must be a finite number > 0 or None, got {ridge_penalty!r}")
        if scorer is not None and not callable(scorer):
            raise ConfigError(f"scorer must be a function (recs, truth, *, k) -> DataFrame, got {scorer!r}")
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
        self.scorer = scorer  # not saved: a loaded model selects with the default when fitted again

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
        self._encoder = DemographicEncoder.fit(train.users)
        features = self._encoder.features
        n_distinct = len(np.unique(features, axis=0))
        ks = [self.n_clusters] if self.n_clusters is not None else [c for c in self.candidates if c <= n_distinct]
        if self.n_clusters is not None and self.n_clusters > n_distinct:
            raise ConfigError(
                f"n_clusters={self.n_clusters} exceeds the {n_distinct} distinct demographic profiles in train.users"
            )
        if not ks:
            raise ConfigError(f"candidates {self.candidates} all exceed the {n_distinct} distinct demographic profiles")
        fits = {k: Clusters.fit(features, self.method, k, self.seed) for k in ks}
        labels = {k: fit.predict(features) for k, fit in fits.items()}
        positions = self._encoder.position(self.user_map.ids)
        pool = np.flatnonzero(positions >= 0)
        if len(pool) < 2:
            raise DataError("ClusterColdStart: fewer than 2 users have both interactions and demographics")
        rng = np.random.default_rng(self.seed)
        folds = np.array_split(rng.permutation(pool), min(SELECTION_FOLDS, len(pool)))
        sample = rng.choice(len(features), size=min(len(features), SILHOUETTE_SAMPLE), replace=False)
        self.selection_ = cluster_selection(
            features, fits, labels, positions, self._seen, folds, sample, self.shrinkage, SELECTION_K, self.scorer
        )
        best = int(self.selection_.sort_values(["ndcg", "n_clusters"], ascending=[False, True]).iloc[0]["n_clusters"])
        self._clusters = fits[best]
        self._labels = labels[best].astype(np.int64)
        self.ridge_selection_ = None
        if self.favourites == "ridge":
            penalties = RIDGE_PENALTIES if self.ridge_penalty is None else (self.ridge_penalty,)
            self.ridge_selection_ = ridge_selection(
                self._user_features(), self._seen, pool, folds, penalties, SELECTION_K, self.scorer
            )
        self._set_favourites()
        self._item_labels, self._label_names = item_labels_matrix(train.items, self.item_map)

    def _user_features(self) -> np.ndarray:
        """Encoded demographics of each training user (row of the user map); any values for users without."""
        return self._encoder.features[np.maximum(self._encoder.position(self.user_map.ids), 0)]

    def _cluster_of(self, user_ids: pd.Index | np.ndarray) -> np.ndarray:
        """Cluster of each user, -1 for users missing from train.users."""
        position = self._encoder.position(user_ids)
        return np.where(position >= 0, self._labels[np.maximum(position, 0)], -1)

    def _set_favourites(self) -> None:
        """Fit the favourites (clusters: each cluster's shrunk shares; ridge: the coefficients of the
        chosen penalty) and the design row of every interacting user."""
        self._onboarding: Onboarding | None = None  # built on first use
        favourites: Favourites = (
            ClusterFavourites(self.n_clusters_, self.shrinkage)
            if self.favourites == "clusters"
            else RidgeFavourites(self.ridge_penalty_)
        )
        self._favourites = favourites.fit(self._seen, self._cluster_of(self.user_map.ids), self._user_features())
        self._user_design = self._design_of(self.user_map.ids)

    def _design_of(self, user_ids: pd.Index | np.ndarray) -> np.ndarray:
        """Design rows of users by id: from their row of train.users, the global row when missing."""
        position = self._encoder.position(user_ids)
        return self._favourites.design(self._encoder.features[np.maximum(position, 0)], self._cluster_of(user_ids))

    def _frame_design(self, users: pd.DataFrame, where: str) -> np.ndarray:
        """Design rows of the users of a demographics frame indexed by user_id."""
        features = self._encoder.features_of(users, where)
        return self._favourites.design(features, self._clusters.predict(features))

    # -- scoring --------------------------------------------------------------------
    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return self._favourites.scores(self._user_design[user_codes])

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Users in train.users get their favourites (cluster's or ridge's), all others the global ones."""
        return self._favourites.scores(self._design_of(user_ids))

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
        """Top ``k`` items for new users from their favourites plus their first items and picks,
        weighted by ``item_weight`` and ``pick_weight``: :meth:`Onboarding.recommend
        <workbench.models.onboarding.Onboarding.recommend>`.

        >>> model.recommend_onboarded(["n1"], first_items={"n1": [50, 181]}, picks={"n1": ["Sci-Fi"]})  # doctest: +SKIP
        """
        self._require_fitted("recommend_onboarded")
        if self._onboarding is None:
            self._onboarding = Onboarding(self)
        return self._onboarding.recommend(
            users,
            first_items=first_items,
            picks=picks,
            k=k,
            exclude_seen=exclude_seen,
            items=items,
            exclude_items=exclude_items,
        )

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
        labels = self._clusters.predict(self._encoder.features_of(frame, "assign"))
        return pd.Series(labels.astype(np.int64), index=frame.index.rename(C.USER), name="cluster")

    def profiles(self, *, top: int = 5) -> pd.DataFrame:
        """One row per cluster: ``cluster, size`` (users in train.users), the mean of each numeric
        column, the most common value of each categorical (with its share) and ``top_items``: a list of
        the cluster's most recommended item ids, best first, as the model spells them (with ridge
        favourites: the items of the highest mean prediction over the cluster's users).

        >>> model.profiles()  # doctest: +SKIP
        """
        self._require_fitted("profiles")
        k = self.n_clusters_
        demo = self._encoder.demo
        labels = pd.Series(self._labels, index=demo.index)
        table = pd.DataFrame({"cluster": np.arange(k), "size": np.bincount(self._labels, minlength=k)})
        for name in self._encoder.numeric:
            table[name] = demo[name].groupby(labels.to_numpy()).mean().reindex(table["cluster"]).to_numpy()
        for name in self._encoder.categorical:
            shares = pd.crosstab(labels.to_numpy(), demo[name].to_numpy(), normalize="index")
            shares = shares.reindex(table["cluster"])
            mode, share = shares.idxmax(axis=1), shares.max(axis=1)
            table[name] = [f"{m} ({s:.0%})" if pd.notna(s) else "" for m, s in zip(mode, share, strict=False)]
        members = sp.csr_matrix(
            (np.ones(len(self._labels)), (self._labels, np.arange(len(self._labels)))), (k, len(self._labels))
        )
        means = (members @ self._encoder.features) / np.maximum(table[["size"]].to_numpy(), 1)
        index = self._favourites.top_lists(self._favourites.design(means, np.arange(k)), top)
        table["top_items"] = [self.item_map.to_ids(row[row >= 0]).tolist() for row in index]
        return table

    # -- persistence ----------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        sel = self.selection_
        ridge = {}
        if self.ridge_selection_ is not None:
            ridge = {f"ridge_{name}": self.ridge_selection_[name].to_numpy(np.float64) for name in ("penalty", "ndcg")}
        return {
            "means": self._clusters.means,
            "variances": self._clusters.variances,
            "weights": self._clusters.weights,
            "labels": self._labels,
            **self._encoder.state(),
            **{f"selection_{name}": sel[name].to_numpy(dtype=np.float64) for name in sel.columns},
            "label_names": np.array(self._label_names, dtype=str),
            "label_indptr": self._item_labels.indptr,
            "label_indices": self._item_labels.indices,
            **ridge,
        }

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self._encoder = DemographicEncoder.from_state(arrays)
        n_users = len(self._encoder.demo)
        self._clusters = Clusters(self.method, arrays["means"], arrays["variances"], arrays["weights"])
        self._labels = storage.checked_index(arrays["labels"], len(arrays["means"]), "labels")  # -1 would wrap
        if self._labels.shape != (n_users,):
            raise ValueError(f"{len(self._labels):,} cluster labels for {n_users:,} users with demographics")
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
