"""Segments: age bands, activity bands, cold vs warm (indexed by user_id), segments of (user, item) pairs,
and the metric table by segment.

Every user helper returns a Series indexed by user_id whose values are an ordered
categorical (so charts and tables keep the natural band order); users without a
value (e.g. no age) get NaN, which :func:`workbench.analysis.stats.by_group` (and
so the audit) reports as the group ``"(missing)"``. :func:`pair_segments` labels
the rows of scored (user, item) pairs for residual analysis; :func:`segment_metrics`
is the per-segment table of the hybrid switch.

>>> ds = load_movielens_100k()  # doctest: +SKIP
>>> train, test = stratified_split(ds, ratio=0.75, seed=42)  # doctest: +SKIP
>>> user_segments(ds, train).head()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.stats import by_group
from workbench.data.dataset import Dataset, IdMap, rows_for
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int
from workbench.models.hybrid import SEGMENTS

#: Demographic columns of ``Dataset.users`` copied as they are into :func:`user_segments`, first.
CATEGORICAL = ("gender", "occupation", "region", "country")
#: Any other text column of ``Dataset.users`` with 2 to this many distinct values, some shared by several
#: users, is a segment as it is (a household's income band or composition; a zip code is not).
MAX_SEGMENT_VALUES = 12
#: The log's column of money spent per line item (The Complete Journey's); its training sum per user
#: gives :func:`spend_bands`.
SPEND_COLUMN = C.SPEND
#: Lower edges of the default age bands: <18, 18-24, 25-34, 35-44, 45-54, 55+.
AGE_EDGES = (18, 25, 35, 45, 55)
COLD = "0 (cold)"
#: Item attributes copied into the pair segments (text joined with '|' counts in every part).
ITEM_ATTRIBUTES = C.CATEGORIES
PRICE_BANDS = 4
#: Segments of the hybrid switch (:meth:`HybridRecommender.segments`), in the order its tables show them.
HYBRID_SEGMENTS = SEGMENTS


def _band_labels(edges: Sequence[int]) -> list[str]:
    """Labels of the integer intervals [e0, e1), [e1, e2), ..., [e_last, inf)."""
    inner = [f"{lo}-{hi - 1}" if hi - 1 > lo else f"{lo}" for lo, hi in zip(edges[:-1], edges[1:], strict=False)]
    return [*inner, f"{edges[-1]}+"]


def _check_edges(name: str, edges: Sequence[Any], *, minimum: int) -> np.ndarray:
    array = np.asarray(edges)
    if array.ndim != 1 or len(array) == 0 or not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(f"{name} must be a non-empty sequence of integers, got {edges!r}")
    if np.any(np.diff(array) <= 0) or array[0] < minimum:
        raise ConfigError(f"{name} must be strictly increasing and at least {minimum}, got {list(array)}")
    return array.astype(np.int64)


def _cut(values: np.ndarray, edges: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Ordered categorical of the band each value falls in (NaN below edges[0] or missing)."""
    position = np.searchsorted(edges, values, side="right") - 1
    position = np.where(np.isnan(values) | (position < 0), -1, position)
    return pd.Categorical.from_codes(position, categories=labels, ordered=True)


def age_bands(users: pd.DataFrame, column: str = "age", *, edges: Sequence[int] = AGE_EDGES) -> pd.Series:
    """Age band per user (``<18, 18-24, 25-34, 35-44, 45-54, 55+`` by default); missing age is NaN.

    >>> users = pd.DataFrame({"age": [16, 30, 60]}, index=pd.Index([1, 2, 3], name="user_id"))
    >>> age_bands(users).tolist()
    ['<18', '25-34', '55+']
    """
    if not isinstance(users, pd.DataFrame) or column not in users.columns:
        raise DataError(f"age_bands: users table has no column {column!r}")
    edges_array = _check_edges("age edges", edges, minimum=1)
    ages = pd.to_numeric(users[column], errors="coerce")
    bad = int((ages.isna() & users[column].notna()).sum())
    if bad:
        raise DataError(f"age_bands: column {column!r} has {bad} non-numeric values")
    labels = [f"<{edges_array[0]}", *_band_labels(list(edges_array))]
    bounds = np.r_[-np.inf, edges_array]
    band = _cut(ages.to_numpy(dtype=np.float64), bounds, labels)
    return pd.Series(band, index=users.index.rename(C.USER), name="age_band")


