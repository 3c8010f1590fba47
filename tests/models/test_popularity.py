"""PopularityRecommender and the recommend protocol of the base class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError, ModelError
from workbench.models import PopularityRecommender

# item popularity: p1 x4, p2 x3, p3 x2, p4 x1
LOG = pd.DataFrame(
    {
        "user_id": ["ann", "ann", "bob", "bob", "cy", "cy", "cy", "dee", "dee", "ann"],
        "item_id": ["p1", "p2", "p1", "p3", "p1", "p2", "p4", "p1", "p2", "p3"],
    }
)


@pytest.fixture(scope="module")
def model() -> PopularityRecommender:
    return PopularityRecommender().fit(Dataset.from_frames(LOG))


def test_output_columns_dtypes_and_order(model):
    recs = model.recommend(["dee", "bob", "ann"], k=2)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    assert recs["score"].dtype == np.float64 and recs["rank"].dtype == np.int64
    assert recs["user_id"].tolist() == ["ann", "bob", "bob", "dee", "dee"]  # ann has one unseen item only
    assert recs.groupby("user_id")["rank"].apply(list).to_dict() == {"ann": [1], "bob": [1, 2], "dee": [1, 2]}
    assert recs.equals(recs.sort_values(["user_id", "rank"]).reset_index(drop=True))


def test_known_answer_and_seen_items_excluded(model):
    recs = model.recommend(["bob", "dee"], k=2)
    assert recs.loc[recs.user_id == "bob", "item_id"].tolist() == ["p2", "p4"]
    assert recs.loc[recs.user_id == "dee", "item_id"].tolist() == ["p3", "p4"]
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 0).all()


def test_seen_items_kept_when_asked(model):
    recs = model.recommend(["bob"], k=4, exclude_seen=False)
    assert recs["item_id"].tolist() == ["p1", "p2", "p3", "p4"]


def test_unknown_users_get_the_most_popular_items(model):
    recs = model.recommend(["stranger", "ann"], k=3)
    assert recs.loc[recs.user_id == "stranger", "item_id"].tolist() == ["p1", "p2", "p3"]
    assert recs.loc[recs.user_id == "ann", "item_id"].tolist() == ["p4"]


def test_k_larger_than_the_catalog(model):
    recs = model.recommend(["bob", "new"], k=50)
    assert recs.loc[recs.user_id == "bob", "rank"].tolist() == [1, 2]
    assert len(recs[recs.user_id == "new"]) == 4


def test_integer_ids_survive(model):
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [10**12, 10**12, 7], "item_id": [501, 502, 502]}))
    recs = PopularityRecommender().fit(ds).recommend([7, 10**12, 99], k=1)
    assert recs["user_id"].tolist() == [7, 99] and recs["item_id"].tolist() == [501, 502]


def test_errors(model):
    with pytest.raises(ModelError, match="fit"):
        PopularityRecommender().recommend([1])
    with pytest.raises(ConfigError, match="k must"):
        model.recommend(["ann"], k=0)
    with pytest.raises(DataError, match="Dataset"):
        PopularityRecommender().fit(LOG)


def test_save_load_round_trip(model, tmp_path):
    loaded = PopularityRecommender.load(model.save(tmp_path / "pop"))
    users = ["ann", "bob", "cy", "dee", "new"]
    pd.testing.assert_frame_equal(loaded.recommend(users, k=3), model.recommend(users, k=3))
