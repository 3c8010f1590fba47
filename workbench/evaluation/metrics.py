"""Vectorized ranking metrics with binary relevance.

Ids are mapped to codes once; hits are found by a sorted-key search and
aggregated per user with ``np.bincount``: no per-user Python loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.errors import DataError

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")


def _truth_frame(truth: pd.DataFrame | Dataset) -> pd.DataFrame:
    frame = truth.interactions if isinstance(truth, Dataset) else truth
    missing = [c for c in (C.USER, C.ITEM) if c not in getattr(frame, "columns", [])]
    if missing:
        raise DataError(f"truth: required column '{missing[0]}' is missing")
    return frame


def _check_recs(recs: pd.DataFrame) -> None:
    missing = [c for c in (C.USER, C.ITEM) if c not in getattr(recs, "columns", [])]
    if missing:
        raise DataError(f"recommendations: required column '{missing[0]}' is missing")


def per_user_metrics(recs: pd.DataFrame, truth: pd.DataFrame | Dataset, *, k: int = 10) -> pd.DataFrame:
    """One row per truth user (indexed by ``user_id``) with every metric at ``k``.

    ``recs`` needs user_id and item_id, and ``rank`` (1 = best) unless its rows
    are already in rank order per user. A pair repeated in ``truth`` is one
    relevant item; a truth user without recommendations scores 0.

    >>> recs = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "rank": [1, 2]})
    >>> per_user_metrics(recs, pd.DataFrame({"user_id": [1], "item_id": ["b"]}), k=2)["mrr"].tolist()
    [0.5]
    """
    if k < 1:
        raise DataError(f"k must be at least 1, got {k!r}")
    truth_frame = _truth_frame(truth)
    _check_recs(recs)
    user_codes, user_index = pd.factorize(truth_frame[C.USER], sort=False)
    n_users = len(user_index)
    item_codes, item_index = pd.factorize(truth_frame[C.ITEM], sort=False)
    n_items = max(len(item_index), 1)

    truth_keys = np.unique(user_codes.astype(np.int64) * n_items + item_codes)
    relevant = np.bincount(truth_keys // n_items, minlength=n_users)

    rec_users = user_index.get_indexer(recs[C.USER])
    rec_items = item_index.get_indexer(recs[C.ITEM])
    if C.RANK in recs.columns:
        ranks = recs[C.RANK].to_numpy(dtype=np.int64)
    else:
        ranks = pd.Series(rec_users).groupby(rec_users, sort=False).cumcount().to_numpy() + 1
    keep = (rec_users >= 0) & (ranks <= k)
    rec_users, rec_items, ranks = rec_users[keep], rec_items[keep], ranks[keep]

    order = np.lexsort((ranks, rec_users))
    rec_users, rec_items, ranks = rec_users[order], rec_items[order], ranks[order]
    rec_keys = rec_users.astype(np.int64) * n_items + rec_items
    slot = np.searchsorted(truth_keys, rec_keys)
    slot[slot == len(truth_keys)] = 0
    hit = (rec_items >= 0) & (truth_keys[slot] == rec_keys) if len(truth_keys) else np.zeros(len(rec_keys), bool)

    hit_users, hit_ranks = rec_users[hit], ranks[hit].astype(np.float64)
    hits = np.bincount(hit_users, minlength=n_users).astype(np.float64)
    dcg = np.bincount(hit_users, weights=1.0 / np.log2(hit_ranks + 1.0), minlength=n_users)
    ideal_lengths = np.minimum(relevant, k)
    ideal_cumulative = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    idcg = ideal_cumulative[ideal_lengths]

    # hits so far at each hit = 1 + number of earlier hits of the same user (rows are user-sorted)
    first_of_user = np.r_[True, hit_users[1:] != hit_users[:-1]] if len(hit_users) else np.zeros(0, bool)
    running = np.arange(len(hit_users)) - np.maximum.accumulate(np.where(first_of_user, np.arange(len(hit_users)), 0))
    precision_at_hit = (running + 1.0) / hit_ranks
    average_precision = np.bincount(hit_users, weights=precision_at_hit, minlength=n_users)
    reciprocal_rank = np.zeros(n_users)
    reciprocal_rank[hit_users[first_of_user]] = 1.0 / hit_ranks[first_of_user]

    frame = pd.DataFrame(
        {
            "precision": hits / k,
            "recall": hits / relevant,
            "ndcg": dcg / idcg,
            "map": average_precision / ideal_lengths,
            "hit_rate": (hits > 0).astype(np.float64),
            "mrr": reciprocal_rank,
        },
        index=pd.Index(user_index, name=C.USER),
    )
    return frame
