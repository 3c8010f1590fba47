"""Notebook 09 (fresh data): frozen vs incremental vs refit ALS replayed in time windows, and drift.

>>> view = freshness_view(ds, start_fraction=0.8, window_days=7, k=10)  # doctest: +SKIP
>>> view.section("drift"), view.report("synthetic-small")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench.analysis.drift import DEFAULT_THRESHOLDS, drift_alerts, drift_table
from workbench.analysis.freshness import ReplayPlan, freshness_summary, plan_replay, replay_experiment
from workbench.data.dataset import Dataset
from workbench.errors import DataError, first_line
from workbench.guards import positive_int
from workbench.report import Report
from workbench.report.analysis_charts import drift_chart, freshness_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, Warnings, page

#: Seed of the replayed ALS models.
SEED = 0
#: What the page shows, under its title.
DESCRIPTION = "Replay in time windows: frozen vs incremental vs refit ALS, drift"
#: Titles of the page's sections after its opening.
STRATEGIES = "Strategies"
WINDOWS = "Quality and update cost per window"
DRIFT = "Drift against the training period"


def freshness_note(ds: Dataset) -> str:
    """Why the replay does not apply to ``ds``, in words; empty when it does.

    >>> freshness_note(Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [2]})))[:40]
    'Fresh data does not apply: the log has n'
    """
    if not ds.has_timestamps:
        return "Fresh data does not apply: the log has no timestamp column, so there is no time to replay."
    try:
        ds.seconds("replaying the log in time windows")
    except DataError as exc:  # e.g. timestamps that are order numbers, not times
        return f"Fresh data does not apply: {first_line(exc)}."
    return ""


@dataclass(frozen=True)
class FreshnessView(Sectioned):
    """What notebook 09 shows; built by :func:`freshness_view`."""

    k: int
    start_fraction: float
    window_days: int
    #: :func:`replay_experiment`: a row per window and strategy
    freshness: pd.DataFrame
    #: :func:`drift_table` of the same windows, with the frozen model's nDCG drop
    drift: pd.DataFrame
    #: the refit interval and users per window chosen by the data's size (:func:`plan_replay`)
    plan: ReplayPlan | None = None

    @property
    def work(self) -> str:
        """The replay's refit interval and scored users, and the rules that chose them, in words."""
        return "" if self.plan is None else self.plan.describe()

    @property
    def window(self) -> str:
        """The window length as pandas reads it, e.g. ``7D``."""
        return f"{self.window_days}D"

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Per strategy: nDCG and hit rate over (user, window) pairs and update cost."""
        return freshness_summary(self.freshness)

    @property
    def charts(self) -> dict[str, alt.Chart]:
        """nDCG, hit rate and update cost per window, one line per strategy."""
        return {
            "ndcg": freshness_chart(self.freshness, metric="ndcg", k=self.k),
            "hit_rate": freshness_chart(self.freshness, metric="hit_rate", k=self.k),
            "latency": freshness_chart(self.freshness, metric="update_ms_per_1000"),
        }

    @property
    def drift_charts(self) -> dict[str, alt.LayerChart]:
        """Signal -> its values per window against the alert threshold (signals the data has)."""
        drift = self.drift
        return {
            signal: drift_chart(drift, signal)
            for signal in DEFAULT_THRESHOLDS
            if signal in drift.columns and drift[signal].notna().any()
        }

    @cached_property
    def alerts(self) -> pd.DataFrame:
        """Every (window, signal) above its default threshold, in words."""
        return drift_alerts(self.drift)

    @property
    def replayed_events(self) -> int:
        """Events in the replayed windows."""
        return int(self.freshness.groupby("window")["n_events"].first().sum())

    @property
    def headline(self) -> dict[str, Any]:
        """nDCG of each strategy, the incremental update cost, windows and alerts."""
        summary = self.summary
        return {
            "ndcg_frozen": float(summary.loc["frozen", "ndcg"]),
            "ndcg_incremental": float(summary.loc["incremental", "ndcg"]),
            "ndcg_refit": float(summary.loc["refit", "ndcg"]),
            "update_ms_per_1k": float(summary.loc["incremental", "update_ms_per_1000"]),
            "windows": int(self.freshness["window"].nunique()),
            "drift_alerts": int(len(self.alerts)),
        }

    def sections(self) -> list[Section]:
        """The page: the setup and headline numbers, the strategies compared overall and per window, drift against
        the training period."""
        headline, alerts = self.headline, self.alerts["message"]
        return [
            Section(
                "setup",
                None,
                (
                    f"Trained on the first {self.start_fraction:.0%} of time; replayed **{self.replayed_events:,}** "
                    f"events in **{headline['windows']}** windows of {self.window_days} days after training; "
                    f"metrics at k = {self.k} over the users active in each window.",
                    Metrics(headline, k=self.k),
                ),
            ),
            Section(
                "strategies",
                STRATEGIES,
                (
                    *((self.work,) if self.work else ()),
                    Table(
                        self.summary,
                        caption="nDCG and hit rate averaged over (user, window) pairs; update time per 1,000 replayed "
                        "events.",
                    ),
                ),
            ),
            Section(
                "windows",
                WINDOWS,
                (
                    *(Chart(chart) for chart in self.charts.values()),
                    Table(self.freshness, max_rows=60, caption="A row per window and strategy."),
                ),
            ),
            Section(
                "drift",
                DRIFT,
                (
                    Warnings(tuple(alerts)) if len(alerts) else "No drift signal above its alert threshold.",
                    Table(self.drift, max_rows=60),
                    *(Chart(chart) for chart in self.drift_charts.values()),
                ),
            ),
        ]

    def report(self, data_name: str) -> Report:
        """The fresh-data report of the data set ``data_name``: :meth:`sections` as a page.

        >>> publish(view.report("synthetic-small"), "09_freshness", view.headline)  # doctest: +SKIP
        """
        return _page(data_name, self.sections())


@dataclass(frozen=True)
class NoReplay(Sectioned):
    """The page of a log the replay does not apply to (``note``: :func:`freshness_note`): the same sections as
    :class:`FreshnessView`'s, each saying why it is empty."""

    note: str

    @property
    def headline(self) -> dict[str, Any]:
        """No numbers: nothing was replayed."""
        return {}

    def sections(self) -> list[Section]:
        """The note, then the other sections saying they need the replay."""
        return [
            Section("setup", None, (self.note,)),
            Section("strategies", STRATEGIES, ("No replay, so no strategies to compare.",)),
            Section("windows", WINDOWS, ("No replay, so no windows.",)),
            Section("drift", DRIFT, ("No replayed windows to compare with the training period.",)),
        ]

    def report(self, data_name: str) -> Report:
        """The page of ``data_name`` saying why there is no replay."""
        return _page(data_name, self.sections())


