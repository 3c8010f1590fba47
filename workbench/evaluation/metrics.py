"""Vectorized ranking metrics with binary relevance.

Ids are mapped once: plain integer ids hash in compiled code, other ids are
factorized by pandas (each distinct recommended item is then looked up once;
the users of ``recs`` once per run of rows). Compiled code groups the truth
rows by user (a counting sort, in the order the users' recommendation blocks
come), counts each user's distinct relevant items with a marker array and
scores that user's block: no sort of the truth keys, no per-user Python loop,
and no reordering of ``recs`` when each user's rows are together and in rank
order, as ``recommend`` returns them. The compiled grouping runs in a second
thread while pandas maps the item ids, and the scoring is split in two halves.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import DataError

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")


def _truth_frame(truth: pd.DataFrame | Dataset) -> pd.DataFrame:
    frame = truth.interactions if isinstance(truth, Dataset) else truth
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"truth: expected a DataFrame or Dataset, got {type(truth).__name__}")
    missing = [c for c in (C.USER, C.ITEM) if c not in frame.columns]
    if missing:
        raise DataError(f"truth: required column '{missing[0]}' is missing")
    if len(frame) == 0:
        raise DataError("truth: no rows, so there is nothing to evaluate")
    for column in (C.USER, C.ITEM):
        n_missing = int(frame[column].isna().sum())
        if n_missing:
            raise DataError(f"truth: column '{column}' has {n_missing:,} missing values")
    return frame


def _check_recs(recs: pd.DataFrame) -> None:
    if not isinstance(recs, pd.DataFrame):
        raise DataError(f"recommendations: expected a DataFrame, got {type(recs).__name__}")
    missing = [c for c in (C.USER, C.ITEM) if c not in recs.columns]
    if missing:
        raise DataError(f"recommendations: required column '{missing[0]}' is missing")


@numba.njit(cache=True, nogil=True, inline="always")
def _home_slot(key: np.int64, bits: int) -> np.int64:
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True, inline="always")
def _lookup(table: np.ndarray, bits: int, key: np.int64) -> np.int64:
    """Code of ``key`` in an open-addressing table of (key, code) pairs, or -1."""
    mask = (1 << bits) - 1
    slot = _home_slot(key, bits)
    while True:
        code = table[2 * slot + 1]
        if code == -1 or table[2 * slot] == key:
            return code
        slot = (slot + 1) & mask


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
        value = values[row]
        mask = (1 << bits) - 1
        slot = _home_slot(value, bits)
        while table[2 * slot + 1] != -1 and table[2 * slot] != value:
            slot = (slot + 1) & mask
        code = table[2 * slot + 1]
        if code == -1:
            code = n_unique
            table[2 * slot] = value
            table[2 * slot + 1] = code
            uniques[code] = value
            n_unique += 1
            if 2 * n_unique > (1 << bits):
                bits += 1
                table = np.full(2 << bits, -1, np.int64)
                mask = (1 << bits) - 1
                for known in range(n_unique):
                    slot = _home_slot(uniques[known], bits)
                    while table[2 * slot + 1] != -1:
                        slot = (slot + 1) & mask
                    table[2 * slot] = uniques[known]
                    table[2 * slot + 1] = known
        codes[row] = code
    return codes, uniques[:n_unique].copy(), table, bits


NOT_GROUPED = 1  # a user's recommendation rows are split, or out of rank order
BAD_RANK = 2  # a rank below 1 or missing


@numba.njit(cache=True, nogil=True)
def _group_by_user(
    truth_keys: np.ndarray, rec_keys: np.ndarray, rec_ranks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Users and their rows, in the order users are visited while scoring.

    Returns the distinct truth keys (in order of first appearance), each user's visiting
    position, the truth rows grouped by visiting position (``rows[indptr[p]:indptr[p + 1]]``),
    the recommendation block of each position (``block_start[p]:block_end[p]``, for the first
    ``n_blocks`` positions: users with recommendations come first, in the order of their blocks,
    so recommendations and truth are both read front to back), and a status: ``NOT_GROUPED``
    when a user's recommendation rows are split, ``BAD_RANK`` for a rank below 1 of a user
    outside the truth.
    """
    truth_users, user_keys, table, bits = _factorize_int64(truth_keys)
    n_users = len(user_keys)
    position = np.full(n_users, -1, np.int64)
    block_start = np.zeros(n_users, np.int64)
    block_end = np.zeros(n_users, np.int64)
    indptr = np.zeros(n_users + 1, np.int64)
    rows = np.zeros(0, np.int64)  # until every block is known
    n_blocks = 0
    start = 0
    while start < len(rec_keys):
        key = rec_keys[start]
        end = start + 1
        while end < len(rec_keys) and rec_keys[end] == key:
            end += 1
        u = _lookup(table, bits, key)
        if u >= 0:
            if position[u] >= 0:
                return user_keys, position, indptr, rows, block_start, block_end, n_blocks, NOT_GROUPED
            position[u] = n_blocks
            block_start[n_blocks] = start
            block_end[n_blocks] = end
            n_blocks += 1
        elif len(rec_ranks):
            for row in range(start, end):
                if not rec_ranks[row] >= 1.0:
                    return user_keys, position, indptr, rows, block_start, block_end, n_blocks, BAD_RANK
        start = end
    n_visited = n_blocks
    for u in range(n_users):
        if position[u] < 0:
            position[u] = n_visited
            n_visited += 1

    rows = np.empty(len(truth_keys), np.int64)
    for u in truth_users:
        indptr[position[u] + 1] += 1
    for p in range(n_users):
        indptr[p + 1] += indptr[p]
    fill = indptr[:-1].copy()
    for row in range(len(truth_users)):
        p = position[truth_users[row]]
        rows[fill[p]] = row
        fill[p] += 1
    return user_keys, position, indptr, rows, block_start, block_end, n_blocks, 0


