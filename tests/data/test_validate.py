"""validate: canonical columns, type coercion and one-line errors naming table and column."""

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import validate
from workbench.errors import DataError, DataWarning


def test_float_ids_become_int_and_events_are_normalised():
    frame = pd.DataFrame({"u": [1.0, 2.0], "i": ["a", "b"], "event": [" View", "CART "]})
    out = validate.validate_interactions(frame, {"u": "user_id", "i": "item_id"})
    assert out["user_id"].dtype == np.int64 and out["user_id"].tolist() == [1, 2]
    assert out["event"].tolist() == ["view", "cart"]
    assert list(frame.columns) == ["u", "i", "event"]  # input untouched


def test_timestamps_int_text_and_datetime():
    base = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    as_text = validate.validate_interactions(base.assign(timestamp=["100", "200"]))
    assert as_text["timestamp"].tolist() == [100, 200]
    dates = validate.validate_interactions(base.assign(timestamp=["2024-01-01", "2024-01-02 10:00"]))
    assert pd.api.types.is_datetime64_any_dtype(dates["timestamp"])
    with pytest.raises(DataError, match="missing timestamps"):
        validate.validate_interactions(base.assign(timestamp=pd.to_datetime(["2024-01-01", None])))


def test_order_numbers_mixed_with_epoch_seconds_are_one_line():
    base = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [1, 2, 3, 4]})
    # order numbers with gaps and ties are valid; so are seconds from 2 January 1970 with epoch seconds
    assert validate.validate_interactions(base.assign(timestamp=[1, 1, 5, 2]))["timestamp"].tolist() == [1, 1, 5, 2]
    validate.validate_interactions(base.assign(timestamp=[86_400, 1_700_000_000, 1_700_000_001, 1_700_000_002]))
    few_small = (
        r"^interactions: column 'timestamp' has order numbers \(0 to 86,399\) among epoch seconds in 1 of 4 rows"
    )
    with pytest.raises(DataError, match=few_small + r" \(e.g. row 2: 3\); use one kind: seconds since 1970") as error:
        validate.validate_interactions(base.assign(timestamp=[1_700_000_000, 1_700_000_100, 3, 1_700_000_200]))
    assert "\n" not in str(error.value)
    few_epoch = r"has epoch seconds among order numbers \(0 to 86,399\) in 1 of 4 rows \(e.g. row 3: 1700000000\)"
    with pytest.raises(DataError, match=few_epoch):
        validate.validate_interactions(base.assign(timestamp=["1", "2", "3", "1700000000"]))


def test_rating_booleans_and_numeric_text():
    base = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    assert validate.validate_interactions(base.assign(rating=[True, False]))["rating"].tolist() == [1.0, 0.0]
    assert validate.validate_interactions(base.assign(rating=["4.5", "3"]))["rating"].tolist() == [4.5, 3.0]


def test_duplicate_column_after_mapping():
    frame = pd.DataFrame({"user_id": [1], "customer": [2], "item_id": [3]})
    with pytest.raises(DataError, match="'user_id' appears more than once"):
        validate.validate_interactions(frame, {"customer": "user_id"})


def _rating_error() -> str:
    frame = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 2, 3], "rating": [1, 2, np.inf]})
    with pytest.raises(DataError) as info:
        validate.validate_interactions(frame)
    return str(info.value)


def test_error_names_table_column_count_and_row():
    assert _rating_error().startswith("interactions: column 'rating' has infinite values in 1 of 3 rows (e.g. row 2: ")


def test_error_example_is_plain():
    assert _rating_error().endswith("(e.g. row 2: inf)")


def test_side_table_infinite_float_ids():
    with pytest.raises(DataError, match="items: column 'item_id'"):
        validate.validate_side_table(pd.DataFrame({"item_id": [1.0, np.inf]}), "item_id", "items")
    assert validate.validate_side_table(None, "item_id", "items") is None


@pytest.mark.parametrize(
    ("stamp", "unit", "factor"),
    [
        (1_700_000_000_000, "milliseconds", "1,000"),
        (1_700_000_000_000_000, "microseconds", "1,000,000"),
        (1_700_000_000_000_000_000, "nanoseconds", "1,000,000,000"),
    ],
)
def test_epoch_times_finer_than_seconds_say_their_unit(stamp, unit, factor):
    """Read as seconds they would fall past the year 5000 (and break date conversions): one line names the unit."""
    log = pd.DataFrame({"user_id": [1, 2, 3], "item_id": [1, 1, 2], "timestamp": [1_700_000_000, stamp, stamp]})
    expected = rf"too large for seconds since 1970 in 2 of 3 rows \(e\.g\. row 1: {stamp}\); they look like {unit}"
    with pytest.raises(DataError, match=expected + f": divide them by {factor}"):
        validate.validate_interactions(log)
    largest_seconds = log.assign(timestamp=[1_700_000_000, 99_999_999_999, 1_700_000_001])
    assert validate.validate_interactions(largest_seconds)["timestamp"].max() == 99_999_999_999


