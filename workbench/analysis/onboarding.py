"""Onboarding of cold users, the protocol: reveal each user's first items, score every model on the rest.

A cold user who has just signed up and interacted with a few items: :func:`reveal_first` takes each
user's first ``n`` distinct items (by timestamp) as what onboarding saw, and keeps the rest of their
log as the truth; :func:`onboarding_per_user` scores popularity, a :class:`ClusterColdStart` and the
same model told the first items (``recommend_onboarded``) on those same remaining items. The cold-start
notebook's view and ``benchmarks/coldstart_ml100k.py`` both measure onboarding this way.

>>> per_user = onboarding_per_user(model, PopularityRecommender().fit(train), test, n=3)  # doctest: +SKIP
>>> per_user["ridge + 3 first"]["ndcg"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.evaluation import evaluate_per_user
from workbench.models import ClusterColdStart, PopularityRecommender


def reveal_first(truth: Dataset | pd.DataFrame, n: int) -> tuple[dict[Any, list[Any]], pd.DataFrame]:
    """Each user's first ``n`` distinct items (by timestamp, ties and logs without time in log order)
    and the rest of the log without those items. Users with nothing left are dropped from both, so
    every model is evaluated on the same remaining items of the same users.

    >>> log = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [5, 6, 5, 7], "timestamp": [3, 1, 4, 1]})
    >>> first, rest = reveal_first(log, 1)
    >>> first, rest["item_id"].tolist()
    ({1: [6]}, [5, 5])
    """
    log = truth.interactions if isinstance(truth, Dataset) else truth
    if C.TIMESTAMP in log.columns:
        log = log.iloc[np.argsort(log[C.TIMESTAMP].to_numpy(), kind="stable")]
    pairs = log[[C.USER, C.ITEM]].drop_duplicates()
    revealed = pairs[pairs.groupby(C.USER, sort=False).cumcount().to_numpy() < n]
    key = pd.MultiIndex.from_frame(log[[C.USER, C.ITEM]])
    rest = log[~key.isin(pd.MultiIndex.from_frame(revealed))]
    revealed = revealed[revealed[C.USER].isin(rest[C.USER])]
    first = revealed.groupby(C.USER, sort=True)[C.ITEM].agg(list).to_dict()
    return first, rest.sort_index()


def without_revealed(recs: pd.DataFrame, first: dict[Any, list[Any]], k: int) -> pd.DataFrame:
    """``recs`` without each user's revealed items, ranks renumbered, at most ``k`` per user: a baseline
    that does not use the first items still never recommends them again.

    >>> recs = pd.DataFrame({"user_id": [1, 1, 1], "item_id": [5, 6, 7], "rank": [1, 2, 3]})
    >>> without_revealed(recs, {1: [5]}, 2)[["item_id", "rank"]].to_numpy().tolist()
    [[6, 1], [7, 2]]
    """
    if not first:
        return recs.groupby(C.USER, sort=False).head(k)
    revealed = pd.DataFrame([(user, item) for user, items in first.items() for item in items], columns=[C.USER, C.ITEM])
    key = pd.MultiIndex.from_frame(recs[[C.USER, C.ITEM]])
    kept = recs[~key.isin(pd.MultiIndex.from_frame(revealed))].copy()
    kept[C.RANK] = kept.groupby(C.USER, sort=False).cumcount().to_numpy() + 1
    return kept[kept[C.RANK] <= k].reset_index(drop=True)


def onboarding_per_user(
    cluster_model: ClusterColdStart,
    popularity_model: PopularityRecommender,
    truth: Dataset | pd.DataFrame,
    *,
    n: int,
    k: int = 10,
) -> dict[str, pd.DataFrame]:
    """Per-user metrics of the users of ``truth`` once their first ``n`` items are revealed
    (:func:`reveal_first`), all on the same remaining items: ``popularity`` and the cold-start model
    under the name of its favourites (``clusters`` or ``ridge``; neither uses the first items, and
    neither lists them again) and ``<name> + n first`` (:meth:`ClusterColdStart.recommend_onboarded`).

    >>> onboarding_per_user(model, PopularityRecommender().fit(train), test, n=3)["clusters + 3 first"]  # doctest: +SKIP
    """
    first, rest = reveal_first(truth, n)
    users = rest[C.USER].unique()
    name = cluster_model.favourites
    recs = {
        "popularity": without_revealed(popularity_model.recommend(users, k=k + n), first, k),
        name: without_revealed(cluster_model.recommend(users, k=k + n), first, k),
        f"{name} + {n} first": cluster_model.recommend_onboarded(users, first_items=first, k=k),
    }
    return {key: evaluate_per_user(frame, rest, k=k) for key, frame in recs.items()}
