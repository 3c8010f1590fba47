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

Work chosen by size (:func:`plan_replay`): on a large log the refit strategy refits every n-th
window and each window is scored on a seeded sample of its active users, both by rules of the
data's size (never a clock), so the same data always gets the same replay.

>>> table = replay_experiment(ds, window="7D", k=10, seed=0)  # doctest: +SKIP
>>> freshness_summary(table)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.split import user_sample
from workbench.data.stream import replay
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate
from workbench.guards import positive_int
from workbench.models import ALSRecommender, DecayedPopularity
from workbench.models.als import fit_seconds, log_size

STRATEGIES = ("frozen", "incremental", "refit")
#: Seconds of one core the refit strategy's full refits may cost in all, as estimated (each refit as
#: one fit on the whole log, :func:`workbench.models.als.fit_seconds`; not measured).
REFIT_BUDGET = 4.0
#: Users scored per window: a seeded sample of this many when more are active.
WINDOW_USERS = 500


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


@dataclass(frozen=True)
class ReplayPlan:
    """The work of a replay chosen by the data's size; built by :func:`plan_replay`."""

    #: non-empty windows replayed
    windows: int
    #: the refit strategy refits after every ``refit_every``-th window: ``refits`` times in the replay
    refit_every: int
    refits: int
    #: estimated seconds of one core of one refit on the whole log, and the refits' budget
    refit_seconds: float
    budget: float
    #: users scored per window at most (a seeded sample above it), and the most active in any window
    max_users: int
    most_active: int

    def describe(self) -> str:
        """The plan and the rules that chose it, in words."""
        every = "after every window" if self.refit_every == 1 else f"after every {_ordinal(self.refit_every)} window"
        text = (
            f"Refit strategy: a full refit {every} ({self.refits} of {self.windows} windows). One refit of this log "
            f"costs an estimated {self.refit_seconds:.2f} s of one core and the refits get {self.budget:g} s in all, "
            "so the refit interval is the shortest whose refits fit in it (at least one refit). "
        )
        if self.most_active > self.max_users:
            text += (
                f"Each window is scored on a seeded sample of {self.max_users:,} of its active users (up to "
                f"{self.most_active:,} here); updates still see every event. "
            )
        else:
            text += f"Each window is scored on all its active users (at most {self.max_users:,} would be). "
        return text + "Estimates from sizes, not a clock: the same data gets the same replay."


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plan_replay(
    ds: Dataset,
    *,
    start_fraction: float = 0.8,
    window: str | int = "7D",
    model_params: Mapping[str, Any] | None = None,
    budget: float = REFIT_BUDGET,
    max_users: int = WINDOW_USERS,
) -> ReplayPlan:
    """How :func:`replay_experiment` should replay ``ds``: ``refit_every`` is the smallest n whose refits
    (one after every n-th of the W windows: W // n of them, each estimated as one ALS fit with
    ``model_params`` on the whole log) cost at most ``budget`` seconds of one core, at least one refit;
    each window is scored on at most ``max_users`` users.

    >>> plan_replay(load_movielens_100k()).refit_every  # doctest: +SKIP
    1
    """
    max_users = positive_int(max_users, "max_users")
    if not budget > 0:
        raise ConfigError(f"budget must be > 0 seconds, got {budget!r}")
    seconds = ds.seconds("plan_replay")
    stream = replay(ds, window=window, start=time_cut(seconds, start_fraction), skip_empty=True)
    n_windows = len(stream)
    params = ALSRecommender(**dict(model_params or {}))
    one = fit_seconds(*log_size(ds), factors=params.factors, iterations=params.iterations)
    affordable = max(1, int(budget // one))
    every = next(n for n in range(1, max(n_windows, 1) + 1) if n_windows // n <= affordable)
    active = np.diff(stream.bounds)
    if len(active):
        users, _ = pd.factorize(stream.log[C.USER])
        window_of = np.repeat(np.arange(len(active)), active)
        most_active = int(pd.Series(users).groupby(window_of).nunique().max())
    else:
        most_active = 0
    return ReplayPlan(n_windows, every, n_windows // every, one, float(budget), max_users, most_active)


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
    max_users: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Frozen vs incremental vs refit ALS, replayed window by window after the first ``start_fraction`` of time.

    Returns one row per window and strategy: ``window, start, strategy, ndcg, hit_rate, n_users,
    n_events, update_seconds, update_ms_per_1000`` (metrics at ``k`` over the users active in the
    window; the update is the one made *after* scoring the window). ``refit`` fits from scratch
    every ``refit_every`` windows. With ``max_users``, a window with more active users is scored on
    a seeded sample of that many (``n_users`` counts the users scored); the updates see every event.
    Empty windows are skipped. :func:`plan_replay` chooses ``refit_every`` and ``max_users`` by size.

    >>> replay_experiment(load_movielens_100k(), window="7D", k=10, seed=0)  # doctest: +SKIP
    """
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise ConfigError(f"strategies must be among {STRATEGIES}, got {list(strategies)!r}")
    refit_every = positive_int(refit_every, "refit_every")
    if max_users is not None:
        max_users = positive_int(max_users, "max_users")
    seconds = ds.seconds("replay_experiment")
    cut = time_cut(seconds, start_fraction)
    log = ds.interactions
    train = ds.with_interactions(log[seconds < cut])
    if len(train) == 0:
        raise DataError(f"no interactions before the first {start_fraction:.0%} of time: nothing to train on")
    params = {**dict(model_params or {}), "seed": seed}
    base = ALSRecommender(**params).fit(train)
    # frozen and refit never change their model in place (refit replaces it), so they share ``base``
    # and its lists until the first refit; incremental updates its own copy
    models = {name: copy.deepcopy(base) if name == "incremental" else base for name in strategies}
    decayed = DecayedPopularity(half_life=half_life).fit(train) if "incremental" in models else None

    rows = []
    for batch in replay(ds, window=window, start=cut, skip_empty=True):
        scored = batch.interactions
        if max_users is not None:
            scored = user_sample(ds.with_interactions(scored), max_users, seed=seed + batch.number).interactions
        users = pd.unique(scored[C.USER])
        truth = scored[[C.USER, C.ITEM]]
        lists: dict[int, pd.DataFrame] = {}  # one list per distinct model object
        for name, model in models.items():
            if id(model) not in lists:
                lists[id(model)] = model.recommend(users, k=k)
            recs = lists[id(model)]
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
