"""Repeat purchases: who bought what how often, and when first and last.

The shared ground of the "buy again" baseline (``workbench.models.RepeatRecommender``) and the
repeat features of the re-ranker (``workbench.data.features``): purchases are the rows with
``event == "purchase"`` when the log has events, every row otherwise (an order log, ratings).

>>> ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 1], "item_id": ["a", "a", "b"],
...                                        "timestamp": [0, 86_400, 172_800]}))
>>> pairs = pair_history(ds, IdMap.from_values([1]), IdMap.from_values(["a", "b"]))
>>> pairs.count.tolist(), pairs.has_repeats
([2, 1], True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap
from workbench.data.validate import to_seconds

PURCHASE = "purchase"


def purchase_rows(ds: Dataset) -> np.ndarray:
    """Boolean mask of the purchase rows: ``event == "purchase"`` when the log has events and at
    least one purchase, every row otherwise."""
    log = ds.interactions
    if C.EVENT in log.columns:
        bought = log[C.EVENT].eq(PURCHASE).to_numpy()
        if bought.any():
            return bought
    return np.ones(len(log), dtype=bool)


@dataclass(frozen=True, eq=False)
class PairHistory:
    """Each bought (user, item) pair once: times bought and the first and last purchase time.

    ``time`` is int seconds when the log has timestamps (``has_time``), the row position otherwise;
    ``keys`` (user code x n_items + item code) are sorted, so lookups are a binary search.
    """

    keys: np.ndarray
    count: np.ndarray
    first: np.ndarray
    last: np.ndarray
    n_items: int
    has_time: bool
    now: float

    @property
    def has_repeats(self) -> bool:
        """True when some user bought some item more than once."""
        return bool((self.count > 1).any())

    @property
    def user_codes(self) -> np.ndarray:
        return self.keys // self.n_items

    @property
    def item_codes(self) -> np.ndarray:
        return self.keys % self.n_items

    def lookup(self, user_codes: np.ndarray, item_codes: np.ndarray) -> np.ndarray:
        """Position of each (user, item) pair in this history; -1 where never bought or unknown."""
        query = user_codes.astype(np.int64) * self.n_items + item_codes
        position = np.searchsorted(self.keys, query)
        found = (user_codes >= 0) & (item_codes >= 0) & (position < len(self.keys))
        found[found] = self.keys[position[found]] == query[found]
        return np.where(found, position, -1)


def pair_history(ds: Dataset, user_map: IdMap, item_map: IdMap) -> PairHistory:
    """The bought pairs of ``ds`` over the codes of ``user_map`` and ``item_map`` (unknown ids dropped)."""
    log = ds.interactions
    bought = purchase_rows(ds)
    users = user_map.codes(log[C.USER])[bought].astype(np.int64)
    items = item_map.codes(log[C.ITEM])[bought].astype(np.int64)
    time = (to_seconds(log[C.TIMESTAMP]) if ds.has_timestamps else np.arange(len(log)))[bought]
    keep = (users >= 0) & (items >= 0)
    keys = users[keep] * len(item_map) + items[keep]
    time = time[keep].astype(np.float64)
    order = np.lexsort((time, keys))
    keys, time = keys[order], time[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(keys)]
    return PairHistory(
        keys=keys[starts],
        count=(ends - starts).astype(np.int64),
        first=time[starts],
        last=time[ends - 1] if len(keys) else time,
        n_items=len(item_map),
        has_time=ds.has_timestamps,
        now=float(time.max()) if len(time) else 0.0,
    )


def _own_maps(ds: Dataset) -> tuple[IdMap, IdMap]:
    """User and item maps of the log's own ids."""
    return IdMap.from_values(ds.interactions[C.USER]), IdMap.from_values(ds.interactions[C.ITEM])


def has_repeats(ds: Dataset) -> bool:
    """True when some user bought some item more than once: the log has a "buy again" signal.

    >>> has_repeats(load_movielens_100k())  # doctest: +SKIP
    False
    """
    return pair_history(ds, *_own_maps(ds)).has_repeats


def bought_before(history: Dataset) -> Callable[[pd.DataFrame], np.ndarray]:
    """A test telling, for each ``user_id, item_id`` row of a frame, whether the user bought the item
    in ``history`` (read once, however many frames are tested).

    >>> bought_before(train)(recs).mean()  # doctest: +SKIP
    0.3
    """
    users, items = _own_maps(history)
    pairs = pair_history(history, users, items)
    return lambda frame: pairs.lookup(users.codes(frame[C.USER]), items.codes(frame[C.ITEM])) >= 0


#: Basket keys, in order of preference: (column, ``next_basket_split``'s ``by``).
BASKET_KEYS = (("order_id", "order"), ("session_id", "session"))


def basket_by(ds: Dataset) -> str:
    """What a basket is in ``ds``, as ``next_basket_split(by=...)`` names it: ``order`` when every
    row has an ``order_id`` (an order log), else ``session`` when every row has a ``session_id``,
    else ``timestamp`` when the timestamps are order numbers (``Dataset.has_order_numbers``:
    integers 0 to 86,399, as shops export the order number in place of a time; each distinct
    timestamp of a user is a basket), else ``day`` (calendar days of wall-clock times).

    >>> log = pd.DataFrame({"user_id": [1, 1, 1], "item_id": ["a", "b", "a"], "timestamp": [1, 1, 2]})
    >>> basket_by(Dataset.from_frames(log)), basket_by(Dataset.from_frames(log.assign(timestamp=[0, 86_400, 86_460])))
    ('timestamp', 'day')
    """
    log = ds.interactions
    found = next((by for column, by in BASKET_KEYS if column in log.columns and log[column].notna().all()), None)
    return found or ("timestamp" if ds.has_order_numbers else "day")
