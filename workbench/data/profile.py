"""Data profile of a Dataset: summary numbers, distributions and plain-words warnings.

All counts come from integer codes and ``np.bincount`` / ``np.unique``, so a
ten-million-row log is profiled in seconds; text columns of the user and item
tables are only read when they are low-cardinality demographics.

>>> p = profile(Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"]})))
>>> p.to_dict()["interactions"], p.to_dict()["density"]
(3, 0.75)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset, to_seconds

#: Users-table columns with at most this many distinct values are profiled as demographics.
MAX_DEMOGRAPHIC_VALUES = 25
AGE_BANDS = (0, 18, 25, 35, 45, 55, 65, 200)
AGE_LABELS = ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
#: Ratings with more distinct values than this are binned in ``value_mix``.
MAX_RATING_VALUES = 20
VERY_SPARSE = 0.001
SINGLE_INTERACTION_SHARE = 0.1
TOP_ITEMS_SKEW = 0.8
DAILY_MAX_DAYS = 92
LONG_TAIL_POINTS = 200
DAY = 86_400


@dataclass(frozen=True)
class Profile:
    """What :func:`profile` found; every table is aggregated (small whatever the data size)."""

    summary: pd.DataFrame
    missing: pd.DataFrame
    user_activity: pd.DataFrame
    item_popularity: pd.DataFrame
    activity_over_time: pd.DataFrame
    value_mix: pd.DataFrame
    demographics: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, float | int | str]:
        """The summary as ``{metric: value}``."""
        return dict(zip(self.summary["metric"], self.summary["value"], strict=True))


def gini(counts: np.ndarray) -> float:
    """Gini of counts: sum((2i - n - 1) c_i) / (n sum c), c ascending; 0.0 when empty or all zero."""
    c = np.sort(counts).astype(np.float64)
    n = len(c)
    if n == 0 or c.sum() == 0:
        return 0.0
    return float(np.sum((2 * np.arange(1, n + 1) - n - 1) * c) / (n * c.sum()))


def _pct(share: float) -> str:
    return f"{100 * share:.3g}%"


def _activity_bins(counts: np.ndarray, what: str) -> pd.DataFrame:
    """Counts grouped in powers-of-two bins [1], [2, 3], [4, 7], ...: low, high, label, <what>, share."""
    counts = counts[counts > 0]
    columns = ["low", "high", "label", what, "share"]
    if len(counts) == 0:
        return pd.DataFrame(columns=columns)
    exponent = np.floor(np.log2(counts)).astype(np.int64)
    n_in_bin = np.bincount(exponent)
    low = 2 ** np.arange(len(n_in_bin))
    high = 2 * low - 1
    label = np.where(low == high, low.astype(str), np.char.add(np.char.add(low.astype(str), "-"), high.astype(str)))
    frame = pd.DataFrame({"low": low, "high": high, "label": label, what: n_in_bin, "share": n_in_bin / len(counts)})
    return frame[frame[what] > 0].reset_index(drop=True)


def _long_tail(item_counts: np.ndarray) -> pd.DataFrame:
    """Popularity by rank (1 = most popular) at up to ~2 x LONG_TAIL_POINTS ranks, with cumulative share."""
    counts = np.sort(item_counts[item_counts > 0])[::-1]
    n = len(counts)
    if n == 0:
        return pd.DataFrame(columns=["rank", "interactions", "item_share", "cumulative_share"])
    points = np.concatenate([np.geomspace(1, n, LONG_TAIL_POINTS), np.linspace(1, n, LONG_TAIL_POINTS)])
    ranks = np.unique(points.round().astype(np.int64))
    cumulative = np.cumsum(counts)
    return pd.DataFrame(
        {
            "rank": ranks,
            "interactions": counts[ranks - 1],
            "item_share": ranks / n,
            "cumulative_share": cumulative[ranks - 1] / cumulative[-1],
        }
    )


def _over_time(seconds: np.ndarray | None, user_codes: np.ndarray, n_users: int) -> pd.DataFrame:
    """Interactions and distinct active users per day (span under DAILY_MAX_DAYS) or per week (from Monday)."""
    if seconds is None:
        return pd.DataFrame(columns=["period", "interactions", "active_users"])
    first_day = pd.Timestamp(int(seconds.min()), unit="s").floor("D")
    days = (seconds - int(first_day.timestamp())) // DAY
    width = 1 if days.max() < DAILY_MAX_DAYS else 7
    offset = 0 if width == 1 else first_day.dayofweek
    period = (days + offset) // width
    interactions = np.bincount(period)
    active_pairs = _distinct(period * np.int64(n_users) + user_codes)
    active = np.bincount(active_pairs // n_users, minlength=len(interactions))
    start = first_day - pd.Timedelta(days=offset)
    return pd.DataFrame(
        {
            "period": start + pd.to_timedelta(np.arange(len(interactions)) * width, unit="D"),
            "interactions": interactions,
            "active_users": active,
        }
    )


def _value_mix(log: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each event type and each rating value (binned when continuous)."""
    parts = []
    if C.EVENT in log.columns:
        counts = log[C.EVENT].value_counts(sort=False)
        known = [e for e in C.EVENT_TYPES if e in counts.index]
        counts = counts.reindex(known + sorted(set(counts.index) - set(known)))
        parts.append(pd.DataFrame({"column": C.EVENT, "value": counts.index.astype(str), "count": counts.to_numpy()}))
    if C.RATING in log.columns:
        values, counts = np.unique(log[C.RATING].to_numpy(np.float64), return_counts=True)
        if len(values) > MAX_RATING_VALUES:
            binned = pd.cut(log[C.RATING], bins=10).value_counts(sort=False)
            labels, counts = binned.index.astype(str), binned.to_numpy()
        else:
            labels = [f"{v:g}" for v in values]
        parts.append(pd.DataFrame({"column": C.RATING, "value": labels, "count": counts}))
    if not parts:
        return pd.DataFrame(columns=["column", "value", "count", "share"])
    frame = pd.concat(parts, ignore_index=True)
    frame["count"] = frame["count"].astype(np.int64)
    frame["share"] = frame["count"] / len(log)
    return frame


