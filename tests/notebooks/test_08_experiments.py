"""notebooks/08_experiments.py on synthetic-small: tuning protocol, A/B statistics, planning, peeking, bandits."""

import json

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from test_notebooks import run_in_process  # tests/notebooks is on sys.path (pytest's rootdir-relative import)

from workbench.evaluation import evaluate
from workbench.models import ALSRecommender
from workbench.tuning import validation_split


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    report_dir = tmp_path_factory.mktemp("reports")
    try:
        yield run_in_process("08_experiments", monkeypatch, report_dir=report_dir), report_dir
    finally:
        monkeypatch.undo()


def test_tuning_uses_validation_from_train_and_scores_test_once(run):
    defs, _ = run
    tuned, train, test, k = defs["tuned"], defs["train"], defs["test"], defs["k"].value
    assert len(tuned.study.trials) == defs["n_trials"].value == 8  # the small-data default
    assert tuned.study.best_value == max(t.value for t in tuned.study.trials)
    # the best trial's value is reproduced on validation carved from train (seed 0), not on test
    fit, valid = validation_split(train, seed=0)
    refit_valid = ALSRecommender(**tuned.best_params, seed=0).fit(fit)
    users = valid.interactions["user_id"].unique()
    assert evaluate(refit_valid.recommend(users, k=k), valid, k=k)["ndcg"] == pytest.approx(tuned.study.best_value)
    # the reported test score is the best parameters refitted on all of train
    refit = ALSRecommender(**tuned.best_params, seed=0).fit(train)
    expected = evaluate(refit.recommend(defs["test_users"], k=k), test, k=k)
    assert tuned.test_metrics == pytest.approx(expected)
    assert defs["scores"].loc["tuned als"].to_dict() == pytest.approx(expected)
    assert defs["best"].loc["factors", "best value"] == tuned.best_params["factors"]


def test_paired_comparisons_match_scipy_and_holm(run):
    defs, _ = run
    per_user = defs["per_user"]
    test_users = set(defs["test_users"])
    assert all(set(frame["user_id"]) == test_users and len(frame) == len(test_users) for frame in per_user.values())
    paired = per_user["default als"].merge(per_user["tuned als"], on="user_id", suffixes=("_a", "_b"))
    row = defs["ab"].set_index(["a", "b"]).loc[("default als", "tuned als")]
    assert row["diff"] == pytest.approx((paired["ndcg_b"] - paired["ndcg_a"]).mean())
    assert row["p_ttest"] == pytest.approx(stats.ttest_rel(paired["ndcg_b"], paired["ndcg_a"]).pvalue)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    many = defs["many"]
    assert set(many["metric"]) == {"precision", "recall", "ndcg", "map", "hit_rate", "mrr"}
    reject, holm, _, _ = multipletests(many["p_ttest"], alpha=0.05, method="holm")
    np.testing.assert_allclose(many["p_ttest_adj"], holm)
    assert many["significant"].tolist() == reject.tolist()


def test_planning_numbers_follow_the_two_proportion_formula(run):
    defs, _ = run
    p1 = defs["baseline"].value
    p2 = p1 * (1 + defs["lift"].value)
    z_a, z_b = stats.norm.ppf(0.975), stats.norm.ppf(defs["target_power"].value)
    pbar = (p1 + p2) / 2
    spread = np.sqrt(2 * pbar * (1 - pbar))
    sd = np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    assert defs["needed"] == int(np.ceil(((z_a * spread + z_b * sd) / (p2 - p1)) ** 2))
    n = defs["n_per_arm"].value
    assert defs["achieved"] == pytest.approx(stats.norm.cdf(((p2 - p1) * np.sqrt(n) - z_a * spread) / sd))


def test_replayed_conversions_split_the_test_users(run):
    defs, _ = run
    conv, per_user = defs["conversions"], defs["per_user"]
    n_users = len(defs["test_users"])
    assert (conv["n_a"], conv["n_b"]) == (n_users // 2, n_users - n_users // 2)
    assert conv["conversions_a"] <= int((per_user["default als"]["hit_rate"] > 0).sum())
    table = [[conv["conversions_a"], conv["n_a"] - conv["conversions_a"]],
             [conv["conversions_b"], conv["n_b"] - conv["conversions_b"]]]
    assert conv["p_value"] == pytest.approx(stats.chi2_contingency(table).pvalue)


def test_peeking_inflates_false_positives_and_the_warning_says_so(run):
    defs, _ = run
    curve = defs["peeking"].set_index("looks")
    # a single final look keeps the A/A false positive rate near alpha (2000 simulations: sd about 0.005)
    assert curve["fpr_final"].between(0.03, 0.07).all()
    assert curve.loc[1, "fpr_peeking"] == curve.loc[1, "fpr_final"]
    assert curve.loc[10, "fpr_peeking"] > 2 * 0.05
    assert f"{curve.loc[10, 'fpr_peeking']:.0%} of tests" in defs["peeking_warning"]


def test_bandits_choose_among_the_three_models(run):
    defs, _ = run
    rewards, bandits, scores = defs["rewards"], defs["bandits"], defs["scores"]
    assert list(rewards.columns) == ["popularity", "default als", "tuned als"]
    np.testing.assert_allclose(rewards.mean().to_numpy(), scores["hit_rate"].to_numpy())
    assert defs["best_arm"] == scores["hit_rate"].idxmax()
    n_steps = defs["n_steps"].value
    assert bandits.groupby("policy").size().to_dict() == dict.fromkeys(["epsilon_greedy", "thompson", "ucb1"], n_steps)
    assert (bandits.groupby("policy")["cumulative_regret"].diff().dropna() >= -1e-12).all()
    summary = defs["policy_summary"]
    ucb1_arms = bandits.loc[bandits["policy"] == "ucb1", "arm"]
    assert summary.loc["ucb1", "share_best_arm"] == pytest.approx((ucb1_arms == defs["best_arm"]).mean())


def test_tracking_is_off_by_default_and_the_report_is_written(run):
    defs, report_dir = run
    assert defs["track"].value is False and defs["run_id"] is None
    headline = json.loads((report_dir / "08_experiments.json").read_text(encoding="utf-8"))["headline"]
    assert headline["ndcg_tuned_als"] == pytest.approx(defs["scores"].loc["tuned als", "ndcg"])
    assert headline["trials"] == 8 and headline["test_users"] == len(defs["test_users"])
    html = (report_dir / "08_experiments.html").read_text(encoding="utf-8")
    assert "<script" not in html and "identical" in html
