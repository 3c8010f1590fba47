"""exclude_seen is honoured by every model: True never lists a seen item, False lets them back in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import models
from workbench.data import Dataset, load_dataset

FACTORIES = {
    "popularity": models.PopularityRecommender,
    "decayed popularity": lambda: models.DecayedPopularity(half_life="7D"),
    "repeat": models.RepeatRecommender,
    "als": lambda: models.ALSRecommender(factors=8, iterations=3, seed=0),
    "content": models.ContentRecommender,
    "cold start": lambda: models.ClusterColdStart(n_clusters=3, seed=0),
    "candidates": lambda: models.CandidateGenerator(factors=8, iterations=3, n_neighbours=20, seed=0),
    "hybrid": lambda: models.HybridRecommender(models.PopularityRecommender(), models.RepeatRecommender()),
    "re-ranker": lambda: models.LightGBMReranker(
        models.CandidateGenerator(factors=8, iterations=3, n_neighbours=20, seed=0),
        n_candidates=30, n_folds=2, seed=0, min_data_in_leaf=20,
    ),
}


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return load_dataset("synthetic-small")


@pytest.mark.parametrize("name", list(FACTORIES))
def test_exclude_seen_both_ways(shop, name):
    model = FACTORIES[name]().fit(shop)
    users = np.sort(pd.unique(shop.interactions["user_id"]))[:40]
    seen = pd.MultiIndex.from_frame(shop.interactions[["user_id", "item_id"]])

    def seen_share(recs: pd.DataFrame) -> float:
        return float(pd.MultiIndex.from_frame(recs[["user_id", "item_id"]]).isin(seen).mean())

    assert seen_share(model.recommend(users, k=10)) == 0.0
    assert seen_share(model.recommend(users, k=10, exclude_seen=False)) > 0.0