def _page(data_name: str, sections: list[Section]) -> Report:
    return page(f"Fresh data: {data_name}", DESCRIPTION, sections)


def freshness_report(view: FreshnessView | None, data_name: str, *, note: str = "") -> Report:
    """The fresh-data report of ``view``, or, when the replay does not apply (``view`` None), a page saying
    why in ``note`` (:func:`freshness_note`).

    >>> publish(freshness_report(None, "orders.csv", note=freshness_note(ds)), "09_freshness", {})  # doctest: +SKIP
    """
    if view is not None:
        return view.report(data_name)
    return NoReplay(note or "The replay was not computed.").report(data_name)


def freshness_page(
    ds: Dataset, *, start_fraction: float = 0.8, window_days: int = 7, k: int = 10, seed: int = SEED
) -> FreshnessView | NoReplay:
    """:func:`freshness_view` of ``ds``, or, when the replay does not apply (:func:`freshness_note`), the page
    saying why: what notebook 09 shows either way.

    >>> freshness_page(ds).section("strategies")  # doctest: +SKIP
    """
    note = freshness_note(ds)
    if note:
        return NoReplay(note)
    return freshness_view(ds, start_fraction=start_fraction, window_days=window_days, k=k, seed=seed)


def freshness_view(
    ds: Dataset, *, start_fraction: float = 0.8, window_days: int = 7, k: int = 10, seed: int = SEED
) -> FreshnessView:
    """Replay ``ds`` after the first ``start_fraction`` of time in windows of ``window_days`` and measure drift;
    the refit interval and the users scored per window follow :func:`plan_replay` (by the data's size).

    A log without timestamps is one DataError line (:func:`freshness_note`).

    >>> freshness_view(ds, window_days=7).summary  # doctest: +SKIP
    """
    note = freshness_note(ds)
    if note:
        raise DataError(note)
    window_days, k = positive_int(window_days, "window_days"), positive_int(k, "k")
    window = f"{window_days}D"
    plan = plan_replay(ds, start_fraction=start_fraction, window=window)
    freshness = replay_experiment(
        ds,
        start_fraction=start_fraction,
        window=window,
        refit_every=plan.refit_every,
        max_users=plan.max_users,
        k=k,
        seed=seed,
    )
    drift = drift_table(ds, window=window, start_fraction=start_fraction, quality=freshness)
    return FreshnessView(k, start_fraction, window_days, freshness, drift, plan)
