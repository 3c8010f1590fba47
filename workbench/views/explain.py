"""Notebook 06 (explaining the re-ranker): exact TreeSHAP of its top k, importance, dependence, one list
item's waterfall, importance by user activity band.

>>> view = ExplainView(rerank_run(ds, k=10))  # doctest: +SKIP
>>> view.importance, view.section("importance"), view.dependence_section("als_score")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench import columns as C
from workbench.analysis.explain import (
    additivity_error,
    global_importance,
    importance_by_segment,
    item_label,
    item_labels,
)
from workbench.analysis.segments import activity_bands
from workbench.report import Report
from workbench.report.analysis_charts import (
    beeswarm_chart,
    dependence_chart,
    importance_by_segment_chart,
    waterfall_chart,
)
from workbench.report.charts import bar_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, page
from workbench.views.common import RerankerView

#: Features shown in the importance bar chart and the segment chart.
TOP_IMPORTANCE, TOP_BY_SEGMENT = 15, 8
#: Sampling seed of the beeswarm and dependence charts.
SEED = 0
#: Largest |base + prior + contributions - score| that counts as additive.
ADDITIVITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Why:
    """Why one recommended item for one user: its SHAP row and waterfall."""

    user: Any
    item: Any
    name: str
    row: pd.Series
    chart: alt.Chart

    @property
    def title(self) -> str:
        return f"Why {self.name} for user {self.user}"


@dataclass(frozen=True)
class ExplainView(RerankerView, Sectioned):
    """What notebook 06 shows of the re-ranker of a :func:`workbench.views.rerank.rerank_run`."""

    @property
    def recs(self) -> pd.DataFrame:
        """The re-ranker's top k of every test user (the rows explained)."""
        return self.run.recs["reranker"]

    @cached_property
    def contrib(self) -> pd.DataFrame:
        """SHAP contributions of every recommended row: base value, prior, one column per feature."""
        return self.model.explain(self.run.test_users, k=self.run.k)

    @cached_property
    def values(self) -> pd.DataFrame:
        """The feature values of the same rows."""
        return self.model.feature_table(self.run.test_users, k=self.run.k)

    @cached_property
    def additivity_error(self) -> float:
        """Max |base + prior + contributions - score| over the explained rows."""
        return additivity_error(self.contrib, self.recs)

    @cached_property
    def importance(self) -> pd.DataFrame:
        return global_importance(self.contrib)

    @property
    def importance_chart(self) -> alt.Chart:
        return bar_chart(
            self.importance.head(TOP_IMPORTANCE),
            "feature",
            "mean_abs_shap",
            title="Global importance: mean |SHAP| (raw score)",
        )

    @property
    def beeswarm(self) -> alt.Chart:
        return beeswarm_chart(self.contrib, self.values, seed=SEED)

    @property
    def features(self) -> list[str]:
        """Features with values, most important first: the dependence plot's choices."""
        return [feature for feature in self.importance["feature"] if feature in self.values.columns]

    def dependence(self, feature: str) -> alt.Chart:
        return dependence_chart(self.contrib, self.values, feature, seed=SEED)

    @property
    def users(self) -> list[Any]:
        """The explained users, in test order."""
        return self.contrib[C.USER].unique().tolist()

    def items_of(self, user: Any) -> dict[str, Any]:
        """``"<rank>. <item label>"`` -> item id of ``user``'s recommended items, best first."""
        mine = self.recs[self.recs[C.USER] == user]
        labels = item_labels(mine[C.ITEM], self.run.ds.items)
        return {f"{rank}. {label}": item for rank, label, item in zip(mine["rank"], labels, mine[C.ITEM], strict=True)}

    def why(self, user: Any, item: Any) -> Why:
        """The SHAP row and waterfall of ``item`` in ``user``'s list."""
        mask = (self.contrib[C.USER] == user) & (self.contrib[C.ITEM] == item)
        row = self.contrib[mask].astype({C.USER: object, C.ITEM: object}).iloc[0]  # keep ids as they are
        items = self.run.ds.items
        return Why(user, item, item_label(item, items), row, waterfall_chart(row, items=items))

    @cached_property
    def bands(self) -> pd.Series:
        """Explained user -> training-activity quartile band, light to heavy."""
        return activity_bands(self.run.train, self.contrib[C.USER].unique())

    @cached_property
    def by_segment(self) -> pd.DataFrame:
        """Mean |SHAP| per activity band and feature."""
        return importance_by_segment(self.contrib, self.bands)

    @property
    def segment_table(self) -> pd.DataFrame:
        """Mean |SHAP|: a row per feature (most important first), a column per band (light to heavy)."""
        order = [band for band in self.bands.cat.categories if band in set(self.by_segment["segment"])]
        table = self.by_segment.pivot(index="feature", columns="segment", values="mean_abs_shap")[order]
        return table.loc[self.importance["feature"]].rename_axis(columns="activity band")

    @property
    def segment_chart(self) -> alt.Chart:
        return importance_by_segment_chart(
            self.by_segment,
            self.importance["feature"].head(TOP_BY_SEGMENT).tolist(),
            title="Mean |SHAP| by activity band (top features)",
            legend="Training interactions",
        )

    @property
    def headline(self) -> dict[str, Any]:
        return {
            "recommendations_explained": int(len(self.contrib)),
            "test_users": int(len(self.run.test_users)),
            "additivity_max_error": self.additivity_error,
            "top_feature": str(self.importance["feature"].iloc[0]),
            "top_mean_abs_shap": float(self.importance["mean_abs_shap"].iloc[0]),
        }

    @property
    def opening(self) -> Section:
        """What is explained and how, the additivity check and the headline cards."""
        model, run = self.model, self.run
        prior = model.prior_source
        additivity = (
            f"over **{len(self.contrib):,}** recommendations, max |base + prior + contributions - score| "
            f"= **{self.additivity_error:.2e}**."
        )
        return Section(
            "setup",
            None,
            (
                f"Exact TreeSHAP splits each raw score into a base value, the fixed {prior} prior the trees boost "
                f"from ({prior}_prior), and one contribution per feature: base value + prior + features = score, in "
                "raw-score space. The re-ranker is trained as in *04 Two-stage re-ranking* (the same split and "
                f"settings: a report run fits it once for both): **{model.n_candidates}** candidates per user, "
                f"**{model.n_folds}** holdout folds, {model.best_iteration_} boosting rounds, on the "
                f"{run.describe()}; the top {run.k} of **{len(run.test_users):,}** test users are explained.",
                ("Additivity holds: " if self.additivity_error < ADDITIVITY_TOLERANCE else "**Additivity fails**: ")
                + additivity,
                Metrics(self.headline, k=run.k),
            ),
        )

    def dependence_section(self, feature: str | None = None) -> Section:
        """The dependence plot of ``feature`` (None: the most important one with values)."""
        feature = self.features[0] if feature is None else feature
        return Section("dependence", f"Dependence: {feature}", (Chart(self.dependence(feature)),))

    def why_section(self, why: Why | None = None) -> Section:
        """The waterfall ``why`` (None: the first explained user's top item)."""
        if why is None:
            user = self.users[0]
            why = self.why(user, next(iter(self.items_of(user).values())))
        return Section("why", why.title, (Chart(why.chart),))

    def sections(self, feature: str | None = None, why: Why | None = None) -> list[Section]:
        """The page: opening, global importance, the dependence plot of ``feature``, the waterfall ``why``
        (None: the notebook's first choices), SHAP by activity band."""
        return [
            self.opening,
            Section(
                "importance",
                "Global importance",
                (
                    Table(
                        self.importance,
                        max_rows=30,
                        caption="Mean |SHAP| and mean SHAP per feature over all explained rows.",
                    ),
                    Chart(self.importance_chart),
                    Chart(self.beeswarm),
                ),
            ),
            self.dependence_section(feature),
            self.why_section(why),
            Section(
                "bands",
                "SHAP by user activity band",
                (
                    "Do the features matter differently for light and heavy users? Test users are banded by their "
                    "number of training interactions (quartiles, light to heavy); the table shows mean |SHAP| per "
                    "feature (rows) and band (columns).",
                    Table(self.segment_table, max_rows=30),
                    Chart(self.segment_chart),
                ),
            ),
        ]

    def report(self, data_name: str, *, feature: str, why: Why) -> Report:
        """The explanation page of ``data_name``: :meth:`sections` with the dependence plot of ``feature`` and the
        waterfall ``why``."""
        description = "Exact TreeSHAP of the LightGBM re-ranker's top k: importance, dependence, single lists, segments"
        return page(f"Explaining the re-ranker: {data_name}", description, self.sections(feature, why))
