"""Notebook 05 (residual analysis): where the re-ranker is most wrong, by user and item segment, and the
rating residuals of a bias baseline.

>>> view = ResidualsView(residuals_run(ds, n_candidates=50))  # doctest: +SKIP
>>> view.by_segment, view.worst_section(min_pairs=200), view.report("ml-100k", min_pairs=200)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench import columns as C
from workbench.analysis.residuals import (
    calibration_curve,
    rating_residuals,
    residual_table,
    residuals_by_segment,
    worst_segments,
)
from workbench.data.dataset import Dataset
from workbench.report import Report
from workbench.report.analysis_charts import calibration_chart, residual_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, Warnings, page
from workbench.views.common import Fit, RerankerView, StandardRun, fit_model, standard_run
from workbench.views.rerank import reranker

#: Seed of the calibration half and the bootstrap.
SEED = 0
#: Bootstrap resamples of the segment intervals; quantile bins of the calibration curve (ties share a bin).
N_BOOT, N_BINS = 1000, 10
#: How many worst segments are listed.
N_WORST = 8
#: The worst segments' least number of pairs, unless the notebook's slider says otherwise.
MIN_PAIRS = 200
#: Share of the test users whose candidates calibrate the scores.
CALIBRATION_SHARE = 0.5


def residuals_run(ds: Dataset, *, n_candidates: int = 50, n_folds: int = 3, fit: Fit = fit_model) -> StandardRun:
    """The standard run with the re-ranker of notebooks 04 and 06 (:func:`workbench.views.rerank.reranker`:
    a report fits it once for the three), its lists as long as the candidate pool.

    >>> residuals_run(ds, n_candidates=50).models["reranker"].n_folds  # doctest: +SKIP
    3
    """
    model = reranker(n_candidates=n_candidates, n_folds=n_folds)
    # lists as long as the pool: the run's re-ranker list is then every scored candidate
    return standard_run(ds, k=n_candidates, extra={"reranker": model}, fit=fit)


@dataclass(frozen=True)
class ResidualsView(RerankerView, Sectioned):
    """What notebook 05 shows of a :func:`residuals_run`."""

    @property
    def scored(self) -> pd.DataFrame:
        """Every candidate of every test user with the re-ranker's score (the run's lists are pool-long)."""
        return self.run.recs["reranker"]

    @cached_property
    def table(self) -> pd.DataFrame:
        """:func:`residual_table`: calibrated probability, observed, residual and segments of the report half."""
        return residual_table(
            self.scored, self.run.test, self.run.train, calibration_share=CALIBRATION_SHARE, seed=SEED
        )

    @property
    def segment_names(self) -> list[str]:
        """The user and item segment columns the data has."""
        return list(self.table.columns[self.table.columns.get_loc("residual") + 1 :])

    @property
    def summary(self) -> str:
        table = self.table
        return (
            f"Residuals of **{len(table):,}** candidate pairs of **{table[C.USER].nunique():,}** report users: "
            f"mean predicted probability **{table['probability'].mean():.2%}**, observed share relevant "
            f"**{table['observed'].mean():.2%}**, mean residual **{table['residual'].mean():+.4f}**."
        )

    @cached_property
    def by_segment(self) -> pd.DataFrame:
        """Mean residual per group of each segment, with bootstrap intervals (users resampled)."""
        return residuals_by_segment(self.table, self.segment_names, n_boot=N_BOOT, seed=SEED)

    @property
    def residual_charts(self) -> dict[str, alt.LayerChart]:
        """Segment -> its groups' mean residuals and intervals."""
        return {name: residual_chart(self.by_segment, name) for name in self.segment_names}

    def worst(self, min_pairs: int) -> pd.DataFrame:
        """The :data:`N_WORST` groups of at least ``min_pairs`` pairs furthest from zero, in words."""
        return worst_segments(self.by_segment, min_pairs=min_pairs, n=N_WORST)

    @cached_property
    def curve(self) -> pd.DataFrame:
        return calibration_curve(self.table, n_bins=N_BINS)

    @property
    def reliability_chart(self) -> alt.LayerChart:
        return calibration_chart(self.curve)

    @property
    def rated(self) -> bool:
        return C.RATING in self.run.ds.interactions.columns

    @cached_property
    def rating_table(self) -> pd.DataFrame:
        """RMSE, MAE and mean residual of a user + item bias baseline by segment (empty without ratings)."""
        return rating_residuals(self.run.train, self.run.test, by=self.segment_names) if self.rated else pd.DataFrame()

    def headline(self, min_pairs: int) -> dict[str, Any]:
        table, worst = self.table, self.worst(min_pairs)
        headline = {
            "report_users": int(table[C.USER].nunique()),
            "pairs": int(len(table)),
            "mean_probability": float(table["probability"].mean()),
            "observed_rate": float(table["observed"].mean()),
            "worst_residual": float(worst["residual"].iloc[0]) if len(worst) else 0.0,
            "significant_segments": int(worst["significant"].sum()),
        }
        if self.rated:
            headline["rating_rmse"] = float(self.rating_table["rmse"].iloc[0])
        return headline

    def opening(self, min_pairs: int = MIN_PAIRS) -> Section:
        """The page's opening: the model, the calibration split, the residuals in numbers and the headline cards
        (whose worst residual is among the groups of at least ``min_pairs`` pairs)."""
        model = self.model
        return Section(
            "setup",
            None,
            (
                f"The re-ranker of notebooks 04 and 06 (ALS, EASE, item-neighbour and popularity candidates; a "
                f"report fits it once for the three) over {model.n_candidates} candidates per test user "
                f"({model.n_folds} holdout folds; {self.run.describe()}). Its raw score becomes a probability of "
                f"relevance by isotonic regression, fitted on the candidates of {CALIBRATION_SHARE:.0%} of the test "
                "users drawn at random; the residual (observed - predicted probability, observed = the pair is in "
                "the test set) is reported for the **other users only**, so no user calibrates its own residuals. "
                "Residuals are averaged by user and item segment with 95% bootstrap intervals (users resampled "
                "with all their pairs).",
                self.summary,
                Metrics(self.headline(min_pairs)),
            ),
        )

    def worst_section(self, min_pairs: int = MIN_PAIRS) -> Section:
        """The :data:`N_WORST` segments furthest from zero among those of at least ``min_pairs`` pairs."""
        messages = tuple(self.worst(min_pairs)["message"])
        return Section(
            "worst",
            f"Where the model is most wrong (segments with at least {min_pairs} pairs)",
            (
                Warnings(messages) if messages else f"No segment has at least {min_pairs} pairs.",
                "Residuals by training activity are expected: the score ranks items within a user, so the same "
                "score means more relevance for a heavy user (many test items) than for a light one.",
            ),
        )

    @property
    def rating_section(self) -> Section:
        """The bias baseline's rating residuals by segment, or why there are none."""
        if not self.rated:
            parts: tuple = ("Does not apply: the log has no ratings, so there is no rating to predict.",)
        else:
            parts = (
                "A damped user + item bias baseline predicts the test ratings; its errors by the same segments.",
                Table(
                    self.rating_table,
                    max_rows=300,
                    caption="RMSE, MAE and mean residual (rating - prediction) of the test ratings.",
                ),
            )
        return Section("ratings", "Rating residuals: user + item bias baseline", parts)

    def sections(self, min_pairs: int = MIN_PAIRS) -> list[Section]:
        """The page: opening, worst segments (of at least ``min_pairs`` pairs), calibration, residuals by
        segment, rating residuals."""
        return [
            self.opening(min_pairs),
            self.worst_section(min_pairs),
            Section(
                "calibration",
                "Calibration",
                (
                    Chart(self.reliability_chart),
                    Table(
                        self.curve,
                        caption="Quantile bins of the calibrated probability (equal probabilities share a bin, so "
                        "bins can be fewer).",
                    ),
                ),
            ),
            Section(
                "segments",
                "Residual by segment",
                (
                    *(Chart(chart) for chart in self.residual_charts.values()),
                    Table(
                        self.by_segment,
                        max_rows=300,
                        caption="Means over candidate pairs; lower / upper: 95% bootstrap interval of the mean "
                        "residual.",
                    ),
                ),
            ),
            self.rating_section,
        ]

    def report(self, data_name: str, *, min_pairs: int) -> Report:
        """The residuals page of ``data_name``: :meth:`sections` with the worst segments among those of at least
        ``min_pairs`` pairs."""
        description = "Calibrated re-ranker residuals by user and item segment; rating residuals"
        return page(f"Residual analysis: {data_name}", description, self.sections(min_pairs))
