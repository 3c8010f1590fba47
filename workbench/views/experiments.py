"""Notebook 08 (experiments): ALS tuning, paired A/B of three models, test planning, peeking and bandits.

>>> base = standard_run(ds, k=10)  # doctest: +SKIP
>>> search = search_plan(ds)  # doctest: +SKIP
>>> view = experiments_view(base, tuned_als(base, n_trials=search.n_trials, plan=search), plan=search)  # doctest: +SKIP
>>> report = experiments_report(view, online_plan(0.1, 0.1), peeking_curve(seed=0),
...                             bandit_study(view, n_steps=5_000), "synthetic-small")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench.analysis.bandits import policy_summary, rewards_table, simulate_bandits
from workbench.analysis.experiment import (
    Conversions,
    compare,
    compare_many,
    peeking_curve,
    power,
    sample_size,
    simulate_conversions,
)
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError
from workbench.evaluation import evaluate_per_user, summarize
from workbench.report import Report
from workbench.report.analysis_charts import bandit_chart, history_chart, importance_chart, peeking_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, Warnings, page
from workbench.tuning import SearchPlan, TuningResult, plan_als_search, tune_and_test
from workbench.views.common import RATIO, StandardRun

#: The paired comparisons of the offline A/B table, (a, b): diff = b - a.
PAIRS = (("popularity", "default als"), ("default als", "tuned als"), ("popularity", "tuned als"))
#: The metric of the A/B table; the replayed test and the bandits reward a hit.
AB_METRIC = "ndcg"
HIT = "hit_rate"
#: Multiple-testing correction of the every-metric comparison.
CORRECTION = "holm"
#: Seed of every bootstrap, replay and simulation of the notebook.
SEED = 0
#: Logs with fewer interactions get :data:`SMALL_TRIALS` tuning trials, the others :data:`TRIALS` (then
#: :func:`search_plan` may afford fewer on a large log).
SMALL_LOG = 20_000
SMALL_TRIALS = 8
TRIALS = 20
#: Share of train the tuning trials fit on (the rest validates: ``workbench.tuning.validation_split``).
VALIDATION_RATIO = 0.75
#: Level of the A/B table's bootstrap intervals.
LEVEL = 0.95
#: The number of looks the peeking warning speaks of.
WARNING_LOOKS = 10
#: Users the bandit policies serve, and the online test plan's assumptions, as the notebook's sliders start.
BANDIT_STEPS = 5_000
PLAN_DEFAULTS = {"baseline": 0.1, "lift": 0.1, "target_power": 0.8, "n_per_arm": 5_000}
#: Columns of the A/B and every-metric tables in the report.
AB_COLUMNS = ["a", "b", "mean_a", "mean_b", "diff", "ci_low", "ci_high", "p_ttest", "p_wilcoxon", "n_users"]
MANY_COLUMNS = [
    "metric",
    "mean_a",
    "mean_b",
    "diff",
    "ci_low",
    "ci_high",
    "p_ttest_adj",
    "p_wilcoxon_adj",
    "significant",
]


@dataclass(frozen=True)
class ExperimentsView(Sectioned):
    """The tuned model beside the standard run's baselines; built by :func:`experiments_view`."""

    run: StandardRun
    tuned: TuningResult
    #: ``popularity``, ``default als``, ``tuned als`` -> per-user metrics on the run's test users
    per_user: dict[str, pd.DataFrame] = field(repr=False)
    #: the search chosen by the data's size (:func:`search_plan`), when the tuning followed one
    plan: SearchPlan | None = None

    @property
    def scores(self) -> pd.DataFrame:
        """Means over test users, a row per model."""
        return summarize(self.per_user)

    @property
    def trials(self) -> int:
        """The number of tuning trials."""
        return len(self.tuned.study.trials)

    @property
    def search(self) -> str:
        """The search and the rule that chose it, in words (empty without a plan)."""
        return "" if self.plan is None else self.plan.describe(self.trials)

    @property
    def best(self) -> pd.DataFrame:
        """The best parameters and their validation nDCG."""
        table = pd.Series(self.tuned.best_params, name="best value").rename_axis("parameter").to_frame()
        table.loc["validation nDCG"] = self.tuned.study.best_value
        return table

    @property
    def history(self) -> alt.Chart:
        """Validation nDCG by trial."""
        return history_chart(self.tuned.study, metric=f"validation nDCG@{self.run.k}")

    @property
    def importance(self) -> alt.Chart:
        """Parameter importances of the study."""
        return importance_chart(self.tuned.study, seed=SEED)

    @cached_property
    def ab(self) -> pd.DataFrame:
        """:func:`compare` of every pair in :data:`PAIRS` on :data:`AB_METRIC`."""
        rows = [
            {"a": a, "b": b, **compare(self.per_user[a], self.per_user[b], metric=AB_METRIC, level=LEVEL, seed=SEED)}
            for a, b in PAIRS
        ]
        return pd.DataFrame(rows)

    @cached_property
    def many(self) -> pd.DataFrame:
        """Default vs tuned ALS on every metric, p-values corrected with :data:`CORRECTION`."""
        return compare_many(self.per_user["default als"], self.per_user["tuned als"], method=CORRECTION, seed=SEED)

    @cached_property
    def conversions(self) -> Conversions:
        """A replayed online test of default (a) vs tuned (b) ALS: a user converts on a hit."""
        return simulate_conversions(self.per_user["default als"], self.per_user["tuned als"], metric=HIT, seed=SEED)

    @property
    def conversions_table(self) -> pd.Series:
        """The replayed test's numbers (its note goes in the caption)."""
        series = pd.Series(self.conversions.to_dict(), name="default als (a) vs tuned als (b)")
        return series.drop("note").astype(float).rename_axis("statistic")

    @property
    def headline(self) -> dict[str, Any]:
        """nDCG of tuned and default ALS, the p-value between them, trials and test users."""
        row = self.ab.set_index(["a", "b"]).loc[("default als", "tuned als")]
        return {
            "ndcg_tuned_als": float(self.scores.loc["tuned als", "ndcg"]),
            "ndcg_default_als": float(self.scores.loc["default als", "ndcg"]),
            "p_tuned_vs_default": float(row["p_ttest"]),
            "trials": self.trials,
            "test_users": int(len(self.run.test_users)),
        }

    def sections(
        self,
        *,
        online: OnlinePlan | None = None,
        peeking: pd.DataFrame | None = None,
        bandits: BanditStudy | None = None,
    ) -> list[Section]:
        """The page: the setup and headline numbers, tuning, test metrics, the offline A/B, the online test plan
        (``online``), peeking (``peeking``: :func:`simulate_peeking`) and the bandits (``bandits``); each of the
        last three, when not given, as the notebook's controls start (:func:`default_plan`,
        :data:`BANDIT_STEPS`)."""
        return [
            *(build() for build in self._fixed().values()),
            self.online_section(default_plan() if online is None else online),
            self.peeking_section(simulate_peeking() if peeking is None else peeking),
            self.bandits_section(bandit_study(self, n_steps=BANDIT_STEPS) if bandits is None else bandits),
        ]

    def section(self, key: str) -> Section:
        """The section named ``key``; the online, peeking and bandit sections as :meth:`sections` makes them
        (a notebook shows those with the values of its controls: :meth:`online_section` and the others)."""
        fixed = self._fixed()
        return fixed[key]() if key in fixed else super().section(key)

    def _fixed(self) -> dict[str, Callable[[], Section]]:
        """The sections no control of the notebook changes (but those of the tuning), by key, in order."""
        return {"setup": self._setup, "tuning": self._tuning, "scores": self._scores, "ab": self._ab}

    def _setup(self) -> Section:
        run = self.run
        return Section(
            "setup",
            None,
            (
                f"{self.trials} tuning trials on a validation split of train ({run.describe()}); the best parameters "
                f"were refitted on all of train and scored once on **{len(run.test_users):,}** test users at "
                f"k = {run.k}.",
                Metrics(self.headline, k=run.k),
            ),
        )

    def _tuning(self) -> Section:
        search = (self.search,) if self.search else ()
        return Section(
            "tuning",
            "Tuning",
            (
                *search,
                Chart(self.history),
                Chart(self.importance),
                Table(self.best, caption="Best parameters and their validation nDCG."),
            ),
        )

    def _scores(self) -> Section:
        return Section(
            "scores",
            "Test metrics",
            (Table(self.scores, caption="Means over test users; a user without hits scores 0."),),
        )

    def _ab(self) -> Section:
        return Section(
            "ab",
            f"Offline A/B ({AB_METRIC}, paired per user)",
            (
                "Each test user is scored under both models, so the comparison is paired: `diff` is the mean of "
                "(b - a), with a bootstrap interval, a paired t-test and a Wilcoxon signed-rank test.",
                Table(self.ab[AB_COLUMNS], caption=f"diff = mean of b - a; {LEVEL:.0%} bootstrap CI."),
                Table(
                    self.many[MANY_COLUMNS],
                    caption=f"Default (a) vs tuned (b) ALS on every metric; p-values "
                    f"{CORRECTION.capitalize()}-corrected.",
                ),
                f"The table above tests every metric of default vs tuned ALS at once; the `_adj` columns are "
                f"{CORRECTION.capitalize()}-corrected, so `significant` keeps the chance of any false alarm across "
                f"the {len(self.many)} metrics at 5%.",
            ),
        )

    def online_section(self, plan: OnlinePlan) -> Section:
        """The online test ``plan`` (:func:`online_plan` of the notebook's sliders) and the replayed test."""
        note = self.conversions.note
        return Section(
            "online",
            "Online test planning",
            (
                "Conversion: a user clicks or buys one of the recommended items. How many users per arm does a "
                "two-sided two-proportion z-test need to detect the lift, and what power does a given number of "
                "users give?",
                Metrics(plan.figures()),
                plan.caption(),
                "The replay gives each test user to one arm at random; a user converts when the arm's list contains "
                "one of their held-out items. The arms are compared with a chi-square test.",
                Table(
                    self.conversions_table.to_frame(),
                    caption="Replayed test, default ALS (a) vs tuned ALS (b): a user converts on a hit; chi-square "
                    "test." + (f" Note: {note}." if note else ""),
                ),
            ),
        )

    def peeking_section(self, curve: pd.DataFrame) -> Section:
        """What peeking does to A/A tests (``curve``: :func:`simulate_peeking`)."""
        return Section("peeking", "Peeking", (Warnings((peeking_warning(curve),)), Chart(peeking_chart(curve))))

    def bandits_section(self, bandits: BanditStudy) -> Section:
        """The bandit policies of ``bandits`` (:func:`bandit_study` for the notebook's number of users)."""
        return Section(
            "bandits",
            f"Bandits choosing a model (best in hindsight: {bandits.best_arm})",
            (
                "Test users arrive one at a time in random order (several passes) and each policy serves them one "
                "model's list; the reward is a hit in the user's held-out items. Regret is measured against the "
                "best model in hindsight.",
                Chart(bandits.chart),
                Table(bandits.summary),
            ),
        )


