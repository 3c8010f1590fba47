import numpy as np
import optuna
import pandas as pd
import pytest

from workbench.data import Dataset, load_dataset, load_movielens_100k
from workbench.data.split import stratified_split, user_sample
from workbench.errors import ConfigError, DataError, ModelError
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, LightGBMReranker
from workbench.models.als import log_size
from workbench.tuning import (
    ALS_SPACES,
    AlsSpace,
    param_importances,
    plan_als_search,
    trials_frame,
    tune_als,
    tune_and_test,
    tune_reranker,
    validation_split,
)

ALS_PARAMS = {"factors", "regularization", "alpha", "iterations"}


@pytest.fixture(scope="module")
def small() -> Dataset:
    """MovieLens-100K restricted to 150 users (about 15k ratings)."""
    ds = load_movielens_100k()
    log = ds.interactions
    keep = pd.unique(log["user_id"])[:150]
    return ds.with_interactions(log[log["user_id"].isin(keep)])


@pytest.fixture(scope="module")
def split(small):
    return validation_split(small, ratio=0.75, seed=0)


@pytest.fixture(scope="module")
def study(split):
    fit, valid = split
    return tune_als(fit, valid, n_trials=3, k=10, seed=0, show_progress_bar=False)


def test_validation_split_is_the_stratified_split_of_train(small):
    fit, valid = validation_split(small, ratio=0.75, seed=3)
    ref_fit, ref_valid = stratified_split(small, ratio=0.75, seed=3)
    pd.testing.assert_frame_equal(fit.interactions, ref_fit.interactions)
    pd.testing.assert_frame_equal(valid.interactions, ref_valid.interactions)
    assert len(fit) + len(valid) == len(small)


def test_tune_als_best_params_are_als_arguments_and_value_is_valid_ndcg(split, study):
    fit, valid = split
    assert len(study.trials) == 3
    assert set(study.best_params) == ALS_PARAMS
    p = study.best_params
    assert 16 <= p["factors"] <= 256 and 0.01 <= p["regularization"] <= 100
    assert 0.1 <= p["alpha"] <= 50 and 5 <= p["iterations"] <= 30
    # the objective is nDCG@10 of exactly this model on valid: recompute it independently
    model = ALSRecommender(**study.best_params, seed=0).fit(fit)
    recs = model.recommend(pd.unique(valid.interactions["user_id"]), k=10)
    assert study.best_value == pytest.approx(evaluate(recs, valid, k=10)["ndcg"])
    assert set(study.best_trial.user_attrs) == {"precision", "recall", "ndcg", "map", "hit_rate", "mrr"}


def test_sqlite_storage_resumes_reproducibly_and_restores_verbosity(split, study, tmp_path):
    fit, valid = split
    storage = f"sqlite:///{tmp_path / 'tuning.db'}"
    optuna.logging.set_verbosity(optuna.logging.INFO)
    first = tune_als(fit, valid, n_trials=1, seed=0, storage=storage, study_name="als", show_progress_bar=False)
    assert optuna.logging.get_verbosity() == optuna.logging.INFO
    n_after_first = len(first.trials)
    # same seed, same first trial as the in-memory study
    assert first.trials[0].params == study.trials[0].params and first.trials[0].value == study.trials[0].value
    second = tune_als(fit, valid, n_trials=1, seed=0, storage=storage, study_name="als", show_progress_bar=False)
    assert n_after_first == 1 and len(second.trials) == 2
    assert len(optuna.load_study(study_name="als", storage=storage).trials) == 2
    # the resumed sampler is re-seeded, so it does not replay the first point
    assert second.trials[1].params != second.trials[0].params


def test_tune_and_test_refits_on_full_train_and_scores_test_once(small):
    train, test = stratified_split(small, ratio=0.75, seed=42)
    result = tune_and_test(train, test, n_trials=1, seed=0, show_progress_bar=False)
    assert result.model.get_params()["factors"] == result.best_params["factors"]
    assert len(result.model.user_map) == train.n_users  # fitted on all of train, not on the carved fit part
    recs = ALSRecommender(**result.best_params, seed=0).fit(train).recommend(pd.unique(test.interactions["user_id"]))
    assert result.test_metrics == pytest.approx(evaluate(recs, test, k=10))


