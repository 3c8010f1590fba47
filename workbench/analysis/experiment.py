"""Offline A/B comparison of two recommenders and planning of online tests.

Offline: paired tests on per-user metrics (outputs of
:func:`workbench.evaluation.evaluate_per_user`), a bootstrap interval of the
mean difference and multiple-testing corrections. Online: sample size and power
of a two-proportion z-test, a replayed conversion test, and a simulation of
how peeking at a running test inflates false positives.

Results are frozen dataclasses that also read as dicts (:class:`workbench.analysis.stats.Record`):

>>> result = compare(per_user_als, per_user_pop, metric="ndcg")  # doctest: +SKIP
>>> result.diff, result["ci_low"], result["ci_high"], result["p_ttest"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import power_proportions_2indep, samplesize_proportions_2indep_onetail

from workbench import columns as C
from workbench.analysis.stats import Record, bootstrap_ci
from workbench.data.dataset import IdMap, id_kind
from workbench.errors import ConfigError, DataError
from workbench.guards import positive_int

MATCHING = ("exact", "intersection")
#: Corrections of :func:`adjust_pvalues` and their names in statsmodels' multipletests.
CORRECTIONS = {"holm": "holm", "bh": "fdr_bh"}


def _metric_table(per_user: pd.DataFrame, side: str) -> pd.DataFrame:
    """Numeric metric columns indexed by user_id (from a ``user_id`` column or the index)."""
    if not isinstance(per_user, pd.DataFrame):
        raise DataError(f"per_user_{side}: expected a DataFrame of per-user metrics, got {type(per_user).__name__}")
    if C.USER in per_user.columns:
        table = per_user.set_index(C.USER)
    elif per_user.index.name == C.USER:
        table = per_user
    else:
        raise DataError(f"per_user_{side}: needs a '{C.USER}' column or index (use evaluate_per_user)")
    if table.index.has_duplicates:
        dup = table.index[table.index.duplicated()][0]
        raise DataError(f"per_user_{side}: user {dup!r} appears more than once")
    return table.select_dtypes("number")


def _paired_tables(
    per_user_a: pd.DataFrame, per_user_b: pd.DataFrame, metrics: Sequence[str], on: str
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Both tables restricted to ``metrics`` and aligned on the same users; plus the number dropped."""
    if on not in MATCHING:
        raise ConfigError(f"on must be one of {MATCHING}, got {on!r}")
    a, b = _metric_table(per_user_a, "a"), _metric_table(per_user_b, "b")
    if {id_kind(a.index), id_kind(b.index)} == {"int", "text"}:  # 1 and "1" are one user, "07" is not 7
        b = b.set_axis(pd.Index(IdMap(a.index).own_ids(b.index), name=b.index.name))
        if b.index.has_duplicates:
            raise DataError(f"per_user_b: user {b.index[b.index.duplicated()][0]!r} appears in two spellings")
    available = [name for name in a.columns if name in b.columns]
    unknown = [name for name in metrics if name not in available]
    if unknown:
        raise DataError(f"metric {unknown[0]!r} is not in both per-user tables; available: {', '.join(available)}")
    common = a.index.intersection(b.index, sort=False)
    n_dropped = len(a.index.union(b.index, sort=False)) - len(common)
    if n_dropped and on == "exact":
        only_a, only_b = len(a) - len(common), len(b) - len(common)
        raise DataError(
            f"per-user tables cover different users ({only_a} only in a, {only_b} only in b); "
            "pass on='intersection' to compare the shared users"
        )
    if len(common) < 2:
        raise DataError(f"a paired comparison needs at least 2 shared users, got {len(common)}")
    a, b = a.loc[common, list(metrics)], b.loc[common, list(metrics)]
    if a.isna().any().any() or b.isna().any().any():
        raise DataError("per-user metrics contain missing values; evaluate_per_user scores missing users as 0")
    return a, b, n_dropped


@dataclass(frozen=True, eq=False)
class Comparison(Record):
    """Paired comparison of b against a (:func:`compare`); also a read-only dict of its fields.

    ``note`` explains a degenerate test (all differences zero or equal), else it is empty.
    """

    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_ttest: float
    p_wilcoxon: float
    n_users: int
    n_dropped: int
    note: str = ""

    def verdict(self, a: str, b: str, *, metric: str = "nDCG") -> str:
        """b against a in words: the mean paired difference, its interval and what it shows.

        >>> Comparison(0.48, 0.49, 0.01, 0.004, 0.016, 0.01, 0.02, 943, 0).verdict("ALS", "re-ranker")
        'Re-ranker - ALS, nDCG: +0.0100 [+0.0040, +0.0160] over 943 users (paired bootstrap interval): re-ranker beats ALS.'
        """
        if self.ci_low > 0:
            outcome = f"{b} beats {a}"
        elif self.ci_high < 0:
            outcome = f"{b} loses to {a}"
        else:
            outcome = f"no demonstrated difference between {b} and {a} (the interval includes zero)"
        return (
            f"{b[:1].upper()}{b[1:]} - {a}, {metric}: {self.diff:+.4f} [{self.ci_low:+.4f}, {self.ci_high:+.4f}] over "
            f"{self.n_users:,} users (paired bootstrap interval): {outcome}."
        )


