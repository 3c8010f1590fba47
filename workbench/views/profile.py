"""Notebook 01 (data profile) and ``workbench profile --html``: headline, shop sections, charts, report.

>>> view = profile_view(load_dataset("synthetic-small"))  # doctest: +SKIP
>>> view.headline, view.section("funnel"), view.report("Data profile: synthetic-small")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import altair as alt
import pandas as pd

from workbench.data.dataset import Dataset
from workbench.data.profile import SPEND_COLUMN, Profile, profile
from workbench.data.stats import OUTLIER_Z
from workbench.report import Report
from workbench.report.charts import profile_charts, shop_charts

#: Summary rows shown as headline numbers (with the warning count).
HEADLINE_METRICS = ("interactions", "users", "items", "density")
#: Summary rows shown as the basket section's numbers.
BASKET_METRICS = ("orders", "mean_items_per_order", "median_items_per_order", "repeat_rate", "repeat_users_share")
#: Summary rows shown as the spend section's numbers.
SPEND_METRICS = ("spend", "spend_per_order", "median_spend_per_order", "spend_per_user", "median_spend_per_user")


@dataclass(frozen=True)
class Section:
    """One shop section of the profile: its title, prose, whether it applies, and the profile's reason if any."""

    name: str
    title: str
    text: str
    reason: str | None
    applies: bool

    @property
    def note(self) -> str:
        """``Note: <reason>.`` when the section applies in part, ``Does not apply: <reason>.``, or empty."""
        if self.reason is None:
            return ""
        return f"{'Note' if self.applies else 'Does not apply'}: {self.reason}."

    @property
    def markdown(self) -> str:
        """The heading, prose and note as report markdown."""
        body = "\n\n".join(part for part in (self.text, self.note) if part)
        return f"## {self.title}\n{body}"


#: Section name -> (title, prose); the prose may name ``{purchases}``, ``{repeats_of}``, ``{spend_from}`` or
#: ``{outlier_z}``.
SECTIONS = {
    "top_items": ("Top items", "Ranked by interactions{purchases}."),
    "label_mix": (
        "Category and brand mix",
        "Interactions, items with interactions and catalogue items per label; a multi-valued label counts once each.",
    ),
    "funnel": ("Funnel", "Users and events at each stage, with conversions."),
    "basket_sizes": (
        "Baskets and repeat purchases",
        "Distinct items per order; the repeat rate is the share of {repeats_of} whose user had the same item at "
        "an earlier time.",
    ),
    "spend": (
        "Spend",
        "Amounts from the {spend_from} column of the {repeats_of}: in total, per order and per user; per label, its "
        "share of all spend and the orders and users buying it.",
    ),
    "spellings": (
        "Labels spelled in several ways",
        "The same label once accents, case and spaces are ignored.",
    ),
    "outliers": ("Outlier users and items", "Robust z of log interactions above {outlier_z} (median and MAD)."),
    "missing_attributes": ("Missing attributes", "Missing or blank, with the interactions they concern."),
}
#: The cleaning findings, in the order shown; ``workbench.data.clean`` acts on them.
FINDINGS = ("spellings", "outliers", "missing_attributes")