def test_trials_and_importances(study):
    trials = trials_frame(study)
    assert trials["best_so_far"].tolist() == list(np.maximum.accumulate(trials["value"]))
    importances = param_importances(study)
    assert set(importances["parameter"]) == ALS_PARAMS
    assert importances["importance"].sum() == pytest.approx(1.0)


def test_bad_inputs(split):
    fit, valid = split
    with pytest.raises(ConfigError, match="n_trials"):
        tune_als(fit, valid, n_trials=0)
    with pytest.raises(DataError, match="valid: expected a workbench Dataset"):
        tune_als(fit, valid.interactions, n_trials=1)
    with pytest.raises(ModelError, match="no completed trials"):
        trials_frame(optuna.create_study(direction="maximize"))


def test_a_narrower_space_and_a_validation_sample_are_what_the_trials_see(split):
    fit, valid = split
    space = AlsSpace(factors=(8, 12), iterations=(2, 3))
    study = tune_als(fit, valid, n_trials=3, seed=0, space=space, max_valid_users=40, show_progress_bar=False)
    for trial in study.trials:
        assert 8 <= trial.params["factors"] <= 12 and 2 <= trial.params["iterations"] <= 3
    assert study.user_attrs == {"k": 10, "factors_range": [8, 12], "iterations_range": [2, 3], "max_valid_users": 40}
    # the objective is nDCG@10 on the seeded sample of 40 validation users (seed = the study's seed)
    sample = user_sample(valid, 40, seed=0)
    model = ALSRecommender(**study.best_params, seed=0).fit(fit)
    recs = model.recommend(pd.unique(sample.interactions["user_id"]), k=10)
    assert evaluate(recs, sample, k=10)["ndcg"] == pytest.approx(study.best_value)
    with pytest.raises(ConfigError, match="factors"):
        AlsSpace(factors=(64, 16))


def test_the_search_plan_picks_the_widest_space_the_budget_affords(small):
    users, items, pairs = log_size(small)
    fit_pairs = round(0.5 * pairs)
    ranked = min(users, 30)
    wide = ALS_SPACES[0].trial_seconds(users, items, fit_pairs, n_ranked=users)
    middle = ALS_SPACES[1].trial_seconds(users, items, fit_pairs, n_ranked=ranked)
    narrow = ALS_SPACES[2].trial_seconds(users, items, fit_pairs, n_ranked=ranked)
    assert wide > middle > narrow

    def plan(budget: float):
        return plan_als_search(small, max_trials=20, fit_share=0.5, budget=budget, min_trials=8, max_valid_users=30)

    roomy = plan(20 * wide * 1.01)  # 20 trials on the widest ranges, every validation user
    assert (roomy.n_trials, roomy.space, roomy.max_valid_users) == (20, ALS_SPACES[0], None)
    assert (roomy.users, roomy.items, roomy.pairs, roomy.ranked_users) == (users, items, fit_pairs, users)
    assert roomy.trial_seconds == pytest.approx((wide,))
    second = plan(20 * middle * 1.01)  # too little for the widest: the middle ranges, a sample of 30 users
    assert (second.n_trials, second.space, second.max_valid_users) == (20, ALS_SPACES[1], 30)
    assert second.trial_seconds == pytest.approx((wide, middle)) and second.ranked_users == 30
    short = plan(12.5 * narrow)  # not even the narrowest affords 20: as many as fit there
    assert (short.n_trials, short.space) == (12, ALS_SPACES[2])
    assert plan(narrow).n_trials == 8  # never fewer than min_trials
    assert plan_als_search(small, max_trials=5, budget=1e-9, min_trials=8).n_trials == 5  # nor more than max
    assert plan(20 * middle * 1.01) == second  # a rule of size: the same data, the same plan
    text = second.describe(25)
    assert "**25 trials** over 16-256 factors, 5-15 iterations" in text and "chose 20" in text


