"""Dataset and IdMap: id round trips, validation errors as one-line DataErrors, no mutation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.data import Dataset, IdMap
from workbench.errors import DataError

ids = st.one_of(
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=40),
    st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=40),
)


@given(ids)
def test_idmap_round_trip(values):
    m = IdMap.from_values(values)
    codes = m.codes(values)
    assert len(m) == len(set(values))
    assert codes.min() >= 0 and codes.max() == len(m) - 1
    assert m.to_ids(codes).tolist() == list(values)
    # codes follow first appearance
    assert m.to_ids(np.arange(len(m))).tolist() == list(dict.fromkeys(values))


def test_idmap_unknown_ids_are_minus_one():
    m = IdMap.from_values(["a", "b"])
    assert m.codes(["b", "zz", "a"]).tolist() == [1, -1, 0]


def _log():
    return pd.DataFrame(
        {"user_id": ["u1", "u1", "u2"], "item_id": [10, 20, 10], "rating": [5, 3, 4], "timestamp": [3, 1, 2]}
    )


def test_from_frames_keeps_every_row_and_counts():
    log = pd.concat([_log(), _log().iloc[[0]]], ignore_index=True)
    ds = Dataset.from_frames(log)
    assert len(ds) == 4 and ds.n_users == 2 and ds.n_items == 2
    assert ds.interactions["rating"].dtype == np.float64
    assert ds.has_timestamps


def test_from_frames_maps_columns_in_every_table():
    log = _log().rename(columns={"user_id": "customer", "item_id": "sku"})
    users = pd.DataFrame({"customer": ["u1", "u2"], "age": [30, 40]})
    items = pd.DataFrame({"sku": [10, 20], "color": ["red", "blue"]})
    ds = Dataset.from_frames(log, users, items, columns={"customer": "user_id", "sku": "item_id"})
    assert list(ds.interactions.columns[:2]) == ["user_id", "item_id"]
    assert ds.users.index.name == "user_id" and ds.users.loc["u2", "age"] == 40
    assert ds.items.index.name == "item_id" and ds.items.loc[20, "color"] == "blue"


def test_inputs_are_not_mutated():
    log, users = _log(), pd.DataFrame({"user_id": ["u1", "u2"], "age": [30, 40]})
    log_before, users_before = log.copy(deep=True), users.copy(deep=True)
    Dataset.from_frames(log.rename(columns={"user_id": "u"}), users, columns={"u": "user_id"})
    Dataset.from_frames(log, users)
    pd.testing.assert_frame_equal(log, log_before)
    pd.testing.assert_frame_equal(users, users_before)


def _one_line_error(match, *args, **kwargs):
    with pytest.raises(DataError, match=match) as info:
        Dataset.from_frames(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_missing_column_hints_at_mapping():
    message = _one_line_error("required column 'item_id' is missing", pd.DataFrame({"user_id": [1], "sku": [2]}))
    assert "columns={'yours': 'item_id'}" in message


def test_mapping_of_unknown_column():
    _one_line_error("'product'", _log(), columns={"product": "item_id"})


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("user_id", ["u1", None, "u2"], "user_id.*missing ids in 1 of 3 rows"),
        ("item_id", [1.0, np.nan, 2.0], "item_id.*missing ids"),
        ("user_id", ["u1", "  ", "u2"], "user_id.*empty ids"),
        ("item_id", [1.5, 2.0, 3.0], "item_id.*non-integer"),
        ("rating", ["5", "good", "4"], "rating.*text where numbers are expected in 1 of 3 rows"),
        ("rating", [5.0, np.inf, 4.0], "rating.*infinite"),
        ("rating", [5.0, np.nan, 4.0], "rating.*missing values"),
        ("timestamp", ["2024-01-01", "not a date", "2024-01-03"], "timestamp.*not dates"),
        ("event", ["view", None, "cart"], "event.*missing event types"),
    ],
)
def test_bad_values_raise_one_line(column, values, match):
    log = _log().assign(**{column: values})
    message = _one_line_error(match, log)
    assert "interactions" in message


def test_duplicate_ids_in_users_table():
    users = pd.DataFrame({"user_id": ["u1", "u2", "u1"], "age": [1, 2, 3]})
    _one_line_error("users: column 'user_id' has duplicate ids in 1 of 3 rows", _log(), users)


def test_empty_log_and_wrong_type():
    _one_line_error("no rows", _log().iloc[:0])
    _one_line_error("expected a pandas DataFrame", [("u1", 1)])


def test_user_item_matrix_sums_repeats_and_drops_unknown_ids():
    log = pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": [1, 1, 2, 1]})
    ds = Dataset.from_frames(log)
    users, items = IdMap.from_values(["b", "a"]), IdMap.from_values([1, 2])
    m = ds.user_item_matrix(users, items, weights=np.array([1.0, 2.0, 5.0, 7.0]))
    assert m.shape == (2, 2)
    assert m.toarray().tolist() == [[0.0, 5.0], [3.0, 0.0]]  # user c is unknown: dropped


def test_user_table_indexed_by_id_is_accepted():
    users = pd.DataFrame({"age": [30, 40]}, index=pd.Index(["u1", "u2"], name="user_id"))
    ds = Dataset.from_frames(_log(), users)
    assert ds.users.index.tolist() == ["u1", "u2"]
