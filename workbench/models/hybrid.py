"""Hybrid switch: users with few training interactions go to a cold-start model, the rest to a warm one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.errors import ConfigError
from workbench.guards import positive_int
from workbench.models.base import Candidates, Recommender, unique_users

#: What :meth:`HybridRecommender.segments` calls a user: routed to the cold model, or warm below / from ``heavy_from``.
SEGMENTS = ("cold", "light", "heavy")


class HybridRecommender(Recommender):
    """Route each user by training interactions: fewer than ``min_interactions`` (unknown users
    included) to ``cold_model``, the others to ``warm_model``. ``fit`` fits both models; both
    are saved with the hybrid (sub-directories ``cold_model`` and ``warm_model``).

    >>> hybrid = HybridRecommender(ClusterColdStart(), ALSRecommender(), min_interactions=5)  # doctest: +SKIP
    >>> hybrid.fit(train).recommend(test_users, k=10)  # doctest: +SKIP
    >>> HybridRecommender.load(hybrid.save("models/hybrid"))  # doctest: +SKIP
    """

    format_version: ClassVar[int] = 2  # 2: a Recommender, with seen items and its parts in cold_model/, warm_model/
    param_names: ClassVar[tuple[str, ...]] = ("min_interactions",)
    parts: ClassVar[tuple[str, ...]] = ("cold_model", "warm_model")

    def __init__(self, cold_model: Recommender, warm_model: Recommender, *, min_interactions: int = 5) -> None:
        for name, model in (("cold_model", cold_model), ("warm_model", warm_model)):
            if not isinstance(model, Recommender):
                raise ConfigError(f"{name} must be a workbench Recommender, got {type(model).__name__}")
        self.cold_model = cold_model
        self.warm_model = warm_model
        self.min_interactions = positive_int(min_interactions, "min_interactions")

    def _catalogue(self, train: Dataset) -> IdMap:
        """The interacted items, then those only a part ranks (a content model's catalogue): every
        item the hybrid may list is one of its items."""
        catalogue = super()._catalogue(train)
        for model in (self.cold_model, self.warm_model):
            catalogue = catalogue.extended(model._catalogue(train).ids)
        return catalogue

    def _fit(self, train: Dataset) -> None:
        """Fit both models on ``train`` and count each user's training interactions (log rows)."""
        self.cold_model.fit(train)
        self.warm_model.fit(train)
        counts = np.bincount(self.user_map.codes(train.interactions[C.USER]), minlength=len(self.user_map))
        self._set_counts(counts)

    def _set_counts(self, counts: np.ndarray) -> None:
        self.counts_ = pd.Series(counts, index=self.user_map.ids.rename(C.USER), name="interactions")

    @property
    def fallback_name(self) -> str:  # type: ignore[override]
        """Unknown users go to the cold model: its fallback is what they are served."""
        return self.cold_model.fallback_name

    def _routes(self) -> tuple[tuple[Recommender, np.ndarray], ...]:
        """Each part and the hybrid's item code of each of its item codes (every part item is a hybrid item)."""
        return tuple((model, self.item_map.codes(model.item_map.ids)) for model in (self.cold_model, self.warm_model))

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        """Each user's scores from the model their segment routes to (-inf for items that model does not
        rank): what ``score_pairs`` reads. The two models' scores are on different scales."""
        cold = self._counts(user_codes) < self.min_interactions
        scores = np.full((len(user_codes), len(self.item_map)), -np.inf)
        for (model, columns), mask in zip(self._routes(), (cold, ~cold), strict=True):
            if mask.any():
                theirs = model.user_map.codes(self.user_map.to_ids(user_codes[mask]))
                block = np.full((len(theirs), len(self.item_map)), -np.inf)
                known = theirs >= 0
                block[np.ix_(np.flatnonzero(known), columns)] = model._score(theirs[known])
                scores[mask] = block
        return scores

    def _candidates(
        self, ids: np.ndarray, codes: np.ndarray, k: int, exclude_seen: bool, allowed: np.ndarray | None
    ) -> Candidates:
        """Each user's list from the model their segment routes to (the filters apply to both).

        Scores of the two models are on different scales; compare ranks, not scores, across users.
        """
        cold = self._counts(codes) < self.min_interactions
        parts = []
        for (model, columns), mask in zip(self._routes(), (cold, ~cold), strict=True):
            rows = np.flatnonzero(mask)
            if len(rows):
                theirs = model._lists(ids[rows], k, exclude_seen, None if allowed is None else allowed[columns])
                parts.append(theirs._replace(rows=rows[theirs.rows], items=columns[theirs.items]))
        lists = Candidates.concat(parts)
        return lists.take(np.argsort(lists.rows, kind="stable"))

    def _counts(self, codes: np.ndarray) -> np.ndarray:
        """Training interactions of the users of ``codes``: 0 for unknown users (code -1)."""
        return np.append(self.counts_.to_numpy(), 0)[codes]

    def _state(self) -> dict[str, np.ndarray | str]:
        return {"interactions": self.counts_.to_numpy(dtype=np.int64)}

    def _restore(self, state: dict[str, np.ndarray | str]) -> None:
        counts = state["interactions"]
        if len(counts) != len(self.user_map):
            raise ValueError("interaction counts do not match the user ids")
        self._set_counts(counts)

    def is_cold(self, users: Iterable[Any] | pd.Series | Dataset) -> pd.Series:
        """True for the users served by the cold model; a boolean Series indexed by user_id."""
        self._require_fitted("is_cold")
        ids = unique_users(users, self.user_map)
        cold = self._counts(self.user_map.codes(ids)) < self.min_interactions
        return pd.Series(cold, index=pd.Index(ids, name=C.USER), name="cold")

    def segments(self, users: Iterable[Any] | pd.Series | Dataset, *, heavy_from: int | None = None) -> pd.Series:
        """``cold`` (routed to the cold model), ``light`` or ``heavy`` per user, indexed by user_id.

        Heavy users have at least ``heavy_from`` training interactions; by default the
        median count of the warm training users.

        >>> hybrid.segments(test)  # doctest: +SKIP
        """
        self._require_fitted("segments")
        ids = unique_users(users, self.user_map)
        counts = self._counts(self.user_map.codes(ids))
        if heavy_from is None:
            warm = self.counts_[self.counts_ >= self.min_interactions]
            heavy_from = int(np.ceil(warm.median())) if len(warm) else self.min_interactions
        cold, light, heavy = SEGMENTS
        labels = np.where(counts < self.min_interactions, cold, np.where(counts >= heavy_from, heavy, light))
        return pd.Series(labels, index=pd.Index(ids, name=C.USER), name="segment")
