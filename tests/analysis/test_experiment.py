import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis.experiment import (
    Comparison,
    Conversions,
    Peeking,
    adjust_pvalues,
    compare,
    compare_many,
    peeking_curve,
    peeking_simulation,
    power,
    sample_size,
    simulate_conversions,
)
from workbench.analysis.stats import bootstrap_ci
from workbench.errors import ConfigError, DataError


def per_user(seed: int = 0, n: int = 200, shift: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two per-user tables over string user ids; b is a (better) noisy copy of a, rows shuffled."""
    rng = np.random.default_rng(seed)
    users = np.array([f"u{i}" for i in range(n)], dtype=object)
    ndcg_a = rng.random(n)
    ndcg_b = np.clip(ndcg_a + shift + rng.normal(0, 0.1, n), 0, 1)
    a = pd.DataFrame({"user_id": users, "ndcg": ndcg_a, "hit_rate": (rng.random(n) < 0.3).astype(float)})
    b = pd.DataFrame({"user_id": users, "ndcg": ndcg_b, "hit_rate": (rng.random(n) < 0.5).astype(float)})
    return a, b.sample(frac=1.0, random_state=1).reset_index(drop=True)


def test_compare_matches_scipy_on_users_matched_by_id():
    a, b = per_user()
    result = compare(a, b, metric="ndcg", n_boot=500, seed=3)
    aligned = b.set_index("user_id").loc[a["user_id"], "ndcg"].to_numpy()
    assert result["p_ttest"] == pytest.approx(stats.ttest_rel(aligned, a["ndcg"]).pvalue, rel=1e-12)
    assert result["p_wilcoxon"] == pytest.approx(stats.wilcoxon(aligned - a["ndcg"].to_numpy()).pvalue, rel=1e-12)
    assert result["diff"] == pytest.approx(aligned.mean() - a["ndcg"].mean())
    assert result["mean_a"] == pytest.approx(a["ndcg"].mean())
    assert result["n_users"] == 200 and result["n_dropped"] == 0


def test_compare_sign_convention_and_indexed_frames():
    a, b = per_user(shift=0.2)
    forward = compare(a, b, n_boot=200)
    backward = compare(b.set_index("user_id"), a.set_index("user_id"), n_boot=200)
    assert forward["diff"] > 0.1
    assert backward["diff"] == pytest.approx(-forward["diff"])
    assert backward["p_ttest"] == pytest.approx(forward["p_ttest"])


def test_bootstrap_ci_reproducible_contains_diff_and_matches_a_loop():
    a, b = per_user(seed=5)
    first, again = compare(a, b, n_boot=400, seed=7), compare(a, b, n_boot=400, seed=7)
    assert (first["ci_low"], first["ci_high"]) == (again["ci_low"], again["ci_high"])
    assert first["ci_low"] < first["diff"] < first["ci_high"]
    # same random draws, one resample at a time: the vectorized version must agree
    diff = np.random.default_rng(0).normal(size=50)
    rng = np.random.default_rng(11)
    means = [diff[rng.integers(0, 50, size=(1, 50))].mean() for _ in range(300)]
    assert bootstrap_ci(diff, n_boot=300, seed=11) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))


def test_compare_user_mismatch_and_unknown_metric():
    a, b = per_user()
    with pytest.raises(DataError, match="different users.*on='intersection'"):
        compare(a, b.iloc[:150])
    result = compare(a, b.iloc[:150], on="intersection", n_boot=100)
    assert result["n_users"] == 150 and result["n_dropped"] == 50
    with pytest.raises(DataError, match="available: ndcg, hit_rate"):
        compare(a, b, metric="recal")
    with pytest.raises(DataError, match="user_id"):
        compare(a.drop(columns="user_id"), b)


def test_compare_matches_users_in_either_spelling():
    a = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.1, 0.2, 0.3, 0.4]})
    b = pd.DataFrame({"user_id": ["4", "3", "2", "1"], "ndcg": [0.5, 0.3, 0.3, 0.2]})
    result = compare(a, b, n_boot=100)
    assert result["n_users"] == 4 and result["diff"] == pytest.approx(0.075)
    assert compare(b, a, n_boot=100)["diff"] == pytest.approx(-0.075)
    with pytest.raises(DataError, match="different users"):  # "07" is not user 7
        compare(a.assign(user_id=[1, 2, 3, 7]), b.assign(user_id=["4", "3", "2", "07"]))


def test_compare_zero_and_constant_differences_are_documented():
    a, _ = per_user()
    same = compare(a, a.copy(), n_boot=50)
    assert same["p_ttest"] == 1.0 and same["p_wilcoxon"] == 1.0 and "zero" in same["note"]
    # equal up to float rounding (x + 0.25 - x) counts as constant too
    constant = compare(a, a.assign(ndcg=a["ndcg"] + 0.25), n_boot=50)
    assert constant["p_ttest"] == 0.0 and "0.25" in constant["note"] and constant["diff"] == pytest.approx(0.25)
    assert constant["p_wilcoxon"] == pytest.approx(stats.wilcoxon(np.full(200, 0.25)).pvalue)


def test_compare_does_not_mutate_inputs():
    a, b = per_user()
    a_before, b_before = a.copy(), b.copy()
    compare_many(a, b, n_boot=50)
    pd.testing.assert_frame_equal(a, a_before)
    pd.testing.assert_frame_equal(b, b_before)


def test_holm_and_bh_known_answers():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm by hand: sorted .005 .01 .03 .04 times 4 3 2 1 -> .02 .03 .06 .04, running max -> .02 .03 .06 .06
    np.testing.assert_allclose(adjust_pvalues(p, method="holm"), [0.03, 0.06, 0.06, 0.02])
    # BH by hand: m/i * p = .02 .02 .04 .04, running min from the top -> unchanged
    np.testing.assert_allclose(adjust_pvalues(p, method="bh"), [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjust_pvalues([0.5, 0.9], method="holm"), [1.0, 1.0])
    with pytest.raises(ConfigError):
        adjust_pvalues(p, method="bonf")


def test_adjust_pvalues_match_the_definitions_by_brute_force():
    p = np.random.default_rng(0).random(30) ** 3
    p[[3, 7]] = p[5]  # ties
    m, ranked = len(p), np.sort(p)
    rank = {value: i for i, value in reversed(list(enumerate(ranked)))}  # first rank of each value
    # Holm: the largest (m - j) p_(j) over ranks j up to the value's; BH: the smallest m p_(j) / (j + 1) from it up
    holm = [min(1.0, max((m - j) * ranked[j] for j in range(rank[v] + 1))) for v in p]
    last = {value: i for i, value in enumerate(ranked)}  # tied values share the adjustment of the last of them
    bh = [min(1.0, min(m * ranked[j] / (j + 1) for j in range(last[v], m))) for v in p]
    np.testing.assert_allclose(adjust_pvalues(p, method="holm"), holm, rtol=1e-12)
    np.testing.assert_allclose(adjust_pvalues(p, method="bh"), bh, rtol=1e-12)
    assert adjust_pvalues([], method="bh").tolist() == []


def test_compare_many_rows_and_adjustment():
    a, b = per_user()
    table = compare_many(a, b, method="holm", n_boot=100)
    assert list(table["metric"]) == ["ndcg", "hit_rate"]
    np.testing.assert_allclose(table["p_ttest_adj"], adjust_pvalues(table["p_ttest"], method="holm"))
    assert table.loc[0, "p_ttest"] == pytest.approx(compare(a, b, metric="ndcg", n_boot=100)["p_ttest"])
    assert (table["significant"] == (table["p_ttest_adj"] < 0.05)).all()


def test_sample_size_known_answer_and_power_inverse():
    # 10% -> 12%, alpha .05, power .8: the textbook two-proportion answer is 3,841 per arm
    assert sample_size(0.10, 0.20) == 3841
    assert sample_size(0.10, 0.02, relative=False) == 3841
    assert power(0.10, 0.20, 3841) == pytest.approx(0.8, abs=1e-3)
    assert power(0.10, 0.20, 1000) < 0.8 < power(0.10, 0.20, 10000)
    assert sample_size(0.10, 0.20, power=0.9) > 3841
    with pytest.raises(ConfigError, match="between 0 and 1"):
        sample_size(0.9, 0.5)


@pytest.mark.parametrize(("baseline", "lift"), [(0.01, 0.1), (0.05, -0.2), (0.1, 0.2), (0.3, 0.05)])
def test_sample_size_and_power_are_the_two_proportion_z_test_formulas(baseline, lift):
    p1, p2 = baseline, baseline * (1 + lift)
    pooled, z = (p1 + p2) / 2, stats.norm.ppf(0.975)
    null, alternative = np.sqrt(2 * pooled * (1 - pooled)), np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    n = ((z * null + stats.norm.ppf(0.8) * alternative) / (p2 - p1)) ** 2
    assert sample_size(baseline, lift) == int(np.ceil(n))
    for users in (200, 3000, 50_000):  # rejections in either tail
        shift = abs(p2 - p1) * np.sqrt(users)
        both = stats.norm.sf((z * null - shift) / alternative) + stats.norm.cdf((-z * null - shift) / alternative)
        assert power(baseline, lift, users) == pytest.approx(both, rel=1e-9)


def test_simulate_conversions_equals_chi_square_on_its_own_counts():
    a, b = per_user(n=400)
    result = simulate_conversions(a, b, seed=4)
    assert result["n_a"] + result["n_b"] == 400 and result["n_a"] == 200
    table = [
        [result["conversions_a"], result["n_a"] - result["conversions_a"]],
        [result["conversions_b"], result["n_b"] - result["conversions_b"]],
    ]
    assert result["p_value"] == pytest.approx(stats.chi2_contingency(table).pvalue)
    assert result["rate_b"] > result["rate_a"]  # b converts at ~50%, a at ~30%
    assert simulate_conversions(a, b, seed=4) == result
    # conversions come from the users' own rows: a user converting in neither table never counts
    none = a.assign(hit_rate=0.0)
    flat = simulate_conversions(none, none, seed=0)
    assert flat["p_value"] == 1.0 and "note" in flat


def test_peeking_false_positive_rates():
    single = peeking_simulation(n_sims=4000, n_per_arm=1000, looks=1, rate=0.1, alpha=0.05, seed=0)
    many = peeking_simulation(n_sims=4000, n_per_arm=1000, looks=20, rate=0.1, alpha=0.05, seed=0)
    assert single["fpr_peeking"] == single["fpr_final"]
    assert abs(single["fpr_peeking"] - 0.05) < 0.015  # binomial sd at n=4000 is about 0.0034
    assert many["fpr_peeking"] > 0.15 and abs(many["fpr_final"] - 0.05) < 0.015
    assert many["inflation"] == pytest.approx(many["fpr_peeking"] / 0.05)


def test_peeking_curve():
    curve = peeking_curve((1, 5, 20), n_sims=500, n_per_arm=500, seed=0)
    assert curve["looks"].tolist() == [1, 5, 20]
    assert curve["fpr_peeking"].is_monotonic_increasing


def test_results_are_typed_with_a_stable_set_of_fields():
    a, b = per_user()
    result = compare(a, b, n_boot=50)
    assert isinstance(result, Comparison) and result.diff == result["diff"]
    assert list(result) == [
        "mean_a",
        "mean_b",
        "diff",
        "ci_low",
        "ci_high",
        "p_ttest",
        "p_wilcoxon",
        "n_users",
        "n_dropped",
        "note",
    ]
    assert result.note == "" and isinstance(result.n_users, int)
    assert set(compare(a, a.copy(), n_boot=50)) == set(result)  # a degenerate test has the same fields
    assert compare(a, a.copy(), n_boot=50).note.startswith("all paired differences are zero")
    assert "note" in compare_many(a, b, n_boot=20).columns

    conversions = simulate_conversions(a, b, seed=0)
    flat = simulate_conversions(a.assign(hit_rate=0.0), a.assign(hit_rate=0.0), seed=0)
    assert isinstance(conversions, Conversions) and list(conversions) == list(flat)
    assert conversions.note == "" and flat.note == "no variation in conversions: the test is undefined"
    for name in ("n_a", "n_b", "conversions_a", "conversions_b"):
        assert type(conversions[name]) is int

    peeking = peeking_simulation(n_sims=50, n_per_arm=100, looks=4, seed=0)
    assert isinstance(peeking, Peeking)
    assert type(peeking.looks) is int and type(peeking.n_sims) is int and (peeking.looks, peeking.n_sims) == (4, 50)
    assert peeking_curve((1, 4), n_sims=50, n_per_arm=100, seed=0)["looks"].dtype == np.int64


def test_compare_level_sets_the_interval():
    a, b = per_user()
    wide, narrow = compare(a, b, n_boot=300, seed=1), compare(a, b, n_boot=300, level=0.5, seed=1)
    assert narrow.ci_high - narrow.ci_low < wide.ci_high - wide.ci_low
    with pytest.raises(ConfigError, match="level"):
        compare(a, b, level=1.5)


@pytest.mark.parametrize(
    ("shift", "outcome"),
    [(0.1, "b beats a"), (-0.1, "b loses to a"), (0.0, "no demonstrated difference between b and a")],
)
def test_verdict_follows_the_interval(shift, outcome):
    rng = np.random.default_rng(0)
    a = pd.DataFrame({"user_id": range(200), "ndcg": rng.random(200)})
    b = a.assign(ndcg=a["ndcg"] + shift + (rng.normal(0, 0.01, 200) if shift else 0))
    result = compare(a, b)
    text = result.verdict("a", "b")
    assert outcome in text and f"{result.diff:+.4f}" in text and "over 200 users" in text