# -- tune_reranker ---------------------------------------------------------------------------
RERANKER_PARAMS = {"learning_rate", "num_leaves", "min_data_in_leaf", "lambda_l2", "prior_weight", "n_rounds"}
RERANKER_FIXED = {"n_candidates": 20, "n_folds": 2}


@pytest.fixture(scope="module")
def shop_split():
    return validation_split(load_dataset("synthetic-small"), ratio=0.75, seed=0)


@pytest.fixture(scope="module")
def reranker_study(shop_split):
    fit, valid = shop_split
    return tune_reranker(fit, valid, n_trials=2, k=10, seed=0, show_progress_bar=False, **RERANKER_FIXED)


def test_tune_reranker_best_params_build_the_reranker_and_value_is_valid_ndcg(shop_split, reranker_study):
    fit, valid = shop_split
    study = reranker_study
    assert len(study.trials) == 2 and set(study.best_params) == RERANKER_PARAMS
    assert study.trials[0].params != study.trials[1].params
    p = study.best_params
    assert 0.01 <= p["learning_rate"] <= 0.3 and 7 <= p["num_leaves"] <= 63
    assert 20 <= p["min_data_in_leaf"] <= 1000 and 0.1 <= p["lambda_l2"] <= 100 and 0 <= p["prior_weight"] <= 2
    assert 50 <= p["n_rounds"] <= 600
    assert study.user_attrs == {"k": 10, **RERANKER_FIXED}
    model = LightGBMReranker(**study.best_params, seed=0, **RERANKER_FIXED)
    assert {name: model.get_params()[name] for name in RERANKER_PARAMS} == pytest.approx(p)
    # the objective is nDCG@10 of exactly this model on valid: recompute it independently
    recs = model.fit(fit).recommend(pd.unique(valid.interactions["user_id"]), k=10)
    assert study.best_value == pytest.approx(evaluate(recs, valid, k=10)["ndcg"])
    assert study.best_trial.user_attrs["ndcg"] == study.best_value
    assert set(study.best_trial.user_attrs) == {"precision", "recall", "ndcg", "map", "hit_rate", "mrr"}


def test_tune_reranker_resumes_from_sqlite_with_the_same_first_trial(shop_split, reranker_study, tmp_path):
    fit, valid = shop_split
    storage = f"sqlite:///{tmp_path / 'rerank.db'}"
    options = dict(seed=0, storage=storage, study_name="rerank", show_progress_bar=False, **RERANKER_FIXED)
    first = tune_reranker(fit, valid, n_trials=1, **options)
    assert first.trials[0].params == reranker_study.trials[0].params
    second = tune_reranker(fit, valid, n_trials=1, **options)
    assert len(second.trials) == 2 and second.trials[1].params != second.trials[0].params
    assert set(param_importances(second)["parameter"]) == RERANKER_PARAMS


def test_tune_reranker_bad_inputs_fail_before_any_trial(shop_split, tmp_path):
    fit, valid = shop_split
    storage = f"sqlite:///{tmp_path / 'bad.db'}"
    with pytest.raises(ConfigError, match="n_folds"):
        tune_reranker(fit, valid, n_trials=1, n_folds=1, storage=storage, study_name="bad")
    with pytest.raises(ConfigError, match="n_candidates"):
        tune_reranker(fit, valid, n_trials=1, n_candidates=0, storage=storage, study_name="bad")
    with pytest.raises(ConfigError, match="k must"):
        tune_reranker(fit, valid, n_trials=1, k=0, storage=storage, study_name="bad")
    with pytest.raises(DataError, match="train: expected a workbench Dataset"):
        tune_reranker(fit.interactions, valid, n_trials=1)
    assert not (tmp_path / "bad.db").exists()  # no study was created, so no failed trial was stored