@dataclass(frozen=True)
class ProfileView:
    """What notebook 01 shows; built by :func:`profile_view` (or from a profile: ``ProfileView(p)``)."""

    profile: Profile

    @property
    def headline(self) -> dict[str, Any]:
        """The summary rows named in :data:`HEADLINE_METRICS`, plus the warning count."""
        summary = self.profile.to_dict()
        return {
            **{name: summary[name] for name in HEADLINE_METRICS if name in summary},
            "warnings": len(self.profile.warnings),
        }

    @property
    def basket_numbers(self) -> dict[str, Any]:
        """The summary rows named in :data:`BASKET_METRICS` that the log has."""
        return {name: value for name, value in self.profile.to_dict().items() if name in BASKET_METRICS}

    @property
    def spend_numbers(self) -> dict[str, Any]:
        """The summary rows named in :data:`SPEND_METRICS` that the log has."""
        return {name: value for name, value in self.profile.to_dict().items() if name in SPEND_METRICS}

    def section(self, name: str) -> Section:
        """The section ``name`` of :data:`SECTIONS`: it applies unless the profile gives a reason and its
        table is empty (top items without an items table still list ids, under a note)."""
        title, text = SECTIONS[name]
        p = self.profile
        purchases = "; purchases are counted separately" if "purchases" in p.top_items.columns else ""
        summary = p.to_dict()
        repeats_of = summary.get("repeats_of", "purchases")
        spend_from = summary.get("spend_from", SPEND_COLUMN)
        text = text.format(purchases=purchases, repeats_of=repeats_of, spend_from=spend_from, outlier_z=OUTLIER_Z)
        reason = p.not_applicable.get(name)
        return Section(name, title, text, reason, reason is None or not getattr(p, name).empty)

    @cached_property
    def shop_charts(self) -> dict[str, alt.Chart]:
        """Funnel, label mixes, basket sizes and spend per label (those the log has)."""
        return shop_charts(self.profile)

    def section_charts(self, name: str) -> list[alt.Chart]:
        """The shop charts of section ``name`` (``mix_*`` for the label mix, ``spend_*`` for spend)."""
        prefix = {"label_mix": "mix_", "funnel": "funnel", "basket_sizes": "basket_sizes", "spend": "spend_"}.get(name)
        if prefix is None:
            return []
        return [chart for chart_name, chart in self.shop_charts.items() if chart_name.startswith(prefix)]

    @cached_property
    def charts(self) -> dict[str, alt.Chart]:
        """Distributions: activity per user and item, ratings or events, time."""
        return profile_charts(self.profile)

    @property
    def findings(self) -> dict[str, pd.DataFrame]:
        """Cleaning finding title -> its table."""
        return {self.section(name).title: getattr(self.profile, name) for name in FINDINGS}

    def report(self, title: str) -> Report:
        """The data-profile page.

        >>> view.report("Data profile: synthetic-small").write("01_profile.html")  # doctest: +SKIP
        """
        p = self.profile
        report = Report(title, description="Data profile: volume, the shop's view, activity, quality")
        report.metrics(self.headline)
        report.markdown("## Data-quality warnings")
        report.warnings(p.warnings)
        report.markdown("## Summary")
        report.table(p.summary, max_rows=100)
        self._shop_sections(report)
        report.markdown(
            "## Cleaning findings\n`workbench.data.clean(ds, merge_labels=True, drop_outlier_users=True, "
            "impute=True)` acts on these; nothing is changed unless asked."
        )
        for name in FINDINGS:
            section = self.section(name)
            report.markdown("#" + section.markdown)
            if section.applies:
                table = getattr(p, name)
                report.table(table, max_rows=50) if len(table) else report.markdown("None found.")
        report.markdown("## Missing values")
        report.table(p.missing, max_rows=100)
        report.markdown("## Distributions")
        for chart in self.charts.values():
            report.chart(chart)
        report.markdown("## Demographics")
        for column, table in p.demographics.items():
            report.markdown(f"### {column}")
            report.table(table, max_rows=30)
        return report

    def _shop_sections(self, report: Report) -> None:
        p = self.profile
        numbers = {"basket_sizes": self.basket_numbers, "spend": self.spend_numbers}
        for name in ("top_items", "label_mix", "funnel", "basket_sizes", "spend"):
            section = self.section(name)
            report.markdown(section.markdown)
            if numbers.get(name):
                report.metrics(numbers[name])
            if not section.applies:
                continue
            for chart in self.section_charts(name):
                report.chart(chart)
            if name in ("label_mix", "spend"):
                for column, table in getattr(p, name).groupby("column", sort=False):
                    report.markdown(f"### {column}")
                    report.table(table.drop(columns="column"), max_rows=25)
            elif name != "basket_sizes":
                report.table(getattr(p, name))


def profile_view(ds: Dataset) -> ProfileView:
    """Profile ``ds`` (:func:`workbench.data.profile.profile`) for notebook 01.

    >>> profile_view(load_dataset("synthetic-small")).headline["users"]  # doctest: +SKIP
    600
    """
    return ProfileView(profile(ds))
