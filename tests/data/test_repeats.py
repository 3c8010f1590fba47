"""Repeat purchases and what a basket is: basket_by on order, session, order-number and wall-clock logs."""

import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.data.repeats import basket_by, has_repeats

DAY = 86_400


def _log(**columns) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "b", "a", "c"], **columns})


@pytest.mark.parametrize(
    "columns, expected, numbered",
    [
        ({"timestamp": [1, 1, 2, 1], "order_id": [10, 10, 11, 12]}, "order", True),
        ({"timestamp": [1, 1, 2, 1], "session_id": [3, 3, 4, 5]}, "session", True),
        # a shop export without ids: order numbers per customer, with a tie (one basket) and a gap
        ({"timestamp": [1, 1, 4, 2]}, "timestamp", True),
        ({"timestamp": [0, 0, 0, 0]}, "timestamp", True),
        ({"timestamp": [0, 86_399, 5, 3]}, "timestamp", True),
        # wall-clock times: seconds from 2 January 1970, a day of 2024, datetimes
        ({"timestamp": [DAY, DAY + 1, DAY + 2, DAY]}, "day", False),
        ({"timestamp": [0, 1, DAY, 5]}, "day", False),
        ({"timestamp": [1_709_280_000, 1_709_283_600, 1_709_290_000, 1_709_280_000]}, "day", False),
        ({"timestamp": pd.to_datetime(["1970-01-01 00:00:01"] * 4)}, "day", False),
        # an order id missing in some rows does not name every basket
        ({"timestamp": [1, 1, 2, 1], "order_id": pd.array([10, None, 11, 12], "Int64")}, "timestamp", True),
    ],
)
def test_basket_by(columns, expected, numbered):
    ds = Dataset.from_frames(_log(**columns))
    assert basket_by(ds) == expected
    assert ds.has_order_numbers is numbered


def test_basket_by_without_timestamps_is_day_and_repeats_use_row_order():
    ds = Dataset.from_frames(_log())
    assert basket_by(ds) == "day" and not ds.has_order_numbers
    assert has_repeats(ds)
