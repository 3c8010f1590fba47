"""Fresh data: a time-decayed popularity model updated per batch, and the frozen / incremental /
refit replay experiment.

Train ALS on the first part of the log, then replay the rest window by window: each strategy
recommends for the users active in the window, is scored on that window's events, and only
then sees the window (frozen: never; incremental: ``ALSRecommender.partial_fit`` plus a
:class:`DecayedPopularity` update; refit: a full fit on everything so far).

New items: ALS cannot score an item it was not fitted on, so until the next full refit the
incremental strategy gives new items their *popularity placement* (:func:`place_new_items`):
an unseen new item that is number r on the user's decayed-popularity list goes in just before
the ALS item at rank r.

>>> table = replay_experiment(ds, window="7D", k=10, seed=0)  # doctest: +SKIP
>>> freshness_summary(table)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.stream import replay
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate
from workbench.guards import positive_int
from workbench.models import ALSRecommender, DecayedPopularity

STRATEGIES = ("frozen", "incremental", "refit")


def place_new_items(recs: pd.DataFrame, popular: pd.DataFrame, known_items: pd.Index, *, k: int) -> pd.DataFrame:
    """Merge items outside ``known_items`` from ``popular`` into ``recs`` by popularity placement.

    An item of ``popular`` that ``known_items`` lacks, at rank r there, goes in just before the
    item of ``recs`` at rank r; lists are cut back to ``k`` and re-ranked. ``score`` keeps each
    source's own score.

    >>> recs = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "score": [0.9, 0.8], "rank": [1, 2]})
    >>> pop = pd.DataFrame({"user_id": [1, 1], "item_id": ["new", "a"], "score": [5.0, 4.0], "rank": [2, 1]})
    >>> place_new_items(recs, pop, pd.Index(["a", "b"]), k=2)["item_id"].tolist()
    ['a', 'new']
    """
    fresh = popular[~popular[C.ITEM].isin(known_items)]
    merged = pd.concat([fresh.assign(_after=0), recs.assign(_after=1)], ignore_index=True)
    merged = merged.sort_values([C.USER, C.RANK, "_after"], kind="stable", ignore_index=True)
    merged[C.RANK] = merged.groupby(C.USER, sort=False).cumcount() + 1
    return merged[merged[C.RANK] <= k].drop(columns="_after").reset_index(drop=True)


def time_cut(seconds: np.ndarray, start_fraction: float) -> int:
    """The int second at ``start_fraction`` of the span from the first to the last timestamp."""
    if not 0.0 < start_fraction < 1.0:
        raise ConfigError(f"start_fraction must be between 0 and 1 (exclusive), got {start_fraction!r}")
    if len(seconds) == 0:
        raise DataError("the interactions are empty: nothing to replay")
    return int(np.ceil(seconds.min() + start_fraction * (seconds.max() - seconds.min())))


def replay_experiment(
    ds: Dataset,
    *,
    start_fraction: float = 0.8,
    window: str | int = "7D",
    strategies: Sequence[str] = STRATEGIES,
    refit_every: int = 1,
    k: int = 10,
    half_life: str | int = "7D",
    model_params: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Frozen vs incremental vs refit ALS, replayed window by window after the first ``start_fraction`` of time.

    Returns one row per window and strategy: ``window, start, strategy, ndcg, hit_rate, n_users,
    n_events, update_seconds, update_ms_per_1000`` (metrics at ``k`` over the users active in the
    window; the update is the one made *after* scoring the window). ``refit`` fits from scratch
    every ``refit_every`` windows. Empty windows are skipped.

    >>> replay_experiment(load_movielens_100k(), window="7D", k=10, seed=0)  # doctest: +SKIP
    """
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise ConfigError(f"strategies must be among {STRATEGIES}, got {list(strategies)!r}")
    refit_every = positive_int(refit_every, "refit_every")
    seconds = ds.seconds("replay_experiment")
    cut = time_cut(seconds, start_fraction)
    log = ds.interactions
    train = ds.with_interactions(log[seconds < cut])
    if len(train) == 0:
        raise DataError(f"no interactions before the first {start_fraction:.0%} of time: nothing to train on")
    params = {**dict(model_params or {}), "seed": seed}
    base = ALSRecommender(**params).fit(train)
    models = {name: copy.deepcopy(base) for name in strategies}
    decayed = DecayedPopularity(half_life=half_life).fit(train) if "incremental" in models else None

    rows = []
    for batch in replay(ds, window=window, start=cut, skip_empty=True):
        users = pd.unique(batch.interactions[C.USER])
        truth = batch.interactions[[C.USER, C.ITEM]]
        for name, model in models.items():
            recs = model.recommend(users, k=k)
            if name == "incremental":
                recs = place_new_items(recs, decayed.recommend(users, k=k), model.item_map.ids, k=k)
            scores = evaluate(recs, truth, k=k)
            began, spent = time.perf_counter(), 0.0
            if name == "incremental":
                model.partial_fit(ds.with_interactions(batch.interactions))
                decayed.partial_fit(ds.with_interactions(batch.interactions))
                spent = time.perf_counter() - began
            elif name == "refit" and (batch.number + 1) % refit_every == 0:
                end = int(batch.end.timestamp())
                models[name] = ALSRecommender(**params).fit(ds.with_interactions(log[seconds < end]))
                spent = time.perf_counter() - began
            rows.append(
                {
                    "window": batch.number,
                    "start": batch.start,
                    "strategy": name,
                    "ndcg": scores["ndcg"],
                    "hit_rate": scores["hit_rate"],
                    "n_users": len(users),
                    "n_events": len(batch),
                    "update_seconds": spent,
                    "update_ms_per_1000": 1e6 * spent / len(batch),
                }
            )
    return pd.DataFrame(rows)


def freshness_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: nDCG and hit rate averaged over (user, window) pairs, total update seconds and
    update milliseconds per 1,000 replayed events; indexed by strategy in the table's order."""
    weights = table["n_users"].to_numpy(np.float64)
    frame = table.assign(_ndcg=table["ndcg"] * weights, _hit=table["hit_rate"] * weights, _w=weights).groupby(
        "strategy", sort=False
    )
    sums = frame[["_ndcg", "_hit", "_w", "update_seconds", "n_events"]].sum()
    return pd.DataFrame(
        {
            "ndcg": sums["_ndcg"] / sums["_w"],
            "hit_rate": sums["_hit"] / sums["_w"],
            "windows": frame.size(),
            "update_seconds": sums["update_seconds"],
            "update_ms_per_1000": 1e6 * sums["update_seconds"] / sums["n_events"],
        }
    )


def freshness_chart(table: pd.DataFrame, *, metric: str = "ndcg", k: int | None = None) -> alt.Chart:
    """``metric`` per window over time, one line per strategy."""
    if metric not in table.columns:
        raise ConfigError(f"freshness_chart: metric {metric!r} is not among {list(table.columns)}")
    label = {"ndcg": "nDCG", "hit_rate": "Hit rate", "update_ms_per_1000": "Update ms per 1,000 events"}.get(
        metric, metric.replace("_", " ").capitalize()
    )
    title = f"{label}{f'@{k}' if k and metric in ('ndcg', 'hit_rate') else ''} per window"
    data = table[["start", "strategy", metric, "n_users", "n_events"]]
    return (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("start:T", title="Window start"),
            y=alt.Y(f"{metric}:Q", title=label),
            color=alt.Color("strategy:N", title="Strategy", sort=list(STRATEGIES)),
            tooltip=list(data.columns),
        )
        .properties(width=420, height=260)
    )
