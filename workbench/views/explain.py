"""Notebook 06 (explaining the re-ranker): exact TreeSHAP of its top k, importance, dependence, one list
item's waterfall, importance by user activity band.

>>> view = ExplainView(rerank_run(ds, k=10))  # doctest: +SKIP
>>> view.importance, view.why(view.users[0], view.items_of(view.users[0])[0]).chart  # doctest: +SKIP
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
from workbench.views.common import RerankerView

#: Features shown in the importance bar chart and the segment chart.
TOP_IMPORTANCE, TOP_BY_SEGMENT = 15, 8
#: Sampling seed of the beeswarm and dependence charts.
SEED = 0


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
class ExplainView(RerankerView):
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

    def report(self, data_name: str, *, feature: str, why: Why) -> Report:
        """The explanation page of ``data_name``: the dependence plot of ``feature`` and the waterfall ``why``."""
        model, run = self.model, self.run
        report = Report(
            f"Explaining the re-ranker: {data_name}",
            description="Exact TreeSHAP of the LightGBM re-ranker's top k: importance, dependence, single lists, segments",
        )
        report.markdown(
            f"Re-ranker with **{model.n_candidates}** candidates per user and **{model.n_folds}** holdout folds "
            f"({model.best_iteration_} boosting rounds), trained on the {run.describe()}; the top {run.k} of "
            f"**{len(run.test_users):,}** test users explained. Contributions are in raw-score space: base value + "
            f"the {model.prior_source} prior ({model.prior_source}_prior) + features = score."
        )
        report.metrics(self.headline, k=run.k)
        report.markdown("## Global importance")
        report.table(
            self.importance, max_rows=30, caption="Mean |SHAP| and mean SHAP per feature over all explained rows."
        )
        report.chart(self.importance_chart)
        report.chart(self.beeswarm)
        report.markdown(f"## Dependence: {feature}")
        report.chart(self.dependence(feature))
        report.markdown(f"## {why.title}")
        report.chart(why.chart)
        report.markdown("## SHAP by user activity band")
        report.table(
            self.segment_table,
            max_rows=30,
            caption="Mean |SHAP| per feature (rows) and training-activity band (columns).",
        )
        report.chart(self.segment_chart)
        return report
