"""Reading SHAP contributions of a ranker: global importance, segments, and Altair charts;
items named the way every report names them (:func:`item_label`, :func:`with_item_names`).

``contrib`` is the frame of :meth:`workbench.models.rerank.LightGBMReranker.explain`:
``user_id, item_id, base_value`` and one column of SHAP values (raw-score space) per
feature. Feature values, where a chart needs them, come from
:meth:`~workbench.models.rerank.LightGBMReranker.feature_table` (same rows, same order).

>>> contrib = model.explain(users, k=10)  # doctest: +SKIP
>>> global_importance(contrib).head()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import rows_for
from workbench.errors import ConfigError, DataError

BASE = "base_value"
#: Columns of an items table that name an item, in order of preference.
NAME_COLUMNS = ("title", "name")
MAX_ROWS = 5000
WIDTH = 420
HEIGHT = 260


def feature_columns(contrib: pd.DataFrame) -> list[str]:
    """The SHAP columns of ``contrib`` (everything but ids and ``base_value``)."""
    if not isinstance(contrib, pd.DataFrame) or BASE not in contrib.columns:
        raise DataError("contrib: expected the frame of LightGBMReranker.explain (with a 'base_value' column)")
    return [c for c in contrib.columns if c not in (C.USER, C.ITEM, BASE)]


def additivity_error(contrib: pd.DataFrame, recs: pd.DataFrame) -> float:
    """Largest |base_value + contributions - score| over the rows of ``contrib`` and ``recs``
    (the frames of ``explain`` and ``recommend`` for the same users and k, same row order).

    >>> additivity_error(model.explain(users, k=10), model.recommend(users, k=10))  # doctest: +SKIP
    2.7e-15
    """
    if len(contrib) != len(recs):
        raise DataError(f"contrib has {len(contrib):,} rows but recs has {len(recs):,}: explain the same users and k")
    total = contrib[BASE].to_numpy() + contrib[feature_columns(contrib)].sum(axis=1).to_numpy()
    return float(np.abs(total - recs[C.SCORE].to_numpy()).max()) if len(recs) else 0.0


def global_importance(contrib: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| (and mean SHAP) per feature, most important first: ``feature, mean_abs_shap, mean_shap``.

    >>> global_importance(contrib).iloc[0]["feature"]  # doctest: +SKIP
    'als_score_rank'
    """
    values = contrib[feature_columns(contrib)]
    table = pd.DataFrame(
        {
            "feature": values.columns,
            "mean_abs_shap": values.abs().mean().to_numpy(),
            "mean_shap": values.mean().to_numpy(),
        }
    )
    return table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)


