"""Each user's purchase baskets in time order: the input of the next-basket models (TIFU-KNN, UP-CF@r).

A basket is what :func:`workbench.data.repeats.basket_by` says (order id, session id, order number,
else calendar day), made of the purchase rows (:func:`workbench.data.repeats.purchase_rows`), and
ordered as :func:`workbench.data.split.next_basket_split` orders them: by the time of a basket's
latest row, ties to the larger basket key. A log without timestamps keeps its row order (a basket's
time is its last row); without timestamps nor order or session ids, every row is a basket.

>>> log = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "b", "a", "c"], "order_id": [7, 7, 3, 5],
...                     "timestamp": [10, 10, 20, 5]})
>>> baskets = user_baskets(Dataset.from_frames(log), IdMap.from_values([1, 2]), IdMap.from_values(["a", "b", "c"]))
>>> baskets.position.tolist(), baskets.n_baskets.tolist()
([0, 0, 1, 0], [2, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.repeats import basket_by, purchase_rows
from workbench.data.validate import to_seconds
from workbench.errors import ConfigError

#: ``by`` of :func:`user_baskets` and the column holding the basket key.
KEYS = {"order": "order_id", "session": "session_id", "timestamp": C.TIMESTAMP, "day": C.TIMESTAMP}
DAY = 86_400


@dataclass(frozen=True, eq=False)
class Baskets:
    """One entry per distinct (user, basket, item), sorted by user code, then basket position, then item code.

    ``position`` is the basket's place in its user's history, 0 for the oldest; ``n_baskets`` holds,
    per user code of the map, how many baskets the user has (0 for users without purchases); ``by``
    is what a basket was (``order``, ``session``, ``timestamp``, ``day`` or ``row``).
    """

    user_codes: np.ndarray
    item_codes: np.ndarray
    position: np.ndarray
    n_baskets: np.ndarray
    by: str

    @property
    def age(self) -> np.ndarray:
        """Per entry, how many of the user's baskets came after this one (0 for the latest)."""
        return self.n_baskets[self.user_codes] - 1 - self.position


def _keys_and_times(ds: Dataset, by: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Each row's basket key (codes in key order), its time, and what a basket is."""
    log = ds.interactions
    rows = np.arange(len(log), dtype=np.int64)
    if not ds.has_timestamps:
        if by in ("order", "session"):
            return pd.factorize(log[KEYS[by]], sort=True)[0].astype(np.int64), rows, by
        return rows, rows, "row"  # no time and no basket id: each row is a basket, in row order
    seconds = to_seconds(log[C.TIMESTAMP])
    if by == "day":
        return seconds // DAY, seconds, by
    return pd.factorize(log[KEYS[by]], sort=True)[0].astype(np.int64), seconds, by


def user_baskets(ds: Dataset, user_map: IdMap, item_map: IdMap, *, by: str | None = None) -> Baskets:
    """The purchase baskets of ``ds`` over the codes of ``user_map`` and ``item_map`` (unknown ids
    dropped; an item twice in one basket counts once). ``by`` as in ``next_basket_split``; None: ``basket_by``."""
    if by is not None and by not in KEYS:
        raise ConfigError(f"by must be one of {list(KEYS)} or None, got {by!r}")
    purchases = ds.with_interactions(ds.interactions[purchase_rows(ds)])
    by = by or basket_by(purchases)
    keys, times, by = _keys_and_times(purchases, by)
    log = purchases.interactions
    users = user_map.codes(log[C.USER]).astype(np.int64)
    items = item_map.codes(log[C.ITEM]).astype(np.int64)
    keep = (users >= 0) & (items >= 0)
    users, items, keys, times = users[keep], items[keep], keys[keep], times[keep].astype(np.float64)
    n_keys = int(keys.max()) + 1 if len(keys) else 1
    basket, pairs = pd.factorize(users * n_keys + keys)
    basket_time = np.full(len(pairs), -np.inf)
    np.maximum.at(basket_time, basket, times)
    basket_user, basket_key = pairs // n_keys, pairs % n_keys
    order = np.lexsort((basket_key, basket_time, basket_user))  # per user: oldest first, ties to the smaller key
    sorted_users = basket_user[order]
    first = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]]) if len(order) else order
    runs = np.diff(np.r_[first, len(order)])
    position = np.empty(len(pairs), dtype=np.int64)
    position[order] = np.arange(len(order)) - np.repeat(first, runs)
    n_baskets = np.bincount(basket_user, minlength=len(user_map)).astype(np.int64)
    # one entry per (user, basket, item), sorted by user, position, item
    stride = int(n_baskets.max(initial=1))
    entry = np.sort((users * stride + position[basket]) * len(item_map) + items)
    entry = entry[np.r_[True, entry[1:] != entry[:-1]]] if len(entry) else entry
    item_codes = entry % len(item_map)
    user_position = entry // len(item_map)
    return Baskets(
        user_codes=user_position // stride,
        item_codes=item_codes,
        position=user_position % stride,
        n_baskets=n_baskets,
        by=by,
    )


def keep_basket_counts(ds: Dataset, *, low: int = 3, high: int = 50, by: str | None = None) -> Dataset:
    """The rows of the users of ``ds`` with ``low`` to ``high`` purchase baskets (``by`` as in
    :func:`user_baskets`), as the Reality Check's preprocessing (Li et al., TOIS 2023) keeps 3 to 50.

    >>> keep_basket_counts(orders, low=3, high=50)  # doctest: +SKIP
    """
    if isinstance(low, bool) or isinstance(high, bool) or not 1 <= int(low) <= int(high):
        raise ConfigError(f"keep_basket_counts: need 1 <= low <= high, got low={low!r}, high={high!r}")
    log = ds.interactions
    user_map = IdMap.from_values(log[C.USER])
    counts = user_baskets(ds, user_map, IdMap.from_values(log[C.ITEM]), by=by).n_baskets
    kept = user_map.ids[(counts >= low) & (counts <= high)]
    return ds.with_interactions(log[log[C.USER].isin(kept)].reset_index(drop=True))
