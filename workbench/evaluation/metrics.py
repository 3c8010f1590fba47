"""Vectorized ranking metrics with binary relevance.

Ids are hashed once (users of ``truth``, items of ``truth`` and ``recs`` together;
the users of ``recs`` once per block of rows). One compiled pass over the truth
pairs, grouped by user, then counts the distinct relevant items with a marker
array and scores every block of recommendations: no sort of the truth keys and
no per-user Python loop.
"""

from __future__ import annotations

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


@numba.njit(cache=True, nogil=True)
def _per_user_sums(
    truth_users: np.ndarray,
    truth_items: np.ndarray,
    n_users: int,
    n_items: int,
    block_start: np.ndarray,
    block_end: np.ndarray,
    rec_items: np.ndarray,
    rec_ranks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per user: distinct relevant items, hits, DCG, sum of precision at hits, reciprocal rank.

    ``block_start[u]:block_end[u]`` are user u's recommendation rows, in rank order.
    """
    indptr = np.zeros(n_users + 1, np.int64)
    for u in truth_users:
        indptr[u + 1] += 1
    for u in range(n_users):
        indptr[u + 1] += indptr[u]
    fill = indptr[:-1].copy()
    items = np.empty(len(truth_items), np.int64)
    for row in range(len(truth_users)):
        u = truth_users[row]
        items[fill[u]] = truth_items[row]
        fill[u] += 1

    marker = np.full(n_items, -1, np.int64)
    relevant = np.zeros(n_users)
    hits = np.zeros(n_users)
    dcg = np.zeros(n_users)
    precision_sum = np.zeros(n_users)
    reciprocal_rank = np.zeros(n_users)
    for u in range(n_users):
        for j in range(indptr[u], indptr[u + 1]):
            if marker[items[j]] != u:
                marker[items[j]] = u
                relevant[u] += 1.0
        for row in range(block_start[u], block_end[u]):
            item = rec_items[row]
            if item >= 0 and marker[item] == u:
                marker[item] = -2  # an item repeated in the recommendations hits once
                rank = rec_ranks[row]
                hits[u] += 1.0
                dcg[u] += 1.0 / np.log2(rank + 1.0)
                precision_sum[u] += hits[u] / rank
                if hits[u] == 1.0:
                    reciprocal_rank[u] = 1.0 / rank
    return relevant, hits, dcg, precision_sum, reciprocal_rank


@numba.njit(cache=True, nogil=True)
def _hash_slot(value: np.int64, shift: np.uint64) -> np.int64:
    return np.int64((np.uint64(value) * np.uint64(0x9E3779B97F4A7C15)) >> shift)


@numba.njit(cache=True, nogil=True)
def _factorize_int64(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in order of first appearance and the distinct values, by open addressing.

    The table doubles when half full, so it stays as small as the distinct values need.
    """
    bits = 10
    slots = np.full(1 << bits, -1, np.int64)
    codes = np.empty(len(values), np.int64)
    uniques = np.empty(len(values), np.int64)
    n_unique = 0
    for row in range(len(values)):
        value = values[row]
        mask = len(slots) - 1
        slot = _hash_slot(value, np.uint64(64 - bits))
        while True:
            code = slots[slot]
            if code == -1:
                slots[slot] = n_unique
                uniques[n_unique] = value
                codes[row] = n_unique
                n_unique += 1
                break
            if uniques[code] == value:
                codes[row] = code
                break
            slot = (slot + 1) & mask
        if 2 * n_unique > len(slots):
            bits += 1
            slots = np.full(1 << bits, -1, np.int64)
            mask = len(slots) - 1
            for code in range(n_unique):
                slot = _hash_slot(uniques[code], np.uint64(64 - bits))
                while slots[slot] != -1:
                    slot = (slot + 1) & mask
                slots[slot] = code
    return codes, uniques[:n_unique].copy()


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """pd.factorize, with a compiled hash for plain int64 ids (the common case of customer numbers)."""
    if values.dtype == np.int64:
        codes, uniques = _factorize_int64(values.to_numpy())
        return codes, pd.Index(uniques)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _rec_codes(recs: pd.DataFrame, user_index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Truth-user code of every recommendation row (-1 if not a truth user) and a row order that
    groups rows by user, keeping row order within a user. When each user's rows are contiguous
    (as ``recommend`` returns them), ids are looked up once per user, not once per row."""
    users = recs[C.USER]
    if isinstance(users.dtype, np.dtype) and users.dtype != object:
        values = users.to_numpy()
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    else:
        starts = np.flatnonzero(users.ne(users.shift()).to_numpy())
    block_users = users.iloc[starts]
    if block_users.is_unique:
        lengths = np.diff(np.r_[starts, len(users)])
        return np.repeat(user_index.get_indexer(block_users), lengths), np.arange(len(users))
    codes = user_index.get_indexer(users)
    return codes, np.argsort(codes, kind="stable")


def _block_starts(codes: np.ndarray) -> np.ndarray:
    """Positions where a run of equal consecutive codes begins."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.int64)


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
    truth_users, user_index = _factorize(truth_frame[C.USER])
    n_users = len(user_index)
    item_codes, item_index = _factorize(pd.concat([truth_frame[C.ITEM], recs[C.ITEM]], ignore_index=True))
    truth_items, rec_items = item_codes[: len(truth_frame)], item_codes[len(truth_frame) :]

    rec_users, order = _rec_codes(recs, pd.Index(user_index))
    rec_users, rec_items = rec_users[order], rec_items[order]
    if C.RANK in recs.columns:
        ranks = recs[C.RANK].to_numpy(dtype=np.float64)[order]
        if not (ranks >= 1).all():
            raise DataError("recommendations: column 'rank' must hold ranks 1, 2, ... (found values below 1 or missing)")
    else:
        starts = _block_starts(rec_users)
        ranks = np.arange(1.0, len(order) + 1.0) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = (rec_users >= 0) & (ranks <= k)
    rec_users, rec_items, ranks = rec_users[keep], rec_items[keep], ranks[keep]
    if (np.diff(ranks) < 0)[np.diff(rec_users) == 0].any():
        resort = np.lexsort((ranks, rec_users))
        rec_users, rec_items, ranks = rec_users[resort], rec_items[resort], ranks[resort]
    starts = _block_starts(rec_users)
    block_start = np.zeros(n_users, np.int64)
    block_end = np.zeros(n_users, np.int64)
    block_start[rec_users[starts]] = starts
    block_end[rec_users[starts]] = np.r_[starts[1:], len(rec_users)]

    relevant, hits, dcg, precision_sum, reciprocal_rank = _per_user_sums(
        truth_users, truth_items, n_users, len(item_index), block_start, block_end, rec_items, ranks
    )
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
        index=pd.Index(user_index, name=C.USER),
    )
