"""Ranker features for any (user, item) pairs, computed from an interaction history.

:func:`build_features` returns the whole table: user features (RFM and demographics), item
features (popularity, trend, age, price, category) and user x item features (model scores
and their rank, category affinity, co-occurrence with the user's history). It is
:func:`prepare_history` (everything that depends on the history alone, made once) followed
by :meth:`HistoryFeatures.features` (the per-pair part, cheap for a few users).
Everything is vectorized over sparse matrices; model scores come in as columns of
``pairs`` (this data-layer module never imports a model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.data.baskets import Baskets, user_baskets
from workbench.data.dataset import Dataset, IdMap
from workbench.data.repeats import PairHistory, pair_history, purchase_rows
from workbench.data.validate import to_seconds
from workbench.errors import DataError
from workbench.guards import check_dense

SECONDS_PER_DAY = 86_400.0
#: Item columns read as a multi-valued ('|'-joined) or single category, in this order of preference.
CATEGORY_COLUMNS = C.CATEGORIES
#: Cells of the dense users x users block held at once when co-occurrence is computed.
BATCH_CELLS = 1 << 22
#: Two interactions of a user at most this many steps apart in time are a sequence pair.
SEQUENCE_WINDOW = 5
#: Pairs per block when period features are computed.
BLOCK_PAIRS = 200_000
#: Width in days of the periods that place a user's activity in time.
PERIOD_DAYS = 7.0
#: Each basket further back weighs this much less in ``decayed_basket_share`` (TIFU-KNN's r_b default).
BASKET_DECAY = 0.9


def build_features(
    pairs: pd.DataFrame,
    history: Dataset,
    *,
    scores: Sequence[str] = (),
    max_categories: int = 50,
    recent_fraction: float = 0.1,
    repeats: bool = False,
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
    With timestamps, also ``sequence_cooccurrence`` (as ``cooccurrence``, but two items co-occur
    only when some user interacted with both at most ``SEQUENCE_WINDOW`` steps apart in time:
    watched in one sitting, bought in one basket or the next) and the period features, which
    place the item at the time the user was active (weeks of ``PERIOD_DAYS``):
    ``period_popularity`` (the item's share of the interactions in the user's weeks, weighted by
    the user's activity in each), ``period_item_age_days`` (from the item's first interaction to
    the user's last; negative when the item came after the user left) and ``period_item_idle_days``
    (from the item's last interaction to the user's first; positive when it was gone before).
    With ``repeats=True``, the repeat-purchase features (purchases as in ``workbench.data.repeats``):
    ``times_bought``, ``days_since_last``, ``repeat_interval_days``, ``due_ratio`` (days since the
    last purchase over the pair's mean interval), ``item_repurchase_rate`` (share of the item's
    buyers who bought it again) and ``user_repeat_share`` (share of the user's purchases that repeat),
    and the basket features (baskets as ``workbench.data.baskets.user_baskets`` makes them):
    ``basket_share`` (share of the user's baskets holding the item), ``baskets_since_last`` (0: in
    the last basket), ``decayed_basket_share`` (each basket further back weighing ``BASKET_DECAY``
    less), ``user_baskets`` and ``user_basket_size``.
    Users or items absent from ``history`` get counts 0 and NaN elsewhere.
    Columns that need timestamps, ratings or prices appear only when the history has them. When the
    timestamps are order numbers (``Dataset.has_order_numbers``) the "days" of ``user_frequency`` and
    of the repeat features count orders, and the features that compare times across users
    (``user_recency_days``, ``item_trend``, ``item_age_days``, the period features) are left out.
    For many batches of pairs on one history, call :func:`prepare_history` once and
    :meth:`HistoryFeatures.features` per batch (same table).

    >>> build_features(cands, train, scores=["als_score"]).columns[:4].tolist()  # doctest: +SKIP
    ['user_id', 'item_id', 'user_count', 'user_recency_days']
    """
    _check_pairs(pairs, scores, "build_features")
    _check_fraction(recent_fraction, "build_features")
    prepared = prepare_history(history, max_categories=max_categories, recent_fraction=recent_fraction, repeats=repeats)
    return prepared.features(pairs, scores=scores)


class _Lookup(NamedTuple):
    """A feature read per user (``by_user``) or per item code, ``fill`` for unknown ids."""

    name: str
    by_user: bool
    values: np.ndarray
    fill: float


