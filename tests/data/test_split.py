"""Splits: no leak (each row on exactly one side), per-user ratios, time order, cold users, seeds."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data import Dataset
from workbench.data.split import (
    cold_user_split,
    leave_last_n_out,
    next_basket_split,
    single_basket_reason,
    stratified_split,
    temporal_split,
    user_sample,
)
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError, DataError


def _random_log(seed: int, n: int = 300, n_users: int = 20) -> Dataset:
    rng = np.random.default_rng(seed)
    log = pd.DataFrame(
        {
            "user_id": rng.integers(0, n_users, n),
            "item_id": np.char.add("i", rng.integers(0, 30, n).astype(str)),
            "timestamp": rng.integers(0, 50, n),  # many ties on purpose
            "row": np.arange(n),
        }
    )
    users = pd.DataFrame({"user_id": np.arange(n_users), "age": np.arange(n_users) + 20})
    return Dataset.from_frames(log, users)


def _rows(ds: Dataset) -> set:
    return set(ds.interactions["row"])


def _assert_partition(ds, train, test):
    assert _rows(train).isdisjoint(_rows(test))
    merged = pd.concat([train.interactions, test.interactions]).sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, ds.interactions.sort_values("row").reset_index(drop=True))
    assert train.users is ds.users and test.users is ds.users


logs = st.builds(_random_log, st.integers(0, 10_000), st.integers(1, 200), st.integers(1, 15))


@settings(max_examples=30, deadline=None)
@given(logs, st.floats(0.05, 0.95), st.integers(0, 1000))
def test_stratified_split_partitions_and_keeps_ratio_per_user(ds, ratio, seed):
    train, test = stratified_split(ds, ratio=ratio, seed=seed)
    _assert_partition(ds, train, test)
    n_all = ds.interactions["user_id"].value_counts()
    n_train = train.interactions["user_id"].value_counts().reindex(n_all.index, fill_value=0)
    expected = np.maximum(1, np.round(ratio * n_all))
    assert (n_train == expected).all()  # every user kept in train, with round(ratio * n) rows
    again = stratified_split(ds, ratio=ratio, seed=seed)
    assert _rows(again[1]) == _rows(test)


def test_stratified_split_seed_changes_the_split():
    ds = _random_log(0, n=2000)
    a = stratified_split(ds, seed=1)[1]
    b = stratified_split(ds, seed=2)[1]
    assert _rows(a) != _rows(b)


@settings(max_examples=30, deadline=None)
@given(logs, st.floats(0.05, 0.95))
def test_temporal_split_is_time_ordered(ds, fraction):
    train, test = temporal_split(ds, test_fraction=fraction)
    _assert_partition(ds, train, test)
    assert len(test) == int(round(len(ds) * fraction))
    if len(train) and len(test):
        assert train.interactions["timestamp"].max() <= test.interactions["timestamp"].min()


@settings(max_examples=30, deadline=None)
@given(logs, st.integers(1, 3))
def test_leave_last_n_out(ds, n):
    train, test = leave_last_n_out(ds, n=n)
    _assert_partition(ds, train, test)
    counts = ds.interactions["user_id"].value_counts()
    test_counts = test.interactions["user_id"].value_counts()
    assert set(test_counts.index) == set(counts[counts > n].index)
    assert (test_counts == n).all()
    # each test row is no earlier than any train row of the same user
    last_train = train.interactions.groupby("user_id")["timestamp"].max()
    first_test = test.interactions.groupby("user_id")["timestamp"].min()
    assert (first_test >= last_train.reindex(first_test.index)).all()


@settings(max_examples=30, deadline=None)
@given(logs, st.floats(0.05, 0.95), st.integers(0, 1000))
def test_cold_user_split_holds_out_whole_users(ds, fraction, seed):
    train, test = cold_user_split(ds, fraction=fraction, seed=seed)
    _assert_partition(ds, train, test)
    test_users = set(test.interactions["user_id"])
    assert test_users.isdisjoint(train.interactions["user_id"])
    assert len(test_users) == max(1, round(ds.n_users * fraction))
    assert test_users <= set(ds.users.index)  # demographics stay available
    assert set(cold_user_split(ds, fraction=fraction, seed=seed)[1].interactions["user_id"]) == test_users


def test_known_answer_temporal_and_leave_last_out():
    log = pd.DataFrame({"user_id": ["a", "a", "a", "b", "b"], "item_id": [1, 2, 3, 1, 2], "timestamp": [5, 1, 3, 2, 4]})
    ds = Dataset.from_frames(log)
    train, test = temporal_split(ds, test_fraction=0.4)
    assert sorted(test.interactions["timestamp"]) == [4, 5]
    train, test = leave_last_n_out(ds, n=1)
    assert sorted(zip(test.interactions["user_id"], test.interactions["item_id"], strict=False)) == [("a", 1), ("b", 2)]


def test_bad_arguments():
    ds = _random_log(0)
    with pytest.raises(ConfigError, match="ratio"):
        stratified_split(ds, ratio=1.0)
    with pytest.raises(ConfigError, match="test_fraction"):
        temporal_split(ds, test_fraction=0)
    with pytest.raises(ConfigError, match="n must be a positive integer"):
        leave_last_n_out(ds, n=0)
    no_time = Dataset.from_frames(ds.interactions.drop(columns="timestamp"))
    with pytest.raises(DataError, match="timestamp"):
        temporal_split(no_time)


DAY = 86_400


def _basket_log(seed: int, n: int, n_users: int) -> Dataset:
    """Random purchases with orders (one user each, ids with gaps), sessions and days; many ties on purpose."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, n_users, n)
    log = pd.DataFrame(
        {
            "user_id": np.char.add("u", user.astype(str)),
            "item_id": rng.integers(0, 20, n),
            "timestamp": rng.integers(0, 4, n) * DAY + rng.integers(0, 3, n),
            "order_id": user * 1_000 + 3 * rng.integers(0, 3, n),
            "session_id": rng.integers(0, 4, n),  # numbered per user, as some shops do
            "row": np.arange(n),
        }
    )
    return Dataset.from_frames(log)


