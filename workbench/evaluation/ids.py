"""Map id columns to dense codes once, for the metrics.

:func:`factorize_ids` gives the values of a truth column codes 0..n-1 in order
of first appearance; ``lookup`` gives other values the same codes (-1 for an id
outside the truth). Three paths, chosen by the column's type:

- integer ids: an open-addressing hash table in compiled code;
- Arrow-backed strings of at most 16 bytes (SKUs, user names): compared as
  their length and two machine words, read straight from the Arrow buffers,
  in compiled code that releases the GIL;
- anything else: ``pandas.factorize``.

Lookups reuse the previous row's code when the id repeats, as it does down a
recommendation frame (one user's rows together).

Why a compiled module for something pandas does: ``evaluate`` runs in every
notebook, every tuning trial and every split seed of every benchmark, and
most of its time is matching ids. On 100,000 users (1.5M truth rows, 1M list
rows, int64 users, string SKUs) it takes 66 ms against 548 ms for the plain
pandas merge and groupby of the same six metrics (8.2x;
``benchmarks/evaluate_speed.py``), and coding the ids is a large part of that (the split is
not recorded): ``pandas.factorize`` hashes strings as Python objects. The rest of the
package sees one small interface, ``factorize_ids(values) -> IdCodes``
(``codes``, ``n``, ``lookup``, ``uniques``), and ``tests/evaluation/test_ids.py``
holds every path to ``pandas.factorize``'s answers. If a path ever breaks,
returning ``_GeneralCodes`` alone gives identical results, only slower.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

SHORT_STRING_BYTES = 16
_EMPTY_MASK = np.zeros(0, np.bool_)


# -- integers -------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, inline="always")
def _home_slot(key: np.uint64, bits: int) -> np.int64:
    return np.int64((key * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True, inline="always")
def _int_slot(table: np.ndarray, bits: int, value: np.int64) -> np.int64:
    """The slot of ``value`` in a table of (key, code) pairs, or the empty slot where it belongs."""
    mask = (1 << bits) - 1
    slot = _home_slot(np.uint64(value), bits)
    while table[2 * slot + 1] != -1 and table[2 * slot] != value:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True, nogil=True)
def _int_table(uniques: np.ndarray, n_unique: int, bits: int) -> np.ndarray:
    table = np.full(2 << bits, -1, np.int64)
    for code in range(n_unique):
        slot = _int_slot(table, bits, uniques[code])
        table[2 * slot], table[2 * slot + 1] = uniques[code], code
    return table


@numba.njit(cache=True, nogil=True)
def _factorize_int64(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Codes in order of first appearance, the distinct values, and the hash table with its size in bits.

    The table keeps each key beside its code (one cache line per probe) and doubles when half full.
    """
    bits = 10
    table = np.full(2 << bits, -1, np.int64)
    codes = np.empty(len(values), np.int64)
    uniques = np.empty(len(values), np.int64)
    n_unique = 0
    for row in range(len(values)):
        slot = _int_slot(table, bits, values[row])
        code = table[2 * slot + 1]
        if code == -1:
            code = n_unique
            table[2 * slot], table[2 * slot + 1] = values[row], code
            uniques[code] = values[row]
            n_unique += 1
            if 2 * n_unique > (1 << bits):
                bits += 1
                table = _int_table(uniques, n_unique, bits)
        codes[row] = code
    return codes, uniques[:n_unique].copy(), table, bits


@numba.njit(cache=True, nogil=True)
def _lookup_int64(table: np.ndarray, bits: int, values: np.ndarray) -> np.ndarray:
    codes = np.empty(len(values), np.int64)
    for row in range(len(values)):
        if row > 0 and values[row] == values[row - 1]:
            codes[row] = codes[row - 1]
        else:
            codes[row] = table[2 * _int_slot(table, bits, values[row]) + 1]
    return codes