def _demographics(users: pd.DataFrame | None, log_users: pd.Index, per_user: np.ndarray) -> dict[str, pd.DataFrame]:
    """Per low-cardinality users column (age in bands): value, users, interactions, share of interactions."""
    if users is None or len(users) == 0:
        return {}
    row = users.index.get_indexer(log_users)
    known = row >= 0
    interactions = np.bincount(row[known], weights=per_user[known], minlength=len(users)).astype(np.int64)
    out = {}
    for name in users.columns:
        column = users[name]
        if str(name).lower() == "age" and pd.api.types.is_numeric_dtype(column.dtype):
            column = pd.cut(column, bins=AGE_BANDS, labels=AGE_LABELS, right=False)
        elif pd.api.types.is_datetime64_any_dtype(column.dtype) or column.nunique() > MAX_DEMOGRAPHIC_VALUES:
            continue
        counts = (
            pd.DataFrame({"users": 1, "interactions": interactions}, index=users.index)
            .groupby(column, dropna=False, sort=True, observed=True)
            .sum()
        )
        value = np.where(counts.index.isna(), "(missing)", counts.index.astype(str))
        total = counts["interactions"].sum()
        out[str(name)] = pd.DataFrame(
            {
                "value": value,
                "users": counts["users"].to_numpy(),
                "interactions": counts["interactions"].to_numpy(),
                "share": counts["interactions"].to_numpy() / total if total else 0.0,
            }
        )
    return out


def _missing(ds: Dataset) -> pd.DataFrame:
    rows = []
    for table, frame in (("interactions", ds.interactions), ("users", ds.users), ("items", ds.items)):
        if frame is None:
            continue
        n = len(frame)
        for column, missing in frame.isna().sum().items():
            rows.append((table, str(column), int(missing), missing / n if n else 0.0))
    return pd.DataFrame(rows, columns=["table", "column", "missing", "share"])


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: faster than hashing for ten million int64)."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered


def _duplicates(log: pd.DataFrame, pair: np.ndarray) -> tuple[int, int]:
    """Rows repeating an earlier (user, item) pair, and rows repeating an earlier row in full.

    Full rows are compared by a 64-bit hash of all their columns (a false match has
    odds of about rows^2 / 2^65, one in a million for ten million rows).
    """
    duplicate_pairs = len(pair) - len(_distinct(pair))
    if duplicate_pairs == 0:
        return 0, 0
    rows = log.drop(columns=[C.USER, C.ITEM]).assign(_pair=pair)
    hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy()
    return duplicate_pairs, len(hashes) - len(_distinct(hashes))


