"""Scoring top lists of warm users held out as if cold: how cold-start models choose their settings.

A *scorer* is any function ``scorer(recs, truth, *, k) -> DataFrame`` with one row per truth user
(a ``user_id`` column or index) and an ``ndcg`` column, ``recs`` holding ``user_id, item_id, rank``
and ``truth`` ``user_id, item_id``: :func:`workbench.evaluation.evaluate_per_user` is one, and
callers that report a selection pass it (``ClusterColdStart(scorer=evaluate_per_user)``). The
models layer does not import the evaluation layer, so without a scorer the lists are scored by
:func:`ndcg_of_lists`: nDCG@k with binary relevance, 1/log2(rank + 1) and the ideal DCG over
min(|T|, k), on item codes and a sparse truth matrix (the definition of DESIGN.md; the tests
hold its values equal to the evaluation layer's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.errors import ConfigError

#: ``scorer(recs, truth, *, k) -> DataFrame`` with a row per truth user and an ``ndcg`` column.
Scorer = Callable[..., pd.DataFrame]


def ndcg_of_lists(lists: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """nDCG@k of each row of ``lists`` (item codes, best first, -1 pads; k is the width) against the
    items stored in the same row of ``truth``; NaN for a row without relevant items.

    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1], [0, 0, 0, 0]]))
    >>> np.round(ndcg_of_lists(np.array([[1, 2], [0, -1]]), truth), 4).tolist()  # 1 / (1 + 1/log2(3))
    [0.6131, nan]
    """
    k = lists.shape[1]
    binary = sp.csr_matrix(truth, dtype=np.float64, copy=True)
    binary.sum_duplicates()
    binary.data[:] = 1.0  # relevance is binary; a stored zero is an interaction too
    rows, positions = np.nonzero(lists >= 0)
    hits = np.zeros(lists.shape)
    if len(rows):
        hits[rows, positions] = np.asarray(binary[rows, lists[rows, positions]]).ravel()
    discount = 1.0 / np.log2(np.arange(2.0, k + 2.0))
    dcg = np.cumsum(hits * discount, axis=1)[:, -1] if k else np.zeros(len(lists))  # rank order, as a running sum
    relevant = np.diff(binary.indptr)
    ideal = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(relevant > 0, dcg / ideal[np.minimum(relevant, k)], np.nan)


def _scored_ndcg(scorer: Scorer, recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> pd.Series:
    """The ``ndcg`` column of ``scorer(recs, truth, k=k)``, indexed by user_id."""
    table = scorer(recs, truth, k=k)
    if isinstance(table, pd.DataFrame):
        if C.USER in table.columns:
            table = table.set_index(C.USER)
        if "ndcg" not in table.columns:
            raise ConfigError(f"scorer must return a column 'ndcg' per user, got columns {list(table.columns)[:8]}")
        return table["ndcg"]
    raise ConfigError(f"scorer must return a DataFrame with a row per truth user, got {type(table).__name__}")


def lists_ndcg(blocks: Sequence[tuple[np.ndarray, sp.csr_matrix]], scorer: Scorer | None = None) -> list[float]:
    """Mean nDCG@k over the users with relevant items of each ``(lists, truth)`` block (one width k;
    row u of ``truth`` holds the relevant items of the user of row u of ``lists``); NaN for a block
    without such users.

    With a ``scorer``, all blocks are scored in one call: each block's users get ids of their own,
    and a user's nDCG does not depend on the other users, so each mean is the one a call per block gives.
    """
    if scorer is None:
        means = []
        for lists, truth in blocks:
            values = ndcg_of_lists(lists, truth)
            values = values[~np.isnan(values)]
            means.append(float(pd.Series(values).mean()) if len(values) else float("nan"))
        return means
    recs, relevant, users, offset = [], [], [], 0
    for lists, truth in blocks:
        coo = truth.tocoo()
        rows, positions = np.nonzero(lists >= 0)
        recs.append(pd.DataFrame({C.USER: rows + offset, C.ITEM: lists[rows, positions], C.RANK: positions + 1}))
        relevant.append(pd.DataFrame({C.USER: coo.row + offset, C.ITEM: coo.col}))
        users.append(np.unique(coo.row) + offset)  # truth users, ascending
        offset += max(len(lists), truth.shape[0])
    if not sum(map(len, users)):
        return [float("nan")] * len(blocks)
    k = blocks[0][0].shape[1]
    ndcg = _scored_ndcg(scorer, pd.concat(recs, ignore_index=True), pd.concat(relevant, ignore_index=True), k)
    return [float(ndcg.reindex(ids).mean()) if len(ids) else float("nan") for ids in users]
