"""Evaluate recommendations against held-out truth."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.repeats import bought_before
from workbench.evaluation.metrics import METRICS, per_user_metrics


def evaluate_per_user(recs: pd.DataFrame, truth: pd.DataFrame | Dataset, *, k: int = 10) -> pd.DataFrame:
    """One row per truth user: ``user_id`` and the metrics ``precision, recall, ndcg, map, hit_rate, mrr``.

    >>> evaluate_per_user(recs, test, k=10).head()  # doctest: +SKIP
    """
    return per_user_metrics(recs, truth, k=k).reset_index()


def evaluate(recs: pd.DataFrame, truth: pd.DataFrame | Dataset, *, k: int = 10) -> dict[str, float]:
    """Metrics at ``k`` averaged over the users in ``truth``.

    >>> evaluate(model.recommend(test_users, k=10), test, k=10)["ndcg"]  # doctest: +SKIP
    0.41
    """
    table = per_user_metrics(recs, truth, k=k)
    return {name: float(table[name].mean()) for name in METRICS}


def evaluate_models(recs: Mapping[str, pd.DataFrame], truth: pd.DataFrame | Dataset, *, k: int = 10) -> pd.DataFrame:
    """One row per model (index ``model``), a column per metric: :func:`evaluate` of each frame.

    >>> evaluate_models({"popularity": pop_recs, "als": als_recs}, test, k=10)  # doctest: +SKIP
    """
    return summarize({name: evaluate_per_user(frame, truth, k=k) for name, frame in recs.items()})


def summarize(per_user: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model (index ``model``), a column per metric: the mean of each
    :func:`evaluate_per_user` frame, for when the per-user frames are needed as well.

    >>> summarize({"als": evaluate_per_user(als_recs, test, k=10)})  # doctest: +SKIP
    """
    table = pd.DataFrame({name: frame.drop(columns=C.USER).mean() for name, frame in per_user.items()}).T
    table.index.name = "model"
    return table


def evaluate_next_basket(
    recs: pd.DataFrame,
    truth: pd.DataFrame | Dataset,
    history: Dataset | Callable[[pd.DataFrame], np.ndarray],
    *,
    k: int = 10,
) -> dict[str, float]:
    """:func:`evaluate` plus the repeat / explore split of Li et al. (TOIS 2023).

    A truth item is a *repeat* when the user bought it in ``history`` (purchases as in
    ``workbench.data.repeats``), else an *explore* item. ``ndcg_repeat`` and ``recall_repeat``
    score the whole list against the repeat items alone, averaged over the users who have some
    (likewise ``_explore``); ``repeat_share`` is the share of recommended rows the user bought
    before and ``truth_repeat_share`` the share of truth items that are repeats. ``history`` may
    also be ``bought_before(history)``, read once for many calls.

    >>> evaluate_next_basket(recs, test, train, k=10)["ndcg_explore"]  # doctest: +SKIP
    0.04
    """
    pairs = truth.interactions if isinstance(truth, Dataset) else truth
    pairs = pairs[[C.USER, C.ITEM]].drop_duplicates()
    bought = bought_before(history) if isinstance(history, Dataset) else history
    repeat = bought(pairs)
    result = evaluate(recs, pairs, k=k)
    for name, subset in (("repeat", pairs[repeat]), ("explore", pairs[~repeat])):
        scores = evaluate(recs, subset, k=k) if len(subset) else dict.fromkeys(METRICS, float("nan"))
        result[f"ndcg_{name}"], result[f"recall_{name}"] = scores["ndcg"], scores["recall"]
    top = recs[recs[C.RANK] <= k] if C.RANK in recs.columns else recs
    result["repeat_share"] = float(bought(top).mean()) if len(top) else 0.0
    result["truth_repeat_share"] = float(repeat.mean()) if len(repeat) else float("nan")
    return result


def catalog_coverage(recs: pd.DataFrame, catalog: pd.Series | Dataset | np.ndarray) -> float:
    """Share of the catalog's distinct items that appear in ``recs``."""
    items = catalog.interactions[C.ITEM] if isinstance(catalog, Dataset) else pd.Series(catalog)
    catalog_items = pd.Index(pd.unique(items))
    if len(catalog_items) == 0:
        return 0.0
    recommended = pd.unique(recs[C.ITEM])
    return float((catalog_items.get_indexer(recommended) >= 0).sum() / len(catalog_items))