@settings(max_examples=30, deadline=None)
@given(
    st.builds(_basket_log, st.integers(0, 10_000), st.integers(1, 150), st.integers(1, 12)),
    st.sampled_from(["order", "session", "day"]),
)
def test_next_basket_split_holds_out_each_users_last_basket(ds, by):
    train, test = next_basket_split(ds, by=by)
    _assert_partition(ds, train, test)
    log = ds.interactions
    log = log.assign(basket=log["timestamp"] // DAY if by == "day" else log[f"{by}_id"])
    baskets = log.groupby(["user_id", "basket"])["timestamp"].max().reset_index()
    last = baskets.sort_values(["user_id", "timestamp", "basket"]).groupby("user_id").tail(1)
    last = last[last["user_id"].map(baskets["user_id"].value_counts()) > 1]  # single-basket users stay in train
    expected = log.merge(last[["user_id", "basket"]], on=["user_id", "basket"])["row"]
    assert _rows(test) == set(expected)


def test_next_basket_split_known_answer_for_each_basket():
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "b", "b", "c"],
            "item_id": [1, 2, 3, 4, 1, 5, 9],
            "timestamp": [0, 10, DAY + 5, DAY + 5, 20, 2 * DAY, 7],
            "order_id": [7, 7, 9, 12, 30, 31, 40],  # gaps are fine
            "session_id": [1, 2, 2, 2, 5, 5, 6],
            "row": range(7),
        }
    )
    ds = Dataset.from_frames(log)
    # orders: a's orders 9 and 12 tie on time, the larger key wins; c has a single order
    assert _rows(next_basket_split(ds, by="order")[1]) == {3, 5}
    # sessions: a's session 2 (last row at DAY + 5); b has one session, c too
    assert _rows(next_basket_split(ds, by="session")[1]) == {1, 2, 3}
    # days: a's day 1, b's day 2
    assert _rows(next_basket_split(ds, by="day")[1]) == {2, 3, 5}
    train, test = next_basket_split(ds.with_interactions(log[log["user_id"] == "c"]))
    assert len(test) == 0 and len(train) == 1