@numba.njit(cache=True, nogil=True)
def _score_positions(
    first: int,
    last: int,
    items_by_position: np.ndarray,
    n_items: int,
    indptr: np.ndarray,
    block_start: np.ndarray,
    block_end: np.ndarray,
    n_blocks: int,
    rec_items: np.ndarray,
    rec_ranks: np.ndarray,
    k: int,
    sums: np.ndarray,
) -> int:
    """Fill ``sums[:, p]`` for the visiting positions ``first <= p < last`` (see :func:`_group_by_user`):
    distinct relevant items, hits, DCG, sum of precision at hits, reciprocal rank. Position p's
    truth items are ``items_by_position[indptr[p]:indptr[p + 1]]``.

    Returns a status: ``NOT_GROUPED`` when a block is out of rank order (``rec_ranks``, or the
    row order when it is empty), ``BAD_RANK`` for a rank below 1; ``sums`` is then incomplete.
    Disjoint ranges can be scored at the same time.
    """
    discount = 1.0 / np.log2(np.arange(2.0, k + 2.0))
    marker = np.full(n_items, -1, np.int64)
    relevant, hits, dcg, precision_sum, reciprocal_rank = sums[0], sums[1], sums[2], sums[3], sums[4]
    has_ranks = len(rec_ranks) > 0
    for p in range(first, last):
        for j in range(indptr[p], indptr[p + 1]):
            item = items_by_position[j]
            if marker[item] != p:
                marker[item] = p
                relevant[p] += 1.0
        if p >= n_blocks:
            continue
        previous = 0.0
        for row in range(block_start[p], block_end[p]):
            rank = rec_ranks[row] if has_ranks else np.float64(row - block_start[p] + 1)
            if not rank >= 1.0:
                return BAD_RANK
            if rank < previous:
                return NOT_GROUPED
            previous = rank
            item = rec_items[row]
            if rank <= k and item >= 0 and marker[item] == p:
                marker[item] = -2  # an item repeated in the recommendations hits once
                hits[p] += 1.0
                whole = np.int64(rank)
                dcg[p] += discount[whole - 1] if whole == rank else 1.0 / np.log2(rank + 1.0)
                precision_sum[p] += hits[p] / rank
                if hits[p] == 1.0:
                    reciprocal_rank[p] = 1.0 / rank
    return 0


@numba.njit(cache=True, nogil=True)
def _take(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return values[rows]


@numba.njit(cache=True, nogil=True)
def _lookup_all(table: np.ndarray, bits: int, keys: np.ndarray) -> np.ndarray:
    codes = np.empty(len(keys), np.int64)
    for row in range(len(keys)):
        codes[row] = _lookup(table, bits, keys[row])
    return codes


def _integer_ids(values: pd.Series) -> np.ndarray | None:
    """The ids as int64 when they are signed integers or unsigned ones below 2**63, else None."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and (dtype.kind == "i" or (dtype.kind == "u" and dtype.itemsize < 8)):
        return values.to_numpy().astype(np.int64, copy=False)
    return None


def _user_keys(truth_users: pd.Series, rec_users: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """int64 keys for both columns, equal where the ids are equal, and the truth ids behind the keys
    0, 1, ... (None when the ids are plain integers and so their own keys). Other ids are factorized
    with pandas; the recommendation ids are looked up once per run of equal values, as
    ``recommend`` returns each user's rows together."""
    truth_ints, rec_ints = _integer_ids(truth_users), _integer_ids(rec_users)
    if truth_ints is not None and rec_ints is not None:
        return truth_ints, rec_ints, None
    truth_keys, uniques = pd.factorize(truth_users)
    starts = np.flatnonzero(rec_users.ne(rec_users.shift()).to_numpy())
    run_keys = pd.Index(uniques).get_indexer(rec_users.iloc[starts])
    rec_keys = np.repeat(run_keys.astype(np.int64), np.diff(np.r_[starts, len(rec_users)]))
    return truth_keys.astype(np.int64), rec_keys, pd.Index(uniques)


def _truth_item_codes(truth_items: pd.Series) -> tuple[np.ndarray, int, Callable[[pd.Series], np.ndarray]]:
    """Codes 0..n-1 of the truth items (n distinct), n, and a function that gives other item ids
    the same codes (-1 for an item outside the truth)."""
    truth_ints = _integer_ids(truth_items)
    if truth_ints is not None:
        codes, uniques, table, bits = _factorize_int64(truth_ints)

        def lookup(items: pd.Series) -> np.ndarray:
            ints = _integer_ids(items)
            return _lookup_all(table, bits, ints) if ints is not None else pd.Index(uniques).get_indexer(items)

    else:
        codes, uniques = pd.factorize(truth_items)

        def lookup(items: pd.Series) -> np.ndarray:
            item_codes, item_uniques = pd.factorize(items)  # each distinct id is looked up once
            return np.append(pd.Index(uniques).get_indexer(item_uniques), -1)[item_codes]

    return codes, len(uniques), lookup


def _ranks(recs: pd.DataFrame) -> np.ndarray:
    """The rank column as float64, or an empty array when the row order is the rank order."""
    if C.RANK not in recs.columns:
        return np.zeros(0)
    try:
        return recs[C.RANK].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"recommendations: column 'rank' must be numeric, got {recs[C.RANK].dtype}") from None


