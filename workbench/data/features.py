"""Ranker features for any (user, item) pairs, computed from an interaction history.

One function, :func:`build_features`, returns the whole table: user features (RFM and
demographics), item features (popularity, trend, age, price, category) and user x item
features (model scores and their rank, category affinity, co-occurrence with the user's
history). Everything is vectorized over sparse matrices; model scores come in as columns
of ``pairs`` (this data-layer module never imports a model).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data.dataset import Dataset, IdMap, to_seconds
from workbench.guards import check_dense
from workbench.errors import DataError

SECONDS_PER_DAY = 86_400.0
#: Item columns read as a multi-valued ('|'-joined) or single category, in this order of preference.
CATEGORY_COLUMNS = ("genres", "category")
#: Users per block when co-occurrence is computed (bounds the memory of one sparse product).
USERS_PER_BLOCK = 2_000


def build_features(
    pairs: pd.DataFrame,
    history: Dataset,
    *,
    scores: Sequence[str] = (),
    max_categories: int = 50,
    recent_fraction: float = 0.1,
) -> pd.DataFrame:
    """Feature table for ``pairs`` (``user_id, item_id`` and the ``scores`` columns), row for row.

    User features: ``user_count``, ``user_recency_days``, ``user_frequency`` (active days),
    ``user_monetary`` (sum of prices, purchases only when events exist), ``user_mean_rating``,
    and every column of ``history.users`` as ``user_<col>`` (text as a pandas categorical;
    text columns with more than ``max_categories`` levels are left out).
    Item features: ``item_popularity`` (share of all interactions), ``item_trend`` (share of
    the item's interactions in the latest ``recent_fraction`` of the log, by time),
    ``item_age_days``, ``item_mean_rating``, numeric item columns as ``item_<col>`` (e.g.
    ``item_price``) and ``item_category`` (first genre or the category, categorical).
    User x item: each score column, ``<score>_rank`` (1 = best within the user) and
    ``<score>_z`` (z-score within the user's pairs; NaN for a single pair or constant scores),
    ``category_affinity`` (mean over the item's categories of their share in the user's
    history) and ``cooccurrence`` (mean cosine similarity of the item to the user's items).
    Users or items absent from ``history`` get counts 0 and NaN elsewhere.
    Columns that need timestamps, ratings or prices appear only when the history has them.

    >>> build_features(cands, train, scores=["als_score"]).columns[:4].tolist()  # doctest: +SKIP
    ['user_id', 'item_id', 'user_count', 'user_recency_days']
    """
    missing = [c for c in (C.USER, C.ITEM, *scores) if c not in pairs.columns]
    if missing:
        raise DataError(
            f"build_features: pairs lack the column {missing[0]!r} (columns: {list(pairs.columns)[:12]})"
        )
    if not 0.0 < recent_fraction < 1.0:
        raise DataError(
            f"build_features: recent_fraction must be between 0 and 1, got {recent_fraction!r}"
        )
    log = history.interactions
    user_map, item_map = IdMap.from_values(log[C.USER]), IdMap.from_values(log[C.ITEM])
    log_u, log_i = user_map.codes(log[C.USER]), item_map.codes(log[C.ITEM])
    u, i = user_map.codes(pairs[C.USER]), item_map.codes(pairs[C.ITEM])
    n_users, n_items = len(user_map), len(item_map)

    out: dict[str, object] = {
        C.USER: pairs[C.USER].to_numpy(),
        C.ITEM: pairs[C.ITEM].to_numpy(),
    }
    user_count = np.bincount(log_u, minlength=n_users).astype(np.float64)
    item_count = np.bincount(log_i, minlength=n_items).astype(np.float64)
    out["user_count"] = _take(user_count, u, fill=0.0)

    if history.has_timestamps:
        seconds = to_seconds(log[C.TIMESTAMP]).astype(np.float64)
        now = seconds.max()
        last = pd.Series(seconds).groupby(log_u).max().to_numpy()
        out["user_recency_days"] = _take((now - last) / SECONDS_PER_DAY, u)
        day = np.floor(seconds / SECONDS_PER_DAY).astype(np.int64)
        active = pd.DataFrame({"u": log_u, "d": day}).drop_duplicates()
        out["user_frequency"] = _take(
            np.bincount(active["u"], minlength=n_users).astype(np.float64), u, fill=0.0
        )

    items_table = history.items
    prices = _item_column(items_table, "price", item_map)
    if prices is not None:
        paid = (
            log[C.EVENT].eq("purchase").to_numpy()
            if C.EVENT in log.columns
            else np.ones(len(log), bool)
        )
        spent = np.bincount(
            log_u[paid], weights=np.nan_to_num(prices[log_i[paid]]), minlength=n_users
        )
        out["user_monetary"] = _take(spent, u, fill=0.0)
    if C.RATING in log.columns:
        rating = log[C.RATING].to_numpy(dtype=np.float64)
        out["user_mean_rating"] = _take(
            np.bincount(log_u, rating, n_users) / np.maximum(user_count, 1), u
        )
        out["item_mean_rating"] = _take(
            np.bincount(log_i, rating, n_items) / np.maximum(item_count, 1), i
        )
    out.update(
        _side_features(history.users, pairs[C.USER], "user", max_categories, skip=())
    )

    out["item_popularity"] = _take(item_count / max(len(log), 1), i, fill=0.0)
    if history.has_timestamps:
        recent = seconds >= np.quantile(seconds, 1.0 - recent_fraction)
        recent_count = np.bincount(log_i[recent], minlength=n_items)
        out["item_trend"] = _take(recent_count / np.maximum(item_count, 1), i)
        first = pd.Series(seconds).groupby(log_i).min().to_numpy()
        out["item_age_days"] = _take((now - first) / SECONDS_PER_DAY, i)
    out.update(
        _side_features(
            items_table, pairs[C.ITEM], "item", max_categories, skip=CATEGORY_COLUMNS
        )
    )

    for name in scores:
        values = pd.to_numeric(pairs[name], errors="coerce").to_numpy(dtype=np.float64)
        out[name] = values
        within = pd.Series(values).groupby(pd.factorize(pairs[C.USER])[0])
        out[f"{name}_rank"] = within.rank(ascending=False, method="min").to_numpy()
        spread = within.transform("std").to_numpy()
        centred = values - within.transform("mean").to_numpy()
        out[f"{name}_z"] = np.divide(
            centred, spread, out=np.full(len(values), np.nan), where=spread > 0
        )

    seen = sp.csr_matrix(
        (np.ones(len(log_u), np.float32), (log_u, log_i)), shape=(n_users, n_items)
    )
    seen.sum_duplicates()
    categories = _categories(items_table)
    if categories is not None:
        labels, first_level = categories
        out["item_category"] = _categorical(
            first_level.reindex(pd.Index(pairs[C.ITEM])).to_numpy(), first_level
        )
        out["category_affinity"] = _affinity(seen, _multi_hot(labels, item_map), u, i)
    out["cooccurrence"] = _cooccurrence(seen, u, i)
    return pd.DataFrame(out)


def _take(values: np.ndarray, codes: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """``values[codes]`` as float, ``fill`` where the code is -1 (unknown id)."""
    result = np.full(len(codes), fill, dtype=np.float64)
    known = codes >= 0
    result[known] = values[codes[known]]
    return result


def _categorical(values: np.ndarray, reference: pd.Series) -> pd.Categorical:
    """Values as a categorical whose levels come from the whole ``reference`` column (stable across calls)."""
    levels = pd.Index(pd.unique(reference.dropna())).sort_values()
    return pd.Categorical(values, categories=levels)


def _side_features(
    table: pd.DataFrame | None,
    ids: pd.Series,
    prefix: str,
    max_categories: int,
    skip: tuple[str, ...],
) -> dict[str, object]:
    """Numeric columns as floats and low-cardinality text columns as categoricals, looked up by id."""
    if table is None:
        return {}
    rows = table.reindex(pd.Index(ids))
    features: dict[str, object] = {}
    for column in table.columns:
        if column in skip:
            continue
        values = table[column]
        if pd.api.types.is_numeric_dtype(
            values.dtype
        ) and not pd.api.types.is_bool_dtype(values.dtype):
            features[f"{prefix}_{column}"] = rows[column].to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        elif values.nunique() <= max_categories:
            features[f"{prefix}_{column}"] = _categorical(
                rows[column].to_numpy(dtype=object), values
            )
    return features


def _item_column(
    table: pd.DataFrame | None, column: str, item_map: IdMap
) -> np.ndarray | None:
    """A numeric item column aligned with ``item_map`` codes, or None when the table lacks it."""
    if table is None or column not in table.columns:
        return None
    return (
        pd.to_numeric(table[column], errors="coerce")
        .reindex(item_map.ids)
        .to_numpy(np.float64)
    )


def _categories(table: pd.DataFrame | None) -> tuple[pd.Series, pd.Series] | None:
    """(list of categories per item, first category per item) from ``genres`` or ``category``."""
    if table is None:
        return None
    column = next((c for c in CATEGORY_COLUMNS if c in table.columns), None)
    if column is None:
        return None
    text = table[column].astype("string")
    labels = text.str.split("|").map(
        lambda parts: [] if not isinstance(parts, list) else parts
    )
    first = text.str.split("|").str[0]
    return labels, first.astype(object).where(first.notna(), None)


def _multi_hot(labels: pd.Series, item_map: IdMap) -> sp.csr_matrix:
    """Items (``item_map`` codes) x categories 0/1 matrix."""
    exploded = labels.explode().dropna()
    levels = pd.Index(pd.unique(exploded)).sort_values()
    rows = item_map.codes(exploded.index)
    keep = rows >= 0
    matrix = sp.csr_matrix(
        (
            np.ones(keep.sum(), np.float32),
            (rows[keep], levels.get_indexer(exploded[keep])),
        ),
        shape=(len(item_map), len(levels)),
    )
    matrix.data[:] = 1.0
    return matrix


def _affinity(
    seen: sp.csr_matrix, multi_hot: sp.csr_matrix, u: np.ndarray, i: np.ndarray
) -> np.ndarray:
    """Mean over the pair item's categories of their share in the user's interactions."""
    check_dense(
        seen.shape[0], multi_hot.shape[1], what="user x category affinity (a category column with very many values?)"
    )
    per_user = np.asarray(
        (seen @ multi_hot).todense(), dtype=np.float64
    )  # users x categories (few)
    totals = np.asarray(seen.sum(axis=1), dtype=np.float64).ravel()
    share = per_user / np.maximum(totals, 1.0)[:, None]
    result = np.full(len(u), np.nan)
    known = np.flatnonzero((u >= 0) & (i >= 0))
    item_rows = multi_hot[i[known]]
    sums = np.asarray(item_rows.multiply(share[u[known]]).sum(axis=1)).ravel()
    counts = np.diff(item_rows.indptr)
    result[known] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return result


def _cooccurrence(seen: sp.csr_matrix, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Mean cosine similarity (binary co-occurrence) between each pair's item and the user's items."""
    binary = seen.copy()
    binary.data[:] = 1.0
    norms = np.sqrt(np.asarray(binary.sum(axis=0), dtype=np.float64)).ravel()
    scaled = (binary @ sp.diags(1.0 / np.maximum(norms, 1.0))).tocsr()
    history_size = np.asarray(binary.sum(axis=1), dtype=np.float64).ravel()
    result = np.full(len(u), np.nan)
    known = np.flatnonzero((u >= 0) & (i >= 0))
    users = np.unique(u[known])
    for start in range(0, len(users), USERS_PER_BLOCK):
        block = users[start : start + USERS_PER_BLOCK]
        in_block = known[np.isin(u[known], block)]
        position = np.searchsorted(block, u[in_block])
        # sum over j in history(u) of cos(i, j) = (X[u] @ S.T @ S)[i] with S = X scaled by 1 / sqrt(item count)
        product = (binary[block] @ scaled.T).tocsr() @ scaled
        values = np.asarray(product[position, i[in_block]]).ravel()
        result[in_block] = values / np.maximum(history_size[u[in_block]], 1.0)
    return result
