"""Reading SHAP contributions of a ranker: global importance and importance by segment (drawn by
``workbench.report.analysis_charts``); items named the way every report names them
(:func:`item_label`, :func:`with_item_names`).

``contrib`` is the frame of :meth:`workbench.models.rerank.LightGBMReranker.explain`:
``user_id, item_id, base_value`` and one column of SHAP values (raw-score space) per
feature. Feature values, where a chart needs them, come from
:meth:`~workbench.models.rerank.LightGBMReranker.feature_table` (same rows, same order).

>>> contrib = model.explain(users, k=10)  # doctest: +SKIP
>>> global_importance(contrib).head()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import rows_for
from workbench.errors import DataError

BASE = "base_value"
#: Columns of an items table that name an item, in order of preference.
NAME_COLUMNS = ("title", "name")


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


def id_text(value: object) -> str:
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
        return [f"item {id_text(i)}" for i in ids]
    return [f"item {id_text(i)}" if pd.isna(n) else f"{n} (item {id_text(i)})" for i, n in zip(ids, names, strict=True)]


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