def default_trials(ds: Dataset) -> int:
    """The notebook's trials before any cost rule: :data:`SMALL_TRIALS` below :data:`SMALL_LOG` interactions,
    else :data:`TRIALS`."""
    return SMALL_TRIALS if len(ds) < SMALL_LOG else TRIALS


def search_plan(ds: Dataset) -> SearchPlan:
    """The ALS search for ``ds`` chosen by its size (:func:`workbench.tuning.plan_als_search`): the trials
    fit on the validation split of a standard run's train, :data:`RATIO` x :data:`VALIDATION_RATIO` of
    the log.

    >>> search_plan(load_dataset("complete-journey")).describe()  # doctest: +SKIP
    """
    return plan_als_search(ds, max_trials=default_trials(ds), fit_share=RATIO * VALIDATION_RATIO)


def tuned_als(run: StandardRun, *, n_trials: int, plan: SearchPlan | None = None) -> TuningResult:
    """Tune ALS for ``n_trials`` Optuna trials on a validation split of ``run.train`` (never its test),
    then refit the best on all of train; with ``plan`` (:func:`search_plan`), on its ranges and
    validation users.

    >>> tuned_als(base, n_trials=20, plan=search_plan(base.ds)).best_params  # doctest: +SKIP
    """
    options = {} if plan is None else {"space": plan.space, "max_valid_users": plan.max_valid_users}
    return tune_and_test(
        run.train,
        run.test,
        n_trials=n_trials,
        k=run.k,
        ratio=VALIDATION_RATIO,
        seed=SEED,
        show_progress_bar=False,
        **options,
    )


