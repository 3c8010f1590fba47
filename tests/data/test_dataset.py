"""Dataset and IdMap: id round trips, validation errors as one-line DataErrors, no mutation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.data import Dataset, IdMap
from workbench.data.dataset import rows_for
from workbench.data.validate import are_order_numbers
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


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=40))
def test_idmap_finds_an_integer_by_either_spelling(values):
    as_text = [str(v) for v in values]
    ints, texts = IdMap.from_values(values), IdMap.from_values(as_text)
    assert ints.codes(as_text).tolist() == ints.codes(values).tolist()
    assert texts.codes(values).tolist() == texts.codes(as_text).tolist()
    assert (ints.codes(as_text) >= 0).all()


def test_idmap_other_spelling_only_where_unambiguous():
    ints = IdMap.from_values([7, 12, -3])
    assert ints.codes(["12", "-3", "012", "+12", " 12", "12.0", "1e1", "x"]).tolist() == [1, 2, -1, -1, -1, -1, -1, -1]
    assert ints.codes(["99999999999999999999"]).tolist() == [-1]  # beyond int64: no int spells it
    texts = IdMap.from_values(["1", "01", "07", "a"])
    assert texts.codes([1, 7, 2]).tolist() == [0, -1, -1]  # 1 is "1" only; no exact "7"
    assert texts.codes(np.array([1], dtype=np.uint8)).tolist() == [0]


def test_idmap_whole_floats_are_the_integer_they_equal():
    ints, texts = IdMap.from_values([1, 2]), IdMap.from_values(["1", "2"])
    assert ints.codes([2.0, 1.5, np.nan, np.inf]).tolist() == [1, -1, -1, -1]
    assert texts.codes(np.array([2.0, 1.5, np.nan, 1e300])).tolist() == [1, -1, -1, -1]


def test_idmap_mixed_lookups_and_own_spelling():
    ints = IdMap.from_values([7, 12])
    assert ints.codes([12, "7", "x", 7.0, True]).tolist() == [1, 0, -1, 0, -1]
    assert ints.own_ids(["12", "x"]).tolist() == [12, "x"]
    assert ints.own_ids(["7", 99]).tolist() == [7, 99]
    assert ints.own_ids(["12", "7"]).dtype == np.int64
    unchanged = np.array([7, 99])
    assert ints.own_ids(unchanged) is unchanged  # nothing respelled: the input as given
    assert IdMap.from_values(["1", "x"]).own_ids([1, "x"]).tolist() == ["1", "x"]


def test_rows_for_looks_ids_up_like_idmap():
    ages = pd.Series([30, 40], index=pd.Index([1, 2], name="user_id"), name="age")
    found = rows_for(ages, ["2", 9, 1])
    assert found.index.tolist() == ["2", 9, 1] and found.index.name == "user_id"
    assert found.iloc[[0, 2]].tolist() == [40, 30] and np.isnan(found.iloc[1])


def test_id_kinds_follow_the_log():
    assert Dataset.from_frames(_log()).id_kinds == {"user_id": "text", "item_id": "int"}
    tuples = pd.DataFrame({"user_id": [(1, 2), (3, 4)], "item_id": [1, 2]})
    assert Dataset.from_frames(tuples).id_kinds == {"user_id": "other", "item_id": "int"}


def test_object_ids_become_one_kind():
    ints = Dataset.from_frames(pd.DataFrame({"user_id": pd.Series([1, 2], dtype=object), "item_id": [1.0, 2.0]}))
    assert ints.interactions["user_id"].dtype == np.int64 and ints.interactions["item_id"].dtype == np.int64
    huge = Dataset.from_frames(pd.DataFrame({"user_id": pd.Series([2**64 + 1, 1], dtype=object), "item_id": [1, 2]}))
    assert huge.interactions["user_id"].tolist() == [2**64 + 1, 1]  # beyond int64: kept exact
    assert huge.id_kinds["user_id"] == "int"


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
        ("item_id", [1e19, 2.0, 3.0], "item_id.*beyond the int64 range in 1 of 3 rows"),
        ("user_id", [1, "a", 2], r"user_id' has text ids among numbers in 1 of 3 rows \(e.g. row 1: 'a'\); make them"),
        ("user_id", ["a", 2, "b"], r"user_id' has numbers among text ids in 1 of 3 rows \(e.g. row 1: 2\)"),
        ("user_id", ["a", 2.5, "b"], "user_id' has numbers among text ids"),
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


def test_order_numbers_are_told_from_times():
    """Integers all below one day of seconds are order numbers; real times, even of one day, are not."""
    assert are_order_numbers(pd.Series([1, 1, 2, 57]))
    assert are_order_numbers(pd.Series([0, 86_399]))
    assert not are_order_numbers(pd.Series([0, 86_400]))  # reaches 2 January 1970: seconds
    assert not are_order_numbers(pd.Series([-1, 3]))
    assert not are_order_numbers(pd.Series([1_709_280_000, 1_709_283_600]))
    assert not are_order_numbers(pd.Series(pd.to_datetime(["1970-01-01 00:00:01", "1970-01-01 00:00:02"])))
    assert not are_order_numbers(pd.Series([1.0, 2.0])) and not are_order_numbers(pd.Series([], dtype=np.int64))


def test_seconds_refuse_order_numbers_in_one_line():
    log = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 3], "timestamp": [1, 2, 7]})
    ds = Dataset.from_frames(log)
    assert ds.has_order_numbers
    message = (
        r"^DecayedPopularity needs wall-clock timestamps, and 'timestamp' holds order numbers \(1 to 7\), not times "
        r"\(integers below 86,400, which as seconds would all fall on 1 January 1970\)$"
    )
    with pytest.raises(DataError, match=message):
        ds.seconds("DecayedPopularity")
    clock = Dataset.from_frames(log.assign(timestamp=[86_400, 86_460, 90_000]))
    assert not clock.has_order_numbers and clock.seconds("replay").tolist() == [86_400, 86_460, 90_000]
