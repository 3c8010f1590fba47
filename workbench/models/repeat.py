"""The "buy again" baseline: each user's own items, most often bought first.

In groceries, drugstores and pet food most of the next basket repeats earlier ones, and a
user's own purchase counts are a baseline most published next-basket models fail to beat
(Li et al., "A Next Basket Recommendation Reality Check", TOIS 2023). Every model of a
shop should be shown beside it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from workbench.data.dataset import Dataset
from workbench.data.repeats import pair_history
from workbench.models import storage
from workbench.models.base import Recommender


class RepeatRecommender(Recommender):
    """Buy again: a user's purchased items ranked by times bought, ties to the most recent.

    ``score`` = times bought + the time of the last purchase as a fraction below 1 (by timestamp,
    or by row order in a log without timestamps). Purchases are the ``event == "purchase"`` rows
    when the log has events, every row otherwise. Items the user never bought are not
    recommended by this model: with ``exclude_seen=True`` (the default of every model), or where
    a user bought fewer than ``k`` items, the list is completed with popular items, marked
    ``fallback=True``. Use it with ``exclude_seen=False``.

    >>> RepeatRecommender().fit(train).recommend([1, 2], k=10, exclude_seen=False)  # doctest: +SKIP
    """

    def _fit(self, train: Dataset) -> None:
        pairs = pair_history(train, self.user_map, self.item_map)
        last = pairs.last  # fit guarantees a non-empty log
        recency = (last - last.min()) / (last.max() - last.min() + 1.0)
        self.scores_ = sp.csr_matrix(
            (pairs.count + recency, (pairs.user_codes, pairs.item_codes)),
            shape=(len(self.user_map), len(self.item_map)),
        )

    def _score(self, user_codes: np.ndarray) -> np.ndarray:
        dense = np.full((len(user_codes), len(self.item_map)), -np.inf)
        own = self.scores_[user_codes].tocoo()
        dense[own.row, own.col] = own.data
        return dense

    def _state(self) -> dict[str, np.ndarray]:
        scores = self.scores_
        return {"scores_data": scores.data, "scores_indices": scores.indices, "scores_indptr": scores.indptr}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        shape = (len(self.user_map), len(self.item_map))
        self.scores_ = storage.checked_csr(
            arrays["scores_data"], arrays["scores_indices"], arrays["scores_indptr"], shape, "scores"
        )