def _integer_ids(values: pd.Series) -> np.ndarray | None:
    """The ids as int64 when they are signed integers or unsigned ones below 2**63, else None."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and (dtype.kind == "i" or (dtype.kind == "u" and dtype.itemsize < 8)):
        return values.to_numpy().astype(np.int64, copy=False)
    return None


# -- short strings -----------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, inline="always")
def _word(words: np.ndarray, position: np.int64) -> np.uint64:
    """The 8 bytes from byte ``position`` (little endian) of a zero-padded word array."""
    index = position >> 3
    shift = np.uint64(position & 7) << np.uint64(3)
    return (words[index] >> shift) | ((words[index + 1] << (np.uint64(63) - shift)) << np.uint64(1))


@numba.njit(cache=True, nogil=True, inline="always")
def _head(words: np.ndarray, start: np.int64, end: np.int64) -> tuple[np.uint64, np.uint64]:
    """Bytes start..end (at most 16) as two words, zero beyond the end."""
    length = end - start
    first, second = _word(words, start), _word(words, start + 8)
    if length < 8:
        first &= (np.uint64(1) << np.uint64(length << 3)) - np.uint64(1)
    if length <= 8:
        second = np.uint64(0)
    elif length < 16:
        second &= (np.uint64(1) << np.uint64((length - 8) << 3)) - np.uint64(1)
    return first, second


@numba.njit(cache=True, nogil=True, inline="always")
def _string_slot(first: np.uint64, second: np.uint64, length: np.int64, bits: int) -> np.int64:
    mixed = (first * np.uint64(0x9E3779B97F4A7C15)) ^ (second * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(length)
    return np.int64((mixed * np.uint64(0xBF58476D1CE4E5B9)) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True, inline="always")
def _string_slot_of(
    slots: np.ndarray,
    bits: int,
    heads: tuple[np.ndarray, np.ndarray, np.ndarray],
    first: np.uint64,
    second: np.uint64,
    length: np.int64,
) -> np.int64:
    """The slot of this string's code, or the empty slot where it belongs; ``heads`` holds each
    code's two words and length."""
    firsts, seconds, lengths = heads
    mask = (1 << bits) - 1
    slot = _string_slot(first, second, length, bits)
    while True:
        code = slots[slot]
        if code == -1 or (firsts[code] == first and seconds[code] == second and lengths[code] == length):
            return slot
        slot = (slot + 1) & mask


@numba.njit(cache=True, nogil=True)
def _string_table(heads: tuple[np.ndarray, np.ndarray, np.ndarray], n_unique: int, bits: int) -> np.ndarray:
    slots = np.full(1 << bits, -1, np.int32)
    firsts, seconds, lengths = heads
    for code in range(n_unique):
        slots[_string_slot_of(slots, bits, heads, firsts[code], seconds[code], lengths[code])] = code
    return slots


@numba.njit(cache=True, nogil=True)
def _factorize_short_strings(
    offsets: np.ndarray, words: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, int, bool]:
    """Codes of strings of at most 16 bytes in order of first appearance; each code's first row;
    the heads (each code's two words and length), the slot table and its bits; and False (with
    partial results) as soon as a string is longer."""
    n = len(offsets) - 1
    bits = 10
    slots = np.full(1 << bits, -1, np.int32)
    heads = (np.empty(n, np.uint64), np.empty(n, np.uint64), np.empty(n, np.int64))
    first_rows = np.empty(n, np.int64)
    codes = np.empty(n, np.int64)
    n_unique = 0
    for row in range(n):
        start, end = offsets[row], offsets[row + 1]
        if end - start > SHORT_STRING_BYTES:
            return codes, first_rows, heads, slots, bits, False
        first, second = _head(words, start, end)
        slot = _string_slot_of(slots, bits, heads, first, second, end - start)
        code = slots[slot]
        if code == -1:
            code = n_unique
            slots[slot] = code
            heads[0][code], heads[1][code], heads[2][code], first_rows[code] = first, second, end - start, row
            n_unique += 1
            if 2 * n_unique > (1 << bits):
                bits += 1
                slots = _string_table(heads, n_unique, bits)
        codes[row] = code
    heads = (heads[0][:n_unique].copy(), heads[1][:n_unique].copy(), heads[2][:n_unique].copy())
    return codes, first_rows[:n_unique].copy(), heads, slots, bits, True


