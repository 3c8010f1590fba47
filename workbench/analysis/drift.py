"""Drift monitoring: how each time window after a reference period differs from that period.

The reference is the first ``start_fraction`` of time (what a model trained then has seen);
the rest is cut into windows of ``window``. Signals per window:

- ``popularity_js``: Jensen-Shannon divergence (base 2, 0..1) of the item distribution;
- ``popularity_psi``: population stability index over popularity bins of the reference
  (``psi_bins`` bins of equal reference mass, head to tail, plus one bin for new items);
- ``activity_js``: JS divergence of events per active user (bins 1, 2-3, 4-7, ...), against
  the reference cut into windows of the same length;
- ``category_js``: JS divergence of the category / genre mix (multi-valued "a|b" cells count once per label);
- ``new_user_share``: share of the window's active users absent from the reference;
- ``new_item_share``: share of the window's events on items absent from the reference;
- ``ndcg_drop`` (given a :func:`~workbench.analysis.freshness.replay_experiment` table): how far the
  frozen model's nDCG fell below its first window, 1 - nDCG / nDCG of the first window.

>>> table = drift_table(ds, window="7D")  # doctest: +SKIP
>>> drift_alerts(table)["message"].tolist()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench import columns as C
from workbench.analysis.freshness import time_cut
from workbench.data.dataset import Dataset, IdMap
from workbench.data.stream import window_seconds
from workbench.errors import ConfigError

SIGNALS = (
    "popularity_js",
    "popularity_psi",
    "activity_js",
    "category_js",
    "new_user_share",
    "new_item_share",
    "ndcg_drop",
)
#: An alert fires when a signal is above its threshold. PSI 0.25 is the usual "major shift" line.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "popularity_js": 0.3,
    "popularity_psi": 0.25,
    "activity_js": 0.1,
    "category_js": 0.05,
    "new_user_share": 0.5,
    "new_item_share": 0.1,
    "ndcg_drop": 0.2,
}
MESSAGES = {
    "popularity_js": "the items people use differ from the reference (Jensen-Shannon {value:.2f} > {threshold:.2f})",
    "popularity_psi": "interest moved between head and tail items (PSI {value:.2f} > {threshold:.2f})",
    "activity_js": "users are more or less active than in the reference (Jensen-Shannon {value:.2f} > {threshold:.2f})",
    "category_js": "the category mix changed (Jensen-Shannon {value:.3f} > {threshold:.3f})",
    "new_user_share": "{value:.0%} of active users are new (more than {threshold:.0%})",
    "new_item_share": "{value:.0%} of events are on items the model has never seen (more than {threshold:.0%})",
    "ndcg_drop": "the frozen model's nDCG is {value:.0%} below its first window (more than {threshold:.0%})",
}
LABELS = {
    "popularity_js": "Item popularity (JS divergence)",
    "popularity_psi": "Head / tail shift (PSI)",
    "activity_js": "User activity (JS divergence)",
    "category_js": "Category mix (JS divergence)",
    "new_user_share": "New-user share",
    "new_item_share": "New-item event share",
    "ndcg_drop": "Frozen nDCG drop vs first window",
}
PSI_FLOOR = 1e-4  # shares below this count as this much, so empty bins do not give infinities


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """JS divergence (base 2, in [0, 1]) of each row of counts ``p`` against the counts ``q``.

    >>> jensen_shannon(np.array([[1, 0], [1, 1]]), np.array([0, 1])).round(3).tolist()
    [1.0, 0.311]
    """
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    q = np.asarray(q, dtype=np.float64)
    p = p / np.where(p.sum(axis=1, keepdims=True) > 0, p.sum(axis=1, keepdims=True), 1.0)
    q = q / (q.sum() if q.sum() > 0 else 1.0)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> np.ndarray:
        ratio = np.divide(a, m, out=np.ones_like(m), where=a > 0)
        return (a * np.log2(ratio)).sum(axis=1)

    return np.clip(0.5 * kl(p) + 0.5 * kl(np.broadcast_to(q, p.shape)), 0.0, 1.0)


def psi(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Population stability index of each row of counts ``p`` against the reference counts ``q``:
    sum((p - q) ln(p / q)) over shares floored at ``PSI_FLOOR``.

    >>> psi(np.array([[50, 50]]), np.array([50, 50])).tolist()
    [0.0]
    """
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    p = np.maximum(p / np.maximum(p.sum(axis=1, keepdims=True), 1.0), PSI_FLOOR)
    q = np.maximum(np.asarray(q, np.float64) / max(float(np.sum(q)), 1.0), PSI_FLOOR)
    return ((p - q) * np.log(p / q)).sum(axis=1)


