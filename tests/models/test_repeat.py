"""RepeatRecommender ("buy again"): known answers, purchases only, save/load."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.models import RepeatRecommender, load_model


@pytest.fixture
def orders() -> Dataset:
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 1, 2, 2],
            "item_id": [10, 20, 10, 30, 20, 30, 40],
            "timestamp": [1, 2, 3, 4, 5, 6, 7],
        }
    )
    return Dataset.from_frames(log)


def test_ranks_by_times_bought_then_most_recent(orders):
    recs = RepeatRecommender().fit(orders).recommend([1, 2], k=3, exclude_seen=False)
    assert recs[recs.user_id == 1]["item_id"].tolist() == [20, 10, 30]  # 20 and 10 twice, 20 last
    assert recs[(recs.user_id == 2) & ~recs.fallback]["item_id"].tolist() == [40, 30]
    assert not recs[recs.user_id == 1]["fallback"].any()


def test_counts_purchases_only_when_the_log_has_events():
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 1],
            "item_id": ["tea", "tea", "tea", "soap", "soap"],
            "event": ["view", "view", "view", "purchase", "purchase"],
            "timestamp": [1, 2, 3, 4, 5],
        }
    )
    recs = RepeatRecommender().fit(Dataset.from_frames(log)).recommend([1], k=2, exclude_seen=False)
    assert recs["item_id"].tolist()[0] == "soap"
    assert recs["fallback"].tolist() == [False, True]  # viewed-only tea is not a repeat purchase


def test_exclude_seen_leaves_only_fallback_rows(orders):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recs = RepeatRecommender().fit(orders).recommend([2], k=2)
    assert recs["fallback"].all()
    assert not set(recs["item_id"]) & {30, 40}


def test_save_and_load_give_the_same_lists(orders, tmp_path):
    model = RepeatRecommender().fit(orders)
    loaded = load_model(model.save(tmp_path / "repeat"))
    pd.testing.assert_frame_equal(
        loaded.recommend([1, 2], k=3, exclude_seen=False), model.recommend([1, 2], k=3, exclude_seen=False)
    )
