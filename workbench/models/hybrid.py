"""Hybrid switch: users with few training interactions go to a cold-start model, the rest to a warm one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.errors import ConfigError, DataError, ModelError
from workbench.models import storage
from workbench.models.base import Recommender, unique_users

SEGMENTS = ("cold", "light", "heavy")


class HybridRecommender:
    """Route each user by training interactions: fewer than ``min_interactions`` (unknown users
    included) to ``cold_model``, the others to ``warm_model``. ``fit`` fits both models.

    >>> hybrid = HybridRecommender(ClusterColdStart(), ALSRecommender(), min_interactions=5)  # doctest: +SKIP
    >>> hybrid.fit(train).recommend(test_users, k=10)  # doctest: +SKIP
    >>> HybridRecommender.load(hybrid.save("models/hybrid"))  # doctest: +SKIP
    """

    format_version = 1

    def __init__(self, cold_model: Recommender, warm_model: Recommender, *, min_interactions: int = 5) -> None:
        for name, model in (("cold_model", cold_model), ("warm_model", warm_model)):
            if not (hasattr(model, "fit") and hasattr(model, "recommend")):
                raise ConfigError(f"{name} must be a recommender with fit and recommend, got {type(model).__name__}")
        if not isinstance(min_interactions, (int, np.integer)) or min_interactions < 1:
            raise ConfigError(f"min_interactions must be a positive integer, got {min_interactions!r}")
        self.cold_model = cold_model
        self.warm_model = warm_model
        self.min_interactions = int(min_interactions)

    def fit(self, train: Dataset) -> Self:
        """Fit both models on ``train`` and count each user's training interactions (log rows)."""
        if not isinstance(train, Dataset):
            raise DataError(f"fit expects a workbench Dataset, got {type(train).__name__}")
        self.cold_model.fit(train)
        self.warm_model.fit(train)
        self.counts_ = train.interactions[C.USER].value_counts().rename("interactions")
        return self

    def _require_fitted(self) -> pd.Series:
        if not hasattr(self, "counts_"):
            raise ModelError("HybridRecommender must be fitted first; call fit(train)")
        return self.counts_

    def _counts(self, ids: np.ndarray) -> np.ndarray:
        counts = self._require_fitted()
        return np.append(counts.to_numpy(), 0)[IdMap(counts.index).codes(ids)]  # 0 for unknown users

    def save(self, directory: str | Path) -> Path:
        """Write the routing counts and both models (in sub-directories ``cold`` and ``warm``); never pickle."""
        counts = self._require_fitted()
        return storage.write_model(
            directory,
            type(self).__name__,
            self.format_version,
            {"min_interactions": self.min_interactions},
            {"interactions": counts.to_numpy(dtype=np.int64)},
            {"user_ids": counts.index},
            parts={"cold": self.cold_model, "warm": self.warm_model},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Read a hybrid written by ``save``; a damaged or foreign directory raises ModelError."""
        from workbench.models import load_model  # the package imports this module

        params, arrays, ids = storage.read_model(directory, cls.__name__, cls.format_version)
        path = Path(directory)
        model = cls(load_model(path / "cold"), load_model(path / "warm"), **params)
        try:
            counts = arrays["interactions"]
            model.counts_ = pd.Series(counts, index=ids["user_ids"].rename(C.USER), name="interactions")
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{directory}: model files are inconsistent ({exc})") from None
        return model

    def is_cold(self, users: Iterable[Any] | pd.Series | Dataset) -> pd.Series:
        """True for the users served by the cold model; a boolean Series indexed by user_id."""
        ids = unique_users(users, IdMap(self._require_fitted().index))
        return pd.Series(self._counts(ids) < self.min_interactions, index=pd.Index(ids, name=C.USER), name="cold")

    def recommend(
        self, users: Iterable[Any] | pd.Series | Dataset, *, k: int = 10, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Top ``k`` per user from the model their segment routes to: ``user_id, item_id, score, rank``.

        Scores of the two models are on different scales; compare ranks, not scores, across users.
        """
        cold = self.is_cold(users)
        parts = [
            model.recommend(cold.index[mask].to_numpy(), k=k, exclude_seen=exclude_seen)
            for model, mask in ((self.cold_model, cold.to_numpy()), (self.warm_model, ~cold.to_numpy()))
            if mask.any()
        ]
        recs = pd.concat(parts, ignore_index=True)
        order = np.lexsort((recs[C.RANK].to_numpy(), cold.index.get_indexer(recs[C.USER])))
        return recs.iloc[order].reset_index(drop=True)

    def segments(self, users: Iterable[Any] | pd.Series | Dataset, *, heavy_from: int | None = None) -> pd.Series:
        """``cold`` (routed to the cold model), ``light`` or ``heavy`` per user, indexed by user_id.

        Heavy users have at least ``heavy_from`` training interactions; by default the
        median count of the warm training users.

        >>> hybrid.segments(test)  # doctest: +SKIP
        """
        ids = unique_users(users)
        counts = self._counts(ids)
        if heavy_from is None:
            warm = self.counts_[self.counts_ >= self.min_interactions]
            heavy_from = int(np.ceil(warm.median())) if len(warm) else self.min_interactions
        labels = np.where(counts < self.min_interactions, "cold", np.where(counts >= heavy_from, "heavy", "light"))
        return pd.Series(labels, index=pd.Index(ids, name=C.USER), name="segment")


def segment_metrics(per_user: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Mean of every metric per segment, with ``count``: one row per segment (cold, light, heavy order).

    ``per_user`` is the output of :func:`workbench.evaluation.evaluate_per_user`.

    >>> segment_metrics(evaluate_per_user(hybrid.recommend(test), test), hybrid.segments(test))  # doctest: +SKIP
    """
    if C.USER not in getattr(per_user, "columns", []):
        raise DataError("segment_metrics: per_user needs a 'user_id' column (use evaluate_per_user)")
    segment = segments.reindex(per_user[C.USER].to_numpy())
    if segment.isna().any():
        missing = per_user[C.USER].to_numpy()[segment.isna().to_numpy()]
        raise DataError(f"segment_metrics: {len(missing):,} evaluated users have no segment (e.g. {missing[0]!r})")
    metrics = per_user.drop(columns=C.USER).select_dtypes("number")
    grouped = metrics.groupby(segment.to_numpy(), sort=False)
    table = grouped.mean().assign(count=grouped.size())
    known = [s for s in SEGMENTS if s in table.index]
    order = known + sorted(set(table.index) - set(known))
    return table.loc[order].rename_axis("segment").reset_index()