def _user_index(users: pd.DataFrame | Dataset | Iterable[Any] | None, train: Dataset) -> pd.Index:
    """The users to label: a users table (its index), a Dataset (users table + log), ids, or the train users."""
    if users is None:
        users = train
    if isinstance(users, Dataset):
        ids = users.interactions[C.USER]
        if users.users is not None:
            ids = pd.concat([users.users.index.to_series(), ids], ignore_index=True)
        index = pd.Index(pd.unique(ids))
    elif isinstance(users, pd.DataFrame):
        index = users.index
    else:
        index = pd.Index(pd.unique(pd.Series(list(users))))
    if index.hasnans:
        raise DataError("segments: the list of users contains missing ids")
    return index.rename(C.USER)


def _activity(train: Dataset, index: pd.Index) -> np.ndarray:
    """Training interactions per user of ``index`` (0 for users absent from train)."""
    if not isinstance(train, Dataset):
        raise DataError(f"segments expect the training data as a workbench Dataset, got {type(train).__name__}")
    counts = train.interactions[C.USER].value_counts()
    return np.append(counts.to_numpy(dtype=np.int64), 0)[IdMap(counts.index).codes(index)]


def activity_bands(
    train: Dataset,
    users: pd.DataFrame | Dataset | Iterable[Any] | None = None,
    *,
    bands: Sequence[int] | None = None,
    n_quantiles: int = 4,
) -> pd.Series:
    """Band of each user's number of training interactions.

    ``bands`` are the lower edges of the bands (e.g. ``(1, 20, 50)`` gives
    ``1-19, 20-49, 50+``); without them the edges are the ``n_quantiles``
    quantiles of the activity of warm users (4: quartiles, 10: deciles; tied
    quantiles merge). Users without training interactions get ``"0 (cold)"``.
    ``users`` defaults to the users of ``train``.

    >>> train = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2, 2, 2], "item_id": [1, 1, 2, 3]}))
    >>> activity_bands(train, [1, 2, 3], bands=(1, 2)).tolist()
    ['1', '2+', '0 (cold)']
    """
    index = _user_index(users, train)
    counts = _activity(train, index)
    warm = counts[counts > 0]
    if bands is not None:
        edges = _check_edges("bands", bands, minimum=1)
        edges = edges if edges[0] == 1 else np.r_[1, edges]
    else:
        n_quantiles = positive_int(n_quantiles, "n_quantiles")
        if len(warm) == 0:
            raise DataError("activity_bands: none of the users has training interactions")
        # band i starts at the first user of the i-th n_quantiles-th of warm users sorted by activity
        edges = np.unique(np.sort(warm)[np.arange(n_quantiles) * len(warm) // n_quantiles])
    labels = _band_labels(list(edges))
    band = _cut(counts.astype(np.float64), edges, labels)
    if (counts == 0).any():
        band = band.add_categories(COLD).reorder_categories([COLD, *labels])
        band[counts == 0] = COLD
    return pd.Series(band, index=index, name="activity_band")


def cold_warm(
    train: Dataset, users: pd.DataFrame | Dataset | Iterable[Any] | None = None, *, min_interactions: int = 1
) -> pd.Series:
    """``"cold"`` for users with fewer than ``min_interactions`` training interactions, else ``"warm"``.

    >>> train = Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [1]}))
    >>> cold_warm(train, [1, 2]).tolist()
    ['warm', 'cold']
    """
    min_interactions = positive_int(min_interactions, "min_interactions")
    index = _user_index(users, train)
    warm = _activity(train, index) >= min_interactions
    band = pd.Categorical.from_codes(warm.astype(np.int64), categories=["cold", "warm"], ordered=True)
    return pd.Series(band, index=index, name="cold_warm")


def user_segments(ds: Dataset, train: Dataset, *, n_quantiles: int = 4) -> pd.DataFrame:
    """One row per user of ``ds`` (users table and log): demographic segments and activity band.

    Columns, when the users table has what they need: ``gender``, ``occupation``,
    ``region``, ``country`` (as given), ``age_band`` (from a numeric ``age``), then every other
    text column with 2 to :data:`MAX_SEGMENT_VALUES` values as given (e.g. an ``age`` already in
    bands, ``income``); always ``activity_band`` (training activity quantiles, see
    :func:`activity_bands`); ``spend_band`` when the log has :data:`SPEND_COLUMN` (:func:`spend_bands`).

    >>> user_segments(ds, train).columns.tolist()  # doctest: +SKIP
    ['gender', 'occupation', 'age_band', 'activity_band']
    """
    if not isinstance(ds, Dataset):
        raise DataError(f"user_segments expects a workbench Dataset, got {type(ds).__name__}")
    index = _user_index(ds, train)
    parts: list[pd.Series] = []
    if ds.users is not None:
        parts += _demographics(rows_for(ds.users, index))
    parts.append(activity_bands(train, index, n_quantiles=n_quantiles))
    if SPEND_COLUMN in train.interactions.columns:
        parts.append(spend_bands(train, index, n_quantiles=n_quantiles))
    return pd.concat(parts, axis=1).rename_axis(C.USER)


def _demographics(users: pd.DataFrame) -> list[pd.Series]:
    """The segment columns of a users table (see :func:`user_segments`)."""
    numeric_age = "age" in users.columns and pd.api.types.is_numeric_dtype(users["age"].dtype)
    named = [users[name] for name in CATEGORICAL if name in users.columns]
    other = [
        users[name]
        for name in users.columns
        if name not in CATEGORICAL
        and not (name == "age" and numeric_age)
        and not pd.api.types.is_numeric_dtype(users[name].dtype)
        and 2 <= users[name].nunique() <= min(MAX_SEGMENT_VALUES, users[name].notna().sum() - 1)
    ]
    return [*named, *([age_bands(users)] if numeric_age else []), *other]


def spend_bands(
    train: Dataset, users: pd.DataFrame | Dataset | Iterable[Any] | None = None, *, n_quantiles: int = 4
) -> pd.Series:
    """Band of each user's training spend (the sum of :data:`SPEND_COLUMN`): ``n_quantiles`` quantiles
    of the spend of warm users (tied quantiles merge), labelled ``low-high``; ``"0 (cold)"`` for users
    without training interactions.

    >>> log = pd.DataFrame({"user_id": [1, 2, 2, 3], "item_id": [1, 1, 2, 3], "sales_value": [1.0, 2.0, 3.0, 9.0]})
    >>> spend_bands(Dataset.from_frames(log), [1, 2, 3, 4], n_quantiles=2).tolist()
    ['1.00-5.00', '1.00-5.00', '5.00-9.00', '0 (cold)']
    """
    if not isinstance(train, Dataset) or SPEND_COLUMN not in train.interactions.columns:
        raise DataError(f"spend_bands: the training log has no {SPEND_COLUMN!r} column")
    index = _user_index(users, train)
    log = train.interactions
    spend = pd.to_numeric(log[SPEND_COLUMN], errors="coerce").groupby(log[C.USER].to_numpy()).sum()
    warm = spend.reindex(index)
    bands = pd.qcut(warm, positive_int(n_quantiles, "n_quantiles"), duplicates="drop")
    labels = [f"{interval.left:.2f}-{interval.right:.2f}" for interval in bands.cat.categories]
    bands = bands.cat.rename_categories(labels).cat.add_categories(COLD).cat.reorder_categories([COLD, *labels])
    bands[warm.isna().to_numpy()] = COLD
    return pd.Series(bands.to_numpy(), index=index, name="spend_band")


def pair_segments(pairs: pd.DataFrame, train: Dataset, *, n_quantiles: int = 10) -> pd.DataFrame:
    """User and item segments of each (user, item) row of ``pairs``, rows aligned with ``pairs``.

    User columns (when the users table has them): ``gender, occupation, region, country,
    age_band``; always ``activity_band`` (``n_quantiles`` quantiles of training activity) and
    ``cold_warm``. Item columns: ``popularity_band`` (quantiles of training interactions per
    item, ``"0 (cold)"`` for unseen items), ``genres`` / ``category`` as given, ``price_band``
    (price quartiles of the items table).

    >>> pair_segments(scored[["user_id", "item_id"]], train).columns.tolist()  # doctest: +SKIP
    """
    if not isinstance(train, Dataset):
        raise DataError(f"segments expect the training data as a workbench Dataset, got {type(train).__name__}")
    users = pd.Index(pd.unique(pairs[C.USER]), name=C.USER)
    items = pd.Index(pd.unique(pairs[C.ITEM]), name=C.ITEM)
    user_table = user_segments(Dataset(pd.DataFrame({C.USER: users}), train.users), train, n_quantiles=n_quantiles)
    user_table = user_table.reindex(users)
    user_table["cold_warm"] = cold_warm(train, users)

    # item popularity bands: activity bands of the log read with users and items swapped
    swapped = train.with_interactions(
        train.interactions[[C.USER, C.ITEM]].rename(columns={C.USER: C.ITEM, C.ITEM: C.USER})
    )
    item_parts = [activity_bands(swapped, items, n_quantiles=n_quantiles).rename("popularity_band")]
    if train.items is not None:
        catalogue = train.items
        item_parts += [catalogue[name].reindex(items) for name in ITEM_ATTRIBUTES if name in catalogue.columns]
        if "price" in catalogue.columns:
            item_parts.append(_price_bands(catalogue["price"]).reindex(items))
    item_table = pd.concat([part.set_axis(items) for part in item_parts], axis=1)
    return pd.concat(
        [
            user_table.reindex(pairs[C.USER]).reset_index(drop=True),
            item_table.reindex(pairs[C.ITEM]).reset_index(drop=True),
        ],
        axis=1,
    ).set_axis(pairs.index)


def _price_bands(price: pd.Series) -> pd.Series:
    """Price quartiles of the catalogue as an ordered categorical labelled ``low-high``."""
    values = pd.to_numeric(price, errors="coerce")
    bands = pd.qcut(values, PRICE_BANDS, duplicates="drop")
    labels = [f"{interval.left:.2f}-{interval.right:.2f}" for interval in bands.cat.categories]
    return bands.cat.rename_categories(labels).rename("price_band")


def segment_metrics(per_user: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Mean of every metric per segment, with ``count``: one row per segment (cold, light, heavy order,
    then the others sorted). Every evaluated user needs a segment.

    ``per_user`` is the output of :func:`workbench.evaluation.evaluate_per_user`; ``segments``
    a Series indexed by user_id, such as ``HybridRecommender.segments``.

    >>> segment_metrics(evaluate_per_user(hybrid.recommend(test), test), hybrid.segments(test))  # doctest: +SKIP
    """
    if C.USER not in getattr(per_user, "columns", []):
        raise DataError("segment_metrics: per_user needs a 'user_id' column (use evaluate_per_user)")
    if not isinstance(segments, pd.Series):
        raise DataError(f"segment_metrics: segments must be a Series indexed by user_id, got {type(segments).__name__}")
    users = per_user[C.USER].to_numpy()
    position = IdMap(segments.index).codes(users) if len(segments) else np.full(len(users), -1)
    missing = (position < 0) | np.append(segments.isna().to_numpy(), True)[position]
    if missing.any():
        raise DataError(
            f"segment_metrics: {int(missing.sum()):,} evaluated users have no segment (e.g. {users[missing][0]!r})"
        )
    metrics = [c for c in per_user.columns if c != C.USER and pd.api.types.is_numeric_dtype(per_user[c])]
    metrics = [c for c in metrics if not pd.api.types.is_bool_dtype(per_user[c])]
    table = by_group(per_user, segments, metrics=metrics, what="segment_metrics").by_group
    known = [s for s in HYBRID_SEGMENTS if s in table.index]
    order = known + [s for s in table.index if s not in known]
    return table.loc[order].rename_axis("segment").reset_index()