@dataclass(frozen=True, eq=False)
class Conversions(Record):
    """A replayed online test (:func:`simulate_conversions`); also a read-only dict of its fields.

    ``note`` explains an undefined test (no variation in conversions), else it is empty.
    """

    n_a: int
    n_b: int
    conversions_a: int
    conversions_b: int
    rate_a: float
    rate_b: float
    lift: float
    chi2: float
    p_value: float
    note: str = ""


@dataclass(frozen=True, eq=False)
class Peeking(Record):
    """False positive rates of an A/A test with and without peeking (:func:`peeking_simulation`)."""

    fpr_peeking: float
    fpr_final: float
    alpha: float
    inflation: float
    looks: int
    n_sims: int


def _paired_tests(a: np.ndarray, b: np.ndarray) -> tuple[float, float, str]:
    """p-values of the paired t-test and the Wilcoxon signed-rank test of b - a, and a note naming a degenerate case."""
    diff = b - a
    if not np.any(diff):
        return 1.0, 1.0, "all paired differences are zero: no evidence of a difference"
    p_wilcoxon = float(stats.wilcoxon(diff).pvalue)
    if np.ptp(diff) <= 1e-12 * np.abs(diff).max():  # equal up to rounding
        note = f"every paired difference equals {diff[0]:.6g}: zero variance, the t-test p-value is set to 0"
        return 0.0, p_wilcoxon, note
    return float(stats.ttest_rel(b, a).pvalue), p_wilcoxon, ""


def compare(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    *,
    metric: str = "ndcg",
    n_boot: int = 1000,
    level: float = 0.95,
    on: str = "exact",
    seed: int = 0,
) -> Comparison:
    """Paired comparison of recommender b against a on one per-user metric.

    Returns ``mean_a, mean_b, diff`` (= mean_b - mean_a), ``ci_low, ci_high``
    (percentile bootstrap of the mean paired difference), ``p_ttest``
    (= scipy.stats.ttest_rel), ``p_wilcoxon`` (= scipy.stats.wilcoxon of b - a),
    ``n_users`` and ``n_dropped``. Users are matched on user_id (1 and "1" are one user); differing user
    sets raise DataError unless ``on="intersection"``, which keeps the shared
    users and counts the others in ``n_dropped``. When every difference is zero
    both p-values are 1.0; when all differences are equal and non-zero the
    t-test is degenerate and ``p_ttest`` is 0.0. Either case is explained in
    ``note`` (empty otherwise). ``level``: of the bootstrap interval.

    >>> a = pd.DataFrame({"user_id": [1, 2, 3], "ndcg": [0.1, 0.2, 0.3]})
    >>> b = pd.DataFrame({"user_id": [3, 2, 1], "ndcg": [0.5, 0.2, 0.2]})
    >>> round(compare(a, b)["diff"], 3)
    0.1
    """
    a, b, n_dropped = _paired_tables(per_user_a, per_user_b, [metric], on)
    values_a, values_b = a[metric].to_numpy(np.float64), b[metric].to_numpy(np.float64)
    ci_low, ci_high = bootstrap_ci(values_b - values_a, n_boot=n_boot, level=level, seed=seed)
    p_ttest, p_wilcoxon, note = _paired_tests(values_a, values_b)
    return Comparison(
        mean_a=float(values_a.mean()),
        mean_b=float(values_b.mean()),
        diff=float(values_b.mean() - values_a.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        p_ttest=p_ttest,
        p_wilcoxon=p_wilcoxon,
        n_users=len(values_a),
        n_dropped=int(n_dropped),
        note=note,
    )


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray, *, method: str = "holm") -> np.ndarray:
    """Multiple-testing adjusted p-values: Holm (family-wise error) or Benjamini-Hochberg ("bh", FDR).

    Computed by ``statsmodels.stats.multitest.multipletests`` (methods ``holm`` and ``fdr_bh``).

    >>> adjust_pvalues([0.01, 0.04, 0.03], method="holm").round(2).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues([0.01, 0.04, 0.03], method="bh").round(2).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ConfigError(f"method must be one of {tuple(CORRECTIONS)}, got {method!r}")
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataError("p-values must be a flat sequence of numbers between 0 and 1")
    return multipletests(p, method=CORRECTIONS[method])[1]


def compare_many(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    method: str = "holm",
    alpha: float = 0.05,
    n_boot: int = 1000,
    level: float = 0.95,
    on: str = "exact",
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`compare` for several metrics at once, with adjusted p-values.

    One row per metric: ``metric``, the fields of :class:`Comparison` (``mean_a, mean_b,
    diff, ci_low, ci_high, p_ttest, p_wilcoxon, n_users, n_dropped, note``), then
    ``p_ttest_adj, p_wilcoxon_adj, significant`` (``p_ttest_adj < alpha``).
    ``metrics=None`` takes every numeric column shared by both tables.

    >>> compare_many(per_user_a, per_user_b, method="bh")  # doctest: +SKIP
    """
    if metrics is None:
        shared = _metric_table(per_user_a, "a").columns.intersection(_metric_table(per_user_b, "b").columns)
        metrics = list(shared)
    if not metrics:
        raise DataError("compare_many: the per-user tables share no numeric metric column")
    rows = [
        {"metric": name, **compare(per_user_a, per_user_b, metric=name, n_boot=n_boot, level=level, on=on, seed=seed)}
        for name in metrics
    ]
    table = pd.DataFrame(rows)
    table["p_ttest_adj"] = adjust_pvalues(table["p_ttest"], method=method)
    table["p_wilcoxon_adj"] = adjust_pvalues(table["p_wilcoxon"], method=method)
    table["significant"] = table["p_ttest_adj"] < alpha
    return table


