"""Notebook 07 (bias audit): per-user metrics across segments, flagged gaps, popularity bias and exposure.

>>> run = standard_run(ds, k=10)  # doctest: +SKIP
>>> audits = audit_segments(run, user_segments(ds, run.train))  # doctest: +SKIP
>>> view = audit_view(run, audits, metric="ndcg", threshold=0.1)  # doctest: +SKIP
>>> view.section("flags"), view.report("synthetic-small")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench import columns as C
from workbench.analysis.audit import Audit, audit, exposure, popularity_bias, summary_flags
from workbench.analysis.stats import group_labels
from workbench.errors import ConfigError
from workbench.report import Report
from workbench.report.charts import audit_comparison_chart, exposure_chart, popularity_bias_chart
from workbench.report.sections import Chart, Metrics, Part, Section, Sectioned, Table, Warnings, page
from workbench.views.common import StandardRun, model_names

#: Item columns whose values the exposure section compares, the first present one wins.
ATTRIBUTES = C.CATEGORIES
#: Seed of the audit's bootstrap.
AUDIT_SEED = 0


def audit_segments(run: StandardRun, segments: pd.DataFrame, *, seed: int = AUDIT_SEED) -> dict[tuple[str, str], Audit]:
    """:func:`workbench.analysis.audit.audit` of every model's per-user metrics on every segment column.

    >>> audit_segments(run, user_segments(ds, run.train))[("als", "gender")].by_group  # doctest: +SKIP
    """
    return {
        (model, segment): audit(frame, segments[[segment]], seed=seed)
        for model, frame in run.per_user.items()
        for segment in segments.columns
    }


def exposure_attribute(run: StandardRun) -> str | None:
    """The first of :data:`ATTRIBUTES` that the items table has; None when there is none."""
    items = run.ds.items
    return next((c for c in ATTRIBUTES if items is not None and c in items.columns), None)


@dataclass(frozen=True)
class AuditView(Sectioned):
    """What notebook 07 shows; built by :func:`audit_view`."""

    run: StandardRun
    audits: dict[tuple[str, str], Audit]
    metric: str
    threshold: float
    #: the model the headline is about
    focus: str

    @property
    def segments(self) -> list[str]:
        """The audited segment columns, in order."""
        return list(dict.fromkeys(segment for _, segment in self.audits))

    @cached_property
    def audit_table(self) -> pd.DataFrame:
        """A row per model, segment and group: ``count``, the metric, its interval and ``small``."""
        m = self.metric
        return pd.concat(
            [
                pd.DataFrame(
                    {
                        "model": model,
                        "segment": segment,
                        "group": group_labels(result.by_group.index, with_names=False),
                        "count": result.by_group["count"].to_numpy(),
                        m: result.by_group[m].to_numpy(),
                        "lower": result.ci[(m, "lower")].to_numpy(),
                        "upper": result.ci[(m, "upper")].to_numpy(),
                        "small": result.by_group["small"].to_numpy(),
                    }
                )
                for (model, segment), result in self.audits.items()
            ],
            ignore_index=True,
        )

    @cached_property
    def significance(self) -> pd.DataFrame:
        """Kruskal-Wallis p-values: a row per (model, segment), a column per metric."""
        return pd.concat(
            [r.significance().assign(model=model, segment=segment) for (model, segment), r in self.audits.items()],
            ignore_index=True,
        ).pivot(index=["model", "segment"], columns="metric", values="p_value")

    @cached_property
    def audit_charts(self) -> dict[str, alt.HConcatChart]:
        """Segment -> the models' group means of the metric side by side."""
        return {
            segment: audit_comparison_chart(
                {model: r for (model, s), r in self.audits.items() if s == segment}, self.metric
            )
            for segment in self.segments
        }

    @cached_property
    def flags(self) -> pd.DataFrame:
        """:func:`summary_flags` of each model's audits with a ``model`` column."""
        return pd.concat(
            [
                summary_flags(*(r for (m, _), r in self.audits.items() if m == model), threshold=self.threshold).assign(
                    model=model
                )
                for model in self.run.models
            ],
            ignore_index=True,
        )

    @cached_property
    def flagged(self) -> pd.DataFrame:
        """The flagged gaps in the audited metric, largest first."""
        flags = self.flags
        return flags[flags["flagged"] & (flags["metric"] == self.metric)].reset_index(drop=True)

    @property
    def worst(self) -> pd.DataFrame:
        """The largest flagged gap per model and segment (flags are sorted by gap)."""
        return self.flagged.drop_duplicates(["model", "segment"])

    @cached_property
    def bias(self) -> pd.DataFrame:
        """:func:`popularity_bias` per model (index ``model``)."""
        run = self.run
        table = pd.DataFrame({name: popularity_bias(frame, run.train, k=run.k) for name, frame in run.recs.items()}).T
        table.index.name = "model"
        return table

    @property
    def bias_chart(self) -> alt.Chart:
        """The popularity-bias measures per model."""
        return popularity_bias_chart(self.bias, k=self.run.k)

    @property
    def attribute(self) -> str | None:
        """The item attribute of the exposure section (None: the section does not apply)."""
        return exposure_attribute(self.run)

    def exposure_note(self) -> str:
        """Why the exposure section is empty, in words; empty when it applies."""
        if self.attribute:
            return ""
        return (
            f"Exposure does not apply: the items table has no {', '.join(ATTRIBUTES[:-1])} or {ATTRIBUTES[-1]} column."
        )

    @cached_property
    def exposure_table(self) -> pd.DataFrame:
        """:func:`exposure` of every model (long, with ``model``); empty without an attribute."""
        run, attribute = self.run, self.attribute
        if not attribute:
            return pd.DataFrame()
        return pd.concat(
            [exposure(frame, run.train, by=attribute, k=run.k).assign(model=name) for name, frame in run.recs.items()],
            ignore_index=True,
        )

    @cached_property
    def exposure_wide(self) -> pd.DataFrame:
        """Training share and each model's recommendation share per attribute value, most trained first."""
        table, attribute = self.exposure_table, self.attribute
        if not attribute:
            return pd.DataFrame()
        train_share = table.drop_duplicates(attribute).set_index(attribute)["train_share"].rename("train share")
        wide = table.pivot(index=attribute, columns="model", values="rec_share").add_suffix(" share").join(train_share)
        return wide.sort_values("train share", ascending=False)[["train share", *(f"{m} share" for m in self.run.recs)]]

    @property
    def exposure_chart(self) -> alt.LayerChart | None:
        """Recommendation over training share per attribute value; None without an attribute."""
        return exposure_chart(self.exposure_table, self.attribute, k=self.run.k) if self.attribute else None

    @property
    def headline(self) -> dict[str, Any]:
        """The report's headline numbers: the metric of every model, the focus model's flags and bias."""
        scores, m, focus = self.run.scores, self.metric, self.focus
        mine = self.flagged[self.flagged["model"] == focus]
        order = [focus, *(model for model in scores.index if model != focus)]
        return {
            **{f"{m}_{model}": float(scores.loc[model, m]) for model in order},
            f"flags_{focus}": int(len(mine)),
            f"max_gap_{focus}": float(mine["gap"].max()) if len(mine) else 0.0,
            f"aplt_{focus}": float(self.bias.loc[focus, "aplt"]),
            f"coverage_{focus}": float(self.bias.loc[focus, "coverage"]),
        }

    def sections(self) -> list[Section]:
        """The page: the setup and headline numbers, the overall scores, the flagged gaps, the metric by segment,
        popularity bias, exposure and the detail tables."""
        run, m, threshold = self.run, self.metric, self.threshold
        first = next(iter(self.audits.values()))
        if self.attribute:
            exposure_parts: tuple[Part, ...] = (
                Chart(self.exposure_chart),
                Table(
                    self.exposure_wide,
                    max_rows=100,
                    caption="Share of top-k recommendations (or training interactions) per value.",
                ),
            )
        else:
            exposure_parts = (self.exposure_note(),)
        return [
            Section(
                "setup",
                None,
                (
                    f"{model_names(run.models)} on a {run.describe()}, top {run.k} for "
                    f"**{len(run.test_users):,}** test users. Audited metric: **{m}**; a group is flagged when it "
                    f"trails the best group of its segment by more than **{threshold:.0%}**.",
                    Metrics(self.headline, k=run.k),
                ),
            ),
            Section("overall", "Overall", (Table(run.scores, caption="Means over test users."),)),
            Section(
                "flags",
                f"Flagged gaps in {m}: the largest per model and segment",
                self._flag_parts(),
            ),
            Section(
                "segments",
                f"{m} by segment",
                (
                    *(Chart(chart) for chart in self.audit_charts.values()),
                    Table(self.significance, caption="Kruskal-Wallis p-values across the groups of each segment."),
                ),
            ),
            Section(
                "popularity",
                "Popularity bias",
                (
                    Table(
                        self.bias,
                        caption="arp: mean training popularity of recommended items; aplt: share from the long tail; "
                        "coverage: share of the catalogue recommended; gini: concentration of recommendations; "
                        "novelty: mean self-information in bits.",
                    ),
                    Chart(self.bias_chart),
                ),
            ),
            Section("exposure", f"Exposure by {self.attribute}" if self.attribute else "Exposure", exposure_parts),
            Section(
                "details",
                "Details",
                (
                    Table(
                        self.flagged[
                            [
                                "model",
                                "segment",
                                "group",
                                "value",
                                "best_group",
                                "best_value",
                                "gap",
                                "count",
                                "p_value",
                            ]
                        ],
                        max_rows=100,
                        caption=f"Every group trailing the best of its segment in {m} by more than {threshold:.0%}.",
                    ),
                    Table(
                        self.audit_table,
                        max_rows=200,
                        caption=f"Group means with {first.level:.0%} bootstrap intervals; "
                        f"small: fewer than {first.min_group_size} users.",
                    ),
                ),
            ),
        ]

    def _flag_parts(self) -> tuple[Part, ...]:
        """The worst gaps as warnings, then how many smaller ones the details list; a sentence when none is."""
        worst = tuple(f"{row.model}: {row.message}" for row in self.worst.itertuples())
        if not worst:
            return (f"No {self.metric} gap above {self.threshold:.0%}.",)
        smaller = len(self.flagged) - len(worst)
        return (Warnings(worst), *((f"... and {smaller} smaller flagged gaps (details below).",) if smaller else ()))

    def report(self, data_name: str) -> Report:
        """The bias-audit report of the data set ``data_name``: :meth:`sections` as a page.

        >>> publish(view.report("synthetic-small"), "07_audit", view.headline)  # doctest: +SKIP
        """
        description = "Metrics across user segments; popularity bias and exposure"
        return page(f"Bias audit: {data_name}", description, self.sections())


def audit_view(
    run: StandardRun,
    audits: dict[tuple[str, str], Audit],
    *,
    metric: str = "ndcg",
    threshold: float = 0.1,
    focus: str = "als",
) -> AuditView:
    """The tables, charts and report of notebook 07 for ``audits`` (:func:`audit_segments` of ``run``).

    >>> view = audit_view(run, audit_segments(run, segments), metric="ndcg", threshold=0.1)  # doctest: +SKIP
    >>> view.flagged.head()  # doctest: +SKIP
    """
    if focus not in run.models:
        raise ConfigError(f"audit view: focus {focus!r} is not one of the models {list(run.models)}")
    if not audits:
        raise ConfigError("audit view: no audits (the data set has no user segments)")
    if metric not in next(iter(audits.values())).metrics:
        raise ConfigError(f"audit view: unknown metric {metric!r}")
    return AuditView(run, audits, metric, threshold, focus)
