"""Id codes for the metrics: every path against pandas.factorize / Index.get_indexer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.evaluation.ids import _GeneralCodes, _IntegerCodes, _ShortStringCodes, factorize_ids


def expected_codes(truth: pd.Series, other: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(truth)
    return codes, pd.Index(uniques).get_indexer(other.astype(object)) if len(other) else np.zeros(0, np.int64)


def check(truth: pd.Series, other: pd.Series, path: type) -> None:
    ids = factorize_ids(truth)
    assert type(ids) is path
    want_codes, want_lookup = expected_codes(truth, other)
    np.testing.assert_array_equal(ids.codes, want_codes)
    np.testing.assert_array_equal(ids.lookup(other), want_lookup)
    assert ids.n == len(pd.unique(truth))
    assert ids.uniques().tolist() == pd.unique(truth).tolist()


TRICKY = [
    "",  # empty
    "a",
    "a\x00",  # differs from "a" only by a trailing NUL byte
    "abcdefgh",  # exactly one word
    "abcdefghX",  # differs after the first word
    "abcdefghY",
    "0123456789abcdef",  # exactly 16 bytes
    "0123456789abcdeF",
    "ünïcödé",  # multi-byte characters
    "商品-42",
    "SKU-000123",
]


def test_short_strings_including_edge_cases():
    truth = pd.Series(TRICKY * 3, dtype="str").sample(frac=1.0, random_state=0).reset_index(drop=True)
    other = pd.Series(TRICKY[::-1] + ["not there", "a\x00\x00", "abcdefgh" * 3], dtype="str")
    check(truth, other, _ShortStringCodes)


def test_many_distinct_strings_grow_the_table():
    truth = pd.Series([f"item-{i % 5000}" for i in range(20_000)], dtype="str")
    other = pd.Series([f"item-{i}" for i in range(4_990, 5_010)] * 3, dtype="str")
    check(truth, other, _ShortStringCodes)


def test_sliced_and_chunked_arrow_columns():
    first = pd.Series(["x", "y", "z", "y"], dtype="str")
    chunked = pd.concat([first, pd.Series(["w", "x"], dtype="str")], ignore_index=True)
    assert chunked.array.__arrow_array__().num_chunks == 2
    check(chunked, first.iloc[1:], _ShortStringCodes)  # the lookup reads a sliced array (offset 1)
    check(chunked.iloc[2:], chunked, _ShortStringCodes)


def test_longer_strings_and_object_columns_take_the_general_path():
    uuids = pd.Series(["1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6fa459ea-ee8a-3ca4-894e-db77e160355e"] * 2, dtype="str")
    check(uuids, uuids.iloc[::-1], _GeneralCodes)
    check(pd.Series(["a", "b", "a"], dtype=object), pd.Series(["b", "c"], dtype=object), _GeneralCodes)


def test_lookup_of_long_missing_or_other_typed_ids_is_minus_one():
    ids = factorize_ids(pd.Series(["a", "b"], dtype="str"))
    other = pd.Series(["b", None, "a" * 40, "a"], dtype="str")
    assert ids.lookup(other).tolist() == [1, -1, -1, 0]
    assert ids.lookup(pd.Series([1, 2])).tolist() == [-1, -1]
    assert ids.lookup(pd.Series(["a", "b"], dtype=pd.ArrowDtype(pa.string()))).tolist() == [0, 1]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint32, np.int8])
def test_integer_ids_of_every_width(dtype):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 100, size=500).astype(dtype)
    check(pd.Series(values), pd.Series(np.r_[values[:50], np.array([101, 120], dtype=dtype)]), _IntegerCodes)


def test_large_negative_and_repeated_integer_ids():
    truth = pd.Series(np.array([-(2**63), 2**63 - 1, -1, 0, -1, 7] * 50, dtype=np.int64))
    other = pd.Series(np.array([7, 7, 7, -1, 5, 2**63 - 1, 2**63 - 1], dtype=np.int64))
    check(truth, other, _IntegerCodes)
    assert factorize_ids(truth).lookup(pd.Series(["7"])).tolist() == [-1]
    uint64 = pd.Series(np.array([2**64 - 1, 3], dtype=np.uint64))
    check(uint64, uint64, _GeneralCodes)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(max_size=20), min_size=1, max_size=60),
    st.lists(st.text(max_size=20), max_size=30),
)
def test_any_strings_match_pandas(truth_values, other_values):
    truth = pd.Series(truth_values, dtype="str")
    other = pd.Series(other_values + truth_values[:5], dtype="str")
    ids = factorize_ids(truth)
    want_codes, want_lookup = expected_codes(truth, other)
    np.testing.assert_array_equal(ids.codes, want_codes)
    np.testing.assert_array_equal(ids.lookup(other), want_lookup)
    assert ids.uniques().tolist() == pd.unique(truth).tolist()
