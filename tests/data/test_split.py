"""Splits: no leak (each row on exactly one side), per-user ratios, time order, cold users, seeds."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.data import Dataset
from workbench.data.split import cold_user_split, leave_last_n_out, stratified_split, temporal_split
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
    log = pd.DataFrame(
        {"user_id": ["a", "a", "a", "b", "b"], "item_id": [1, 2, 3, 1, 2], "timestamp": [5, 1, 3, 2, 4]}
    )
    ds = Dataset.from_frames(log)
    train, test = temporal_split(ds, test_fraction=0.4)
    assert sorted(test.interactions["timestamp"]) == [4, 5]
    train, test = leave_last_n_out(ds, n=1)
    assert sorted(zip(test.interactions["user_id"], test.interactions["item_id"])) == [("a", 1), ("b", 2)]


def test_bad_arguments():
    ds = _random_log(0)
    with pytest.raises(ConfigError, match="ratio"):
        stratified_split(ds, ratio=1.0)
    with pytest.raises(ConfigError, match="test_fraction"):
        temporal_split(ds, test_fraction=0)
    with pytest.raises(ConfigError, match="n must be at least 1"):
        leave_last_n_out(ds, n=0)
    no_time = Dataset.from_frames(ds.interactions.drop(columns="timestamp"))
    with pytest.raises(DataError, match="timestamp"):
        temporal_split(no_time)