@dataclass(frozen=True, eq=False)
class _SideTable:
    """The used columns of a users or items table; ``levels`` None for a numeric column."""

    prefix: str
    table: pd.DataFrame
    levels: tuple[pd.Index | None, ...]

    def features(self, ids: pd.Series) -> dict[str, object]:
        """Numeric columns as floats and text columns as categoricals, looked up by id."""
        rows = self.table.reindex(pd.Index(ids))
        features: dict[str, object] = {}
        for column, levels in zip(self.table.columns, self.levels, strict=False):
            if levels is None:
                features[f"{self.prefix}_{column}"] = rows[column].to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                features[f"{self.prefix}_{column}"] = pd.Categorical(
                    rows[column].to_numpy(dtype=object), categories=levels
                )
        return features


@dataclass(frozen=True, eq=False)
class _Repeats:
    """Repeat-purchase features from the bought pairs of the history (``workbench.data.repeats``).

    Times are measured back from each user's own latest purchase, not from the end of the log:
    the moment before the user's next basket, whenever that comes, is the same in training
    (a held-out basket) and in serving.
    """

    pairs: PairHistory
    #: per item code: share of the item's buyers who bought it twice or more (NaN without buyers)
    item_rate: np.ndarray
    #: per user code: share of the user's purchases that repeat an item bought before
    user_share: np.ndarray
    #: per user code: latest purchase time, and mean days between the user's purchase days (NaN for one day)
    user_last: np.ndarray
    user_gap: np.ndarray
    #: how many of the user's baskets held each pair, and how long ago
    baskets: _BasketCounts
    #: per pair: mean units per purchase line (a log with ``quantity``); per item code: mean money paid
    #: per line (a log with ``sales_value``)
    pair_quantity: np.ndarray | None = None
    item_spend: np.ndarray | None = None
    #: seconds per "day": SECONDS_PER_DAY, or 1 when the timestamps are order numbers (days are then orders)
    day: float = SECONDS_PER_DAY

    @classmethod
    def from_history(
        cls,
        history: Dataset,
        user_map: IdMap,
        item_map: IdMap,
        day: float = SECONDS_PER_DAY,
        item_category: np.ndarray | None = None,
    ) -> _Repeats:
        """``item_category``: the code of each item code's first category (-1: none), for the category
        repeat rate."""
        pairs = pair_history(history, user_map, item_map)
        items, users, n_users = pairs.item_codes, pairs.user_codes, len(user_map)
        buyers = np.bincount(items, minlength=len(item_map)).astype(np.float64)
        repeaters = np.bincount(items, weights=pairs.count > 1, minlength=len(item_map))
        bought = np.bincount(users, weights=pairs.count, minlength=n_users)
        repeated = np.bincount(users, weights=pairs.count - 1, minlength=n_users)
        user_last = _extreme(users, pairs.last, n_users, np.fmax)
        user_first = _extreme(users, pairs.first, n_users, np.fmin)
        gap = np.full(n_users, np.nan)
        if pairs.has_time:
            days = _purchase_days(history, user_map, day)
            gap = np.divide((user_last - user_first) / day, days - 1, out=gap, where=days > 1)
        return cls(
            pairs,
            np.divide(repeaters, buyers, out=np.full(len(buyers), np.nan), where=buyers > 0),
            np.divide(repeated, bought, out=np.full(len(bought), np.nan), where=bought > 0),
            user_last,
            gap,
            _BasketCounts.from_history(history, pairs, user_map, item_map, item_category),
            *_line_means(history, pairs, user_map, item_map),
            day=day,
        )

    def features(self, u: np.ndarray, i: np.ndarray) -> dict[str, np.ndarray]:
        """``times_bought``; with timestamps ``days_since_last`` (from the pair's last purchase to the
        user's latest), ``repeat_interval_days`` (mean days between the pair's purchases),
        ``user_basket_gap_days`` and ``due_ratio`` ((days since last + the user's gap) / interval:
        how due the item is at the next basket); and ``item_repurchase_rate``, ``user_repeat_share``."""
        pairs = self.pairs
        position = pairs.lookup(u, i)
        bought = position >= 0
        at = np.maximum(position, 0)
        count = np.where(bought, pairs.count[at], 0).astype(np.float64)
        out = {"times_bought": count}
        if pairs.has_time:
            since = np.where(bought, (_take(self.user_last, u) - pairs.last[at]) / self.day, np.nan)
            span = np.where(bought, (pairs.last[at] - pairs.first[at]) / self.day, np.nan)
            interval = np.divide(span, count - 1, out=np.full(len(u), np.nan), where=count > 1)
            gap = _take(self.user_gap, u)
            out["days_since_last"] = since
            out["repeat_interval_days"] = interval
            out["user_basket_gap_days"] = gap
            out["due_ratio"] = np.divide(since + gap, interval, out=np.full(len(u), np.nan), where=interval > 0)
        out["item_repurchase_rate"] = _take(self.item_rate, i)
        out["user_repeat_share"] = _take(self.user_share, u)
        out.update(self.baskets.features(position, u, i))
        if self.pair_quantity is not None:
            out["pair_mean_quantity"] = np.where(bought, self.pair_quantity[at], np.nan)
        if self.item_spend is not None:
            out["item_mean_spend"] = _take(self.item_spend, i)
        return out