def profile(ds: Dataset) -> Profile:
    """Profile a Dataset: sizes, sparsity, duplicates, long tail, time, value mix, demographics, warnings.

    >>> p = profile(load_movielens_100k())  # doctest: +SKIP
    >>> p.summary.head(3)  # doctest: +SKIP
             metric   value
    0  interactions  100000
    1         users     943
    2         items    1682
    """
    log = ds.interactions
    user_codes, user_ids = pd.factorize(log[C.USER])
    item_codes, item_ids = pd.factorize(log[C.ITEM])
    n, n_users, n_items = len(log), len(user_ids), len(item_ids)
    per_user = np.bincount(user_codes, minlength=n_users)
    per_item = np.bincount(item_codes, minlength=n_items)
    pair = user_codes.astype(np.int64) * n_items + item_codes
    duplicate_pairs, duplicate_rows = _duplicates(log, pair)
    density = (n - duplicate_pairs) / (n_users * n_items)
    top = int(np.ceil(0.2 * n_items))
    top_share = float(np.sort(per_item)[::-1][:top].sum() / n)
    single = int((per_user == 1).sum())

    summary: dict[str, float | int | str] = {
        "interactions": n,
        "users": n_users,
        "items": n_items,
        "density": float(density),
        "duplicate_pairs": int(duplicate_pairs),
        "duplicate_rows": duplicate_rows,
        "median_per_user": float(np.median(per_user)),
        "mean_per_user": float(per_user.mean()),
        "max_per_user": int(per_user.max()),
        "median_per_item": float(np.median(per_item)),
        "single_interaction_users": single,
        "gini_items": gini(per_item),
        "top20_item_share": top_share,
    }
    warnings: list[str] = []
    for kind, table, ids in (("users", ds.users, user_ids), ("items", ds.items, item_ids)):
        if table is None:
            warnings.append(f"There is no {kind} table: {kind} can only be described by their interactions.")
            continue
        unknown = int((table.index.get_indexer(ids) < 0).sum())
        cold = len(table) - (n_users if kind == "users" else n_items) + unknown
        summary[f"{kind}_in_table"] = len(table)
        summary[f"cold_{kind}"] = cold
        summary[f"unknown_{kind}"] = unknown
        if cold:
            warnings.append(
                f"{cold:,} {kind} in the {kind} table ({_pct(cold / len(table))}) have no interactions "
                f"(cold {kind}): only attributes can serve them."
            )
        if unknown:
            warnings.append(f"{unknown:,} {kind} in the interactions are missing from the {kind} table.")

    seconds = to_seconds(log[C.TIMESTAMP]) if ds.has_timestamps else None
    if seconds is not None:
        first, last = int(seconds.min()), int(seconds.max())
        summary["first_timestamp"] = pd.Timestamp(first, unit="s").isoformat()
        summary["last_timestamp"] = pd.Timestamp(last, unit="s").isoformat()
        summary["span_days"] = (last - first) / DAY
    else:
        warnings.append("There are no timestamps: temporal splits and activity over time are unavailable.")

    if duplicate_pairs:
        warnings.append(
            f"{duplicate_pairs:,} rows ({_pct(duplicate_pairs / n)}) repeat a (user, item) pair seen before; "
            "models add repeats up."
        )
    if duplicate_rows:
        warnings.append(f"{duplicate_rows:,} rows are exact copies of an earlier row: check for double logging.")
    if density < VERY_SPARSE:
        warnings.append(f"The user x item matrix is very sparse: {_pct(density)} of the cells are filled.")
    if single / n_users >= SINGLE_INTERACTION_SHARE:
        warnings.append(f"{single:,} users ({_pct(single / n_users)}) have a single interaction.")
    if top_share >= TOP_ITEMS_SKEW:
        warnings.append(f"Popularity is very skewed: the top 20% of items get {_pct(top_share)} of the interactions.")
    missing = _missing(ds)
    for row in missing[missing["missing"] > 0].itertuples(index=False):
        warnings.append(f"{row.table}.{row.column} has {row.missing:,} missing values ({_pct(row.share)}).")

    return Profile(
        summary=pd.DataFrame({"metric": list(summary), "value": pd.Series(list(summary.values()), dtype=object)}),
        missing=missing,
        user_activity=_activity_bins(per_user, "users"),
        item_popularity=_long_tail(per_item),
        activity_over_time=_over_time(seconds, user_codes, n_users),
        value_mix=_value_mix(log),
        demographics=_demographics(ds.users, pd.Index(user_ids), per_user),
        warnings=warnings,
    )