# -- online test planning -------------------------------------------------------------------------


def _rates(baseline_rate: float, min_detectable_effect: float, relative: bool) -> tuple[float, float]:
    treated = baseline_rate * (1.0 + min_detectable_effect) if relative else baseline_rate + min_detectable_effect
    if not 0.0 < baseline_rate < 1.0 or not 0.0 < treated < 1.0:
        raise ConfigError(
            f"rates must lie strictly between 0 and 1, got baseline {baseline_rate!r} and treated {treated!r}"
        )
    if treated == baseline_rate:
        raise ConfigError("min_detectable_effect must not be zero")
    return baseline_rate, treated


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be between 0 and 1, got {alpha!r}")


def sample_size(
    baseline_rate: float,
    min_detectable_effect: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
) -> int:
    """Users per arm for a two-sided two-proportion z-test to detect the effect.

    statsmodels' ``samplesize_proportions_2indep_onetail`` (pooled variance under the null,
    unpooled under the alternative, the far tail ignored), rounded up:
    n = (z_{1-alpha/2} sqrt(2 p(1-p)) + z_{power} sqrt(p1(1-p1) + p2(1-p2)))^2 / (p2 - p1)^2,
    p the mean of p1 and p2. The effect is relative to the baseline unless ``relative=False``.

    >>> sample_size(0.10, 0.20)  # 10% -> 12%
    3841
    """
    _check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise ConfigError(f"power must be between 0 and 1, got {power!r}")
    p1, p2 = _rates(baseline_rate, min_detectable_effect, relative)
    return int(np.ceil(samplesize_proportions_2indep_onetail(p2 - p1, p1, power, alpha=alpha)))


def power(
    baseline_rate: float,
    min_detectable_effect: float,
    n_per_arm: int,
    *,
    alpha: float = 0.05,
    relative: bool = True,
) -> float:
    """Power of the two-sided two-proportion z-test with ``n_per_arm`` users per arm (inverse of sample_size).

    statsmodels' ``power_proportions_2indep`` (the same variances as :func:`sample_size`; both tails).

    >>> round(power(0.10, 0.20, 3841), 3)
    0.8
    """
    _check_alpha(alpha)
    n_per_arm = positive_int(n_per_arm, "n_per_arm")
    p1, p2 = _rates(baseline_rate, min_detectable_effect, relative)
    return float(power_proportions_2indep(p2 - p1, p1, n_per_arm, alpha=alpha, return_results=False))


