"""Bias audits: metrics across user segments (like fairlearn's MetricFrame) and popularity bias.

>>> per_user = evaluate_per_user(model.recommend(test_users, k=10), test, k=10)  # doctest: +SKIP
>>> result = audit(per_user, user_segments(ds, train)[["gender"]], seed=0)  # doctest: +SKIP
>>> result.by_group, result.difference(), result.significance()  # doctest: +SKIP
>>> summary_flags(result, threshold=0.1)  # doctest: +SKIP
>>> popularity_bias(model.recommend(test_users, k=10), train, k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from workbench import columns as C
from workbench.analysis.stats import (
    MISSING,
    SEPARATOR,
    GroupMetrics,
    Record,
    by_group,
    check_bootstrap,
    group_labels,
    split_values,
)
from workbench.data.dataset import Dataset, IdMap, rows_for
from workbench.data.stats import gini
from workbench.errors import ConfigError, DataError
from workbench.evaluation.evaluate import catalog_coverage
from workbench.guards import positive_int

if TYPE_CHECKING:
    import altair as alt


@dataclass(frozen=True)
class Audit(GroupMetrics):
    """Per-group metrics with bootstrap confidence intervals; built by :func:`audit`.

    - ``overall``: Series metric -> mean over all audited users.
    - ``by_group``: a row per group (index: the segment value, or a MultiIndex of
      the segment columns' values), a column per metric, ``count`` (users) and
      ``small`` (count below ``min_group_size``: reported, never dropped).
    - ``ci``: same rows; MultiIndex columns ``(metric, "lower" | "upper")``:
      percentile bootstrap interval of the group mean at ``level``.
      ``ci.stack(level=0, future_stack=True)`` gives the long form.
    - ``difference()``, ``ratio()``: max - min and min / max across groups, per metric.
    """

    min_group_size: int = 10

    def _groups(self, exclude_small: bool) -> pd.DataFrame:
        table = self.by_group[~self.by_group["small"]] if exclude_small else self.by_group
        return table[self.metrics]

    def significance(self) -> pd.DataFrame:
        """Kruskal-Wallis H test per metric across all groups: ``metric, statistic, p_value``.

        NaN when there is a single group or every value of the metric is identical.
        """
        samples = np.split(self._values, self._starts[1:])
        rows = []
        for j, metric in enumerate(self.metrics):
            statistic, p_value = math.nan, math.nan
            columns = [sample[:, j] for sample in samples]
            if len(columns) > 1 and np.ptp(self._values[:, j]) > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    statistic, p_value = stats.kruskal(*columns)
            rows.append((metric, float(statistic), float(p_value)))
        return pd.DataFrame(rows, columns=["metric", "statistic", "p_value"])

    def chart(self, metric: str) -> alt.LayerChart:
        """Bar per group (faded when small) with its bootstrap interval and the overall mean as a rule
        (drawn by :func:`workbench.report.charts.audit_chart`)."""
        # The one import of a higher layer (declared in the import-linter contract): the chart is built in
        # report/, and this method stays the public way to get it. Imported here, so analysis loads no altair.
        from workbench.report.charts import audit_chart

        return audit_chart(self, metric)


def audit(
    per_user: pd.DataFrame,
    segments: pd.Series | pd.DataFrame,
    *,
    metrics: list[str] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    min_group_size: int = 10,
    seed: int = 0,
) -> Audit:
    """Audit per-user metrics across the groups of ``segments`` (:func:`workbench.analysis.stats.by_group`).

    ``per_user``: the output of :func:`workbench.evaluation.evaluate_per_user`
    (``user_id`` + metric columns) or a frame indexed by user_id; every numeric
    column is a metric unless ``metrics`` names them (other columns are ignored).
    ``segments``: a Series or DataFrame indexed by user_id; with several columns
    the groups are their combinations (as fairlearn). Users of ``per_user``
    absent from ``segments`` or with a missing value form the group
    ``"(missing)"``; users only in ``segments`` are ignored. Groups smaller than
    ``min_group_size`` are kept and flagged in ``by_group["small"]``. Intervals:
    ``n_boot`` resamples at ``level``.

    >>> per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.0, 1.0, 0.5, 0.5]})
    >>> result = audit(per_user, pd.Series(["F", "F", "M", "M"], index=[1, 2, 3, 4], name="gender"), n_boot=50)
    >>> result.difference()["ndcg"], result.ratio()["ndcg"]
    (np.float64(0.0), np.float64(1.0))
    """
    check_bootstrap(n_boot, level)
    min_group_size = positive_int(min_group_size, "min_group_size")
    if not isinstance(segments, (pd.Series, pd.DataFrame)):
        raise DataError("audit: segments must be a Series or a DataFrame with at least one column, indexed by user_id")
    result = by_group(per_user, segments, metrics=metrics, ci=True, level=level, n_boot=n_boot, seed=seed, what="audit")
    table = result.by_group.assign(small=result.by_group["count"] < min_group_size)
    return Audit(result.overall, table, result.ci, result.level, result._values, result._starts, int(min_group_size))


def summary_flags(*audits: Audit, threshold: float = 0.1, lower_is_better: Iterable[str] = ()) -> pd.DataFrame:
    """Every group's gap to the best group per metric, in plain words, flagged above ``threshold``.

    The gap is relative to the best group: (best - value) / best where higher
    values are better (ranking metrics), (value - best) / best for the metrics
    named in ``lower_is_better`` (errors such as ``rmse``). Columns: ``segment,
    metric, group, value, best_group, best_value, gap, count, small, p_value``
    (Kruskal-Wallis across the audit's groups), ``flagged`` and ``message``,
    largest gaps first.

    >>> summary_flags(audit(per_user, segments[["gender"]]), threshold=0.1)["message"][0]  # doctest: +SKIP
    'ndcg for gender=F is 0.41 vs 0.47 for gender=M: a gap of 13%, above the 10% threshold (p=0.003)'
    """
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"threshold must be a share in [0, 1), got {threshold!r}")
    if not audits or not all(isinstance(a, Audit) for a in audits):
        raise ConfigError("summary_flags expects one or more Audit objects (from audit(...))")
    lower_better = {lower_is_better} if isinstance(lower_is_better, str) else set(lower_is_better)
    known = {metric for result in audits for metric in result.metrics}
    if lower_better - known:
        raise ConfigError(f"lower_is_better names {sorted(lower_better - known)[0]!r}, not a metric of these audits")
    frames = []
    for result in audits:
        labels = np.asarray(group_labels(result.by_group.index), dtype=object)
        p_values = result.significance().set_index("metric")["p_value"]
        for metric in result.metrics:
            value = result.by_group[metric].to_numpy()
            lower = metric in lower_better
            best = int(np.argmin(value) if lower else np.argmax(value))
            distance = value - value[best] if lower else value[best] - value
            gap = np.divide(distance, abs(value[best]), out=np.zeros_like(value), where=value[best] != 0)
            others = np.arange(len(value)) != best
            frames.append(
                pd.DataFrame(
                    {
                        "segment": ", ".join(result.segment_names),
                        "metric": metric,
                        "group": labels[others],
                        "value": value[others],
                        "best_group": labels[best],
                        "best_value": value[best],
                        "gap": gap[others],
                        "count": result.by_group["count"].to_numpy()[others],
                        "small": result.by_group["small"].to_numpy()[others],
                        "p_value": p_values[metric],
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    table["flagged"] = table["gap"] > threshold
    table["message"] = [
        f"{r.metric} for {r.group} is {r.value:.3g} vs {r.best_value:.3g} for {r.best_group}: a gap of {r.gap:.0%}, "
        f"{'above' if r.flagged else 'within'} the {threshold:.0%} threshold"
        f"{f' (only {r.count} users)' if r.small else ''}"
        f"{'' if math.isnan(r.p_value) else f'; Kruskal-Wallis p={r.p_value:.2g}'}"
        for r in table.itertuples()
    ]
    return table.sort_values("gap", ascending=False, kind="stable").reset_index(drop=True)


def _top_recs(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """The first ``k`` recommendations per user (by ``rank`` when present, else row order)."""
    if not isinstance(recs, pd.DataFrame) or any(c not in recs.columns for c in (C.USER, C.ITEM)):
        raise DataError("recommendations need the columns 'user_id' and 'item_id'")
    k = positive_int(k, "k")
    if C.RANK in recs.columns:
        keep = recs[C.RANK].to_numpy() <= k
    else:
        keep = recs.groupby(C.USER, sort=False).cumcount().to_numpy() < k
    top = recs.loc[keep, [C.USER, C.ITEM]]
    if len(top) == 0:
        raise DataError("recommendations are empty")
    return top


def _train_log(train: Dataset) -> pd.DataFrame:
    if not isinstance(train, Dataset):
        raise DataError(f"train must be a workbench Dataset, got {type(train).__name__}")
    if len(train) == 0:
        raise DataError("train has no interactions")
    return train.interactions


@dataclass(frozen=True, eq=False, repr=True)
class PopularityBias(Record):
    """Popularity bias of a top-k list (:func:`popularity_bias`); also a read-only dict of its fields."""

    arp: float
    aplt: float
    coverage: float
    gini: float
    novelty: float


def popularity_bias(recs: pd.DataFrame, train: Dataset, *, k: int = 10) -> PopularityBias:
    """Popularity bias of the top ``k`` recommendations against the training log.

    - ``arp``: mean over users of the mean popularity (train interactions) of their items.
    - ``aplt``: mean over users of the share of their items in the long tail; the
      head is the items whose popularity is at least that of the item at
      position ceil(0.2 n) in descending order (n distinct train items); items
      absent from train are in the tail.
    - ``coverage``: distinct recommended train items / distinct train items.
    - ``gini``: over the recommendation counts c of all train items (ascending),
      sum((2i - n - 1) c_i) / (n sum c): 0 when uniform, (n-1)/n when one item takes all.
    - ``novelty``: mean over users of the mean self-information -log2(share of
      train users who interacted with the item); an item absent from train counts as one user.

    >>> popularity_bias(model.recommend(users, k=10), train, k=10)  # doctest: +SKIP
    PopularityBias(arp=212.3, aplt=0.01, coverage=0.05, gini=0.93, novelty=2.8)
    """
    top = _top_recs(recs, k)
    log = _train_log(train)
    item_codes, items = pd.factorize(log[C.ITEM], sort=False)
    user_codes, train_users = pd.factorize(log[C.USER], sort=False)
    n_items = len(items)
    popularity = np.bincount(item_codes, minlength=n_items)
    boundary = np.sort(popularity)[::-1][math.ceil(0.2 * n_items) - 1]
    head = popularity >= boundary
    pairs = pd.unique(user_codes.astype(np.int64) * n_items + item_codes)  # np.unique hashes wide ints slowly
    item_users = np.maximum(np.bincount(pairs % n_items, minlength=n_items), 1)

    rec = IdMap(items).codes(top[C.ITEM])
    known = rec >= 0
    rec_popularity = np.where(known, popularity[rec], 0)
    rec_tail = np.where(known, ~head[rec], True)
    rec_information = -np.log2(np.where(known, item_users[rec], 1) / len(train_users))

    owner, _ = pd.factorize(top[C.USER], sort=False)
    per_user = np.bincount(owner)

    def user_mean(values: np.ndarray) -> float:
        return float(np.mean(np.bincount(owner, weights=values) / per_user))

    return PopularityBias(
        arp=user_mean(rec_popularity.astype(np.float64)),
        aplt=user_mean(rec_tail.astype(np.float64)),
        coverage=float(catalog_coverage(top, train)),
        gini=float(gini(np.bincount(rec[known], minlength=n_items))) if known.any() else math.nan,
        novelty=user_mean(rec_information),
    )


def exposure(recs: pd.DataFrame, train: Dataset, *, by: str, k: int = 10) -> pd.DataFrame:
    """Share of top-``k`` recommendations vs share of train interactions per value of item attribute ``by``.

    A row's share is the share of recommendations (or interactions) whose item
    carries the value; text values joined with '|' (genres) are split, so the
    shares of a multi-valued attribute may sum to more than 1. Items without a
    value are ``"(missing)"``. Columns: ``by, rec_share, train_share, ratio``
    (rec over train; NaN when the train share is 0), most trained first.

    >>> exposure(recs, train, by="genres")  # doctest: +SKIP
    """
    top = _top_recs(recs, k)
    log = _train_log(train)
    if train.items is None or by not in train.items.columns:
        raise DataError(f"exposure: the items table of train has no column {by!r}")
    items = IdMap.from_values(log[C.ITEM]).extended(top[C.ITEM])
    rec_counts = np.bincount(items.codes(top[C.ITEM]), minlength=len(items))
    train_counts = np.bincount(items.codes(log[C.ITEM]), minlength=len(items))

    values = rows_for(train.items[by], items.ids).reset_index(drop=True)
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        positions, parts = split_values(values, SEPARATOR)
    else:
        positions, parts = np.arange(len(values)), values
    group_codes, groups = pd.factorize(parts.where(parts.notna(), MISSING), sort=False)
    rec_share = np.bincount(group_codes, weights=rec_counts[positions], minlength=len(groups)) / len(top)
    train_share = np.bincount(group_codes, weights=train_counts[positions], minlength=len(groups)) / len(log)
    ratio = np.divide(rec_share, train_share, out=np.full(len(groups), np.nan), where=train_share > 0)
    table = pd.DataFrame({by: groups.to_numpy(), "rec_share": rec_share, "train_share": train_share, "ratio": ratio})
    return table.sort_values("train_share", ascending=False, kind="stable").reset_index(drop=True)