def test_next_basket_split_days_are_utc_calendar_days():
    stamps = pd.to_datetime(["2024-03-01 23:30", "2024-03-02 00:30", "2024-03-02 08:00"]).tz_localize("Europe/Berlin")
    log = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [1, 2, 3], "timestamp": stamps, "row": range(3)})
    # in UTC the first two fall on 1 March, the last on 2 March
    assert _rows(next_basket_split(Dataset.from_frames(log), by="day")[1]) == {2}


def test_next_basket_split_on_a_synthetic_shop():
    ds = make_ecommerce(300, 200, 5_000, seed=0)
    log = ds.interactions
    purchases = ds.with_interactions(log[log["event"] == "purchase"])
    train, test = next_basket_split(purchases)
    assert len(train) + len(test) == len(purchases)
    last = purchases.interactions.groupby("user_id")["order_id"].max()
    assert (test.interactions["order_id"] == test.interactions["user_id"].map(last)).all()
    assert test.interactions.groupby("user_id")["order_id"].nunique().max() == 1
    assert set(test.interactions["user_id"]) <= set(train.interactions["user_id"])
    train, test = next_basket_split(ds, by="session")  # every event of the last session
    assert set(test.interactions["event"]) == {"view", "cart", "purchase"}


def test_next_basket_split_bad_input():
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 2],
            "item_id": [1, 2, 3],
            "timestamp": [0, 5, 9],
            "order_id": pd.array([1, None, 2], "Int64"),
        }
    )
    with pytest.raises(ConfigError, match="by must be one of"):
        next_basket_split(Dataset.from_frames(log), by="week")
    columns = r"columns are \['user_id', 'item_id', 'timestamp'\]"
    with pytest.raises(DataError, match=rf"'order_id' is missing.*{columns}.*by='session' or by='day'"):
        next_basket_split(Dataset.from_frames(log.drop(columns="order_id")))
    with pytest.raises(DataError, match=r"'session_id' is missing.*by='day'"):
        next_basket_split(Dataset.from_frames(log), by="session")
    with pytest.raises(DataError, match=r"'order_id' has missing order ids in 1 of 3 rows.*log.event == 'purchase'"):
        next_basket_split(Dataset.from_frames(log))
    shared = r"'order_id' has orders shared by several users in 3 of 3 rows \(e.g. order 1: users 1 and 2\)"
    with pytest.raises(DataError, match=shared):
        next_basket_split(Dataset.from_frames(log.assign(order_id=[1, 1, 1])))
    with pytest.raises(DataError, match="needs a 'timestamp' column"):
        next_basket_split(Dataset.from_frames(log.drop(columns="timestamp")), by="day")
    messages = []
    for bad in [log.drop(columns="order_id"), log, log.assign(order_id=[1, 1, 1]), log.drop(columns="timestamp")]:
        with pytest.raises(DataError) as error:
            next_basket_split(Dataset.from_frames(bad))
        messages.append(str(error.value))
    assert all("\n" not in message for message in messages)


# -- shop exports whose timestamps are order numbers ------------------------------------------
def _order_numbers() -> pd.DataFrame:
    """Order numbers per customer, as a shop exports them: gaps (a: 1, 2, 5; b: 3, 7) and ties
    (several items of one order share its number); rows out of order on purpose."""
    return pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "a", "b", "b", "b", "c", "c"],
            "item_id": [1, 2, 3, 1, 4, 1, 2, 9, 5, 6],
            "timestamp": [5, 1, 2, 5, 1, 7, 3, 7, 1, 1],
            "row": range(10),
        }
    )