def simulate_peeking() -> pd.DataFrame:
    """:func:`peeking_curve` of A/A tests with the notebook's seed.

    >>> simulate_peeking().columns[:2].tolist()  # doctest: +SKIP
    ['looks', 'fpr_peeking']
    """
    return peeking_curve(seed=SEED)


def experiments_view(run: StandardRun, tuned: TuningResult, *, plan: SearchPlan | None = None) -> ExperimentsView:
    """Score ``tuned.model`` on ``run``'s test users beside its baselines (ALS as ``default als``); ``plan``:
    the search the tuning followed, which the page states.

    >>> experiments_view(base, tuned, plan=search).ab  # doctest: +SKIP
    """
    missing = [name for name in ("popularity", "als") if name not in run.per_user]
    if missing:
        raise ConfigError(f"experiments view: the run has no {missing[0]!r} model")
    tuned_per_user = evaluate_per_user(tuned.model.recommend(run.test_users, k=run.k), run.test, k=run.k)
    per_user = {
        "popularity": run.per_user["popularity"],
        "default als": run.per_user["als"],
        "tuned als": tuned_per_user,
    }
    return ExperimentsView(run, tuned, per_user, plan)


@dataclass(frozen=True)
class OnlinePlan:
    """Users per arm for a target power, and the power of a given size; built by :func:`online_plan`."""

    baseline: float
    lift: float
    target_power: float
    n_per_arm: int
    alpha: float
    needed: int
    achieved: float

    def figures(self) -> dict[str, float]:
        """The two numbers, labelled, for a metrics row."""
        return {
            f"users per arm for {self.target_power:.0%} power": self.needed,
            f"power with {self.n_per_arm:,} per arm": self.achieved,
        }

    def caption(self) -> str:
        """The assumptions in words."""
        return (
            f"Baseline conversion {self.baseline:.0%}, relative lift {self.lift:.0%}, "
            f"alpha {self.alpha:.0%}, two-sided."
        )