@numba.njit(cache=True, nogil=True)
def _lookup_short_strings(
    offsets: np.ndarray,
    words: np.ndarray,
    nulls: np.ndarray,
    slots: np.ndarray,
    bits: int,
    heads: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    codes = np.empty(len(offsets) - 1, np.int64)
    previous = (np.uint64(0), np.uint64(0), np.int64(-1))
    for row in range(len(codes)):
        start, end = offsets[row], offsets[row + 1]
        if (len(nulls) and nulls[row]) or end - start > SHORT_STRING_BYTES:
            codes[row] = -1
            previous = (np.uint64(0), np.uint64(0), np.int64(-1))
            continue
        first, second = _head(words, start, end)
        if (first, second, end - start) == previous:
            codes[row] = codes[row - 1]
            continue
        previous = (first, second, end - start)
        codes[row] = slots[_string_slot_of(slots, bits, heads, first, second, end - start)]
    return codes


def _arrow_strings(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(offsets, bytes as zero-padded uint64 words, null mask) of an Arrow-backed string column, else None."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    chunked = values.array.__arrow_array__()
    array = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    if pa.types.is_large_string(array.type):
        offset_type = np.int64
    elif pa.types.is_string(array.type):
        offset_type = np.int32
    else:
        return None
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, offset_type)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    words = np.zeros(len(data) // 8 + 3, np.uint64)
    words.view(np.uint8)[: len(data)] = data
    nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else _EMPTY_MASK
    return offsets.astype(np.int64, copy=False), words, nulls


# -- the three paths behind one interface ------------------------------------------------------------
class IdCodes:
    """Codes of a truth id column (``codes``, ``n`` distinct); ``lookup`` codes other ids alike."""

    codes: np.ndarray
    n: int

    def lookup(self, values: pd.Series) -> np.ndarray:
        """Codes of ``values``: the truth code of each id, -1 for an id outside the truth (or missing)."""
        raise NotImplementedError

    def uniques(self) -> pd.Index:
        """The distinct truth ids, in code order."""
        raise NotImplementedError


class _IntegerCodes(IdCodes):
    def __init__(self, values: pd.Series, ints: np.ndarray) -> None:
        self.codes, self._uniques, self._table, self._bits = _factorize_int64(ints)
        self.n = len(self._uniques)
        self._dtype = values.dtype

    def lookup(self, values: pd.Series) -> np.ndarray:
        ints = _integer_ids(values)
        if ints is None:
            return _GeneralCodes.map_to(self.uniques(), values)
        return _lookup_int64(self._table, self._bits, ints)

    def uniques(self) -> pd.Index:
        return pd.Index(self._uniques.astype(self._dtype))


class _ShortStringCodes(IdCodes):
    def __init__(self, values: pd.Series, codes: np.ndarray, first_rows: np.ndarray, table: tuple) -> None:
        self.codes, self.n = codes, len(first_rows)
        self._values, self._first_rows, self._table = values, first_rows, table

    def lookup(self, values: pd.Series) -> np.ndarray:
        strings = _arrow_strings(values)
        if strings is None:
            return _GeneralCodes.map_to(self.uniques(), values)
        return _lookup_short_strings(*strings, *self._table)

    def uniques(self) -> pd.Index:
        return pd.Index(self._values.iloc[self._first_rows].to_numpy(), dtype=self._values.dtype)


class _GeneralCodes(IdCodes):
    def __init__(self, values: pd.Series) -> None:
        self.codes, self._uniques = pd.factorize(values)
        self.n = len(self._uniques)

    @staticmethod
    def map_to(uniques: pd.Index, values: pd.Series) -> np.ndarray:
        """Positions of ``values`` in ``uniques`` (-1 if absent), each distinct value looked up once."""
        codes, distinct = pd.factorize(values)
        return np.append(pd.Index(uniques).get_indexer(distinct), -1)[codes]

    def lookup(self, values: pd.Series) -> np.ndarray:
        return self.map_to(self.uniques(), values)

    def uniques(self) -> pd.Index:
        return pd.Index(self._uniques)


def factorize_ids(values: pd.Series) -> IdCodes:
    """Codes 0..n-1 of an id column without missing values, in order of first appearance.

    >>> ids = factorize_ids(pd.Series(["b", "a", "b"], dtype="str"))
    >>> ids.codes.tolist(), ids.lookup(pd.Series(["a", "z"], dtype="str")).tolist()
    ([0, 1, 0], [1, -1])
    """
    ints = _integer_ids(values)
    if ints is not None:
        return _IntegerCodes(values, ints)
    strings = _arrow_strings(values)
    if strings is not None and len(strings[2]) == 0:
        codes, first_rows, heads, slots, bits, short = _factorize_short_strings(*strings[:2])
        if short:
            return _ShortStringCodes(values, codes, first_rows, (slots, bits, heads))
    return _GeneralCodes(values)
