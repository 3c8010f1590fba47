"""Train / test splits that never leak: every input row lands in exactly one side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.validate import to_seconds
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be between 0 and 1 (exclusive), got {value!r}")


def _sides(ds: Dataset, test_mask: np.ndarray) -> tuple[Dataset, Dataset]:
    log = ds.interactions
    return ds.with_interactions(log[~test_mask]), ds.with_interactions(log[test_mask])


def _time_order(ds: Dataset) -> np.ndarray:
    if not ds.has_timestamps:
        raise DataError("this split needs a 'timestamp' column, and the interactions have none")
    return np.argsort(ds.interactions[C.TIMESTAMP].to_numpy(), kind="stable")


def _position_in_user(users: pd.Series, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows visited in ``order``: their position within their user, and the user's row count."""
    ordered_users = users.iloc[order]
    position = np.empty(len(users), dtype=np.int64)
    position[order] = ordered_users.groupby(ordered_users, sort=False).cumcount().to_numpy()
    counts = users.map(users.value_counts()).to_numpy()
    return position, counts


def temporal_split(ds: Dataset, *, test_fraction: float = 0.2) -> tuple[Dataset, Dataset]:
    """The latest ``test_fraction`` of interactions (by timestamp) form the test set.

    >>> train, test = temporal_split(ds, test_fraction=0.2)  # doctest: +SKIP
    """
    _check_fraction("test_fraction", test_fraction)
    order = _time_order(ds)
    n_test = int(round(len(ds) * test_fraction))
    test_mask = np.zeros(len(ds), dtype=bool)
    test_mask[order[len(ds) - n_test :]] = True
    return _sides(ds, test_mask)


