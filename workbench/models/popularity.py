"""Most-popular baseline."""

from __future__ import annotations

import numpy as np

from workbench.data.dataset import Dataset
from workbench.models.base import Recommender


class PopularityRecommender(Recommender):
    """Recommends the items with the most training interactions.

    >>> PopularityRecommender().fit(train).recommend([1, 2], k=10)  # doctest: +SKIP
    """

    def _fit(self, train: Dataset) -> None:
        pass  # the base class already counted item popularity

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._popularity, (len(user_codes), len(self._popularity)))