def _score(
    background: ThreadPoolExecutor,
    grouped: tuple,
    items_by_position: np.ndarray,
    n_items: int,
    rec_items: np.ndarray,
    ranks: np.ndarray,
    k: int,
) -> tuple[np.ndarray, int]:
    """The per-user sums (rows of :func:`_score_positions`, columns in truth-user order) and a status.

    The truth rows are split in two halves scored at once, one of them in ``background``.
    """
    user_keys, position, indptr, _, *blocks, status = grouped
    sums = np.zeros((5, len(user_keys)))
    if status:
        return sums, status
    middle = int(np.searchsorted(indptr, indptr[-1] // 2))
    arguments = (items_by_position, n_items, indptr, *blocks, rec_items, ranks, k, sums)
    second = background.submit(_score_positions, middle, len(indptr) - 1, *arguments)
    status = max(_score_positions(0, middle, *arguments), second.result())
    return sums[:, position], status


def per_user_metrics(recs: pd.DataFrame, truth: pd.DataFrame | Dataset, *, k: int = 10) -> pd.DataFrame:
    """One row per truth user (indexed by ``user_id``, in order of first appearance in ``truth``)
    with every metric at ``k``.

    ``recs`` needs user_id and item_id, and ``rank`` (1 = best) unless its rows
    are already in rank order per user. A pair repeated in ``truth`` is one
    relevant item; a truth user without recommendations scores 0.

    >>> recs = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "rank": [1, 2]})
    >>> per_user_metrics(recs, pd.DataFrame({"user_id": [1], "item_id": ["b"]}), k=2)["mrr"].tolist()
    [0.5]
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise DataError(f"k must be a positive integer, got {k!r}")
    truth_frame = _truth_frame(truth)
    _check_recs(recs)
    truth_keys, rec_keys, truth_ids = _user_keys(truth_frame[C.USER], recs[C.USER])
    ranks = _ranks(recs)
    with ThreadPoolExecutor(max_workers=1) as background:  # compiled code runs beside pandas
        grouping = background.submit(_group_by_user, truth_keys, rec_keys, ranks)
        truth_items, n_items, item_codes = _truth_item_codes(truth_frame[C.ITEM])
        laying_out = background.submit(lambda: _take(truth_items, grouping.result()[3]))
        rec_items = item_codes(recs[C.ITEM])
        grouped, items_by_position = grouping.result(), laying_out.result()
        sums, status = _score(background, grouped, items_by_position, n_items, rec_items, ranks, k)
        if status == NOT_GROUPED:  # a user's rows are split or out of rank order: sort them, then score
            order = np.lexsort((ranks, rec_keys)) if len(ranks) else np.argsort(rec_keys, kind="stable")
            ranks, rec_keys, rec_items = (ranks[order] if len(ranks) else ranks), rec_keys[order], rec_items[order]
            grouped = _group_by_user(truth_keys, rec_keys, ranks)
            sums, status = _score(background, grouped, _take(truth_items, grouped[3]), n_items, rec_items, ranks, k)
    if status == BAD_RANK:
        raise DataError("recommendations: column 'rank' must hold ranks 1, 2, ... (found values below 1 or missing)")
    relevant, hits, dcg, precision_sum, reciprocal_rank = sums
    user_keys = grouped[0]
    user_index = truth_ids if truth_ids is not None else pd.Index(user_keys.astype(truth_frame[C.USER].dtype))
    ideal_lengths = np.minimum(relevant, k).astype(np.int64)
    ideal_cumulative = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, ideal_lengths.max() + 2)))]
    return pd.DataFrame(
        {
            "precision": hits / k,
            "recall": hits / relevant,
            "ndcg": dcg / ideal_cumulative[ideal_lengths],
            "map": precision_sum / ideal_lengths,
            "hit_rate": (hits > 0).astype(np.float64),
            "mrr": reciprocal_rank,
        },
        index=user_index.rename(C.USER),
    )