def importance_by_segment(contrib: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Mean |SHAP| per segment and feature: ``segment, feature, mean_abs_shap, share, n_rows``.

    ``segments`` maps user_id (its index) to a segment label, e.g. cold / regular / heavy;
    ``share`` is the feature's part of the segment's total mean |SHAP|. Rows of users without
    a segment are left out.

    >>> importance_by_segment(contrib, activity_bucket)  # doctest: +SKIP
    """
    if not isinstance(segments, pd.Series):
        raise DataError(f"segments: expected a Series indexed by user_id, got {type(segments).__name__}")
    features = feature_columns(contrib)
    label = rows_for(segments, contrib[C.USER]).reset_index(drop=True)
    keep = label.notna().to_numpy()
    if not keep.any():
        raise DataError("segments: no user of contrib has a segment (is the Series indexed by user_id?)")
    magnitude = contrib.loc[keep, features].abs()
    grouped = magnitude.groupby(label[keep].values, sort=True, observed=True)  # keeps a categorical's order
    means = grouped.mean()
    long = means.stack().rename("mean_abs_shap").reset_index()
    long.columns = ["segment", "feature", "mean_abs_shap"]
    long["share"] = long["mean_abs_shap"] / long.groupby("segment")["mean_abs_shap"].transform("sum")
    long["n_rows"] = long["segment"].map(grouped.size()).to_numpy()
    return long.sort_values(["segment", "mean_abs_shap"], ascending=[True, False], kind="stable").reset_index(drop=True)


def importance_by_segment_chart(
    by_segment: pd.DataFrame, features: list[str], *, title: str = "Mean |SHAP| by segment", legend: str = "Segment"
) -> alt.Chart:
    """Grouped bars of :func:`importance_by_segment` for ``features`` (in that order), one bar per segment
    in the segments' own order, coloured by segment.

    >>> importance_by_segment_chart(by_segment, ["als_prior", "item_popularity"])  # doctest: +SKIP
    """
    data = by_segment[by_segment["feature"].isin(features)]
    segments = [str(segment) for segment in dict.fromkeys(data["segment"])]
    if hasattr(data["segment"], "cat"):
        segments = [str(segment) for segment in data["segment"].cat.categories if str(segment) in set(segments)]
    data = data.assign(segment=data["segment"].astype(str))
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            x=alt.X("feature:N", sort=features, title=None, axis=alt.Axis(labelAngle=-30)),
            xOffset=alt.XOffset("segment:N", sort=segments),
            y=alt.Y("mean_abs_shap:Q", title="Mean |SHAP| (raw score)"),
            color=alt.Color("segment:N", sort=segments, title=legend),
            tooltip=["segment", "feature", alt.Tooltip("mean_abs_shap:Q", format=".4f"), "n_rows"],
        )
        .properties(width=520, height=HEIGHT)
    )


def _top_features(contrib: pd.DataFrame, max_features: int) -> list[str]:
    return global_importance(contrib)["feature"].head(max_features).tolist()


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= n else frame.sample(n=n, random_state=seed)


def beeswarm_chart(
    contrib: pd.DataFrame,
    values: pd.DataFrame | None = None,
    *,
    max_features: int = 12,
    seed: int = 0,
) -> alt.Chart:
    """SHAP value per row and feature (jittered strip), features by importance; coloured by the
    feature's value percentile when ``values`` (same rows as ``contrib``) is given.

    >>> beeswarm_chart(contrib, model.feature_table(users, k=10))  # doctest: +SKIP
    """
    features = _top_features(contrib, max_features)
    per_feature = max(1, MAX_ROWS // max(len(features), 1))
    rows = _sample(contrib, per_feature, seed).index
    long = contrib.loc[rows, features].melt(var_name="feature", value_name="shap", ignore_index=False)
    if values is not None:
        if len(values) != len(contrib):
            raise DataError(
                f"values: {len(values):,} rows, but contrib has {len(contrib):,}; pass rows in the same order"
            )
        percentile = pd.DataFrame(
            {
                f: pd.to_numeric(values[f], errors="coerce").rank(pct=True).to_numpy() if f in values else np.nan
                for f in features
            },
            index=contrib.index,
        )
        long["value_percentile"] = percentile.loc[rows].melt(value_name="p")["p"].to_numpy()
    long["jitter"] = np.random.default_rng(seed).uniform(-0.4, 0.4, len(long))
    long = long.reset_index(drop=True)
    encoding = {
        "x": alt.X("shap:Q", title="SHAP value (raw score)"),
        "y": alt.Y("feature:N", sort=features, title=None),
        "yOffset": alt.YOffset("jitter:Q", title=None),
    }
    if values is not None:
        encoding["color"] = alt.Color(
            "value_percentile:Q",
            scale=alt.Scale(scheme="blueorange"),
            title="Value (pct)",
        )
    return (
        alt.Chart(long, title="SHAP values per feature")
        .mark_circle(size=12, opacity=0.6)
        .encode(**encoding)
        .properties(width=WIDTH, height=max(HEIGHT, 24 * len(features)))
    )


def dependence_chart(contrib: pd.DataFrame, values: pd.DataFrame, feature: str, *, seed: int = 0) -> alt.Chart:
    """SHAP value of ``feature`` against its value (``values``: same rows as ``contrib``).

    >>> dependence_chart(contrib, model.feature_table(users, k=10), "item_popularity")  # doctest: +SKIP
    """
    if feature not in feature_columns(contrib) or feature not in values.columns:
        raise ConfigError(f"dependence_chart: feature {feature!r} is not among {feature_columns(contrib)[:12]}")
    if len(values) != len(contrib):
        raise DataError(f"values: {len(values):,} rows, but contrib has {len(contrib):,}; pass rows in the same order")
    column = values[feature]
    numeric = pd.api.types.is_numeric_dtype(column.dtype)
    frame = pd.DataFrame(
        {
            "value": column.to_numpy() if numeric else column.astype(str).to_numpy(),
            "shap": contrib[feature].to_numpy(),
        }
    )
    frame = _sample(frame, MAX_ROWS, seed)
    return (
        alt.Chart(frame, title=f"SHAP dependence: {feature}")
        .mark_circle(size=14, opacity=0.5)
        .encode(
            x=alt.X("value:Q" if numeric else "value:N", title=feature),
            y=alt.Y("shap:Q", title="SHAP value (raw score)"),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def _id_text(value: object) -> str:
    """An id as written: a whole float (a numeric row of a frame upcasts int ids) without '.0'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _name_column(items: pd.DataFrame | None) -> str | None:
    """The column of ``items`` (indexed by item_id) that names an item: ``title``, else ``name``."""
    if not isinstance(items, pd.DataFrame):
        return None
    return next((c for c in NAME_COLUMNS if c in items.columns), None)


def _names(item_ids: Iterable[object], items: pd.DataFrame | None) -> pd.Series | None:
    """The name of each id (NaN where unknown), in the order given; None when ``items`` has no names.
    An id is found as :class:`IdMap` finds it (1, 1.0 and "1" are one item)."""
    column = _name_column(items)
    if column is None:
        return None
    return rows_for(items[column], list(item_ids)).reset_index(drop=True)


def item_labels(item_ids: Iterable[object], items: pd.DataFrame | None) -> list[str]:
    """How a report names items: ``"<title or name> (item <id>)"``, or ``"item <id>"`` without a name.

    >>> item_labels([1, 2], pd.DataFrame({"title": ["Toy Story (1995)", None]}, index=[1, 2]))
    ['Toy Story (1995) (item 1)', 'item 2']
    """
    ids = list(item_ids)
    names = _names(ids, items)
    if names is None:
        return [f"item {_id_text(i)}" for i in ids]
    return [
        f"item {_id_text(i)}" if pd.isna(n) else f"{n} (item {_id_text(i)})" for i, n in zip(ids, names, strict=True)
    ]


def item_label(item_id: object, items: pd.DataFrame | None) -> str:
    """One item's label (see :func:`item_labels`).

    >>> item_label("p7", pd.DataFrame({"name": ["Trail Mug"]}, index=["p7"]))
    'Trail Mug (item p7)'
    """
    return item_labels([item_id], items)[0]


def with_item_names(frame: pd.DataFrame, items: pd.DataFrame | None, *, on: str = C.ITEM) -> pd.DataFrame:
    """A copy of ``frame`` with the items' ``title`` (or ``name``) column right after the id column ``on``;
    ``frame`` itself when ``items`` has no names.

    >>> recs = pd.DataFrame({"user_id": [9], "item_id": [1], "rank": [1]})
    >>> with_item_names(recs, pd.DataFrame({"title": ["Toy Story (1995)"]}, index=[1])).columns.tolist()
    ['user_id', 'item_id', 'title', 'rank']
    """
    names = _names(frame[on], items)
    if names is None:
        return frame
    out = frame.copy()
    out.insert(out.columns.get_loc(on) + 1, _name_column(items), names.to_numpy())
    return out


def waterfall_chart(row: pd.Series, *, items: pd.DataFrame | None = None, max_features: int = 10) -> alt.Chart:
    """Why this item for this user: from ``base_value`` through the largest contributions to the score.

    ``row`` is one row of ``contrib``; smaller contributions are summed as "other features". With
    ``items`` (the items table), the title names the item (see :func:`item_label`).

    >>> waterfall_chart(contrib.iloc[0], items=ds.items)  # doctest: +SKIP
    """
    if not isinstance(row, pd.Series) or BASE not in row.index:
        raise DataError("waterfall_chart: expected one row of LightGBMReranker.explain (a Series with 'base_value')")
    shap = row.drop([c for c in (C.USER, C.ITEM, BASE) if c in row.index]).astype(float)
    order = shap.abs().sort_values(ascending=False, kind="stable").index
    top = shap[order[:max_features]]
    if len(order) > max_features:
        top = pd.concat([top, pd.Series({"other features": shap[order[max_features:]].sum()})])
    end = float(row[BASE]) + top.cumsum().to_numpy()
    frame = pd.DataFrame(
        {
            "feature": top.index,
            "contribution": top.to_numpy(),
            "start": end - top.to_numpy(),
            "end": end,
        }
    )
    frame["direction"] = np.where(frame["contribution"] >= 0, "raises", "lowers")
    title = alt.TitleParams(
        f"Why {item_label(row.get(C.ITEM), items)} for user {_id_text(row.get(C.USER))}",
        subtitle=f"base value {float(row[BASE]):.3f} -> score {end[-1]:.3f}",
    )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("feature:N", sort=list(frame["feature"]), title=None),
            x=alt.X("start:Q", title="Raw score"),
            x2="end:Q",
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=["raises", "lowers"], range=["#d4553b", "#3b6fd4"]),
            ),
            tooltip=["feature", alt.Tooltip("contribution:Q", format=".4f")],
        )
        .properties(width=WIDTH, height=max(HEIGHT // 2, 22 * len(frame)))
    )
