"""replay: time order, count batches, time windows, empty windows, out-of-order rows, sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.data.stream import replay, window_seconds
from workbench.errors import ConfigError, DataError

DAY = 86_400


def log(seconds: list[int]) -> pd.DataFrame:
    n = len(seconds)
    return pd.DataFrame(
        {"user_id": [f"u{i % 3}" for i in range(n)], "item_id": [f"i{i}" for i in range(n)], "timestamp": seconds}
    )


def test_count_batches_cover_every_row_once_in_time_order():
    rng = np.random.default_rng(0)
    seconds = rng.integers(0, 100 * DAY, 103).tolist()
    stream = replay(Dataset.from_frames(log(seconds)), batch_size=10)
    batches = list(stream)
    assert [len(b) for b in batches] == [10] * 10 + [3]
    replayed = pd.concat([b.interactions for b in batches], ignore_index=True)
    assert sorted(replayed["item_id"]) == sorted(f"i{i}" for i in range(103))
    assert replayed["timestamp"].is_monotonic_increasing
    first = batches[0]
    assert first.start == pd.Timestamp(int(first.interactions["timestamp"].iloc[0]), unit="s")
    assert first.end == pd.Timestamp(int(first.interactions["timestamp"].iloc[-1]), unit="s")


def test_out_of_order_rows_are_sorted_stably_and_counted():
    # rows 2 and 4 arrive late (earlier than a row before them); the two ties at 50 keep input order
    seconds = [DAY + s for s in (10, 50, 20, 50, 30, 60)]  # on 2 January 1970: below DAY they are order numbers
    stream = replay(Dataset.from_frames(log(seconds)), batch_size=100)
    assert stream.n_out_of_order == 2
    (batch,) = list(stream)
    assert batch.interactions["item_id"].tolist() == ["i0", "i2", "i4", "i1", "i3", "i5"]


def test_time_windows_and_empty_windows():
    # events on days 0, 1, 15 and 16: weekly windows 0 and 2 hold events, window 1 is empty
    seconds = [0, DAY, 15 * DAY, 16 * DAY]
    ds = Dataset.from_frames(log(seconds))
    batches = list(replay(ds, window="7D"))
    assert [len(b) for b in batches] == [2, 0, 2]
    assert [b.number for b in batches] == [0, 1, 2]
    assert batches[1].start == pd.Timestamp(7 * DAY, unit="s") and batches[1].end == pd.Timestamp(14 * DAY, unit="s")
    assert list(batches[1].interactions.columns) == list(ds.interactions.columns)
    skipped = list(replay(ds, window=7 * DAY, skip_empty=True))
    assert [len(b) for b in skipped] == [2, 2]
    assert [b.start for b in skipped] == [pd.Timestamp(0, unit="s"), pd.Timestamp(14 * DAY, unit="s")]


def test_start_anchors_windows_and_drops_earlier_rows():
    seconds = [0, 3 * DAY, 10 * DAY, 12 * DAY]
    stream = replay(Dataset.from_frames(log(seconds)), window="7D", start=3 * DAY)
    batches = list(stream)
    assert stream.n_events == 3
    assert [len(b) for b in batches] == [1, 2]  # day 3 in [3, 10); days 10 and 12 in [10, 17)
    assert batches[0].start == pd.Timestamp(3 * DAY, unit="s")


def test_window_bounds_hold_their_events_on_real_data():
    from workbench.data.synthetic import make_ecommerce

    ds = make_ecommerce(200, 100, 3_000, seed=3)
    batches = list(replay(ds, window="2D"))
    assert sum(len(b) for b in batches) == len(ds)
    for b in batches:
        times = pd.to_datetime(b.interactions["timestamp"], unit="s")
        assert ((times >= b.start) & (times < b.end)).all()


def test_datetime_timestamps_and_paths(tmp_path):
    frame = log([0, DAY, 9 * DAY])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    assert [len(b) for b in replay(frame, window="7D")] == [2, 1]
    path = tmp_path / "events.csv"
    log([5, 1, 9 * DAY]).to_csv(path, index=False)
    stream = replay(path, window="7D")
    assert [len(b) for b in stream] == [2, 1] and stream.n_out_of_order == 1


def test_input_is_not_mutated():
    frame = log([DAY + 30, DAY + 10, DAY + 20])
    ds = Dataset.from_frames(frame)
    before = ds.interactions.copy()
    list(replay(ds, batch_size=1))
    pd.testing.assert_frame_equal(ds.interactions, before)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one"),
        ({"batch_size": 5, "window": "7D"}, "exactly one"),
        ({"batch_size": 0}, "batch_size"),
        ({"window": "soon"}, "window"),
        ({"window": 0}, "window"),
    ],
)
def test_bad_parameters_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        replay(Dataset.from_frames(log([1, 2])), **kwargs)


def test_a_log_without_timestamps_is_a_data_error():
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [2]}))
    with pytest.raises(DataError, match="timestamp"):
        replay(ds, window="1D")


def test_order_numbers_are_not_replayed_as_times():
    """Timestamps all below one day of seconds are order numbers: replay refuses them in one line."""
    ds = Dataset.from_frames(log([1, 2, 2, 3]))
    for kwargs in ({"window": "1D"}, {"batch_size": 2}):
        with pytest.raises(
            DataError, match=r"^replay needs wall-clock timestamps, and 'timestamp' holds order numbers \(1 to 3\)"
        ):
            replay(ds, **kwargs)
    assert [len(b) for b in replay(Dataset.from_frames(log([DAY, DAY + 1, 2 * DAY])), window="1D")] == [2, 1]


def test_window_seconds():
    assert window_seconds("7D") == 7 * DAY and window_seconds("12h") == 43_200 and window_seconds(90) == 90