def _log(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"user_id": range(n), "item_id": range(n), **columns})


def test_mixed_time_zones_are_converted_to_utc_and_said():
    with pytest.warns(DataWarning, match="mixes time zones in 2 of 3 rows .*converted to UTC"):
        out = validate.validate_interactions(
            _log(timestamp=["2024-01-01T10:00:00+02:00", "2024-01-01T08:30:00Z", "2024-01-01T09:00:00"])
        )
    assert out["timestamp"].dt.tz is not None
    hours = out["timestamp"].dt.tz_convert("UTC").dt.strftime("%H:%M").tolist()
    assert hours == ["08:00", "08:30", "09:00"]  # 10:00 at +02:00 is 08:00 UTC


def test_datetime_objects_in_several_zones_are_converted_to_utc_and_said():
    berlin, utc = pd.Timestamp("2024-01-01 10:00", tz="Europe/Berlin"), pd.Timestamp("2024-01-01 08:30", tz="UTC")
    naive = pd.Timestamp("2024-01-01 09:00")
    for stamps, zoned in (([berlin, utc, berlin], 3), ([berlin, naive, berlin], 2)):
        with pytest.warns(DataWarning, match=f"mixes time zones in {zoned} of 3 rows .*converted to UTC"):
            out = validate.validate_interactions(_log(timestamp=pd.Series(stamps, dtype=object)))
        hours = out["timestamp"].dt.tz_convert("UTC").dt.strftime("%H:%M").tolist()
        assert hours == ["09:00", stamps[1].strftime("%H:%M"), "09:00"]  # not 'not dates' for the second zone


def test_numeric_dates_put_the_day_first_or_last_for_the_whole_column():
    day_first = validate.validate_interactions(_log(timestamp=["01/02/2024", "13/02/2024", "25/12/2024"]))
    assert day_first["timestamp"].dt.strftime("%m-%d").tolist() == ["02-01", "02-13", "12-25"]  # was 01-02 first
    month_first = validate.validate_interactions(_log(timestamp=["01/02/2024", "02/13/2024"]))
    assert month_first["timestamp"].dt.strftime("%m-%d").tolist() == ["01-02", "02-13"]
    with pytest.raises(DataError, match="both day-first and month-first in 2 of 3 rows"):
        validate.validate_interactions(_log(timestamp=["01/02/2024", "13/02/2024", "02/13/2024"]))
    with pytest.warns(DataWarning, match="no field above 12 in 2 of 2 rows .*read month-first"):
        validate.validate_interactions(_log(timestamp=["01/02/2024", "03/04/2024"]))


def test_period_timestamps_are_their_start_and_complex_strengths_are_refused():
    out = validate.validate_interactions(_log(timestamp=pd.period_range("2024-01", periods=3, freq="M")))
    assert out["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01"]  # was 648..
    with pytest.raises(DataError, match="'rating' holds complex numbers in 2 of 2 rows"):  # was 1.0: imaginary dropped
        validate.validate_interactions(_log(rating=[1 + 2j, 3 + 0j]))


def test_implausible_dates_are_kept_and_counted():
    with pytest.warns(DataWarning, match=r"dates before 1990 or more than a year ahead in 2 of 3 rows \(e.g. row 0"):
        out = validate.validate_interactions(_log(timestamp=["2099-01-01", "1950-06-01", "2024-01-01"]))
    assert len(out) == 3
    with pytest.warns(DataWarning, match="in 1 of 2 rows"):  # 1980 in seconds
        validate.validate_interactions(_log(timestamp=[315_532_800, 1_700_000_000]))


def test_order_numbers_and_plausible_times_pass_without_a_word():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate.validate_interactions(_log(timestamp=[1, 2, 3]))
        validate.validate_interactions(_log(timestamp=[1_700_000_000, 1_700_086_400]))
        validate.validate_interactions(_log(rating=[0.0, 5.0], event=["view", "PURCHASE"]))


def test_durations_are_not_times():
    with pytest.raises(DataError, match=r"holds durations \(timedelta\), not times in 2 of 2 rows"):
        validate.validate_interactions(_log(timestamp=pd.to_timedelta([1, 2], unit="D")))


def test_negative_strengths_warn_and_overflowing_ones_raise():
    with pytest.warns(DataWarning, match="negative values in 1 of 2 rows .*less than no interaction"):
        validate.validate_interactions(_log(rating=[-3.0, 4.0]))
    with pytest.raises(DataError, match=r"values of 1e\+15 or more in 1 of 2 rows .*scale them down"):
        validate.validate_interactions(_log(rating=[1e308, 4.0]))


def test_unknown_event_types_are_counted_by_type():
    with pytest.warns(DataWarning, match=r"types other than view, cart, purchase \('wishlist': 2, 'refund': 1\)"):
        validate.validate_interactions(_log(event=["view", "wishlist", "Wishlist", "refund"]))
