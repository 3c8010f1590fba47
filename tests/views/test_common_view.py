"""workbench.views.common: the shared split, baselines, lists and per-user scores."""

import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.data.split import stratified_split
from workbench.errors import ConfigError, DataError
from workbench.evaluation import evaluate
from workbench.views.common import StandardRun, model_names, shares, standard_run


def test_standard_run_is_the_seeded_per_user_split_and_both_baselines(small_run, shop):
    run = small_run
    train, test = stratified_split(shop, ratio=0.75, seed=42)
    assert run.train.interactions.equals(train.interactions) and run.test.interactions.equals(test.interactions)
    assert (run.seed, run.ratio, run.k) == (42, 0.75, 10)
    assert list(run.models) == list(run.recs) == list(run.per_user) == ["popularity", "als"]
    assert set(run.test_users) == set(test.interactions["user_id"])
    for name, recs in run.recs.items():
        assert (recs.groupby("user_id").size() == run.k).all()
        assert run.scores.loc[name].to_dict() == pytest.approx(evaluate(recs, test, k=run.k))
    # on the small shop ALS beats the popularity baseline
    assert run.scores.loc["als", "ndcg"] > run.scores.loc["popularity", "ndcg"]
    assert run.describe() == "per-user 75/25 split (seed 42)"
    with pytest.raises(AttributeError):
        run.k = 5  # frozen


def test_at_k_rescores_the_same_models_as_a_run_at_that_k(small_run, shop):
    at_20 = small_run.at_k(20)
    assert at_20.k == 20 and small_run.at_k(10) is small_run
    # the fitted models are reused, not fitted again
    assert all(at_20.models[name] is small_run.models[name] for name in small_run.models)
    fresh = standard_run(shop, k=20)
    pd.testing.assert_frame_equal(at_20.scores, fresh.scores)
    for name in fresh.recs:
        pd.testing.assert_frame_equal(at_20.recs[name], fresh.recs[name])
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        small_run.at_k(0)


def test_bad_input_is_one_line():
    lonely = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]}))
    with pytest.raises(DataError, match="no test set"):
        standard_run(lonely)
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        standard_run(lonely, k=0)


def test_shares_and_model_names():
    assert shares(0.75) == "75/25" and shares(0.8) == "80/20"
    assert model_names({"popularity": 1}) == "Popularity"
    assert model_names({"popularity": 1, "als": 2, "tuned": 3}) == "Popularity, ALS and tuned"
    assert StandardRun.__dataclass_params__.frozen
