"""Data profile of a Dataset: summary numbers, distributions, the shop's view and plain-words warnings.

All counts come from integer codes and ``np.bincount`` / ``np.unique``, so a
ten-million-row log is profiled in seconds; text columns of the user and item
tables are only read when they are low-cardinality demographics or labels.
Besides sizes and distributions, a profile holds what an e-commerce analyst
reads first: top items by name, the category (or department) and brand mix,
the view -> cart -> purchase funnel, basket sizes and repeat purchases, spend
(from a ``sales_value`` column: per order, per user and per label), and cleaning findings
(one label spelled several ways, bot-like users, missing attributes) that
:func:`workbench.data.clean.clean` can act on.

>>> p = profile(Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"]})))
>>> p.to_dict()["interactions"], p.to_dict()["density"]
(3, 0.75)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_string_dtype,
)

from workbench import columns as C
from workbench.data.dataset import Dataset, order_numbers_text
from workbench.data.stats import MISSING_LABEL, OUTLIER_Z, gini, robust_z
from workbench.data.validate import ORDER_NUMBERS_BELOW, are_order_numbers, implausible_times, to_seconds
from workbench.errors import DataError

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
TOP_ITEMS = 20
#: Items-table columns read as the item's name, category (the first present wins) and brand.
NAME_COLUMNS = ("name", "title")
CATEGORY_COLUMNS = ("category", "genres", "department")
LABEL_COLUMNS = (*CATEGORY_COLUMNS, "brand")
PRICE_COLUMN = "price"
#: Columns holding several labels joined by LABEL_SEPARATOR (MovieLens genres: "Action|Comedy").
MULTI_VALUED = ("genres",)
LABEL_SEPARATOR = "|"
#: A text column of the users or items table is a label column when it is named in LABEL_COLUMNS or has
#: at most max(MAX_DEMOGRAPHIC_VALUES, LABEL_SHARE x rows) distinct values; labels are checked for spellings.
LABEL_SHARE = 0.1
#: Interaction columns grouping rows into orders (the first present wins); with events, only purchases count.
ORDER_COLUMNS = ("order_id", "session_id")
MAX_BASKET = 10  # basket sizes from MAX_BASKET up share one row
MAX_OUTLIERS_SHOWN = 50
UNKNOWN_ITEM = "(not in items table)"
LABEL_MIX_COLUMNS = ["column", "value", "interactions", "share", "items", "catalogue_items"]
FUNNEL_COLUMNS = ["stage", "users", "events", "users_from_previous", "events_from_previous", "users_from_views"]
BASKET_COLUMNS = ["items", "orders", "share"]
#: Interaction column holding what a row cost the shopper (The Complete Journey's line items); with events, only
#: purchases count.
SPEND_COLUMN = C.SPEND
SPEND_COLUMNS = ["column", "value", "spend", "share", "orders", "users"]
_COMBINING_MARKS = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


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
    #: item_id, name (when the items table has name or title), interactions, share, purchases (with events),
    #: spend (with a sales_value column).
    top_items: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: column (category, genres, department, brand), value, interactions, share, items (with interactions),
    #: catalogue_items.
    label_mix: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: stage (view, cart, purchase), users, events, users_from_previous, events_from_previous, users_from_views.
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: items (distinct items per order, "10+" last), orders, share.
    basket_sizes: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: column (as in label_mix), value, spend, share of all spend, orders (with an order column) and users buying
    #: the label: spend from the log's sales_value, per label, largest first; MISSING_LABEL and UNKNOWN_ITEM last.
    spend: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: table, column, canonical (most frequent spelling), spelling, rows: labels spelled in two or more ways.
    spellings: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: kind (user, item), id, interactions, robust_z: the highest outliers first, at most MAX_OUTLIERS_SHOWN each.
    outliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: table, attribute, missing, share, interactions: items without name / category / price, users without
    #: any demographic, ids of the log absent from the users or items table.
    missing_attributes: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Section (a field name, or "repeats" for the summary's repeat numbers) -> why it does not (fully) apply
    #: to this data, in plain words; e.g. {"funnel": "the interactions have no event column"}.
    not_applicable: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, float | int | str]:
        """The summary as ``{metric: value}``."""
        return dict(zip(self.summary["metric"], self.summary["value"], strict=True))


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
    offset = 0 if width == 1 else first_day.day_of_week
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


def _value_mix(log: pd.DataFrame, events: tuple[np.ndarray, pd.Index] | None) -> pd.DataFrame:
    """Count and share of each event type (from its codes) and each rating value (binned when continuous)."""
    parts = []
    if events is not None:
        codes, values = events
        counts = pd.Series(np.bincount(codes, minlength=len(values)), index=values.astype(str))
        known = [e for e in C.EVENT_TYPES if e in counts.index]
        counts = counts.reindex(known + sorted(set(counts.index) - set(known)))
        parts.append(pd.DataFrame({"column": C.EVENT, "value": counts.index, "count": counts.to_numpy()}))
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


def _per_row(row: np.ndarray, counts: np.ndarray, n_rows: int) -> np.ndarray:
    """Interactions per row of a users or items table, from the table row of each log id (-1: not in it)."""
    known = row >= 0
    return np.bincount(row[known], weights=counts[known], minlength=n_rows).astype(np.int64)


def _demographics(users: pd.DataFrame | None, interactions: np.ndarray | None) -> dict[str, pd.DataFrame]:
    """Per low-cardinality users column (age in bands): value, users, interactions, share of interactions."""
    if users is None or len(users) == 0:
        return {}
    out = {}
    for name in users.columns:
        column = users[name]
        if str(name).lower() == "age" and is_numeric_dtype(column.dtype):
            column = pd.cut(column, bins=AGE_BANDS, labels=AGE_LABELS, right=False)
        elif is_datetime64_any_dtype(column.dtype) or column.nunique() > MAX_DEMOGRAPHIC_VALUES:
            continue
        counts = (
            pd.DataFrame({"users": 1, "interactions": interactions}, index=users.index)
            .groupby(column, dropna=False, sort=True, observed=True)
            .sum()
        )
        value = np.where(counts.index.isna(), MISSING_LABEL, counts.index.astype(str))
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


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as floats, NaN where the denominator is 0."""
    out = np.full(len(numerator), np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _first_column(frame: pd.DataFrame | None, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` that is a column of ``frame`` (None when there is no frame or no such column)."""
    return None if frame is None else next((name for name in names if name in frame.columns), None)


def present(values: pd.Series) -> pd.Series:
    """True where a value is neither missing nor blank text.

    >>> present(pd.Series(["a", " ", None])).tolist()
    [True, False, False]
    """
    known = values.notna()
    return known & (values.astype(str).str.strip() != "") if is_string_dtype(values.dtype) else known


def normalise_label(values: pd.Series) -> pd.Series:
    """Labels as compared for spellings: accents stripped (NFKD), case folded, whitespace collapsed.

    >>> normalise_label(pd.Series(["Café  Noir ", "cafe noir"])).tolist()
    ['cafe noir', 'cafe noir']
    """
    text = values.astype(str).str.normalize("NFKD").str.replace(_COMBINING_MARKS, "", regex=True)
    return text.str.casefold().str.replace(r"\s+", " ", regex=True).str.strip()


def is_text(values: pd.Series) -> bool:
    """True for a column of text (a string dtype, or objects that are all strings).

    >>> is_text(pd.Series(["a", None])), is_text(pd.Series([1, "a"], dtype=object))
    (True, False)
    """
    return is_string_dtype(values.dtype) and (values.dtype != object or infer_dtype(values, skipna=True) == "string")


def label_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns of a users or items table read as labels: LABEL_COLUMNS, and any with few distinct values.

    >>> label_columns(pd.DataFrame({"brand": ["x", "y"], "price": [1.0, 2.0], "size": ["S", "M"]}))
    ['brand', 'size']
    """
    limit = max(MAX_DEMOGRAPHIC_VALUES, LABEL_SHARE * len(frame))
    return [
        name
        for name in frame.columns
        if is_text(frame[name]) and (name in LABEL_COLUMNS or frame[name].nunique() <= limit)
    ]


def label_values(column: pd.Series) -> pd.Series:
    """The labels of a column, one per (row, label), indexed by row position.

    MULTI_VALUED columns are split on LABEL_SEPARATOR; missing and blank labels are left out.

    >>> label_values(pd.Series(["a|b", None, "c"], name="genres")).tolist()
    ['a', 'b', 'c']
    """
    values = column.reset_index(drop=True)
    if column.name in MULTI_VALUED and is_text(values):
        values = values.str.split(LABEL_SEPARATOR).explode()
    return values[present(values)]


def spelling_groups(table: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """Labels of ``frame`` spelled in two or more ways that :func:`normalise_label` makes equal.

    One row per spelling: table, column, canonical (the spelling on most rows; on a tie, the first
    in sort order), spelling, rows; groups in the order of their normalised label.

    >>> items = pd.DataFrame({"category": ["Toys", "toys ", "Toys", "Books"]})
    >>> spelling_groups("items", items)[["canonical", "spelling", "rows"]].values.tolist()
    [['Toys', 'Toys', 2], ['Toys', 'toys ', 1]]
    """
    columns = ["table", "column", "canonical", "spelling", "rows"]
    parts = []
    for column in [] if frame is None else label_columns(frame):
        counts = label_values(frame[column]).value_counts()
        keys = normalise_label(counts.index.to_series()).to_numpy()
        found = pd.DataFrame({"key": keys, "spelling": counts.index, "rows": counts.to_numpy()})
        found = found[found.groupby("key")["spelling"].transform("size") > 1]
        if len(found):
            found = found.sort_values(["key", "rows", "spelling"], ascending=[True, False, True])
            found["canonical"] = found.groupby("key")["spelling"].transform("first")
            parts.append(found.assign(table=table, column=column)[columns])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _outliers(kind: str, ids: pd.Index, counts: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The highest outliers (robust z above OUTLIER_Z) first, at most MAX_OUTLIERS_SHOWN, and all their positions."""
    z = robust_z(counts)
    flagged = np.flatnonzero(z > OUTLIER_Z)
    shown = flagged[np.argsort(-z[flagged], kind="stable")][:MAX_OUTLIERS_SHOWN]
    table = pd.DataFrame({"kind": kind, "id": ids[shown].astype(object), "interactions": counts[shown]})
    return table.assign(robust_z=z[shown]), flagged


def _top_items(
    item_ids: pd.Index,
    per_item: np.ndarray,
    purchases: np.ndarray | None,
    items: pd.DataFrame | None,
    spend: np.ndarray | None = None,
) -> pd.DataFrame:
    """The TOP_ITEMS items with most interactions (ties: first seen), with their name, purchases and spend when
    known."""
    top = np.argsort(-per_item, kind="stable")[:TOP_ITEMS]
    frame = pd.DataFrame({C.ITEM: item_ids[top]})
    name = _first_column(items, NAME_COLUMNS)
    if name is not None:
        frame["name"] = items[name].reindex(item_ids[top]).to_numpy()
    frame["interactions"] = per_item[top]
    frame["share"] = per_item[top] / per_item.sum()
    if purchases is not None:
        frame["purchases"] = purchases[top]
    if spend is not None:
        frame["spend"] = spend[top]
    return frame


def _label_mix(items: pd.DataFrame, per_row: np.ndarray, unknown: tuple[int, int]) -> pd.DataFrame:
    """Per label of each LABEL_COLUMNS column: interactions, share, items with interactions, catalogue items.

    A multi-valued label counts each of its interactions once per label. Items without a label come
    last as MISSING_LABEL, then the log's items absent from the table (``unknown``: items, interactions).
    """
    total = per_row.sum() + unknown[1]
    parts = []
    for column in [c for c in LABEL_COLUMNS if c in items.columns]:
        labels = label_values(items[column])
        rows = labels.index.to_numpy()
        codes, values = pd.factorize(labels)
        k = len(values)
        frame = pd.DataFrame(
            {
                "value": values.astype(str),
                "interactions": np.bincount(codes, weights=per_row[rows], minlength=k).astype(np.int64),
                "items": np.bincount(codes, weights=per_row[rows] > 0, minlength=k).astype(np.int64),
                "catalogue_items": np.bincount(codes, minlength=k),
            }
        ).sort_values("interactions", ascending=False, kind="stable")
        unlabelled = np.ones(len(items), dtype=bool)
        unlabelled[rows] = False
        extra = pd.DataFrame(
            [
                (MISSING_LABEL, per_row[unlabelled].sum(), np.count_nonzero(per_row[unlabelled]), unlabelled.sum()),
                (UNKNOWN_ITEM, unknown[1], unknown[0], 0),
            ],
            columns=frame.columns,
        )
        frame = pd.concat([frame, extra[(extra["items"] > 0) | (extra["catalogue_items"] > 0)]], ignore_index=True)
        parts.append(frame.assign(column=column, share=frame["interactions"] / total if total else 0.0))
    return pd.concat(parts, ignore_index=True)[LABEL_MIX_COLUMNS] if parts else pd.DataFrame(columns=LABEL_MIX_COLUMNS)


def _reach(
    row_groups: np.ndarray, n_groups: int, pair_rows: np.ndarray, pair_labels: np.ndarray, n_labels: int
) -> np.ndarray:
    """Distinct groups (orders or users) per label.

    ``row_groups``: distinct ``table row * n_groups + group`` codes; ``pair_rows`` / ``pair_labels``: the
    labels of each table row (every row has at least one). Each (row, group) is expanded to its row's
    labels with ``np.repeat``, then the distinct (label, group) pairs are counted per label.
    """
    rows, groups = np.divmod(row_groups, n_groups)
    labels_by_row = pair_labels[np.argsort(pair_rows, kind="stable")]
    per_row = np.bincount(pair_rows, minlength=int(rows.max(initial=0)) + 1)
    starts = np.cumsum(per_row) - per_row
    reps = per_row[rows]
    offsets = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    labels = labels_by_row[np.repeat(starts[rows], reps) + offsets].astype(np.int64)
    pairs = _distinct(labels * n_groups + np.repeat(groups, reps))
    return np.bincount(pairs // n_groups, minlength=n_labels)


def _spend_by_label(
    items: pd.DataFrame, table_rows: np.ndarray, value: np.ndarray, groups: dict[str, tuple[np.ndarray, int]]
) -> pd.DataFrame:
    """Spend, share of spend, and orders and users buying, per label of each LABEL_COLUMNS column of ``items``.

    ``table_rows``: items-table row of each counted log row (len(items) for items absent from the table);
    ``value``: its spend; ``groups``: name -> (code of each counted log row, -1 for none; number of codes).
    A multi-valued label counts each row once per label; labels nobody bought are left out.
    """
    n_table = len(items)
    spend_per_row = np.bincount(table_rows, weights=value, minlength=n_table + 1)
    total = value.sum()
    row_groups = {}
    for name, (codes, n_codes) in groups.items():
        known = codes >= 0
        row_groups[name] = (_distinct(table_rows[known].astype(np.int64) * n_codes + codes[known]), n_codes)
    parts = []
    for column in [c for c in LABEL_COLUMNS if c in items.columns]:
        labels = label_values(items[column])
        codes, values = pd.factorize(labels)
        k = len(values)
        unlabelled = np.ones(n_table, dtype=bool)
        unlabelled[labels.index.to_numpy()] = False
        pair_rows = np.concatenate([labels.index.to_numpy(), np.flatnonzero(unlabelled), [n_table]])
        pair_labels = np.concatenate([codes, np.full(int(unlabelled.sum()), k), [k + 1]])  # MISSING_LABEL, UNKNOWN_ITEM
        frame = pd.DataFrame(
            {
                "value": [*values.astype(str), MISSING_LABEL, UNKNOWN_ITEM],
                "spend": np.bincount(pair_labels, weights=spend_per_row[pair_rows], minlength=k + 2),
            }
        )
        for name, (pairs, n_codes) in row_groups.items():
            frame[name] = _reach(pairs, n_codes, pair_rows, pair_labels, k + 2)
        frame = frame[frame["users"] > 0]
        labelled = frame.iloc[: np.searchsorted(frame.index, k)].sort_values("spend", ascending=False, kind="stable")
        frame = pd.concat([labelled, frame[frame.index >= k]], ignore_index=True)
        parts.append(frame.assign(column=column, share=frame["spend"] / total if total else 0.0))
    columns = [c for c in SPEND_COLUMNS if c in ("column", "value", "spend", "share", *groups)]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _spend(
    log: pd.DataFrame,
    codes: tuple[np.ndarray, np.ndarray, int, int],
    purchase: np.ndarray | None,
    items: pd.DataFrame | None,
    item_rows: np.ndarray | None,
    summary: dict[str, float | int | str],
    not_applicable: dict[str, str],
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Spend from SPEND_COLUMN: total, per order and per user in ``summary``, by label as a table, and the
    spend of each item code (None when there is no spend); reasons it does not apply in ``not_applicable``.

    ``codes``: user and item code of each row, the number of users and of items; ``purchase``: purchase
    rows (None without events: every row counts); ``item_rows``: items-table row of each item code (-1: absent).
    Missing values spend nothing; orders and users count those with at least one counted row.
    """
    user_codes, item_codes, n_users, n_items = codes
    no_table = pd.DataFrame(columns=SPEND_COLUMNS)
    if SPEND_COLUMN not in log.columns:
        not_applicable["spend"] = f"the interactions have no {SPEND_COLUMN} column"
        return no_table, None
    column = log[SPEND_COLUMN]
    if not is_numeric_dtype(column.dtype) or is_bool_dtype(column.dtype):
        not_applicable["spend"] = f"the {SPEND_COLUMN} column holds {column.dtype}, not amounts"
        return no_table, None
    if purchase is not None and not purchase.any():
        not_applicable["spend"] = "there are no purchase events"
        return no_table, None
    rows = np.ones(len(log), dtype=bool) if purchase is None else purchase
    value = np.nan_to_num(column.to_numpy(dtype=np.float64, na_value=np.nan)[rows])
    users, bought = user_codes[rows], item_codes[rows]
    per_user = np.bincount(users, weights=value, minlength=n_users)[np.bincount(users, minlength=n_users) > 0]
    summary["spend_from"] = SPEND_COLUMN
    summary["spend"] = float(value.sum())
    groups = {"users": (users, n_users)}
    order_column = _first_column(log, ORDER_COLUMNS)
    if order_column is not None:
        orders, order_ids = pd.factorize(log[order_column].to_numpy()[rows])
        if len(order_ids):
            per_order = np.bincount(orders[orders >= 0], weights=value[orders >= 0], minlength=len(order_ids))
            summary["spend_per_order"] = float(per_order.mean())
            summary["median_spend_per_order"] = float(np.median(per_order))
            groups = {"orders": (orders, len(order_ids)), **groups}
    summary["spend_per_user"] = float(per_user.mean())
    summary["median_spend_per_user"] = float(np.median(per_user))
    per_item = np.bincount(bought, weights=value, minlength=n_items)
    if items is None or item_rows is None:
        not_applicable["spend"] = "there is no items table to split spend by label"
        return no_table, per_item
    table_rows = item_rows[bought]
    table = _spend_by_label(items, np.where(table_rows >= 0, table_rows, len(items)), value, groups)
    if table.empty:
        not_applicable["spend"] = f"the items table has no {_label_columns_text()} column to split spend by"
    return table, per_item


def _label_columns_text() -> str:
    """LABEL_COLUMNS in words: "category, genres, department or brand"."""
    return f"{', '.join(LABEL_COLUMNS[:-1])} or {LABEL_COLUMNS[-1]}"


def _funnel(stage: np.ndarray, user_codes: np.ndarray, n_users: int) -> pd.DataFrame:
    """Users and events at each stage of view -> cart -> purchase (stage 0, 1, 2; -1 is outside), with conversions."""
    k = len(C.EVENT_TYPES)
    inside = stage >= 0
    staged = stage[inside].astype(np.int64)
    events = np.bincount(staged, minlength=k)
    seen = np.bincount(staged * n_users + user_codes[inside], minlength=k * n_users).reshape(k, n_users)
    users = np.count_nonzero(seen, axis=1)
    return pd.DataFrame(
        {
            "stage": C.EVENT_TYPES,
            "users": users,
            "events": events,
            "users_from_previous": np.r_[np.nan, _ratio(users[1:], users[:-1])],
            "events_from_previous": np.r_[np.nan, _ratio(events[1:], events[:-1])],
            "users_from_views": _ratio(users, np.full(k, users[0])),
        }
    )


def _baskets(orders: pd.Series, item_codes: np.ndarray, n_items: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Orders by their number of distinct items (MAX_BASKET and up in one row), and each order's size.

    ``orders`` holds the order of each row (missing: no order), ``item_codes`` the item of each row.
    """
    order_codes, _ = pd.factorize(orders)
    keep = order_codes >= 0
    pairs = _distinct(order_codes[keep].astype(np.int64) * n_items + item_codes[keep])
    sizes = np.bincount(pairs // n_items)
    counts = np.bincount(np.minimum(sizes, MAX_BASKET), minlength=MAX_BASKET + 1)[1:]
    labels = [str(size) for size in range(1, MAX_BASKET)] + [f"{MAX_BASKET}+"]
    frame = pd.DataFrame({"items": labels, "orders": counts, "share": counts / max(len(sizes), 1)})
    return frame[frame["orders"] > 0].reset_index(drop=True), sizes


def _repeats(user_codes: np.ndarray, item_codes: np.ndarray, n_items: int, key: np.ndarray) -> tuple[float, float]:
    """Share of rows whose user had the same item at a strictly earlier ``key``, and share of users with one.

    Rows are ordered by (user, item, key) in one sort of a merged int64 when it fits, else by lexsort.
    """
    pair = user_codes.astype(np.int64) * n_items + item_codes
    low = key.min()
    span = int(key.max() - low) + 1
    if int(pair.max()) < np.iinfo(np.int64).max // span:
        pair, key = np.divmod(np.sort(pair * span + (key - low)), span)
    else:
        order = np.lexsort((key, pair))
        pair, key = pair[order], key[order]
    start = np.r_[True, pair[1:] != pair[:-1]]
    first = key[np.maximum.accumulate(np.where(start, np.arange(len(pair)), 0))]
    repeat = key > first
    users = np.count_nonzero(np.bincount(user_codes))
    return float(repeat.mean()), len(_distinct(pair[repeat] // n_items)) / users


def _item_attributes(items: pd.DataFrame | None) -> dict[str, str]:
    """The items-table column holding each attribute whose absence is a finding: name, category, price."""
    found = {
        "name": _first_column(items, NAME_COLUMNS),
        "category": _first_column(items, CATEGORY_COLUMNS),
        "price": _first_column(items, (PRICE_COLUMN,)),
    }
    return {attribute: column for attribute, column in found.items() if column is not None}


def _missing_attributes(
    ds: Dataset, rows: dict[str, np.ndarray], per_row: dict[str, np.ndarray], per_id: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Items without name / category / price, users without any demographic, log ids absent from a table.

    ``rows``: table row of each log id (-1 when absent), ``per_row``: interactions per table row,
    ``per_id``: interactions per log id; each keyed by "users" / "items" for the tables present.
    """
    found = []
    for attribute, column in _item_attributes(ds.items).items():
        found.append(("items", f"without {attribute}", ~present(ds.items[column]).to_numpy(), per_row["items"]))
    if ds.users is not None:
        demographics = [c for c in ds.users.columns if not is_datetime64_any_dtype(ds.users[c].dtype)]
        if demographics:
            known = np.column_stack([present(ds.users[c]).to_numpy() for c in demographics]).any(axis=1)
            found.append(("users", "without demographics", ~known, per_row["users"]))
    for kind, key in (("users", C.USER), ("items", C.ITEM)):
        if kind in rows:
            found.append(("interactions", f"{key} not in the {kind} table", rows[kind] < 0, per_id[kind]))
    return pd.DataFrame(
        [
            (table, attribute, int(mask.sum()), float(mask.mean()) if len(mask) else 0.0, int(weights[mask].sum()))
            for table, attribute, mask, weights in found
        ],
        columns=["table", "attribute", "missing", "share", "interactions"],
    )


def _cleaning_warnings(
    spellings: pd.DataFrame, outliers: pd.DataFrame, counts: dict[str, int], missing: pd.DataFrame, n: int
) -> list[str]:
    """Plain-words warnings for the cleaning findings (``counts``: number of outlier users and items)."""
    warnings = []
    for (table, column), group in spellings.groupby(["table", "column"], sort=False):
        first = group[group["canonical"] == group["canonical"].iloc[0]]
        example = " / ".join(repr(s) for s in first["spelling"])
        warnings.append(
            f"{table}.{column} spells {group['canonical'].nunique():,} label(s) in several ways (e.g. {example}): "
            "clean(ds, merge_labels=True) merges each into its most frequent spelling."
        )
    for kind, what in (("user", "active"), ("item", "popular")):
        if counts[kind]:
            most = int(outliers.loc[outliers["kind"] == kind, "interactions"].max())
            hint = "; bots or shared accounts? clean(ds, drop_outlier_users=True) drops them" if kind == "user" else ""
            warnings.append(
                f"{counts[kind]:,} {kind}s are far more {what} than the rest (robust z of log interactions above "
                f"{OUTLIER_Z}; up to {most:,} interactions){hint}."
            )
    for row in missing[(missing["table"] != "interactions") & (missing["missing"] > 0)].itertuples(index=False):
        warnings.append(
            f"{row.missing:,} {row.table} ({_pct(row.share)}) are {row.attribute}; "
            f"they have {_pct(row.interactions / n)} of the interactions."
        )
    return warnings


def _order_number_baskets(user_codes: np.ndarray, numbers: np.ndarray) -> str:
    """The basket section's note for a log whose timestamps are order numbers: the rule, and the gaps."""
    pairs = _distinct(user_codes.astype(np.int64) * ORDER_NUMBERS_BELOW + numbers)
    users = pairs // ORDER_NUMBERS_BELOW
    first = np.r_[True, users[1:] != users[:-1]]
    last = np.r_[users[1:] != users[:-1], True]
    distinct = np.diff(np.r_[np.flatnonzero(first), len(pairs)])
    skipping = int(((pairs[last] - pairs[first]) + 1 > distinct).sum())
    gaps = f"; {skipping:,} of {len(distinct):,} customers skip numbers, which is fine" if skipping else ""
    return (
        f"timestamps look like order numbers ({int(numbers.min()):,} to {int(numbers.max()):,} per customer): "
        f"each distinct timestamp of a customer is a basket, its rows the basket's items{gaps}"
    )


def _orders_and_repeats(
    log: pd.DataFrame,
    codes: tuple[np.ndarray, np.ndarray, int],
    purchase: np.ndarray | None,
    seconds: np.ndarray | None,
    summary: dict[str, float | int | str],
    not_applicable: dict[str, str],
) -> pd.DataFrame:
    """Basket sizes, with orders and repeat numbers added to ``summary``; reasons they do not apply otherwise.

    Orders come from ORDER_COLUMNS; without them, a log whose timestamps are order numbers has a basket
    per distinct timestamp of a customer, and the section's note says so.

    ``codes``: user and item code of each row and the number of items; ``purchase``: purchase rows
    (None without events: every row counts).
    """
    user_codes, item_codes, n_items = codes
    if purchase is not None and not purchase.any():
        not_applicable["basket_sizes"] = not_applicable["repeats"] = "there are no purchase events"
        return pd.DataFrame(columns=BASKET_COLUMNS)
    rows = np.ones(len(log), dtype=bool) if purchase is None else purchase
    basket_sizes = pd.DataFrame(columns=BASKET_COLUMNS)
    order_column = _first_column(log, ORDER_COLUMNS)
    numbered = order_column is None and seconds is not None and are_order_numbers(log[C.TIMESTAMP])
    if numbered:  # a shop export without order ids: its timestamps are the order numbers
        order_column = C.TIMESTAMP
        not_applicable["basket_sizes"] = _order_number_baskets(user_codes[rows], seconds[rows])
    if order_column is None:
        not_applicable["basket_sizes"] = f"the interactions have no {' or '.join(ORDER_COLUMNS)} column"
    else:
        orders = log[order_column][rows]
        if numbered:  # baskets are (customer, order number) pairs
            orders = pd.Series(user_codes[rows].astype(np.int64) * ORDER_NUMBERS_BELOW + seconds[rows])
        basket_sizes, sizes = _baskets(orders, item_codes[rows], n_items)
        summary["orders"] = len(sizes)
        summary["orders_from"] = order_column
        if len(sizes):
            summary["mean_items_per_order"] = float(sizes.mean())
            summary["median_items_per_order"] = float(np.median(sizes))
        else:
            not_applicable["basket_sizes"] = f"the {order_column} column has no values"
    key = np.arange(len(log)) if seconds is None else seconds
    rate, users = _repeats(user_codes[rows], item_codes[rows], n_items, key[rows])
    summary["repeats_of"] = "interactions" if purchase is None else "purchases"
    summary["repeat_rate"] = rate
    summary["repeat_users_share"] = users
    return basket_sizes


def profile(ds: Dataset) -> Profile:
    """Profile a Dataset: sizes, sparsity, duplicates, long tail, time, value mix, demographics, the shop's
    top items, label mix, funnel, baskets and repeats, cleaning findings, and warnings.

    >>> p = profile(load_movielens_100k())  # doctest: +SKIP
    >>> p.summary.head(3)  # doctest: +SKIP
             metric   value
    0  interactions  100000
    1         users     943
    2         items    1682
    """
    if not isinstance(ds, Dataset):
        raise DataError(f"profile expects a Dataset, got {type(ds).__name__}")
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
    events = None
    stage = None
    if C.EVENT in log.columns:
        codes, values = pd.factorize(log[C.EVENT])
        events = (codes, pd.Index(values))
        stage = np.array([C.EVENT_TYPES.index(v) if v in C.EVENT_TYPES else -1 for v in values], np.int8)[codes]
    purchase = None if stage is None else stage == C.EVENT_TYPES.index("purchase")

    warnings: list[str] = []
    tables = {"users": ds.users, "items": ds.items}
    per_id = {"users": per_user, "items": per_item}
    ids = {"users": user_ids, "items": item_ids}
    rows = {kind: table.index.get_indexer(ids[kind]) for kind, table in tables.items() if table is not None}
    per_row = {kind: _per_row(rows[kind], per_id[kind], len(tables[kind])) for kind in rows}
    for kind, table in tables.items():
        if table is None:
            warnings.append(f"There is no {kind} table: {kind} can only be described by their interactions.")
            continue
        unknown = int((rows[kind] < 0).sum())
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
    numbered = ds.has_order_numbers
    if numbered:  # order numbers, not times: never shown as dates in 1970
        summary["first_timestamp"], summary["last_timestamp"] = int(seconds.min()), int(seconds.max())
        summary["timestamps_are"] = "order numbers"
        warnings.append(
            f"Column {order_numbers_text(log[C.TIMESTAMP])}: activity over time is not charted, and time "
            "windows (replay, drift, decayed popularity) do not apply."
        )
    elif seconds is not None:
        first, last = int(seconds.min()), int(seconds.max())
        summary["first_timestamp"] = pd.Timestamp(first, unit="s").isoformat()
        summary["last_timestamp"] = pd.Timestamp(last, unit="s").isoformat()
        summary["span_days"] = (last - first) / DAY
        odd = int(implausible_times(seconds).sum())
        summary["implausible_timestamps"] = odd
        if odd:
            warnings.append(
                f"{odd:,} timestamps ({_pct(odd / n)}) fall before 1990 or more than a year ahead: "
                "check the clock or the unit."
            )
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
    attributes = set(_item_attributes(ds.items).values())  # their warnings count blanks and interactions too
    for row in missing[missing["missing"] > 0].itertuples(index=False):
        if row.table == "items" and row.column in attributes:
            continue
        if purchase is not None and row.table == "interactions" and row.column in ORDER_COLUMNS:
            unordered = int(log[row.column][purchase].isna().sum())  # only purchases need an order
            if unordered:
                warnings.append(f"{unordered:,} purchases have no {row.column}.")
        else:
            warnings.append(f"{row.table}.{row.column} has {row.missing:,} missing values ({_pct(row.share)}).")

    not_applicable: dict[str, str] = {}
    if numbered:
        not_applicable["activity_over_time"] = f"{order_numbers_text(log[C.TIMESTAMP])}: there is no calendar"
    purchases = None if purchase is None else np.bincount(item_codes[purchase], minlength=n_items)
    spend, spend_per_item = _spend(
        log, (user_codes, item_codes, n_users, n_items), purchase, ds.items, rows.get("items"), summary, not_applicable
    )
    top_items = _top_items(item_ids, per_item, purchases, ds.items, spend_per_item)
    if "name" not in top_items.columns:
        where = "there is no items table" if ds.items is None else "the items table has no name or title column"
        not_applicable["top_items"] = f"{where}: items are listed by id"

    label_mix = pd.DataFrame(columns=LABEL_MIX_COLUMNS)
    if ds.items is not None:
        unknown_items = rows["items"] < 0
        unknown = (int(unknown_items.sum()), int(per_item[unknown_items].sum()))
        label_mix = _label_mix(ds.items, per_row["items"], unknown)
    if label_mix.empty:
        not_applicable["label_mix"] = (
            "there is no items table" if ds.items is None else f"the items table has no {_label_columns_text()} column"
        )

    funnel = pd.DataFrame(columns=FUNNEL_COLUMNS)
    if stage is None:
        not_applicable["funnel"] = "the interactions have no event column"
    elif (stage < 0).all():
        not_applicable["funnel"] = "the event column has no view, cart or purchase events"
    else:
        funnel = _funnel(stage, user_codes, n_users)

    basket_sizes = _orders_and_repeats(
        log, (user_codes, item_codes, n_items), purchase, seconds, summary, not_applicable
    )

    user_outliers, flagged_users = _outliers("user", pd.Index(user_ids), per_user)
    item_outliers, flagged_items = _outliers("item", pd.Index(item_ids), per_item)
    outliers = pd.concat([user_outliers, item_outliers], ignore_index=True)
    summary["outlier_users"] = len(flagged_users)
    summary["outlier_items"] = len(flagged_items)
    spellings = pd.concat([spelling_groups(kind, table) for kind, table in tables.items()], ignore_index=True)
    missing_attributes = _missing_attributes(ds, rows, per_row, per_id)
    if not rows:
        not_applicable["spellings"] = not_applicable["missing_attributes"] = "there is no users or items table"
    warnings += _cleaning_warnings(
        spellings, outliers, {"user": len(flagged_users), "item": len(flagged_items)}, missing_attributes, n
    )

    return Profile(
        summary=pd.DataFrame({"metric": list(summary), "value": pd.Series(list(summary.values()), dtype=object)}),
        missing=missing,
        user_activity=_activity_bins(per_user, "users"),
        item_popularity=_long_tail(per_item),
        activity_over_time=_over_time(None if numbered else seconds, user_codes, n_users),
        value_mix=_value_mix(log, events),
        demographics=_demographics(ds.users, per_row.get("users")),
        warnings=warnings,
        top_items=top_items,
        label_mix=label_mix,
        funnel=funnel,
        basket_sizes=basket_sizes,
        spend=spend,
        spellings=spellings,
        outliers=outliers,
        missing_attributes=missing_attributes,
        not_applicable=not_applicable,
    )
