"""The statistics core of the analyses: bootstrap intervals, group codes, metrics by group, typed results.

Every analysis that averages a metric over groups goes through :func:`by_group`
(like fairlearn's MetricFrame): bias audits (:func:`workbench.analysis.audit.audit`),
residuals by segment (:func:`workbench.analysis.residuals.residuals_by_segment`) and
the hybrid's segment table (:func:`workbench.analysis.segments.segment_metrics`).

- Bootstrap: :func:`check_bootstrap`, :func:`bootstrap_ci` (one sample) and
  :func:`bootstrap_group_means` (within groups); the level of an interval is
  always the keyword ``level`` (0.95: a 95% percentile interval). :func:`t_interval`: the
  t interval of a mean over a few repeated runs.
- Groups: :func:`group_codes` gives the group of every row from one or more
  segment columns (their combinations are the groups); missing values form the
  group :data:`MISSING`; text joined with ``|`` (genres) counts in every part
  when a ``separator`` is given (:func:`split_values`).
- Results: :class:`Record` is the base of the frozen result types (``compare``,
  ``popularity_bias``, ...): fields read as attributes or as keys of a read-only dict.

>>> per_user = pd.DataFrame({"user_id": [1, 2, 3], "ndcg": [0.2, 0.4, 0.9]})
>>> by_group(per_user, pd.Series(["F", "F", "M"], index=[1, 2, 3], name="gender")).by_group["ndcg"].round(2).tolist()
[0.3, 0.9]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.weightstats import DescrStatsW

from workbench import columns as C
from workbench.data.dataset import IdMap
from workbench.data.stats import MISSING_LABEL
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int

#: Group label of rows whose segment value is missing (or users absent from the segments); the profile's label too.
MISSING = MISSING_LABEL
#: Separator of multi-valued text attributes such as MovieLens genres ("Action|Comedy").
SEPARATOR = "|"
#: Bootstrap indices of at most this many (resample, row) cells are held at once: memory stays bounded.
BOOT_CELLS = 1 << 22


# -- typed results ------------------------------------------------------------------------------
class Record(dict):
    """Base of the frozen dataclass results: the fields are also the items of a read-only dict.

    So ``result.diff``, ``result["diff"]``, ``dict(result)``, ``result.to_dict()``,
    ``result.keys()``, ``{**result}``, ``json.dumps(result)`` and ``pd.Series(result)``
    all work, and a result equals the dict of its fields. Every field is always
    present (a missing explanation is ``note=""``, never an absent key).
    """

    def __post_init__(self) -> None:
        dict.update(self, ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)))  # type: ignore[arg-type]

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only; copy it with dict(result) to change values")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only

    def __reduce__(self) -> tuple:
        return type(self), tuple(getattr(self, f.name) for f in dataclasses.fields(self))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (in field order)."""
        return dict(self)


# -- bootstrap ----------------------------------------------------------------------------------
def check_bootstrap(n_boot: int, level: float) -> None:
    """Raise ConfigError unless ``n_boot`` is a positive integer and ``level`` is in (0, 1)."""
    positive_int(n_boot, "n_boot")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level must be between 0 and 1 (exclusive), got {level!r}")


