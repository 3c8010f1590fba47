"""Train / test splits that never leak: every input row lands in exactly one side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError


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
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n!r}")
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