def simulate_conversions(
    per_user_a: pd.DataFrame,
    per_user_b: pd.DataFrame,
    *,
    metric: str = "hit_rate",
    on: str = "exact",
    seed: int = 0,
) -> Conversions:
    """Replay an online test: each user is randomly assigned to a or b and converts if ``metric > 0``.

    With the default ``hit_rate`` a user converts when one of the arm's
    recommended items is in their held-out set. Half the users (rounded down)
    go to a. The arms are compared with scipy.stats.chi2_contingency (Yates
    correction, as scipy's default). Returns ``n_a, n_b, conversions_a,
    conversions_b, rate_a, rate_b, lift`` (rate_b / rate_a - 1, NaN if
    rate_a is 0), ``chi2, p_value`` and ``note``; a table with no conversions
    (or no non-conversions) at all gives chi2 0.0, p_value 1.0 and says so in ``note``.

    >>> simulate_conversions(per_user_pop, per_user_als, seed=0)["p_value"]  # doctest: +SKIP
    """
    a, b, _ = _paired_tables(per_user_a, per_user_b, [metric], on)
    rng = np.random.default_rng(seed)
    n = len(a)
    in_a = np.zeros(n, dtype=bool)
    in_a[rng.permutation(n)[: n // 2]] = True
    conv_a = int((a[metric].to_numpy()[in_a] > 0).sum())
    conv_b = int((b[metric].to_numpy()[~in_a] > 0).sum())
    n_a, n_b = int(in_a.sum()), int((~in_a).sum())
    counts = {"n_a": n_a, "n_b": n_b, "conversions_a": conv_a, "conversions_b": conv_b}
    rate_a, rate_b = conv_a / n_a, conv_b / n_b
    lift = rate_b / rate_a - 1.0 if conv_a else float("nan")
    table = np.array([[conv_a, n_a - conv_a], [conv_b, n_b - conv_b]])
    if (table.sum(axis=0) == 0).any():
        note = "no variation in conversions: the test is undefined"
        return Conversions(**counts, rate_a=rate_a, rate_b=rate_b, lift=lift, chi2=0.0, p_value=1.0, note=note)
    chi2, p_value, _, _ = stats.chi2_contingency(table)
    return Conversions(**counts, rate_a=rate_a, rate_b=rate_b, lift=lift, chi2=float(chi2), p_value=float(p_value))


def _null_pvalues(*, n_sims: int, n_per_arm: int, looks: int, rate: float, seed: int) -> np.ndarray:
    """Two-proportion z-test p-values at each look, shape (n_sims, looks), both arms converting at ``rate``."""
    positive_int(n_sims, "n_sims"), positive_int(looks, "looks")
    if n_per_arm < looks:
        raise ConfigError(f"need n_per_arm >= looks (a look needs users), got {n_per_arm} and {looks}")
    if not 0.0 < rate < 1.0:
        raise ConfigError(f"rate must be between 0 and 1, got {rate!r}")
    rng = np.random.default_rng(seed)
    sizes = np.diff(np.linspace(0, n_per_arm, looks + 1).round().astype(np.int64))
    n_seen = np.cumsum(sizes).astype(np.float64)
    conv_a = np.cumsum(rng.binomial(sizes, rate, size=(n_sims, looks)), axis=1)
    conv_b = np.cumsum(rng.binomial(sizes, rate, size=(n_sims, looks)), axis=1)
    pooled = (conv_a + conv_b) / (2.0 * n_seen)
    se = np.sqrt(pooled * (1.0 - pooled) * 2.0 / n_seen)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (conv_b - conv_a) / n_seen / se, 0.0)
    return 2.0 * stats.norm.sf(np.abs(z))


def peeking_simulation(
    *, n_sims: int = 2000, n_per_arm: int = 2000, looks: int = 10, rate: float = 0.1, alpha: float = 0.05, seed: int = 0
) -> Peeking:
    """False positive rate of an A/A test (no true difference) checked at every look vs only at the end.

    Users arrive in ``looks`` equal batches; "peeking" stops at the first look
    with p < alpha. Returns ``fpr_peeking, fpr_final, alpha, inflation``
    (fpr_peeking / alpha), ``looks, n_sims`` (integers). With 10 looks the false positive
    rate is typically about 4x alpha: decide the sample size up front, or use a
    sequential method.

    >>> peeking_simulation(looks=10, seed=0)["fpr_peeking"]  # doctest: +SKIP
    0.19
    """
    _check_alpha(alpha)
    rejected = _null_pvalues(n_sims=n_sims, n_per_arm=n_per_arm, looks=looks, rate=rate, seed=seed) < alpha
    fpr_peeking = float(rejected.any(axis=1).mean())
    return Peeking(
        fpr_peeking=fpr_peeking,
        fpr_final=float(rejected[:, -1].mean()),
        alpha=float(alpha),
        inflation=fpr_peeking / alpha,
        looks=int(looks),
        n_sims=int(n_sims),
    )


def peeking_curve(
    looks: Sequence[int] = (1, 2, 3, 5, 10, 20, 50),
    *,
    n_sims: int = 2000,
    n_per_arm: int = 2000,
    rate: float = 0.1,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """False positive rate with peeking for several numbers of looks: ``looks, fpr_peeking, fpr_final, alpha``."""
    rows = [
        peeking_simulation(n_sims=n_sims, n_per_arm=n_per_arm, looks=n, rate=rate, alpha=alpha, seed=seed)
        for n in looks
    ]
    return pd.DataFrame(rows)[["looks", "fpr_peeking", "fpr_final", "alpha"]]