def _popularity_bins(reference: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin of each item: 0 (head) .. n_bins - 1 (tail) by reference mass, n_bins for unseen items."""
    order = np.argsort(-reference, kind="stable")
    before = np.cumsum(reference[order]) - reference[order]
    bins = np.empty(len(reference), dtype=np.int64)
    bins[order] = np.minimum(before * n_bins // max(reference.sum(), 1), n_bins - 1)
    bins[reference == 0] = n_bins
    return bins


def _category_matrix(items: pd.DataFrame | None, column: str | None, item_map: IdMap) -> sp.csr_matrix | None:
    """Items x categories 0/1 matrix (cells "a|b" give both labels), or None without categories."""
    if column is None:
        column = next((c for c in ("category", "genres") if items is not None and c in items.columns), None)
        if column is None:
            return None
    elif items is None or column not in items.columns:
        raise ConfigError(f"category column {column!r} is not in the item table")
    labels = items[column].reindex(item_map.ids).astype("string").str.split("|").explode().dropna()
    labels = labels[labels != ""]
    rows = item_map.codes(labels.index)
    label_map = IdMap.from_values(labels.to_numpy())
    cols = label_map.codes(labels.to_numpy())
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(item_map), len(label_map)), dtype=np.float64)


def drift_table(
    ds: Dataset,
    *,
    window: str | int = "7D",
    start_fraction: float = 0.8,
    category: str | None = None,
    quality: pd.DataFrame | None = None,
    psi_bins: int = 10,
) -> pd.DataFrame:
    """One row per non-empty window after the reference: ``window, start, n_events, n_users`` and the
    signals (see the module docstring). ``category`` names an item column ("category" or "genres"
    by default; NaN signals without one); ``quality`` is a replay_experiment table.

    >>> drift_table(load_movielens_100k(), window="7D").round(3)  # doctest: +SKIP
    """
    if psi_bins < 2:
        raise ConfigError(f"psi_bins must be at least 2, got {psi_bins!r}")
    seconds = ds.seconds("drift_table")
    cut, width = time_cut(seconds, start_fraction), window_seconds(window)
    log = ds.interactions
    item_map, user_map = IdMap.from_values(log[C.ITEM]), IdMap.from_values(log[C.USER])
    items, users = item_map.codes(log[C.ITEM]).astype(np.int64), user_map.codes(log[C.USER]).astype(np.int64)
    period = (seconds - cut) // width  # negative in the reference
    ref = period < 0
    n_items, n_users = len(item_map), len(user_map)
    n_windows = int(period.max()) + 1

    ref_items = np.bincount(items[ref], minlength=n_items)
    win = ~ref
    counts = sp.csr_matrix(
        (np.ones(int(win.sum())), (period[win], items[win])), shape=(n_windows, n_items)
    )  # duplicates are summed
    n_events = np.asarray(counts.sum(axis=1)).ravel()
    bins = _popularity_bins(ref_items, psi_bins)
    to_bins = sp.csr_matrix((np.ones(n_items), (np.arange(n_items), bins)), shape=(n_items, psi_bins + 1))

    # distinct (period, user) pairs and their event counts, reference periods included
    offset = int(period.min())
    pair, per_pair = np.unique((period - offset) * n_users + users, return_counts=True)
    pair_period, pair_user = pair // n_users + offset, pair % n_users
    activity_bin = np.floor(np.log2(per_pair)).astype(np.int64)
    n_bins = int(activity_bin.max()) + 1
    ref_pair = pair_period < 0
    ref_activity = np.bincount(activity_bin[ref_pair], minlength=n_bins)
    win_activity = np.bincount(
        pair_period[~ref_pair] * n_bins + activity_bin[~ref_pair], minlength=n_windows * n_bins
    ).reshape(n_windows, n_bins)
    known_user = np.bincount(users[ref], minlength=n_users) > 0
    n_active = np.bincount(pair_period[~ref_pair], minlength=n_windows)
    n_new_users = np.bincount(pair_period[~ref_pair], weights=~known_user[pair_user[~ref_pair]], minlength=n_windows)

    categories = _category_matrix(ds.items, category, item_map)
    if categories is None:
        category_js = np.full(n_windows, np.nan)
    else:
        category_js = jensen_shannon((counts @ categories).toarray(), ref_items @ categories)
    table = pd.DataFrame(
        {
            "window": np.arange(n_windows),
            "start": pd.to_datetime(cut + np.arange(n_windows) * width, unit="s"),
            "n_events": n_events.astype(np.int64),
            "n_users": n_active,
            "popularity_js": jensen_shannon(counts.toarray(), ref_items),  # windows x items: small
            "popularity_psi": psi((counts @ to_bins).toarray(), np.bincount(bins, ref_items, psi_bins + 1)),
            "activity_js": jensen_shannon(win_activity, ref_activity),
            "category_js": category_js,
            "new_user_share": n_new_users / np.maximum(n_active, 1),
            "new_item_share": np.asarray(counts[:, ref_items == 0].sum(axis=1)).ravel() / np.maximum(n_events, 1),
        }
    )
    table = table[table["n_events"] > 0].reset_index(drop=True)
    if quality is not None:
        table = table.merge(quality_drop(quality), on="window", how="left")
    return table


def quality_drop(quality: pd.DataFrame, *, strategy: str = "frozen", metric: str = "ndcg") -> pd.DataFrame:
    """``window, ndcg_drop``: 1 - metric / metric of the first window, for one strategy of a
    replay_experiment table (positive when quality falls)."""
    rows = quality[quality["strategy"] == strategy].sort_values("window")
    if rows.empty:
        raise ConfigError(f"the quality table has no rows for strategy {strategy!r}")
    first = float(rows[metric].iloc[0])
    drop = 1.0 - rows[metric].to_numpy() / first if first > 0 else np.full(len(rows), np.nan)
    return pd.DataFrame({"window": rows["window"].to_numpy(), "ndcg_drop": drop})


def drift_alerts(table: pd.DataFrame, thresholds: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every (window, signal) above its threshold: ``window, start, signal, value, threshold, message``.

    ``thresholds`` overrides entries of ``DEFAULT_THRESHOLDS``; signals missing from the table are ignored.

    >>> drift_alerts(drift_table(ds), {"new_item_share": 0.05})  # doctest: +SKIP
    """
    limits = {**DEFAULT_THRESHOLDS, **dict(thresholds or {})}
    unknown = [name for name in limits if name not in SIGNALS]
    if unknown:
        raise ConfigError(f"unknown drift signal {unknown[0]!r}; signals are {list(SIGNALS)}")
    present = [name for name in SIGNALS if name in table.columns]
    long = table.melt(id_vars=["window", "start"], value_vars=present, var_name="signal", value_name="value")
    long["threshold"] = long["signal"].map(limits).astype(np.float64)
    alerts = long[long["value"] > long["threshold"]].sort_values(["window", "signal"], ignore_index=True)
    alerts["message"] = [
        f"Window from {start:%Y-%m-%d}: " + MESSAGES[signal].format(value=value, threshold=threshold)
        for start, signal, value, threshold in alerts[["start", "signal", "value", "threshold"]].itertuples(index=False)
    ]
    return alerts[["window", "start", "signal", "value", "threshold", "message"]]
