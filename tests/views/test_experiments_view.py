"""workbench.views.experiments (notebook 08): tuning protocol, A/B statistics, planning, peeking, bandits."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from workbench.analysis.experiment import peeking_curve
from workbench.errors import ConfigError
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender
from workbench.report.sections import Table, Warnings
from workbench.tuning import AlsSpace, plan_als_search, tune_and_test, validation_split
from workbench.views.experiments import (
    AB_COLUMNS,
    MANY_COLUMNS,
    bandit_study,
    default_plan,
    default_trials,
    experiments_report,
    experiments_view,
    online_plan,
    peeking_warning,
    search_plan,
    tuned_als,
)


@pytest.fixture(scope="module")
def view(small_run):
    tuned = tune_and_test(small_run.train, small_run.test, n_trials=8, k=small_run.k, seed=0, show_progress_bar=False)
    return experiments_view(small_run, tuned)


@pytest.fixture(scope="module")
def peeking():
    return peeking_curve(seed=0)


def test_tuning_uses_validation_from_train_and_scores_test_once(view):
    tuned, train, test, k = view.tuned, view.run.train, view.run.test, view.run.k
    assert view.trials == 8
    assert tuned.study.best_value == max(t.value for t in tuned.study.trials)
    # the best trial's value is reproduced on validation carved from train (seed 0), not on test
    fit, valid = validation_split(train, seed=0)
    refit_valid = ALSRecommender(**tuned.best_params, seed=0).fit(fit)
    users = valid.interactions["user_id"].unique()
    assert evaluate(refit_valid.recommend(users, k=k), valid, k=k)["ndcg"] == pytest.approx(tuned.study.best_value)
    # the reported test score is the best parameters refitted on all of train
    refit = ALSRecommender(**tuned.best_params, seed=0).fit(train)
    expected = evaluate(refit.recommend(view.run.test_users, k=k), test, k=k)
    assert tuned.test_metrics == pytest.approx(expected)
    assert view.scores.loc["tuned als"].to_dict() == pytest.approx(expected)
    assert view.best.loc["factors", "best value"] == tuned.best_params["factors"]
    assert view.scores.loc["default als"].to_dict() == view.run.scores.loc["als"].to_dict()


def test_paired_comparisons_match_scipy_and_holm(view):
    per_user = view.per_user
    test_users = set(view.run.test_users)
    assert list(per_user) == ["popularity", "default als", "tuned als"]
    assert all(set(frame["user_id"]) == test_users and len(frame) == len(test_users) for frame in per_user.values())
    paired = per_user["default als"].merge(per_user["tuned als"], on="user_id", suffixes=("_a", "_b"))
    row = view.ab.set_index(["a", "b"]).loc[("default als", "tuned als")]
    assert row["diff"] == pytest.approx((paired["ndcg_b"] - paired["ndcg_a"]).mean())
    assert row["p_ttest"] == pytest.approx(stats.ttest_rel(paired["ndcg_b"], paired["ndcg_a"]).pvalue)
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    many = view.many
    assert set(many["metric"]) == {"precision", "recall", "ndcg", "map", "hit_rate", "mrr"}
    reject, holm, _, _ = multipletests(many["p_ttest"], alpha=0.05, method="holm")
    np.testing.assert_allclose(many["p_ttest_adj"], holm)
    assert many["significant"].tolist() == reject.tolist()
    assert view.headline["p_tuned_vs_default"] == pytest.approx(row["p_ttest"])


@pytest.mark.parametrize(("p1", "lift", "target", "n"), [(0.1, 0.1, 0.8, 5_000), (0.05, 0.3, 0.9, 1_500)])
def test_planning_numbers_follow_the_two_proportion_formula(p1, lift, target, n):
    plan = online_plan(p1, lift, target_power=target, n_per_arm=n)
    p2 = p1 * (1 + lift)
    z_a, z_b = stats.norm.ppf(0.975), stats.norm.ppf(target)
    pbar = (p1 + p2) / 2
    spread = np.sqrt(2 * pbar * (1 - pbar))
    sd = np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    assert plan.needed == int(np.ceil(((z_a * spread + z_b * sd) / (p2 - p1)) ** 2))
    shift = (p2 - p1) * np.sqrt(n)  # power counts both tails of the two-sided test
    both_tails = stats.norm.cdf((shift - z_a * spread) / sd) + stats.norm.cdf((-shift - z_a * spread) / sd)
    assert plan.achieved == pytest.approx(both_tails)
    assert "alpha 5%, two-sided" in plan.caption() and f"{n:,} per arm" in next(reversed(plan.figures()))


def test_replayed_conversions_split_the_test_users(view):
    conv, per_user = view.conversions, view.per_user
    n_users = len(view.run.test_users)
    assert (conv["n_a"], conv["n_b"]) == (n_users // 2, n_users - n_users // 2)
    assert conv["conversions_a"] <= int((per_user["default als"]["hit_rate"] > 0).sum())
    table = [
        [conv["conversions_a"], conv["n_a"] - conv["conversions_a"]],
        [conv["conversions_b"], conv["n_b"] - conv["conversions_b"]],
    ]
    assert conv["p_value"] == pytest.approx(stats.chi2_contingency(table).pvalue)
    assert "note" not in view.conversions_table.index


def test_peeking_inflates_false_positives_and_the_warning_says_so(peeking):
    curve = peeking.set_index("looks")
    # a single final look keeps the A/A false positive rate near alpha (2000 simulations: sd about 0.005)
    assert curve["fpr_final"].between(0.03, 0.07).all()
    assert curve.loc[1, "fpr_peeking"] == curve.loc[1, "fpr_final"]
    assert curve.loc[10, "fpr_peeking"] > 2 * 0.05
    assert f"{curve.loc[10, 'fpr_peeking']:.0%} of tests" in peeking_warning(peeking)
    assert "5 times" in peeking_warning(peeking, looks=5)


def test_bandits_choose_among_the_three_models(view):
    study = bandit_study(view, n_steps=3_000)
    rewards, bandits, scores = study.rewards, study.bandits, view.scores
    assert list(rewards.columns) == ["popularity", "default als", "tuned als"]
    np.testing.assert_allclose(rewards.mean().to_numpy(), scores["hit_rate"].to_numpy())
    assert study.best_arm == scores["hit_rate"].idxmax()
    assert bandits.groupby("policy").size().to_dict() == dict.fromkeys(["epsilon_greedy", "thompson", "ucb1"], 3_000)
    assert (bandits.groupby("policy")["cumulative_regret"].diff().dropna() >= -1e-12).all()
    ucb1_arms = bandits.loc[bandits["policy"] == "ucb1", "arm"]
    assert study.summary.loc["ucb1", "share_best_arm"] == pytest.approx((ucb1_arms == study.best_arm).mean())


def test_report_takes_its_parameters_from_the_objects(view, peeking):
    plan = online_plan(0.2, 0.15, target_power=0.9, n_per_arm=2_000)
    html = experiments_report(view, plan, peeking, bandit_study(view, n_steps=1_000), "shop").to_html()
    assert "8 tuning trials" in html and "(per-user 75/25 split (seed 42))" in html
    assert "Baseline conversion 20%, relative lift 15%" in html and "identical" in html and "<script" not in html


def test_the_page_is_its_sections_in_order_with_the_controls_values(view, peeking):
    plan = online_plan(0.2, 0.15, target_power=0.9, n_per_arm=2_000)
    bandits = bandit_study(view, n_steps=1_000)
    sections = view.sections(online=plan, peeking=peeking, bandits=bandits)
    assert [section.key for section in sections] == ["setup", "tuning", "scores", "ab", "online", "peeking", "bandits"]
    assert [section.title for section in sections] == [
        None,
        "Tuning",
        "Test metrics",
        "Offline A/B (ndcg, paired per user)",
        "Online test planning",
        "Peeking",
        f"Bandits choosing a model (best in hindsight: {bandits.best_arm})",
    ]
    assert sections[0].parts[1].values == view.headline and sections[0].parts[1].k == view.run.k
    tables = [part.frame for part in sections[3].parts if isinstance(part, Table)]
    assert tables[0].equals(view.ab[AB_COLUMNS]) and tables[1].equals(view.many[MANY_COLUMNS])
    online = sections[4]
    assert plan.figures() in [getattr(part, "values", None) for part in online.parts] and plan.caption() in online.parts
    assert online.parts[-1].frame.equals(view.conversions_table.to_frame())
    assert sections[5].parts[0] == Warnings((peeking_warning(peeking),))
    assert sections[6].parts[-1].frame.equals(bandits.summary)
    # without the controls' values: as the notebook's controls start
    assert default_plan() == online_plan(0.1, 0.1)
    assert default_plan().figures() in [getattr(part, "values", None) for part in view.section("online").parts]
    assert view.section("bandits").title == sections[6].title  # the best arm does not depend on the steps
    assert view.section("tuning").parts[-1].frame.equals(view.best)
    html = experiments_report(view, plan, peeking, bandits, "shop").to_html()
    for title in filter(None, (section.title for section in sections)):
        assert f"<h3>{title}</h3>" in html


def test_a_run_without_the_baselines_is_one_line(view):
    other = replace(view.run, models={"x": view.run.models["als"]})  # its lists and scores follow
    with pytest.raises(ConfigError, match="no 'popularity' model"):
        experiments_view(other, view.tuned)


def test_the_search_follows_the_size_rule_and_the_page_states_it(shop, small_run, view, peeking):
    assert default_trials(shop) == 8  # synthetic-small: under 20,000 interactions
    assert default_trials(shop.with_interactions(pd.concat([shop.interactions] * 3))) == 20
    search = search_plan(shop)  # the trials fit on the validation split (75%) of a 75% train
    assert search == plan_als_search(shop, max_trials=8, fit_share=0.75 * 0.75)
    assert view.search == ""  # tuned without a plan: nothing to state
    planned = experiments_view(small_run, view.tuned, plan=search)
    assert planned.search == search.describe(view.trials) and "8 trials" in planned.search
    bandits = bandit_study(view, n_steps=1_000)
    html = experiments_report(planned, online_plan(0.1, 0.1), peeking, bandits, "shop").to_html()
    assert (
        "Chosen by the data" in html
        and "Chosen by the data"
        not in experiments_report(view, online_plan(0.1, 0.1), peeking, bandits, "shop").to_html()
    )


def test_tuning_on_a_plan_searches_its_ranges_and_validation_sample(shop, small_run):
    narrow = replace(search_plan(shop), space=AlsSpace(factors=(8, 10), iterations=(2, 2)), max_valid_users=50)
    tuned = tuned_als(small_run, n_trials=2, plan=narrow)
    assert all(8 <= t.params["factors"] <= 10 and t.params["iterations"] == 2 for t in tuned.study.trials)
    assert tuned.study.user_attrs["max_valid_users"] == 50
