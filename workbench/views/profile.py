"""Notebook 01 (data profile) and ``workbench profile --html``: the page as ordered sections (headline, warnings,
summary, the shop's sections, cleaning findings, missing values, distributions, demographics).

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
from workbench.report.sections import Chart, Metrics, Part, Section, Sectioned, Table, Warnings, page

#: Summary rows shown as headline numbers (with the warning count).
HEADLINE_METRICS = ("interactions", "users", "items", "density")
#: Summary rows shown as the basket section's numbers.
BASKET_METRICS = ("orders", "mean_items_per_order", "median_items_per_order", "repeat_rate", "repeat_users_share")
#: Summary rows shown as the spend section's numbers.
SPEND_METRICS = ("spend", "spend_per_order", "median_spend_per_order", "spend_per_user", "median_spend_per_user")

#: Section key -> (title, prose) of the sections that may not apply to a log (the profile then gives the reason);
#: the prose may name ``{purchases}``, ``{repeats_of}``, ``{spend_from}`` or ``{outlier_z}``.
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
#: The shop's sections, in the order shown.
SHOP = ("top_items", "label_mix", "funnel", "basket_sizes", "spend")
#: The cleaning findings, in the order shown; ``workbench.data.clean`` acts on them.
FINDINGS = ("spellings", "outliers", "missing_attributes")
#: Shop section -> the prefix of its charts in :attr:`ProfileView.shop_charts`.
CHART_PREFIX = {"label_mix": "mix_", "funnel": "funnel", "basket_sizes": "basket_sizes", "spend": "spend_"}
#: Rows shown in the report per table of a section (default: 20).
MAX_ROWS = {"label_mix": 25, "spend": 25, "spellings": 50, "outliers": 50, "missing_attributes": 50}


@dataclass(frozen=True)
class ProfileView(Sectioned):
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

    @cached_property
    def shop_charts(self) -> dict[str, alt.Chart]:
        """Funnel, label mixes, basket sizes and spend per label (those the log has)."""
        return shop_charts(self.profile)

    def section_charts(self, name: str) -> list[alt.Chart]:
        """The shop charts of section ``name`` (``mix_*`` for the label mix, ``spend_*`` for spend)."""
        prefix = CHART_PREFIX.get(name)
        if prefix is None:
            return []
        return [chart for chart_name, chart in self.shop_charts.items() if chart_name.startswith(prefix)]

    @cached_property
    def charts(self) -> dict[str, alt.Chart]:
        """Distributions: activity per user and item, ratings or events, time."""
        return profile_charts(self.profile)

    def sections(self) -> list[Section]:
        """The page: headline numbers, warnings, summary, the shop's sections (:data:`SHOP`), the cleaning
        findings (:data:`FINDINGS`), missing values, distributions and demographics."""
        p = self.profile
        cleaning = (
            "`workbench.data.clean(ds, merge_labels=True, drop_outlier_users=True, impute=True)` acts on these; "
            "nothing is changed unless asked."
        )
        return [
            Section("headline", None, (Metrics(self.headline),)),
            Section("warnings", "Data-quality warnings", (Warnings(tuple(p.warnings)),)),
            Section("summary", "Summary", (Table(p.summary, max_rows=100),)),
            *(self._described(name) for name in SHOP),
            Section("findings", "Cleaning findings", (cleaning,)),
            *(self._described(name) for name in FINDINGS),
            Section("missing", "Missing values", (Table(p.missing, max_rows=100),)),
            Section("distributions", "Distributions", tuple(Chart(chart) for chart in self.charts.values())),
            Section("demographics", "Demographics", self._demographics()),
        ]

    def _described(self, name: str) -> Section:
        """The section ``name`` of :data:`SECTIONS`: its prose, the profile's reason if any (``Note: ...`` when the
        section applies in part, ``Does not apply: ...``), its numbers, and its charts and tables when it applies
        (it applies unless the profile gives a reason and its table is empty: top items without an items table
        still list ids, under a note)."""
        title, text = SECTIONS[name]
        p = self.profile
        summary = p.to_dict()
        text = text.format(
            purchases="; purchases are counted separately" if "purchases" in p.top_items.columns else "",
            repeats_of=summary.get("repeats_of", "purchases"),
            spend_from=summary.get("spend_from", SPEND_COLUMN),
            outlier_z=OUTLIER_Z,
        )
        reason = p.not_applicable.get(name)
        table = getattr(p, name)
        applies = reason is None or not table.empty
        parts: list[Part] = [text]
        if reason is not None:
            parts.append(f"{'Note' if applies else 'Does not apply'}: {reason}.")
        numbers = {"basket_sizes": self.basket_numbers, "spend": self.spend_numbers}.get(name)
        if numbers:
            parts.append(Metrics(numbers))
        if applies:
            parts += [Chart(chart) for chart in self.section_charts(name)]
            parts += _tables(name, table)
        return Section(name, title, tuple(parts))

    def _demographics(self) -> tuple[Part, ...]:
        """A table per demographic column, or why there is none."""
        demographics = self.profile.demographics
        if not demographics:
            return ("No user table with demographics.",)
        return tuple(
            part for column, table in demographics.items() for part in (f"**{column}**", Table(table, max_rows=30))
        )

    def report(self, title: str) -> Report:
        """The data-profile page: :meth:`sections` under ``title``.

        >>> view.report("Data profile: synthetic-small").write("01_profile.html")  # doctest: +SKIP
        """
        return page(title, "Data profile: volume, the shop's view, activity, quality", self.sections())


def _tables(name: str, table: pd.DataFrame) -> list[Part]:
    """The tables of section ``name``: one per label column for the mix and spend (named above it), none for
    basket sizes (their chart shows them), "None found." for an empty finding."""
    max_rows = MAX_ROWS.get(name, 20)
    if name in ("label_mix", "spend"):
        return [
            part
            for column, rows in table.groupby("column", sort=False)
            for part in (f"**{column}**", Table(rows.drop(columns="column"), max_rows=max_rows))
        ]
    if name == "basket_sizes":
        return []
    if name in FINDINGS and table.empty:
        return ["None found."]
    return [Table(table, max_rows=max_rows)]


def profile_view(ds: Dataset) -> ProfileView:
    """Profile ``ds`` (:func:`workbench.data.profile.profile`) for notebook 01.

    >>> profile_view(load_dataset("synthetic-small")).headline["users"]  # doctest: +SKIP
    600
    """
    return ProfileView(profile(ds))