def test_next_basket_split_by_timestamp_holds_out_the_highest_order_number():
    ds = Dataset.from_frames(_order_numbers())
    train, test = next_basket_split(ds, by="timestamp")
    _assert_partition(ds, train, test)
    # a's order 5 (rows 0 and 3: one basket), b's order 7 (rows 5 and 7); c has a single order
    assert _rows(test) == {0, 3, 5, 7}
    # read as calendar days every number falls on 1 January 1970: one basket per user, nothing held out
    assert len(next_basket_split(ds, by="day")[1]) == 0


def test_next_basket_split_by_timestamp_on_wall_clock_times_takes_each_distinct_time():
    log = _order_numbers().assign(timestamp=lambda f: 1_700_000_000 + 60 * f["timestamp"])
    assert _rows(next_basket_split(Dataset.from_frames(log), by="timestamp")[1]) == {0, 3, 5, 7}


def test_wall_clock_times_of_one_day_still_make_day_baskets():
    """Real times (2024, and 2 January 1970 in seconds) are never order numbers: baskets stay calendar days."""
    stamps = pd.to_datetime(["2024-03-01 08:00", "2024-03-01 12:00", "2024-03-01 18:00", "2024-03-02 09:00"])
    log = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 3, 4], "timestamp": stamps, "row": range(4)})
    for ds in (Dataset.from_frames(log), Dataset.from_frames(log.assign(timestamp=[DAY, DAY + 60, DAY + 9, 2 * DAY]))):
        assert not ds.has_order_numbers
        assert _rows(next_basket_split(ds, by="day")[1]) == {3}  # user 1's rows share one day: no holdout


def test_single_basket_reason_names_what_a_basket_is():
    one_day = pd.DataFrame(
        {"user_id": [1, 1, 2], "item_id": [1, 2, 3], "timestamp": [1_700_000_000, 1_700_003_600, 1_700_000_100]}
    )
    ds = Dataset.from_frames(one_day)
    assert len(next_basket_split(ds, by="day")[1]) == 0
    assert single_basket_reason(ds, "day") == (
        "no user has two or more baskets: baskets are calendar days (UTC) of the timestamp (the log has no "
        "order_id or session_id column), and every user's timestamps fall on one day; give every row an order_id "
        "(or session_id) saying which basket it belongs to"
    )
    partial = Dataset.from_frames(one_day.assign(order_id=pd.array([7, None, 8], "Int64")))
    assert "('order_id' is missing in 1 of 3 rows)" in single_basket_reason(partial, "day")
    numbered = Dataset.from_frames(one_day.assign(timestamp=[3, 3, 1]))
    assert single_basket_reason(numbered, "day").endswith(
        "; the timestamps look like order numbers (1 to 3): by='timestamp' makes each distinct number of a user a basket"
    )
    assert single_basket_reason(numbered, "timestamp") == (
        "no user has two or more baskets: baskets are a user's distinct timestamps, which look like order numbers "
        "(1 to 3), and every user has a single one"
    )
    orders = Dataset.from_frames(one_day.assign(order_id=[7, 7, 8]))
    assert single_basket_reason(orders, "order") == (
        "no user has two or more baskets: baskets are orders (order_id), and every user has a single order"
    )
    with pytest.raises(ConfigError, match="by must be one of"):
        single_basket_reason(ds, "week")


def test_user_sample_keeps_all_rows_of_a_seeded_sample_of_users():
    ds = _random_log(5, n=300, n_users=20)
    sample = user_sample(ds, 7, seed=3)
    users = sample.interactions["user_id"].unique()
    assert len(users) == 7
    pd.testing.assert_frame_equal(
        sample.interactions, ds.interactions[ds.interactions["user_id"].isin(users)].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(user_sample(ds, 7, seed=3).interactions, sample.interactions)  # seeded
    assert set(user_sample(ds, 7, seed=4).interactions["user_id"]) != set(users)
    assert user_sample(ds, 20, seed=0) is ds  # no more users than asked for: the data itself
    with pytest.raises(ConfigError):
        user_sample(ds, 0)