def online_plan(
    baseline: float, lift: float, *, target_power: float = 0.8, n_per_arm: int = 5_000, alpha: float = 0.05
) -> OnlinePlan:
    """:func:`sample_size` and :func:`power` of a two-proportion test with a relative ``lift``.

    >>> online_plan(0.1, 0.2).needed
    3841
    """
    needed = sample_size(baseline, lift, power=target_power, alpha=alpha)
    achieved = power(baseline, lift, n_per_arm, alpha=alpha)
    return OnlinePlan(baseline, lift, target_power, n_per_arm, alpha, needed, achieved)


def default_plan() -> OnlinePlan:
    """:func:`online_plan` of :data:`PLAN_DEFAULTS`.

    >>> default_plan().n_per_arm
    5000
    """
    return online_plan(**PLAN_DEFAULTS)


def peeking_warning(curve: pd.DataFrame, *, looks: int = WARNING_LOOKS) -> str:
    """What peeking ``looks`` times does to an A/A test, in words, from :func:`peeking_curve`.

    >>> peeking_warning(pd.DataFrame({"looks": [10], "fpr_peeking": [0.19], "fpr_final": [0.05], "alpha": [0.05]}))[:50]
    'Looking at a running test 10 times and stopping at'
    """
    row = curve.set_index("looks").loc[looks]
    return (
        f"Looking at a running test {looks} times and stopping at the first p < {row['alpha']:.2f} "
        f"declares a winner in {row['fpr_peeking']:.0%} of tests where the two arms are identical, "
        f"not {row['alpha']:.0%}. Fix the number of users before the test starts and read the result once, "
        "or use a sequential test designed for repeated looks."
    )


@dataclass(frozen=True)
class BanditStudy:
    """Bandit policies choosing among the view's models; built by :func:`bandit_study`."""

    rewards: pd.DataFrame
    bandits: pd.DataFrame

    @property
    def best_arm(self) -> str:
        """The model with the highest mean reward in hindsight."""
        return str(self.rewards.mean().idxmax())

    @property
    def summary(self) -> pd.DataFrame:
        """Mean reward, regret and share of the best arm per policy."""
        return policy_summary(self.bandits, self.best_arm)

    @property
    def chart(self) -> alt.HConcatChart:
        """Mean reward so far and regret per policy."""
        return bandit_chart(self.bandits)


def bandit_study(view: ExperimentsView, *, n_steps: int) -> BanditStudy:
    """Replay bandit policies for ``n_steps`` users, rewarding a hit of the served model.

    >>> bandit_study(view, n_steps=5_000).summary  # doctest: +SKIP
    """
    rewards = rewards_table(view.per_user, metric=HIT)
    return BanditStudy(rewards, simulate_bandits(rewards, n_steps=n_steps, seed=SEED))


def experiments_report(
    view: ExperimentsView, plan: OnlinePlan, peeking: pd.DataFrame, bandits: BanditStudy, data_name: str
) -> Report:
    """The experiments report of the data set ``data_name``: the sections of ``view`` with the online ``plan``,
    the ``peeking`` curve and the ``bandits`` the notebook shows, as a page.

    >>> publish(experiments_report(view, plan, peeking, bandits, "synthetic-small"), "08_experiments", view.headline)  # doctest: +SKIP
    """
    description = "ALS tuning, paired A/B comparison, online test planning, peeking and bandits"
    sections = view.sections(online=plan, peeking=peeking, bandits=bandits)
    return page(f"Experiments: {data_name}", description, sections)
