"""Users grouped on their encoded demographics: KMeans or a diagonal Gaussian mixture, and the
choice of how many groups by the nDCG of their favourites on warm users held out as if cold.

>>> clusters = Clusters.fit(features, "kmeans", 4, seed=0)  # doctest: +SKIP
>>> clusters.predict(features)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from workbench.models.base import top_k
from workbench.models.favourites import cluster_shares
from workbench.models.selection import Scorer, lists_ndcg

METHODS = ("kmeans", "gmm")


@dataclass(frozen=True)
class Clusters:
    """Fitted cluster parameters: means, diagonal variances (gmm) and weights, one row per cluster."""

    method: str
    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, method: str, n_clusters: int, seed: int) -> Clusters:
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


def cluster_selection(
    features: np.ndarray,
    fits: dict[int, Clusters],
    labels: dict[int, np.ndarray],
    positions: np.ndarray,
    seen: sp.csr_matrix,
    folds: list[np.ndarray],
    sample: np.ndarray,
    shrinkage: float,
    k: int,
    scorer: Scorer | None = None,
) -> pd.DataFrame:
    """``n_clusters, ndcg, silhouette, bic`` of each clustering of ``fits``: cross-validated nDCG@k of
    cluster favourites (``shrinkage``) on warm users held out as if cold, silhouette on the rows
    ``sample`` of ``features`` and BIC.

    ``labels`` are each clustering's labels of the rows of ``features``; ``positions`` the row of
    ``features`` of each row (user) of ``seen``, -1 without demographics; ``folds`` partition rows of
    ``seen`` (users with demographics), each held out in turn while the others fit (``scorer``:
    :mod:`workbench.models.selection`).
    """
    held = [np.isin(np.arange(seen.shape[0]), fold) for fold in folds]
    fit_seen = [(sp.diags((~h).astype(np.float32)) @ seen).tocsr() for h in held]
    truth = [seen[fold] for fold in folds]
    rows = []
    for n_clusters, fit in fits.items():
        lab = labels[n_clusters]
        row_labels = np.where(positions >= 0, lab[np.maximum(positions, 0)], -1)
        blocks = []
        for fold_seen, h, t, f in zip(fit_seen, held, truth, folds, strict=True):
            shares = cluster_shares(fold_seen, np.where(h, -1, row_labels), n_clusters, shrinkage)
            index, _ = top_k(shares, k)
            blocks.append((index[row_labels[f]], t))
        ndcg = float(np.average(lists_ndcg(blocks, scorer), weights=[len(f) for f in folds]))
        n_used = len(np.unique(lab[sample]))
        silhouette = float(silhouette_score(features[sample], lab[sample])) if 1 < n_used < len(sample) else np.nan
        rows.append((n_clusters, ndcg, silhouette, fit.bic(features, lab)))
    return pd.DataFrame(rows, columns=["n_clusters", "ndcg", "silhouette", "bic"])
