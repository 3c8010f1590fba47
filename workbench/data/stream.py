"""Replay an interaction log as a stream: micro-batches in timestamp order, by count or by time window.

Nothing here talks to Kafka or any broker: a replay reads a Dataset (or a CSV /
Parquet file) that is already on disk and hands it out batch by batch, which is
what an offline freshness experiment needs.

>>> log = pd.DataFrame({"user_id": [1, 2, 1], "item_id": ["a", "b", "c"], "timestamp": [0, 86_400 * 8, 60]})
>>> stream = replay(Dataset.from_frames(log), window="7D")
>>> [len(b) for b in stream], stream.n_out_of_order
([2, 1], 1)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.dataset import Dataset, to_seconds
from workbench.data.loaders import read_interactions
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int


@dataclass(frozen=True)
class Batch:
    """One micro-batch: its number (0-based), bounds and interactions (canonical columns, time order).

    For time windows ``start`` / ``end`` are the window bounds, ``[start, end)``; for count
    batches they are the timestamps of the batch's first and last event (both included).
    """

    number: int
    start: pd.Timestamp
    end: pd.Timestamp
    interactions: pd.DataFrame

    def __len__(self) -> int:
        return len(self.interactions)


def window_seconds(window: str | int | float | pd.Timedelta) -> int:
    """A window length in whole seconds: ``"7D"``, ``"12h"``, a ``pd.Timedelta`` or a number of seconds."""
    try:
        seconds = pd.Timedelta(window).total_seconds() if isinstance(window, (str, pd.Timedelta)) else float(window)
    except (TypeError, ValueError):
        raise ConfigError(f"window must be like '7D', '12h' or a number of seconds, got {window!r}") from None
    if not np.isfinite(seconds) or seconds < 1:
        raise ConfigError(f"window must be at least one second long, got {window!r}")
    return int(seconds)


def _timestamp(seconds: int | np.integer) -> pd.Timestamp:
    return pd.Timestamp(int(seconds), unit="s")


@dataclass(frozen=True)
class Replay:
    """An iterable of :class:`Batch`; build it with :func:`replay`.

    ``n_out_of_order`` counts input rows whose timestamp is earlier than a row before them
    (they are replayed in timestamp order; ties keep their input order).
    """

    log: pd.DataFrame  # the replayed rows, sorted by time
    seconds: np.ndarray  # their timestamps in int seconds
    bounds: np.ndarray  # batch b is log rows bounds[b]:bounds[b + 1]
    starts: np.ndarray  # window starts in seconds (time windows), or empty for count batches
    width: int  # window length in seconds, 0 for count batches
    n_out_of_order: int

    @property
    def n_events(self) -> int:
        return len(self.log)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __iter__(self) -> Iterator[Batch]:
        for number in range(len(self)):
            lo, hi = self.bounds[number], self.bounds[number + 1]
            if self.width:
                start, end = self.starts[number], self.starts[number] + self.width
            else:
                start, end = self.seconds[lo], self.seconds[hi - 1]
            frame = self.log.iloc[lo:hi].reset_index(drop=True)
            yield Batch(number, _timestamp(start), _timestamp(end), frame)


def _start_seconds(start: str | int | pd.Timestamp) -> int:
    if isinstance(start, (int, np.integer)):
        return int(start)
    try:
        return int(to_seconds(pd.Series([pd.Timestamp(start)]))[0])
    except (TypeError, ValueError):
        raise ConfigError(f"start must be a date or int seconds, got {start!r}") from None


def _as_dataset(source: Dataset | pd.DataFrame | str | os.PathLike) -> Dataset:
    if isinstance(source, Dataset):
        return source
    if isinstance(source, pd.DataFrame):
        return Dataset.from_frames(source)
    if isinstance(source, (str, os.PathLike)):
        return read_interactions(source)
    raise DataError(f"replay expects a Dataset, a DataFrame or a CSV / Parquet path, got {type(source).__name__}")


def replay(
    source: Dataset | pd.DataFrame | str | os.PathLike,
    *,
    batch_size: int | None = None,
    window: str | int | float | pd.Timedelta | None = None,
    start: str | int | pd.Timestamp | None = None,
    skip_empty: bool = False,
) -> Replay:
    """Replay ``source`` in timestamp order, ``batch_size`` events at a time or one ``window`` at a time.

    Windows are ``[start + i * window, start + (i + 1) * window)``; ``start`` defaults to the first
    event, and events before it are not replayed. A window without events is yielded as an empty
    batch unless ``skip_empty``. Unknown or new ids pass through untouched. Timestamps that are
    order numbers, not times (``Dataset.has_order_numbers``), raise DataError: batches are bounded
    by times.

    >>> for batch in replay("events.parquet", window="1D"):  # doctest: +SKIP
    ...     model.partial_fit(batch.interactions)
    """
    if (batch_size is None) == (window is None):
        raise ConfigError("replay needs exactly one of batch_size= (events per batch) or window= (e.g. '7D')")
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size")
    width = 0 if window is None else window_seconds(window)
    ds = _as_dataset(source)
    raw = ds.seconds("replay")
    n_out_of_order = int((raw[1:] < np.maximum.accumulate(raw)[:-1]).sum()) if len(raw) else 0
    order = np.argsort(raw, kind="stable")
    seconds = raw[order]
    first = int(seconds[0]) if len(seconds) else 0
    origin = first if start is None else _start_seconds(start)
    keep = np.searchsorted(seconds, origin, side="left")
    seconds, order = seconds[keep:], order[keep:]
    log = ds.interactions.iloc[order].reset_index(drop=True)

    if batch_size is not None:
        bounds = np.unique(np.r_[np.arange(0, len(log), batch_size), len(log)])
        return Replay(log, seconds, bounds, np.empty(0, np.int64), 0, n_out_of_order)
    index = (seconds - origin) // width
    n_windows = int(index[-1]) + 1 if len(index) else 0
    all_windows = np.arange(n_windows)
    bounds = np.searchsorted(index, np.arange(n_windows + 1), side="left")
    if skip_empty:
        filled = np.flatnonzero(np.diff(bounds) > 0)
        all_windows, bounds = all_windows[filled], np.r_[bounds[filled], len(log)]
    return Replay(log, seconds, bounds, origin + all_windows * width, width, n_out_of_order)