def _bootstrap(
    sample: np.ndarray, statistic: Callable[..., np.ndarray], n_boot: int, level: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scipy.stats.bootstrap`` (percentile method, vectorized) of ``statistic`` over the last axis of ``sample``.

    Returns the lower and upper bounds at ``level`` and the bootstrap distribution (resamples on the
    last axis). Resamples are drawn in batches of at most BOOT_CELLS values, so memory stays bounded.
    A single observation has a single possible resample: its statistic is both bounds (scipy needs two).
    """
    if sample.shape[-1] == 1:
        value = np.asarray(statistic(sample, axis=-1), dtype=np.float64)
        return value, value, np.repeat(value[..., None], n_boot, axis=-1)
    result = stats.bootstrap(
        (sample,),
        statistic,
        n_resamples=n_boot,
        batch=max(1, BOOT_CELLS // sample.size),
        vectorized=True,
        axis=-1,
        confidence_level=level,
        method="percentile",
        rng=rng,
    )
    interval = result.confidence_interval
    return np.asarray(interval.low), np.asarray(interval.high), result.bootstrap_distribution


def bootstrap_ci(values: np.ndarray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (``scipy.stats.bootstrap``).

    >>> bootstrap_ci(np.array([1.0, 1.0, 1.0]), n_boot=50)
    (1.0, 1.0)
    """
    check_bootstrap(n_boot, level)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise DataError(f"bootstrap_ci: values must be a non-empty flat array, got shape {values.shape}")
    low, high, _ = _bootstrap(values, np.mean, int(n_boot), level, np.random.default_rng(seed))
    return float(low), float(high)


def t_interval(values: Sequence[float] | np.ndarray, *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student t interval at ``level`` (statsmodels' ``DescrStatsW.tconfint_mean``):
    the spread of a handful of repeated runs, such as a benchmark's seeds. One run has no spread: its bounds are NaN.

    >>> tuple(round(x, 3) for x in t_interval([1.0, 2.0, 3.0]))
    (2.0, -0.484, 4.484)
    """
    check_bootstrap(1, level)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise DataError(f"t_interval: needs a non-empty flat sequence of values, got shape {values.shape}")
    if len(values) == 1:
        return float(values[0]), math.nan, math.nan
    low, high = DescrStatsW(values).tconfint_mean(alpha=1.0 - level)
    return float(values.mean()), float(low), float(high)


def _ratio(sample: np.ndarray, axis: int) -> np.ndarray:
    """Sums of the metric rows (all rows but the last) over the sum of the count row (the last)."""
    return np.sum(sample[:-1], axis=axis) / np.sum(sample[-1], axis=axis)


def _group_bootstrap(
    values: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    statistic: Callable[..., np.ndarray],
    n_boot: int,
    level: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_bootstrap` within each group, one generator for all: bounds (n_groups, n_outputs) and
    distributions (n_boot, n_groups, n_outputs). Rows of ``values`` are sorted by group; group g holds
    ``counts[g]`` rows from ``starts[g]``."""
    rng = np.random.default_rng(seed)
    runs = [
        _bootstrap(np.ascontiguousarray(values[start : start + count].T), statistic, n_boot, level, rng)
        for start, count in zip(starts, counts, strict=True)
    ]
    lower, upper, boot = (np.stack(part) for part in zip(*runs, strict=True))
    return lower, upper, np.moveaxis(boot, 2, 0)


def bootstrap_group_means(
    values: np.ndarray, starts: np.ndarray, counts: np.ndarray, n_boot: int, seed: int
) -> np.ndarray:
    """Group means of ``n_boot`` resamples within each group: shape (n_boot, n_groups, n_metrics).

    Rows of ``values`` are sorted by group; group g holds ``counts[g]`` rows from
    ``starts[g]``. Each group is resampled by ``scipy.stats.bootstrap`` (one generator
    seeded with ``seed``, groups in order), as in :func:`by_group`.
    """
    return _group_bootstrap(values, starts, counts, np.mean, int(n_boot), 0.95, seed)[2]


# -- groups -------------------------------------------------------------------------------------
def split_values(values: pd.Series, separator: str = SEPARATOR) -> tuple[np.ndarray, pd.Series]:
    """The parts of multi-valued text (``"Action|Comedy"``) with the position of the value each comes from.

    A value repeating a part counts it once; missing values and empty parts are NaN.

    >>> rows, parts = split_values(pd.Series(["A|B", None, "B"]))
    >>> rows.tolist(), parts.tolist()
    ([0, 0, 1, 2], ['A', 'B', nan, 'B'])
    """
    values = pd.Series(values).reset_index(drop=True)
    parts = values.where(values.isna(), values.astype(str)).str.split(separator).explode()
    parts = parts.where(parts.notna() & (parts.astype(str) != ""))
    pairs = pd.DataFrame({"row": parts.index.to_numpy(np.int64), "part": parts.to_numpy(dtype=object)})
    pairs = pairs.drop_duplicates()
    return pairs["row"].to_numpy(np.int64), pairs["part"].reset_index(drop=True)


def _column_codes(column: pd.Series, separator: str | None) -> tuple[np.ndarray, np.ndarray, list]:
    """(row, code) entries of one segment column and its labels, code -1 for missing. Categoricals keep
    their category order, other values are sorted (order of appearance when they cannot be)."""
    column = column.reset_index(drop=True)
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.arange(len(column)), column.cat.codes.to_numpy(np.int64), list(column.cat.categories)
    rows, parts = np.arange(len(column)), column
    if separator is not None and (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
        rows, parts = split_values(column, separator)
    try:
        codes, uniques = pd.factorize(parts, sort=True)
    except TypeError:  # mixed types: order of appearance
        codes, uniques = pd.factorize(parts)
    return rows, codes.astype(np.int64), list(uniques)


def group_codes(
    segments: pd.DataFrame,
    positions: np.ndarray | None = None,
    *,
    separator: str | None = None,
    what: str = "group_codes",
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Group of every analysed row: ``(rows, group, index)``.

    ``segments`` holds one column per segment; the groups are the combinations of
    their values (a MultiIndex with several columns). ``positions`` gives the
    ``segments`` row of each analysed row (-1: none, the group :data:`MISSING`);
    None means row i of ``segments``. With a ``separator`` a row with several
    parts (genres) has one entry per part: ``rows`` (ascending) names the row of
    each entry and ``group`` its group code, a position in ``index``.

    >>> rows, group, index = group_codes(pd.DataFrame({"g": ["b", "a", None]}))
    >>> group.tolist(), index.tolist()
    ([1, 0, 2], ['a', 'b', '(missing)'])
    """
    n_own = len(segments)
    target = np.arange(n_own) if positions is None else np.asarray(positions, dtype=np.int64)
    rows = np.arange(len(target))
    codes = np.zeros(len(target), dtype=np.int64)
    levels = []
    for name in segments.columns:
        own_rows, own_codes, labels = _column_codes(segments[name], separator)
        # the entries of each segments row, sorted by row; a last row holds the entry of unmatched rows
        own_rows, own_codes = np.append(own_rows, n_own), np.append(own_codes, -1)
        per_row = np.bincount(own_rows, minlength=n_own + 1)
        first = np.cumsum(per_row) - per_row
        source = np.where(target[rows] < 0, n_own, target[rows])
        repeat = per_row[source]
        if (repeat != 1).any():  # a multi-valued row: one entry per part
            rows, codes, source = np.repeat(rows, repeat), np.repeat(codes, repeat), np.repeat(source, repeat)
            offset = np.arange(len(rows)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        else:
            offset = 0
        column_codes = own_codes[first[source] + offset]
        if positions is not None and len(column_codes) and (column_codes < 0).all():
            raise DataError(
                f"{what}: segment column {name!r} has no value for any of the {len(target)} analysed users "
                "(do the user ids of per_user and segments match?)"
            )
        labels = [*labels, MISSING]
        codes = codes * len(labels) + np.where(column_codes < 0, len(labels) - 1, column_codes)
        levels.append(labels)
    keys, group = np.unique(codes, return_inverse=True)
    parts = []
    for labels in reversed(levels):  # decode the mixed-radix keys, last column first
        parts.append(np.asarray(labels, dtype=object)[keys % len(labels)])
        keys = keys // len(labels)
    names = list(segments.columns)
    if len(names) == 1:
        return rows, group.reshape(-1), pd.Index(parts[0], name=names[0])
    return rows, group.reshape(-1), pd.MultiIndex.from_arrays(parts[::-1], names=names)


def group_labels(index: pd.Index, *, with_names: bool = True) -> list[str]:
    """Readable labels of group index entries: ``gender=F, age_band=18-24`` (or ``F, 18-24``)."""
    names = [str(name) for name in index.names]
    keys = index if isinstance(index, pd.MultiIndex) else [(value,) for value in index]
    if with_names:
        return [", ".join(f"{n}={v}" for n, v in zip(names, key, strict=False)) for key in keys]
    return [", ".join(str(v) for v in key) for key in keys]


# -- metrics by group ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupMetrics:
    """Metric means per group (built by :func:`by_group`), like fairlearn's MetricFrame.

    - ``overall``: Series metric -> mean over all rows.
    - ``by_group``: a row per group (index: the segment value, or a MultiIndex of
      the segment columns' values), a column per metric, ``count`` (rows; a row
      split into several parts counts in each) and, when rows are resampled in
      clusters, ``clusters`` (distinct clusters of the group).
    - ``ci``: same rows; MultiIndex columns ``(metric, "lower" | "upper")``: the
      percentile bootstrap interval of the group mean at ``level``; None without ``ci``.
    """

    overall: pd.Series
    by_group: pd.DataFrame
    ci: pd.DataFrame | None
    level: float
    _values: np.ndarray = field(repr=False)  # (n_cells, n_metrics) sums per resampled unit, sorted by group
    _starts: np.ndarray = field(repr=False)  # first cell of each group in _values

    @property
    def metrics(self) -> list[str]:
        return list(self.overall.index)

    @property
    def segment_names(self) -> list[str]:
        return [str(name) for name in self.by_group.index.names]

    def _groups(self, exclude_small: bool) -> pd.DataFrame:
        return self.by_group[self.metrics]

    def difference(self, *, exclude_small: bool = False) -> pd.Series:
        """Per metric: largest minus smallest group mean.

        >>> result.difference()["ndcg"]  # doctest: +SKIP
        0.06
        """
        table = self._groups(exclude_small)
        return (table.max() - table.min()).rename("difference")

    def ratio(self, *, exclude_small: bool = False) -> pd.Series:
        """Per metric: smallest over largest group mean (NaN when the largest is 0)."""
        table = self._groups(exclude_small)
        return (table.min() / table.max().where(table.max() != 0)).rename("ratio")


def require_columns(table: pd.DataFrame, needed: Sequence[str], what: str) -> None:
    """A one-line DataError naming ``what`` unless ``table`` is a DataFrame with every column in ``needed``.

    >>> require_columns(pd.DataFrame({"user_id": [1]}), ["user_id", "ndcg"], "audit")
    Traceback (most recent call last):
    workbench.errors.DataError: audit: no column 'ndcg'; columns: ['user_id']
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"{what}: expected a DataFrame, got {type(table).__name__}")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataError(f"{what}: no column {missing[0]!r}; columns: {list(map(str, table.columns))[:20]}")


def _rows(per_user: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(per_user, pd.DataFrame):
        raise DataError(f"{what}: per_user must be a DataFrame, got {type(per_user).__name__}")
    if len(per_user) == 0:
        raise DataError(f"{what}: per_user has no rows")
    return per_user


def _metric_values(frame: pd.DataFrame, metrics: Sequence[str] | None, skip: Sequence[str], what: str) -> pd.DataFrame:
    """Float metric columns: those named, else every numeric column not in ``skip``."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if metrics is None:
        metrics = [c for c in numeric if c not in skip]
        if not metrics:
            raise DataError(f"{what}: per_user has no numeric metric column (columns: {list(frame.columns)})")
    else:
        bad = [m for m in metrics if m not in numeric]
        if bad:
            raise DataError(f"{what}: metric {bad[0]!r} is not a numeric column of per_user")
    table = frame[list(metrics)].astype(np.float64)
    missing = table.isna().sum()
    if missing.any():
        worst = missing.idxmax()
        raise DataError(f"{what}: metric {worst!r} has {int(missing[worst])} missing values; fill or drop them")
    return table


def _segment_frame(
    frame: pd.DataFrame, segments: Any, ids: pd.Index, one_per_user: bool, what: str
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The segment columns and, when they come indexed by user_id, the segments row of each row of ``frame``
    (whose user ids are ``ids``)."""
    if isinstance(segments, str) or (
        isinstance(segments, Sequence)
        and not isinstance(segments, pd.Series)
        and all(isinstance(s, str) for s in segments)
    ):
        names = [segments] if isinstance(segments, str) else list(segments)
        if not names:
            raise ConfigError(f"{what}: no segment column named")
        require_columns(frame, names, what)
        return frame[names], None
    if isinstance(segments, pd.Series):
        segments = segments.to_frame(segments.name if segments.name is not None else "segment")
    if not isinstance(segments, pd.DataFrame) or segments.shape[1] == 0:
        raise DataError(
            f"{what}: segments must be column names of per_user, or a Series or a DataFrame with at least one "
            "column, indexed by user_id"
        )
    if len(segments) == 0:
        raise DataError(f"{what}: segments has no rows")
    if segments.index.has_duplicates:
        raise DataError(f"{what}: segments has repeated user ids in its index; expected one row per user")
    if one_per_user and ids.has_duplicates:
        repeated = ids[ids.duplicated()]
        raise DataError(
            f"{what}: per_user has {len(repeated)} repeated user ids (e.g. {repeated[0]!r}); expected one row per user"
        )
    return segments, IdMap(segments.index).codes(ids)


def by_group(
    per_user: pd.DataFrame,
    segments: pd.Series | pd.DataFrame | str | Sequence[str],
    *,
    metrics: Sequence[str] | None = None,
    clusters: str | None = None,
    separator: str | None = None,
    ci: bool | str | Sequence[str] = False,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    what: str = "by_group",
) -> GroupMetrics:
    """Mean of every metric per group of ``segments``, with optional bootstrap intervals.

    ``per_user``: one row per user (``user_id`` column or index, e.g. the output of
    :func:`workbench.evaluation.evaluate_per_user`), or any rows (pairs) when
    ``clusters`` names the column whose values are resampled together. Metrics:
    the numeric columns, or those named in ``metrics``.

    ``segments``: a Series or DataFrame indexed by user_id (users absent from it,
    or with a missing value, form the group :data:`MISSING`), or the names of
    columns of ``per_user``. With several columns the groups are their
    combinations. ``separator``: text values are split on it and a row counts in
    each part (``"|"`` for genres).

    ``ci``: True (every metric), a metric name or a list of them: the percentile
    bootstrap interval of the group mean at ``level``, ``n_boot`` resamples
    within each group (``seed``); rows are drawn one by one, or, with
    ``clusters``, a cluster's rows are drawn together. ``what``: the function named in
    error messages (the caller's name when another analysis builds on this one).

    >>> pairs = pd.DataFrame({"user_id": [1, 1, 2], "genres": ["A|B", "A", "B"], "residual": [0.5, -0.1, 0.2]})
    >>> result = by_group(pairs, "genres", metrics=["residual"], clusters="user_id", separator="|", ci=True)
    >>> result.by_group[["residual", "count", "clusters"]].round(2).to_dict("list")
    {'residual': [0.2, 0.35], 'count': [2, 2], 'clusters': [1, 2]}
    """
    ci_metrics = None if ci is False else ci
    if ci_metrics is not None:
        check_bootstrap(n_boot, level)
    frame = _rows(per_user, what)
    if clusters is not None and clusters not in frame.columns:
        raise DataError(f"{what}: no column {clusters!r} to resample by; columns: {list(map(str, frame.columns))[:20]}")
    by_id = clusters is None
    if C.USER in frame.columns and by_id:
        frame = frame.set_index(C.USER)
    ids = pd.Index(frame[C.USER]) if C.USER in frame.columns else frame.index
    segment_frame, positions = _segment_frame(frame, segments, ids, by_id, what)
    skip = [*([] if positions is not None else segment_frame.columns), *([clusters] if clusters else []), C.USER]
    table = _metric_values(frame, metrics, skip, what)
    names = list(table.columns)
    if ci_metrics is True:
        ci_metrics = names
    elif isinstance(ci_metrics, str):
        ci_metrics = [ci_metrics]
    unknown = [m for m in ci_metrics or () if m not in names]
    if unknown:
        raise ConfigError(f"{what}: ci names {unknown[0]!r}, not one of the metrics {names}")
    rows, group, index = group_codes(segment_frame, positions, separator=separator, what=what)
    values = table.to_numpy()

    # resampling units ("cells"), sorted by group: one per row, or one per (group, cluster) holding the sums
    if clusters is None:
        order = np.argsort(group, kind="stable")
        sums, counts, cell_group = values[rows[order]], np.ones(len(rows), dtype=np.int64), group[order]
    else:
        cluster_codes = pd.factorize(frame[clusters])[0].astype(np.int64)
        n_clusters = int(cluster_codes.max()) + 1
        cell, cell_index = np.unique(group * n_clusters + cluster_codes[rows], return_inverse=True)
        cell_index = cell_index.reshape(-1)
        sums = np.column_stack(
            [np.bincount(cell_index, weights=values[rows, j], minlength=len(cell)) for j in range(len(names))]
        ).reshape(len(cell), len(names))
        counts = np.bincount(cell_index, minlength=len(cell))
        cell_group = cell // n_clusters
    cells_per_group = np.bincount(cell_group, minlength=len(index))
    starts = np.r_[0, np.cumsum(cells_per_group)[:-1]]
    n_rows = np.add.reduceat(counts, starts)
    means = np.add.reduceat(sums, starts, axis=0) / n_rows[:, None]

    result = pd.DataFrame(means, index=index, columns=table.columns)
    result["count"] = n_rows
    if clusters is not None:
        result["clusters"] = cells_per_group
    interval = None
    if ci_metrics:
        chosen = [names.index(m) for m in ci_metrics]
        if clusters is None:  # each row its own unit: the resampled mean is the mean of the drawn rows
            sample, statistic = sums[:, chosen], np.mean
        else:  # clusters drawn whole: ratio of the drawn sums to the drawn row counts
            sample, statistic = np.column_stack([sums[:, chosen], counts.astype(np.float64)]), _ratio
        lower, upper, _ = _group_bootstrap(sample, starts, cells_per_group, statistic, int(n_boot), level, seed)
        interval = pd.DataFrame(
            np.stack([lower, upper], axis=2).reshape(len(index), -1),
            index=index,
            columns=pd.MultiIndex.from_product([list(ci_metrics), ["lower", "upper"]], names=["metric", "bound"]),
        )
    overall = table.mean().rename("overall")
    return GroupMetrics(overall, result, interval, float(level), sums, starts)