def _line_means(
    history: Dataset, pairs: PairHistory, user_map: IdMap, item_map: IdMap
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean ``quantity`` per purchase line of each pair and mean ``sales_value`` per line of each item
    code (None for a column the log lacks; lines without a number are left out)."""
    log = history.interactions[purchase_rows(history)]
    u, i = user_map.codes(log[C.USER]), item_map.codes(log[C.ITEM])
    quantity = spend = None
    if C.QUANTITY in log.columns:
        quantity = _group_mean(pairs.lookup(u, i), log[C.QUANTITY], len(pairs.keys))
    if C.SPEND in log.columns:
        spend = _group_mean(np.where(u >= 0, i, -1), log[C.SPEND], len(item_map))
    return quantity, spend


def _group_mean(groups: np.ndarray, values: pd.Series, n: int) -> np.ndarray:
    """Per group 0..n-1, the mean of its numeric ``values`` (rows of group -1 and non-numbers left out; NaN
    for a group without any)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    ok = (groups >= 0) & np.isfinite(numbers)
    total = np.bincount(groups[ok], weights=numbers[ok], minlength=n)
    lines = np.bincount(groups[ok], minlength=n)
    return np.divide(total, lines, out=np.full(n, np.nan), where=lines > 0)


@dataclass(frozen=True, eq=False)
class _BasketCounts:
    """Basket features of a repeating log (``workbench.data.baskets.user_baskets``: orders, sessions,
    order numbers or days), per bought pair in the order of a :class:`PairHistory` and per user."""

    #: per pair: baskets holding the item, baskets since the latest of them (0: the user's last basket),
    #: sum of BASKET_DECAY ** age over them
    baskets: np.ndarray
    since: np.ndarray
    decayed: np.ndarray
    #: per user code: baskets, mean distinct items per basket, sum of BASKET_DECAY ** age over baskets
    user_baskets: np.ndarray
    user_basket_size: np.ndarray
    user_decayed: np.ndarray
    #: per item code: share of its category's buyers who bought from the category in two or more
    #: baskets (None without categories; NaN for an item without one)
    category_repeat_rate: np.ndarray | None = None

    @classmethod
    def from_history(
        cls,
        history: Dataset,
        pairs: PairHistory,
        user_map: IdMap,
        item_map: IdMap,
        item_category: np.ndarray | None = None,
    ) -> _BasketCounts:
        held = user_baskets(history, user_map, item_map)
        pair = pairs.lookup(held.user_codes, held.item_codes)  # the same purchases: every entry is a pair
        kept = pair >= 0
        pair, age = pair[kept], held.age[kept].astype(np.float64)
        n_pairs = len(pairs.keys)
        n_baskets = held.n_baskets.astype(np.float64)
        has = n_baskets > 0
        entries = np.bincount(held.user_codes[kept], minlength=len(user_map))
        return cls(
            baskets=np.bincount(pair, minlength=n_pairs).astype(np.float64),
            since=_extreme(pair, age, n_pairs, np.fmin),
            decayed=np.bincount(pair, weights=np.power(BASKET_DECAY, age), minlength=n_pairs),
            user_baskets=n_baskets,
            user_basket_size=np.divide(entries, n_baskets, out=np.full(len(n_baskets), np.nan), where=has),
            # sum of BASKET_DECAY ** age over ages 0 .. n - 1
            user_decayed=np.where(has, (1.0 - BASKET_DECAY**n_baskets) / (1.0 - BASKET_DECAY), np.nan),
            category_repeat_rate=None if item_category is None else _category_repeat_rate(held, item_category),
        )

    def features(self, position: np.ndarray, u: np.ndarray, i: np.ndarray) -> dict[str, np.ndarray]:
        """For pairs at ``position`` of the pair history (-1: never bought) of users ``u``: ``basket_share``
        (share of the user's baskets holding the item), ``baskets_since_last`` (0: in the user's last
        basket; NaN: never bought), ``decayed_basket_share`` (that share with each basket further back
        weighing BASKET_DECAY less), ``user_baskets``, ``user_basket_size`` and, with item categories,
        ``category_repeat_rate`` of item ``i``."""
        bought = position >= 0
        at = np.maximum(position, 0)
        n_baskets = _take(self.user_baskets, u)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {
                "basket_share": np.where(bought, self.baskets[at], 0.0) / n_baskets,
                "baskets_since_last": np.where(bought, self.since[at], np.nan),
                "decayed_basket_share": np.where(bought, self.decayed[at], 0.0) / _take(self.user_decayed, u),
                "user_baskets": n_baskets,
                "user_basket_size": _take(self.user_basket_size, u),
            }
        if self.category_repeat_rate is not None:
            out["category_repeat_rate"] = _take(self.category_repeat_rate, i)
        return out


def _category_repeat_rate(held: Baskets, item_category: np.ndarray) -> np.ndarray:
    """Per item code, the share of its category's buyers who bought from the category in two or more
    baskets (NaN for an item without a category)."""
    category = item_category[held.item_codes]
    kept = category >= 0
    n_categories = int(item_category.max(initial=-1)) + 1
    stride = int(held.position.max(initial=0)) + 1
    # distinct (user, category, basket), then baskets per (user, category)
    basket = np.unique((held.user_codes[kept] * n_categories + category[kept]) * stride + held.position[kept])
    user_category, baskets = np.unique(basket // stride, return_counts=True)
    of = user_category % n_categories
    buyers = np.bincount(of, minlength=n_categories).astype(np.float64)
    repeaters = np.bincount(of, weights=baskets > 1, minlength=n_categories)
    rate = np.divide(repeaters, buyers, out=np.full(n_categories, np.nan), where=buyers > 0)
    return np.where(item_category >= 0, rate[np.maximum(item_category, 0)], np.nan)


def _purchase_days(history: Dataset, user_map: IdMap, day: float = SECONDS_PER_DAY) -> np.ndarray:
    """Distinct calendar days (UTC; orders when ``day`` is 1 and timestamps are order numbers) with a
    purchase, per user code."""
    bought = purchase_rows(history)
    users = user_map.codes(history.interactions[C.USER])[bought]
    day = np.floor(to_seconds(history.interactions[C.TIMESTAMP])[bought] / day).astype(np.int64)
    distinct = pd.DataFrame({"u": users, "d": day}).drop_duplicates()
    return np.bincount(distinct["u"], minlength=len(user_map)).astype(np.float64)


@dataclass(frozen=True, eq=False)
class _Periods:
    """Where users and items sit in time, in periods of ``PERIOD_DAYS`` from the first interaction."""

    #: users x periods: share of the user's interactions in each period (sparse: users are active in few)
    user_share: sp.csr_matrix
    #: items x periods: the item's share of all interactions in each period
    item_share: np.ndarray
    #: first and last interaction time per user code and per item code (seconds)
    user_first: np.ndarray
    user_last: np.ndarray
    item_first: np.ndarray
    item_last: np.ndarray

    @classmethod
    def from_log(
        cls, users: np.ndarray, items: np.ndarray, seconds: np.ndarray, n_users: int, n_items: int
    ) -> _Periods:
        period = np.floor((seconds - seconds.min()) / (PERIOD_DAYS * SECONDS_PER_DAY)).astype(np.int64)
        n_periods = int(period.max()) + 1
        check_dense(n_items, n_periods, what=f"item x period shares ({n_periods:,} periods of {PERIOD_DAYS:g} days)")
        per_user = sp.csr_matrix((np.ones(len(users)), (users, period)), shape=(n_users, n_periods))
        per_user.sum_duplicates()
        user_share = (sp.diags(1.0 / np.maximum(np.asarray(per_user.sum(axis=1)).ravel(), 1.0)) @ per_user).tocsr()
        per_item = np.zeros((n_items, n_periods))
        np.add.at(per_item, (items, period), 1.0)
        item_share = per_item / np.maximum(per_item.sum(axis=0), 1.0)
        return cls(
            user_share,
            item_share,
            user_first=_extreme(users, seconds, n_users, np.fmin),
            user_last=_extreme(users, seconds, n_users, np.fmax),
            item_first=_extreme(items, seconds, n_items, np.fmin),
            item_last=_extreme(items, seconds, n_items, np.fmax),
        )

    def features(self, u: np.ndarray, i: np.ndarray) -> dict[str, np.ndarray]:
        """``period_popularity``, ``period_item_age_days`` and ``period_item_idle_days`` (see :func:`build_features`)."""
        popularity = np.full(len(u), np.nan)
        known = np.flatnonzero((u >= 0) & (i >= 0))
        for start in range(0, len(known), BLOCK_PAIRS):
            rows = known[start : start + BLOCK_PAIRS]
            shares = self.user_share[u[rows]].multiply(self.item_share[i[rows]])
            popularity[rows] = np.asarray(shares.sum(axis=1)).ravel()
        return {
            "period_popularity": popularity,
            "period_item_age_days": (_take(self.user_last, u) - _take(self.item_first, i)) / SECONDS_PER_DAY,
            "period_item_idle_days": (_take(self.user_first, u) - _take(self.item_last, i)) / SECONDS_PER_DAY,
        }


def _extreme(codes: np.ndarray, values: np.ndarray, n: int, reduce: np.ufunc) -> np.ndarray:
    """Per code 0..n-1, ``reduce`` (np.fmin / np.fmax) of its ``values``; NaN for a code without any."""
    out = np.full(n, np.nan)
    reduce.at(out, codes, values)
    return out


@dataclass(frozen=True, eq=False)
class HistoryFeatures:
    """Everything :func:`build_features` derives from the history alone, made by :func:`prepare_history`.

    >>> prepared = prepare_history(train)  # doctest: +SKIP
    >>> prepared.features(cands, scores=["als_score"])  # doctest: +SKIP
    """

    user_map: IdMap
    item_map: IdMap
    #: user_count .. item_mean_rating, in column order
    leading: tuple[_Lookup, ...]
    user_side: _SideTable | None
    #: item_popularity, item_trend, item_age_days
    item_lookups: tuple[_Lookup, ...]
    item_side: _SideTable | None
    #: first category per item id and its levels, items x categories 0/1, users x categories share
    first_category: pd.Series | None
    category_levels: pd.Index | None
    multi_hot: sp.csr_matrix | None
    category_share: np.ndarray | None
    #: binary users x items (sorted indices), its columns scaled by 1 / sqrt(item count) (by user and
    #: by item), distinct items per user
    binary: sp.csr_matrix
    scaled: sp.csr_matrix
    scaled_by_item: sp.csc_matrix
    history_size: np.ndarray
    #: items x items co-occurrence within ``SEQUENCE_WINDOW`` steps, scaled like ``scaled``, by column
    #: (timestamps only)
    sequence_by_item: sp.csc_matrix | None = None
    #: where users and items sit in time (timestamps only)
    periods: _Periods | None = None
    #: repeat-purchase and basket features, when asked for (``prepare_history(repeats=True)``)
    repeats: _Repeats | None = None

    def features(self, pairs: pd.DataFrame, *, scores: Sequence[str] = ()) -> pd.DataFrame:
        """The :func:`build_features` table for ``pairs`` (``user_id, item_id`` and the ``scores`` columns)."""
        _check_pairs(pairs, scores, "features")
        u, i = self.user_map.codes(pairs[C.USER]), self.item_map.codes(pairs[C.ITEM])
        out: dict[str, object] = {
            C.USER: pairs[C.USER].to_numpy(),
            C.ITEM: pairs[C.ITEM].to_numpy(),
        }
        out.update(_lookups(self.leading, u, i))
        if self.user_side is not None:
            out.update(self.user_side.features(pairs[C.USER]))
        out.update(_lookups(self.item_lookups, u, i))
        if self.item_side is not None:
            out.update(self.item_side.features(pairs[C.ITEM]))

        for name in scores:
            values = pd.to_numeric(pairs[name], errors="coerce").to_numpy(dtype=np.float64)
            out[name] = values
            within = pd.Series(values).groupby(pd.factorize(pairs[C.USER])[0])
            out[f"{name}_rank"] = within.rank(ascending=False, method="min").to_numpy()
            spread = within.transform("std").to_numpy()
            with np.errstate(invalid="ignore"):  # -inf scores (items a source does not rank) give NaN, as meant
                centred = values - within.transform("mean").to_numpy()
            out[f"{name}_z"] = np.divide(centred, spread, out=np.full(len(values), np.nan), where=spread > 0)

        if self.first_category is not None:
            out["item_category"] = pd.Categorical(
                self.first_category.reindex(pd.Index(pairs[C.ITEM])).to_numpy(), categories=self.category_levels
            )
            out["category_affinity"] = _affinity(self.category_share, self.multi_hot, u, i)
        out["cooccurrence"] = _history_mean(self.history_size, u, i, self._cosines)
        if self.sequence_by_item is not None:
            out["sequence_cooccurrence"] = _history_mean(self.history_size, u, i, self._sequence_sums)
        if self.periods is not None:
            out.update(self.periods.features(u, i))
        if self.repeats is not None:
            out.update(self.repeats.features(u, i))
        return pd.DataFrame(out)

    def _cosines(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Per pair, the sum over the user's items j of cos(i, j): ``(B S^T S)[u, i]`` with B the binary
        history and S its scaled copy, as ``W[u] . S[:, i]`` with W = B S^T (users x users) made for
        blocks of users, so that no users x items product is ever formed."""
        scaled = self.scaled_by_item
        out = np.empty(len(u))
        users = np.unique(u)
        per_block = max(1, BATCH_CELLS // max(len(self.user_map), 1))
        for start in range(0, len(users), per_block):
            block = users[start : start + per_block]
            in_block = np.flatnonzero((u >= block[0]) & (u <= block[-1]))
            weights = (self.binary[block] @ self.scaled.T).toarray()
            rows = np.searchsorted(block, u[in_block])
            part = np.empty(len(in_block))
            _dense_column_dots(weights, rows, scaled.indptr, scaled.indices, scaled.data, i[in_block], part)
            out[in_block] = part
        return out

    def _sequence_sums(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Per pair, the sum over the user's items j of the scaled sequence co-occurrence of (j, i)."""
        binary, sequence = self.binary, self.sequence_by_item
        out = np.empty(len(u))
        _sparse_dots(binary.indptr, binary.indices, u, sequence.indptr, sequence.indices, sequence.data, i, out)
        return out


@numba.njit(cache=True, nogil=True)
def _dense_column_dots(
    dense: np.ndarray,
    rows: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    columns: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[p] = dense[rows[p]] . M[:, columns[p]]`` for a CSC matrix M (indptr, indices, data)."""
    for p in range(len(rows)):
        row, column = rows[p], columns[p]
        total = 0.0
        for k in range(indptr[column], indptr[column + 1]):
            total += dense[row, indices[k]] * data[k]
        out[p] = total


@numba.njit(cache=True, nogil=True)
def _sparse_dots(
    a_indptr: np.ndarray,
    a_indices: np.ndarray,
    rows: np.ndarray,
    b_indptr: np.ndarray,
    b_indices: np.ndarray,
    b_data: np.ndarray,
    columns: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[p] = A[rows[p]] . M[:, columns[p]]`` for a 0/1 CSR matrix A and a CSC matrix M: the pairs
    are taken user by user, each user's row of A marked once in a dense mask that the entries of
    the pair's column are tested against (no merge, no branch on the order of indices)."""
    order = np.argsort(rows, kind="mergesort")
    mask = np.zeros(max(len(b_indptr) - 1, a_indices.max() + 1 if len(a_indices) else 1), dtype=np.bool_)
    start = 0
    while start < len(order):
        row = rows[order[start]]
        for k in range(a_indptr[row], a_indptr[row + 1]):
            mask[a_indices[k]] = True
        stop = start
        while stop < len(order) and rows[order[stop]] == row:
            pair = order[stop]
            column = columns[pair]
            total = 0.0
            for k in range(b_indptr[column], b_indptr[column + 1]):
                if mask[b_indices[k]]:
                    total += b_data[k]
            out[pair] = total
            stop += 1
        for k in range(a_indptr[row], a_indptr[row + 1]):
            mask[a_indices[k]] = False
        start = stop


def prepare_history(
    history: Dataset, *, max_categories: int = 50, recent_fraction: float = 0.1, repeats: bool = False
) -> HistoryFeatures:
    """The history-only part of :func:`build_features` (same ``max_categories``, ``recent_fraction``
    and ``repeats``)."""
    _check_fraction(recent_fraction, "prepare_history")
    log = history.interactions
    user_map, item_map = IdMap.from_values(log[C.USER]), IdMap.from_values(log[C.ITEM])
    log_u, log_i = user_map.codes(log[C.USER]), item_map.codes(log[C.ITEM])
    n_users, n_items = len(user_map), len(item_map)

    user_count = np.bincount(log_u, minlength=n_users).astype(np.float64)
    item_count = np.bincount(log_i, minlength=n_items).astype(np.float64)
    leading = [_Lookup("user_count", True, user_count, 0.0)]
    # Order numbers (1, 2, 3 per customer) order each user's rows, but no clock is shared between users:
    # "days" count orders, and the features that compare users' times are left out.
    clock = history.has_timestamps and not history.has_order_numbers
    day_seconds = SECONDS_PER_DAY if clock else 1.0
    if history.has_timestamps:
        seconds = to_seconds(log[C.TIMESTAMP]).astype(np.float64)
        now = seconds.max()
        if clock:
            last = pd.Series(seconds).groupby(log_u).max().to_numpy()
            leading.append(_Lookup("user_recency_days", True, (now - last) / SECONDS_PER_DAY, np.nan))
        day = np.floor(seconds / day_seconds).astype(np.int64)
        active = pd.DataFrame({"u": log_u, "d": day}).drop_duplicates()
        frequency = np.bincount(active["u"], minlength=n_users).astype(np.float64)
        leading.append(_Lookup("user_frequency", True, frequency, 0.0))

    items_table = history.items
    prices = _item_column(items_table, "price", item_map)
    if prices is not None:
        paid = log[C.EVENT].eq("purchase").to_numpy() if C.EVENT in log.columns else np.ones(len(log), bool)
        spent = np.bincount(log_u[paid], weights=np.nan_to_num(prices[log_i[paid]]), minlength=n_users)
        leading.append(_Lookup("user_monetary", True, spent, 0.0))
    if C.RATING in log.columns:
        rating = log[C.RATING].to_numpy(dtype=np.float64)
        leading.append(
            _Lookup("user_mean_rating", True, np.bincount(log_u, rating, n_users) / np.maximum(user_count, 1), np.nan)
        )
        leading.append(
            _Lookup("item_mean_rating", False, np.bincount(log_i, rating, n_items) / np.maximum(item_count, 1), np.nan)
        )

    item_lookups = [_Lookup("item_popularity", False, item_count / max(len(log), 1), 0.0)]
    if clock:
        recent = seconds >= np.quantile(seconds, 1.0 - recent_fraction)
        recent_count = np.bincount(log_i[recent], minlength=n_items)
        item_lookups.append(_Lookup("item_trend", False, recent_count / np.maximum(item_count, 1), np.nan))
        first = pd.Series(seconds).groupby(log_i).min().to_numpy()
        item_lookups.append(_Lookup("item_age_days", False, (now - first) / SECONDS_PER_DAY, np.nan))

    seen = history.user_item_matrix(user_map, item_map)
    categories = _categories(items_table)
    first_category = category_levels = multi_hot = share = None
    if categories is not None:
        labels, first_category = categories
        category_levels = _levels(first_category)
        multi_hot = _multi_hot(labels, item_map)
        share = _category_share(seen, multi_hot)
    binary = seen.copy()
    binary.data[:] = 1.0
    binary.sort_indices()
    norms = np.sqrt(np.asarray(binary.sum(axis=0), dtype=np.float64)).ravel()
    scale = sp.diags(1.0 / np.maximum(norms, 1.0))
    scaled = (binary @ scale).tocsr()
    sequence = periods = None
    if history.has_timestamps:
        sequence = (scale @ _sequence_pairs(log_u, log_i, seconds, n_items) @ scale).tocsc()
        sequence.sort_indices()
    if clock:
        periods = _Periods.from_log(log_u, log_i, seconds, n_users, n_items)
    return HistoryFeatures(
        user_map=user_map,
        item_map=item_map,
        leading=tuple(leading),
        user_side=_side_table(history.users, "user", max_categories, skip=()),
        item_lookups=tuple(item_lookups),
        item_side=_side_table(items_table, "item", max_categories, skip=CATEGORY_COLUMNS),
        first_category=first_category,
        category_levels=category_levels,
        multi_hot=multi_hot,
        category_share=share,
        binary=binary,
        scaled=scaled,
        scaled_by_item=scaled.tocsc(),
        history_size=np.asarray(binary.sum(axis=1), dtype=np.float64).ravel(),
        sequence_by_item=sequence,
        periods=periods,
        repeats=_Repeats.from_history(
            history, user_map, item_map, day_seconds, _category_codes(first_category, item_map)
        )
        if repeats
        else None,
    )


def _check_pairs(pairs: pd.DataFrame, scores: Sequence[str], where: str) -> None:
    missing = [c for c in (C.USER, C.ITEM, *scores) if c not in pairs.columns]
    if missing:
        raise DataError(f"{where}: pairs lack the column {missing[0]!r} (columns: {list(pairs.columns)[:12]})")


def _check_fraction(recent_fraction: float, where: str) -> None:
    if not 0.0 < recent_fraction < 1.0:
        raise DataError(f"{where}: recent_fraction must be between 0 and 1, got {recent_fraction!r}")


def _lookups(lookups: Sequence[_Lookup], u: np.ndarray, i: np.ndarray) -> dict[str, np.ndarray]:
    """Each lookup's values at the pairs' user or item codes."""
    return {name: _take(values, u if by_user else i, fill=fill) for name, by_user, values, fill in lookups}


def _take(values: np.ndarray, codes: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """``values[codes]`` as float, ``fill`` where the code is -1 (unknown id)."""
    result = np.full(len(codes), fill, dtype=np.float64)
    known = codes >= 0
    result[known] = values[codes[known]]
    return result


def _levels(reference: pd.Series) -> pd.Index:
    """Categorical levels from the whole ``reference`` column (stable across calls)."""
    return pd.Index(pd.unique(reference.dropna())).sort_values()


def _side_table(
    table: pd.DataFrame | None, prefix: str, max_categories: int, skip: tuple[str, ...]
) -> _SideTable | None:
    """The numeric columns and the text columns of at most ``max_categories`` levels of ``table``."""
    if table is None:
        return None
    columns, levels = [], []
    for column in table.columns:
        if column in skip:
            continue
        values = table[column]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            columns.append(column)
            levels.append(None)
        elif values.nunique() <= max_categories:
            columns.append(column)
            levels.append(_levels(values))
    return _SideTable(prefix, table[columns], tuple(levels))


def _item_column(table: pd.DataFrame | None, column: str, item_map: IdMap) -> np.ndarray | None:
    """A numeric item column aligned with ``item_map`` codes, or None when the table lacks it."""
    if table is None or column not in table.columns:
        return None
    return pd.to_numeric(table[column], errors="coerce").reindex(item_map.ids).to_numpy(np.float64)


def _categories(table: pd.DataFrame | None) -> tuple[pd.Series, pd.Series] | None:
    """(list of categories per item, first category per item) from ``genres`` or ``category``."""
    if table is None:
        return None
    column = next((c for c in CATEGORY_COLUMNS if c in table.columns), None)
    if column is None:
        return None
    parts = table[column].astype("string").str.split("|")
    labels = parts.map(lambda split: [] if not isinstance(split, list) else split)
    first = parts.str[0]
    return labels, first.astype(object).where(first.notna(), None)


def _category_codes(first_category: pd.Series | None, item_map: IdMap) -> np.ndarray | None:
    """The code of each item code's first category (-1: none), or None without categories."""
    if first_category is None:
        return None
    return pd.factorize(first_category.reindex(pd.Index(item_map.ids)))[0].astype(np.int64)


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


def _category_share(seen: sp.csr_matrix, multi_hot: sp.csr_matrix) -> np.ndarray:
    """Users x categories: each category's share in the user's interactions."""
    check_dense(
        seen.shape[0], multi_hot.shape[1], what="user x category affinity (a category column with very many values?)"
    )
    per_user = np.asarray((seen @ multi_hot).todense(), dtype=np.float64)  # users x categories (few)
    totals = np.asarray(seen.sum(axis=1), dtype=np.float64).ravel()
    return per_user / np.maximum(totals, 1.0)[:, None]


def _affinity(share: np.ndarray, multi_hot: sp.csr_matrix, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Mean over the pair item's categories of their share (:func:`_category_share`) in the user's interactions."""
    result = np.full(len(u), np.nan)
    known = np.flatnonzero((u >= 0) & (i >= 0))
    item_rows = multi_hot[i[known]]
    sums = np.asarray(item_rows.multiply(share[u[known]]).sum(axis=1)).ravel()
    counts = np.diff(item_rows.indptr)
    result[known] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return result


def _history_mean(
    history_size: np.ndarray, u: np.ndarray, i: np.ndarray, sums: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Mean over each pair user's items j of an item-item similarity sim(i, j).

    ``history_size`` is the distinct items per user (see :func:`prepare_history`); ``sums(u, i)`` gives,
    for known user and item codes, the sums over the user's items j of sim(i, j).
    """
    result = np.full(len(u), np.nan)
    known = np.flatnonzero((u >= 0) & (i >= 0))
    if len(known):
        result[known] = sums(u[known], i[known]) / np.maximum(history_size[u[known]], 1.0)
    return result


def _sequence_pairs(users: np.ndarray, items: np.ndarray, seconds: np.ndarray, n_items: int) -> sp.csr_matrix:
    """Items x items: how often two items were interacted with by one user at most
    ``SEQUENCE_WINDOW`` steps apart (each user's interactions in time order), symmetric.

    >>> _sequence_pairs(np.array([0, 0, 0]), np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]), 3).toarray().tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    order = np.lexsort((seconds, users))
    users, items = users[order], items[order]
    rows, cols = [], []
    for step in range(1, SEQUENCE_WINDOW + 1):
        same = np.flatnonzero(users[step:] == users[:-step])
        rows += [items[same], items[same + step]]
        cols += [items[same + step], items[same]]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    apart = rows != cols  # a repeat of one item is not a pair
    pairs = sp.csr_matrix(
        (np.ones(apart.sum(), np.float32), (rows[apart], cols[apart])), shape=(n_items, n_items), dtype=np.float32
    )
    pairs.sum_duplicates()
    return pairs
