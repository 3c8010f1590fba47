"""Notebook 03 (ALS candidates): popularity vs ALS on the standard run, per-user nDCG, example lists.

>>> view = als_view(standard_run(ds, k=10, factors=64))  # doctest: +SKIP
>>> view.run.scores, view.ndcg_chart, view.report("synthetic-small")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench import columns as C
from workbench.analysis.explain import item_label, with_item_names
from workbench.report import Report
from workbench.report.charts import distribution_chart, metric_comparison_chart
from workbench.report.sections import Chart, Metrics, Section, Sectioned, Table, page
from workbench.views.common import StandardRun

#: How many test users' lists the example table shows.
EXAMPLE_USERS = 3
#: How many neighbours of the most popular item are shown.
NEIGHBOURS = 10


@dataclass(frozen=True)
class AlsView(Sectioned):
    """What notebook 03 shows; built by :func:`als_view`."""

    run: StandardRun

    @property
    def comparison_chart(self) -> alt.Chart:
        """Metric means of both models side by side."""
        return metric_comparison_chart(self.run.scores, title=f"Popularity vs ALS, metrics @ {self.run.k}")

    @cached_property
    def per_user(self) -> pd.DataFrame:
        """Every model's per-user metrics in one long frame with a ``model`` column."""
        return pd.concat([f.assign(model=name) for name, f in self.run.per_user.items()], ignore_index=True)

    @property
    def ndcg_summary(self) -> pd.DataFrame:
        """Count, mean, spread and quartiles of per-user nDCG, a row per model."""
        return self.per_user.groupby("model")["ndcg"].describe()

    @property
    def ndcg_chart(self) -> alt.Chart:
        """Histograms of per-user nDCG, one series per model."""
        return distribution_chart(self.per_user, "ndcg", color="model", title=f"Per-user nDCG@{self.run.k}")

    @property
    def examples(self) -> pd.DataFrame:
        """ALS lists of the first :data:`EXAMPLE_USERS` test users, items named."""
        recs = self.run.recs["als"]
        mine = recs[recs[C.USER].isin(self.run.test_users[:EXAMPLE_USERS])].reset_index(drop=True)
        return with_item_names(mine, self.run.ds.items)

    @property
    def popular_item(self) -> Any:
        """The item with the most training interactions."""
        return self.run.train.interactions[C.ITEM].value_counts().index[0]

    @property
    def similar(self) -> pd.DataFrame:
        """ALS's :data:`NEIGHBOURS` nearest items of :attr:`popular_item`, named."""
        neighbours = self.run.models["als"].similar_items([self.popular_item], k=NEIGHBOURS)
        return with_item_names(neighbours, self.run.ds.items, on="similar_item_id")

    @property
    def headline(self) -> dict[str, Any]:
        """nDCG of both models, ALS's recall and the number of test users."""
        scores = self.run.scores
        return {
            "ndcg_als": float(scores.loc["als", "ndcg"]),
            "ndcg_popularity": float(scores.loc["popularity", "ndcg"]),
            "recall_als": float(scores.loc["als", "recall"]),
            "test_users": int(len(self.run.test_users)),
        }

    def sections(self) -> list[Section]:
        """The page: the setup and headline numbers, the metrics, per-user nDCG, example lists, similar items."""
        run = self.run
        popular = item_label(self.popular_item, run.ds.items)
        return [
            Section(
                "setup",
                None,
                (
                    f"Trained on **{len(run.train):,}** interactions ({run.describe()}); "
                    f"evaluated on **{len(run.test_users):,}** test users, top {run.k}.",
                    Metrics(self.headline, k=run.k),
                ),
            ),
            Section(
                "metrics",
                "Metrics",
                (
                    Table(run.scores, caption="Means over test users; a user without hits scores 0."),
                    Chart(self.comparison_chart),
                ),
            ),
            Section("ndcg", "Per-user nDCG", (Table(self.ndcg_summary), Chart(self.ndcg_chart))),
            Section("examples", "Example recommendations (ALS)", (Table(self.examples, max_rows=30),)),
            # the popular item is named in the heading
            Section(
                "similar",
                f"Items similar to the most popular item: {popular}",
                (Table(self.similar.drop(columns=C.ITEM)),),
            ),
        ]

    def report(self, data_name: str) -> Report:
        """The ALS-candidates report of the data set ``data_name``: :meth:`sections` as a page.

        >>> publish(view.report("synthetic-small"), "03_als", view.headline)  # doctest: +SKIP
        """
        description = f"Popularity vs implicit ALS, {self.run.split_name}"
        return page(f"ALS candidates: {data_name}", description, self.sections())


def als_view(run: StandardRun) -> AlsView:
    """The tables, charts and report of notebook 03 for ``run`` (:func:`standard_run`).

    >>> als_view(standard_run(ds, k=10)).examples  # doctest: +SKIP
    """
    return AlsView(run)