def stratified_split(ds: Dataset, *, ratio: float = 0.75, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Per user, a random ``ratio`` of interactions goes to train and the rest to test.

    Each user with n interactions keeps round(ratio * n) of them (at least one) in train.

    >>> train, test = stratified_split(ds, ratio=0.75, seed=42)  # doctest: +SKIP
    """
    _check_fraction("ratio", ratio)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ds))
    position, counts = _position_in_user(ds.interactions[C.USER], order)
    n_train = np.maximum(1, np.round(ratio * counts)).astype(np.int64)
    return _sides(ds, position >= n_train)


def leave_last_n_out(ds: Dataset, *, n: int = 1) -> tuple[Dataset, Dataset]:
    """Each user's last ``n`` interactions (by timestamp) form the test set; users with <= n stay in train."""
    n = positive_int(n, "n")
    order = _time_order(ds)[::-1]
    position, counts = _position_in_user(ds.interactions[C.USER], order)
    return _sides(ds, (position < n) & (counts > n))


def cold_user_split(ds: Dataset, *, fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Hold out a random ``fraction`` of users entirely: their interactions are the test set.

    Their demographics stay in ``users``, so cold-start models can serve them.
    """
    _check_fraction("fraction", fraction)
    users = pd.unique(ds.interactions[C.USER])
    rng = np.random.default_rng(seed)
    n_cold = max(1, int(round(len(users) * fraction)))
    cold = rng.choice(len(users), size=n_cold, replace=False)
    test_mask = ds.interactions[C.USER].isin(users[cold]).to_numpy()
    return _sides(ds, test_mask)


def user_sample(ds: Dataset, max_users: int, *, seed: int = 0) -> Dataset:
    """``ds`` restricted to a seeded random sample of ``max_users`` of its users (all of their rows), or
    ``ds`` itself when it has no more users than that. Users keep their order of first appearance.

    >>> log = pd.DataFrame({"user_id": [1, 2, 3, 1], "item_id": [5, 6, 7, 8]})
    >>> len(user_sample(Dataset.from_frames(log), 2, seed=0).interactions["user_id"].unique())
    2
    """
    max_users = positive_int(max_users, "max_users")
    users = pd.unique(ds.interactions[C.USER])
    if len(users) <= max_users:
        return ds
    chosen = np.sort(np.random.default_rng(seed).choice(len(users), size=max_users, replace=False))
    return ds.with_interactions(ds.interactions[ds.interactions[C.USER].isin(users[chosen])])


BASKETS = {"order": "order_id", "session": "session_id", "timestamp": C.TIMESTAMP, "day": C.TIMESTAMP}
DAY = 86_400


def _columns(log: pd.DataFrame) -> list[str]:
    return list(map(str, log.columns))[:12]


def _plain(value: object) -> object:
    """A numpy scalar as the Python scalar it holds, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _basket_key(ds: Dataset, by: str) -> tuple[pd.Series | np.ndarray, np.ndarray]:
    """Each row's basket key (order id, session id, timestamp or UTC day number) and its time (int seconds,
    or the order number itself); checks the columns."""
    log = ds.interactions
    if not ds.has_timestamps:
        raise DataError(
            f"interactions: next_basket_split needs a 'timestamp' column to find each user's last basket, "
            f"and the interactions have none (columns are {_columns(log)})"
        )
    seconds = to_seconds(log[C.TIMESTAMP])  # order numbers pass through: only their order counts here
    if by == "timestamp":
        return seconds, seconds
    if by == "day":
        return seconds // DAY, seconds
    column = BASKETS[by]
    other = "by='session' or by='day'" if by == "order" else "by='day'"
    if column not in log.columns:
        raise DataError(
            f"interactions: column '{column}' is missing, which next_basket_split(by={by!r}) needs "
            f"(columns are {_columns(log)}); use {other} to form baskets otherwise"
        )
    keys = log[column]
    missing = keys.isna().to_numpy()
    if missing.any():
        fix = "keep the purchases only, e.g. ds.with_interactions(log[log.event == 'purchase'])"
        raise DataError(
            f"interactions: column '{column}' has missing {by} ids in {int(missing.sum()):,} of {len(log):,} rows "
            f"(e.g. row {int(np.flatnonzero(missing)[0])}); {fix if by == 'order' else 'fill them'}, or use {other}"
        )
    return keys, seconds


def _check_one_user_per_order(log: pd.DataFrame, keys: np.ndarray, basket_key: np.ndarray, key_ids: pd.Index) -> None:
    """An order id shared by several users raises DataError (baskets are unique (user, key) pairs)."""
    shared = np.bincount(basket_key, minlength=len(key_ids)) > 1
    if shared.any():
        rows = shared[keys]
        first = int(np.flatnonzero(shared)[0])
        users = [_plain(user) for user in pd.unique(log[C.USER][keys == first])[:2]]
        raise DataError(
            f"interactions: column 'order_id' has orders shared by several users in {int(rows.sum()):,} of "
            f"{len(log):,} rows (e.g. order {_plain(key_ids[first])!r}: users {users[0]!r} and {users[1]!r}); "
            f"an order belongs to one user"
        )


def next_basket_split(ds: Dataset, *, by: str = "order") -> tuple[Dataset, Dataset]:
    """Each user's last basket is the test set; users with a single basket stay wholly in train.

    A basket is one user's rows with the same ``order_id`` (by="order"), the same ``session_id``
    (by="session"), the same ``timestamp`` (by="timestamp": for a log whose timestamps are order
    numbers, see ``Dataset.has_order_numbers``; the last basket is the highest number) or the same
    calendar day (UTC) of ``timestamp`` (by="day", which reads integers as seconds). The last basket
    has the latest timestamp (of its latest row); ties go to the larger basket key. Order ids,
    session ids and order numbers are labels, not counts: gaps are fine. ``workbench.data.repeats.basket_by``
    picks ``by`` for a log. When no user has two baskets the test set is empty;
    :func:`single_basket_reason` says why in words.

    >>> log = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "b", "c", "d"],
    ...                     "timestamp": [0, 5, 86_400, 9], "order_id": [10, 10, 12, 11]})
    >>> train, test = next_basket_split(Dataset.from_frames(log))
    >>> test.interactions["item_id"].tolist(), train.interactions["item_id"].tolist()
    (['c'], ['a', 'b', 'd'])
    """
    if by not in BASKETS:
        raise ConfigError(f"next_basket_split: by must be one of {list(BASKETS)}, got {by!r}")
    log = ds.interactions
    if len(log) == 0:  # nothing to split (a filter left no row)
        return _sides(ds, np.zeros(0, dtype=bool))
    keys, seconds = _basket_key(ds, by)
    users = pd.factorize(log[C.USER])[0].astype(np.int64)
    keys, key_ids = pd.factorize(keys, sort=True)  # codes in key order, for the ties
    # Baskets: distinct (user, key) pairs, numbered in (user, key) order.
    pair = users * len(key_ids) + keys
    codes, pairs = pd.factorize(pair)
    by_pair = np.argsort(pairs)
    rank = np.empty(len(pairs), dtype=np.int64)
    rank[by_pair] = np.arange(len(pairs))
    row_basket, pairs = rank[codes], pairs[by_pair]
    basket_user, basket_key = pairs // len(key_ids), pairs % len(key_ids)
    if by == "order":
        _check_one_user_per_order(log, keys, basket_key, key_ids)
    basket_time = pd.Series(seconds).groupby(row_basket).max().to_numpy()
    latest = np.flatnonzero(basket_time == pd.Series(basket_time).groupby(basket_user).transform("max").to_numpy())
    last = latest[np.append(basket_user[latest][1:] != basket_user[latest][:-1], True)]  # largest key of the latest
    test_basket = np.zeros(len(pairs), dtype=bool)
    test_basket[last] = np.bincount(basket_user)[basket_user[last]] > 1
    return _sides(ds, test_basket[row_basket])


def single_basket_reason(ds: Dataset, by: str) -> str:
    """Why ``next_basket_split(ds, by=by)`` holds nothing out, in words: what a basket is here and
    that no user has two (call it when the test set came back empty).

    >>> log = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "timestamp": [1_700_000_000, 1_700_003_600]})
    >>> single_basket_reason(Dataset.from_frames(log), "day")[:81]
    'no user has two or more baskets: baskets are calendar days (UTC) of the timestamp'
    """
    if by not in BASKETS:
        raise ConfigError(f"single_basket_reason: by must be one of {list(BASKETS)}, got {by!r}")
    lead = "no user has two or more baskets: baskets are"
    if by in ("order", "session"):
        return f"{lead} {by}s ({BASKETS[by]}), and every user has a single {by}"
    numbers = ""
    if ds.has_order_numbers:
        stamps = ds.interactions[C.TIMESTAMP]
        numbers = f"order numbers ({int(stamps.min()):,} to {int(stamps.max()):,})"
    if by == "timestamp":
        what = f", which look like {numbers}" if numbers else ""
        return f"{lead} a user's distinct timestamps{what}, and every user has a single one"
    log = ds.interactions
    present = [column for column in ("order_id", "session_id") if column in log.columns]
    gaps = {column: int(log[column].isna().sum()) for column in present}
    missing = " and ".join(f"'{column}' is missing in {n:,} of {len(log):,} rows" for column, n in gaps.items() if n)
    why = missing or ("by='day' was asked" if present else "the log has no order_id or session_id column")
    reason = (
        f"{lead} calendar days (UTC) of the timestamp ({why}), and every user's timestamps fall on one day; "
        "give every row an order_id (or session_id) saying which basket it belongs to"
    )
    if numbers:
        reason += f"; the timestamps look like {numbers}: by='timestamp' makes each distinct number of a user a basket"
    return reason
