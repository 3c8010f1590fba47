"""LightGBMReranker: recommender protocol, seed reproducibility, SHAP additivity, save/load."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, ModelError
from workbench.models.candidates import CandidateGenerator
from workbench.models.rerank import LightGBMReranker


def small_model(**kwargs) -> LightGBMReranker:
    gen = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0)
    return LightGBMReranker(
        gen, n_candidates=30, seed=0, n_folds=3, min_data_in_leaf=20, **kwargs
    )


@pytest.fixture(scope="module")
def data() -> Dataset:
    return load_dataset("synthetic-small")


@pytest.fixture(scope="module")
def model(data) -> LightGBMReranker:
    return small_model().fit(data)


@pytest.fixture(scope="module")
def users(data) -> list:
    return list(pd.unique(data.interactions["user_id"])[:25]) + ["never-seen"]


def test_protocol(model, data, users):
    recs = model.recommend(users, k=10)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]
    assert recs.groupby("user_id").size().eq(10).all()
    assert set(recs["user_id"]) == set(users)  # the unknown user is served too
    assert recs.sort_values(["user_id", "rank"]).index.tolist() == recs.index.tolist()
    assert (
        recs.groupby("user_id")["rank"]
        .apply(list)
        .map(lambda r: r == list(range(1, 11)))
    ).all()
    assert (recs.groupby("user_id")["score"].diff().dropna() <= 1e-12).all()
    seen = data.interactions[["user_id", "item_id"]].drop_duplicates()
    assert recs.merge(seen, on=["user_id", "item_id"]).empty
    # re-ranking: the top 10 come from the 30 candidates
    cands = model.candidates.candidates(users, n=30)
    assert recs.merge(cands, on=["user_id", "item_id"]).shape[0] == len(recs)


def test_same_seed_same_model(model, data, users):
    again = small_model().fit(data)
    pd.testing.assert_frame_equal(
        again.recommend(users, k=10), model.recommend(users, k=10)
    )


def test_shap_additivity(model, users):
    recs = model.recommend(users, k=10)
    contrib = model.explain(users, k=10)
    assert (
        contrib[["user_id", "item_id"]].values.tolist()
        == recs[["user_id", "item_id"]].values.tolist()
    )
    assert list(contrib.columns[:4]) == [
        "user_id",
        "item_id",
        "base_value",
        "als_prior",
    ]
    assert set(contrib.columns[4:]) == set(model.feature_names)
    total = contrib.drop(columns=["user_id", "item_id"]).sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, recs["score"].to_numpy(), atol=1e-4)
    table = model.feature_table(users, k=10)
    assert (
        table[["user_id", "item_id"]].values.tolist()
        == recs[["user_id", "item_id"]].values.tolist()
    )


def test_save_load_identical(model, users, tmp_path):
    path = model.save(tmp_path / "reranker")
    loaded = LightGBMReranker.load(path)
    pd.testing.assert_frame_equal(
        loaded.recommend(users, k=10), model.recommend(users, k=10)
    )
    pd.testing.assert_frame_equal(
        loaded.explain(users[:3], k=5), model.explain(users[:3], k=5)
    )
    assert not list(tmp_path.rglob("*.pkl"))


def test_damaged_file_is_a_model_error(model, tmp_path):
    path = model.save(tmp_path / "reranker")
    (path / "ranker.txt").write_text("tree\nnot a model", encoding="utf-8")
    with pytest.raises(ModelError):
        LightGBMReranker.load(path)


def test_explain_before_fit_raises():
    with pytest.raises(ModelError, match="fit"):
        LightGBMReranker().explain([1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_candidates": 0},
        {"holdout": "future"},
        {"n_folds": 1},
        {"valid_fraction": 1.5},
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        LightGBMReranker(**kwargs)


def test_all_missing_feature_and_temporal_holdout(data):
    items = data.items.assign(price=np.nan)  # an all-missing feature column
    ds = Dataset(data.interactions, data.users, items)
    model = small_model(holdout="temporal").fit(ds)
    recs = model.recommend(pd.unique(ds.interactions["user_id"])[:5], k=5)
    assert len(recs) == 25
    assert np.isfinite(recs["score"]).all()
