"""Most-popular baseline, and popularity with time decay updated batch by batch."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.stream import window_seconds
from workbench.models.base import Recommender


class PopularityRecommender(Recommender):
    """Recommends the items with the most training interactions.

    >>> PopularityRecommender().fit(train).recommend([1, 2], k=10)  # doctest: +SKIP
    """

    def _fit(self, train: Dataset) -> None:
        pass  # the base class already counted item popularity

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._popularity, (len(user_codes), len(self._popularity)))


class DecayedPopularity(Recommender):
    """Popularity where an event's weight halves every ``half_life`` ("7D", "12h" or seconds).

    ``partial_fit(batch)`` decays the scores to the batch's latest timestamp and adds the batch:
    new items enter the ranking at once, new users are served and their items count as seen.

    >>> DecayedPopularity(half_life="3D").fit(train).partial_fit(todays_events).recommend(["u1"])  # doctest: +SKIP
    """

    param_names: ClassVar[tuple[str, ...]] = ("half_life",)

    def __init__(self, *, half_life: str | int | float = "7D") -> None:
        self.half_life = half_life if isinstance(half_life, str) else float(half_life)
        self._half_life_s = window_seconds(half_life)

    def _weights(self, seconds: np.ndarray) -> np.ndarray:
        return np.exp2((seconds - self.clock_) / self._half_life_s)

    def _fit(self, train: Dataset) -> None:
        seconds = train.seconds("DecayedPopularity")
        self.clock_ = float(seconds.max())
        codes = self.item_map.codes(train.interactions[C.ITEM])
        self.scores_ = np.bincount(codes, weights=self._weights(seconds), minlength=len(self.item_map))

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(user_codes), len(self.scores_)))

    def _fallback_scores(self, user_ids: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        return self._score(np.empty(len(user_ids), dtype=np.int64))

    def partial_fit(self, new: Dataset | pd.DataFrame) -> Self:
        """Decay to the newest timestamp of ``new`` and add its events (new users and items included)."""
        self._require_fitted("partial_fit")
        batch = new if isinstance(new, Dataset) else Dataset.from_frames(new)
        if len(batch) == 0:
            return self
        seconds = batch.seconds("DecayedPopularity.partial_fit")
        clock = max(self.clock_, float(seconds.max()))
        self.scores_ = self.scores_ * np.exp2((self.clock_ - clock) / self._half_life_s)
        self.clock_ = clock
        log = batch.interactions
        self.user_map = self.user_map.extended(log[C.USER])
        self.item_map = self.item_map.extended(log[C.ITEM])
        shape = (len(self.user_map), len(self.item_map))
        self.scores_ = np.pad(self.scores_, (0, shape[1] - len(self.scores_)))
        codes = self.item_map.codes(log[C.ITEM])
        self.scores_ += np.bincount(codes, weights=self._weights(seconds), minlength=shape[1])
        seen = self._seen.tocoo()
        self._seen = sp.csr_matrix((seen.data, (seen.row, seen.col)), shape=shape) + batch.user_item_matrix(
            self.user_map, self.item_map
        )
        self._popularity = (self.scores_ / self.scores_.sum()).astype(np.float32)
        return self

    def _state(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores_, "clock": np.array([self.clock_])}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.scores_ = arrays["scores"]
        self.clock_ = float(arrays["clock"][0])
        if len(self.scores_) != len(self.item_map):
            raise ValueError("scores do not match the item ids")
        if self.scores_.dtype.kind not in "biuf" or not np.isfinite(self.scores_).all():
            raise ValueError("scores hold NaN, infinite or non-numeric values")
