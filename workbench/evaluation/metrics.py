"""Vectorized ranking metrics with binary relevance.

Ids are mapped to codes once (:mod:`workbench.evaluation.ids`). Compiled code
then groups the truth rows by user (a counting sort, in the order the users'
recommendation blocks come), counts each user's distinct relevant items with a
marker array and scores that user's block: no sort of the truth keys, no
per-user Python loop, and no reordering of ``recs`` when each user's rows are
together and in rank order, as ``recommend`` returns them. Users are coded and
grouped in a second thread while the items are coded, and the scoring runs
as two halves at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap, id_kind
from workbench.errors import DataError
from workbench.evaluation.ids import IdCodes, factorize_ids
from workbench.guards import positive_int

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


def _in_truth_spelling(recs: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """``recs`` with its user and item ids spelled as ``truth`` spells them when one side holds int ids
    and the other text (1 and "1" are one id, "07" is not 7); a column of which then no id is a truth
    id is a DataError rather than a silent score of 0."""
    for column in (C.USER, C.ITEM):
        mine, theirs = id_kind(recs[column]), id_kind(truth[column])
        if {mine, theirs} != {"int", "text"} or not len(recs):
            continue
        ids = IdMap.from_values(truth[column])
        if not (ids.codes(recs[column]) >= 0).any():
            example = recs[column].iloc[0]
            example = example.item() if isinstance(example, np.generic) else example
            raise DataError(
                f"recommendations: column '{column}' holds {mine} ids and the truth {theirs} ids, and none of "
                f"them is a truth id in either spelling (e.g. {example!r}); use the ids of the truth"
            )
        recs = recs.assign(**{column: ids.own_ids(recs[column])})
    return recs


def _check_recs(recs: pd.DataFrame) -> None:
    if not isinstance(recs, pd.DataFrame):
        raise DataError(f"recommendations: expected a DataFrame, got {type(recs).__name__}")
    missing = [c for c in (C.USER, C.ITEM) if c not in recs.columns]
    if missing:
        raise DataError(f"recommendations: required column '{missing[0]}' is missing")
    users = recs[C.USER]  # a row without its user would drop out of the scores without a word (a missing
    # item is fine: a padded slot that never hits)
    n_missing = 0 if isinstance(users.dtype, np.dtype) and users.dtype.kind in "iub" else int(users.isna().sum())
    if n_missing:
        raise DataError(f"recommendations: column '{C.USER}' has {n_missing:,} missing values")


NOT_GROUPED = 1  # a user's recommendation rows are split, or out of rank order
BAD_RANK = 2  # a rank below 1 or missing


@numba.njit(cache=True, nogil=True)
def _group_by_user(
    truth_users: np.ndarray, n_users: int, rec_users: np.ndarray, rec_ranks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Users and their rows, in the order users are visited while scoring.

    ``truth_users`` and ``rec_users`` are user codes (-1: a recommended user outside the truth).
    Returns each user's visiting position, the truth rows grouped by visiting position
    (``rows[indptr[p]:indptr[p + 1]]``), the recommendation block of each position
    (``block_start[p]:block_end[p]``, for the first ``n_blocks`` positions: users with
    recommendations come first, in the order of their blocks, so recommendations and truth are
    both read front to back), and a status: ``NOT_GROUPED`` when a user's recommendation rows
    are split, ``BAD_RANK`` for a rank below 1 of a user outside the truth.
    """
    position = np.full(n_users, -1, np.int64)
    block_start = np.zeros(n_users, np.int64)
    block_end = np.zeros(n_users, np.int64)
    indptr = np.zeros(n_users + 1, np.int64)
    rows = np.zeros(0, np.int64)  # until every block is known
    n_blocks = 0
    start = 0
    while start < len(rec_users):
        u = rec_users[start]
        end = start + 1
        while end < len(rec_users) and rec_users[end] == u:
            end += 1
        if u >= 0:
            if position[u] >= 0:
                return position, indptr, rows, block_start, block_end, n_blocks, NOT_GROUPED
            position[u] = n_blocks
            block_start[n_blocks] = start
            block_end[n_blocks] = end
            n_blocks += 1
        elif len(rec_ranks):
            for row in range(start, end):
                if not rec_ranks[row] >= 1.0:
                    return position, indptr, rows, block_start, block_end, n_blocks, BAD_RANK
        start = end
    n_visited = n_blocks
    for u in range(n_users):
        if position[u] < 0:
            position[u] = n_visited
            n_visited += 1

    rows = np.empty(len(truth_users), np.int64)
    for u in truth_users:
        indptr[position[u] + 1] += 1
    for p in range(n_users):
        indptr[p + 1] += indptr[p]
    fill = indptr[:-1].copy()
    for row in range(len(truth_users)):
        p = position[truth_users[row]]
        rows[fill[p]] = row
        fill[p] += 1
    return position, indptr, rows, block_start, block_end, n_blocks, 0


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


def _ranks(recs: pd.DataFrame) -> np.ndarray:
    """The rank column as float64, or an empty array when the row order is the rank order."""
    if C.RANK not in recs.columns:
        return np.zeros(0)
    try:
        return recs[C.RANK].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"recommendations: column 'rank' must be numeric, got {recs[C.RANK].dtype}") from None


def _users_grouped(
    truth_users: pd.Series, rec_users: pd.Series, ranks: np.ndarray
) -> tuple[IdCodes, np.ndarray, tuple]:
    """User codes of the truth and of the recommendations, and :func:`_group_by_user` of them."""
    users = factorize_ids(truth_users)
    rec_codes = users.lookup(rec_users)
    return users, rec_codes, _group_by_user(users.codes, users.n, rec_codes, ranks)


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
    position, indptr, _, *blocks, status = grouped
    sums = np.zeros((5, len(position)))
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
    relevant item; a truth user without recommendations scores 0. Int and text
    spellings of one id match (``1`` and ``"1"``), as in ``recommend``.

    >>> recs = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "rank": [1, 2]})
    >>> per_user_metrics(recs, pd.DataFrame({"user_id": [1], "item_id": ["b"]}), k=2)["mrr"].tolist()
    [0.5]
    """
    k = positive_int(k, "k")
    truth_frame = _truth_frame(truth)
    _check_recs(recs)
    recs = _in_truth_spelling(recs, truth_frame)
    ranks = _ranks(recs)
    with ThreadPoolExecutor(max_workers=1) as background:  # users are grouped while items are coded
        grouping = background.submit(_users_grouped, truth_frame[C.USER], recs[C.USER], ranks)
        items = factorize_ids(truth_frame[C.ITEM])
        rec_items = items.lookup(recs[C.ITEM])
        users, rec_users, grouped = grouping.result()
        sums, status = _score(background, grouped, items.codes[grouped[2]], items.n, rec_items, ranks, k)
        if status == NOT_GROUPED:  # a user's rows are split or out of rank order: sort them, then score
            order = np.lexsort((ranks, rec_users)) if len(ranks) else np.argsort(rec_users, kind="stable")
            ranks, rec_users, rec_items = (ranks[order] if len(ranks) else ranks), rec_users[order], rec_items[order]
            grouped = _group_by_user(users.codes, users.n, rec_users, ranks)
            sums, status = _score(background, grouped, items.codes[grouped[2]], items.n, rec_items, ranks, k)
    if status == BAD_RANK:
        raise DataError("recommendations: column 'rank' must hold ranks 1, 2, ... (found values below 1 or missing)")
    relevant, hits, dcg, precision_sum, reciprocal_rank = sums
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
        index=users.uniques().rename(C.USER),
    )
