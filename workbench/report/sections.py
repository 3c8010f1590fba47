"""A notebook's page as ordered sections, laid out once and shown three ways: in marimo, in Jupyter and as HTML.

A view returns its sections; the marimo notebook shows each as a cell's output, the Jupyter twin shows the same
objects (IPython calls :meth:`Section._ipython_display_`), and :func:`page` writes them into the HTML report. A
section is a heading and its parts in order: Markdown text, :class:`Table`, :class:`Chart`, :class:`Metrics` and
:class:`Warnings`.

>>> section = Section("scores", "Metrics", ("Means over test users.", Table(scores, caption="k = 10")))  # doctest: +SKIP
>>> page("ALS candidates: ml-100k", "Popularity vs ALS", [section]).to_html()  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from workbench.report.render import Report, format_value, metric_label, readable


@dataclass(frozen=True)
class Table:
    """A frame shown as a table (numbers written for reading), with an optional caption under it."""

    frame: pd.DataFrame
    caption: str | None = None
    #: rows shown in the HTML report (notebooks show up to 100 and say how many there are)
    max_rows: int = 20


@dataclass(frozen=True)
class Chart:
    """An Altair chart, with an optional caption under it."""

    chart: Any
    caption: str | None = None


@dataclass(frozen=True)
class Metrics:
    """Headline numbers as a row of cards (marimo stats), each labelled by :func:`metric_label` at ``k``."""

    values: Mapping[str, Any]
    k: int | None = None


@dataclass(frozen=True)
class Warnings:
    """Findings to act on, one per message: a warning callout (none: a note that all is clear)."""

    messages: tuple[str, ...]


#: What a section holds: Markdown text, a table, a chart, a row of headline numbers or warnings.
Part = str | Table | Chart | Metrics | Warnings


def _warning_list(part: Warnings) -> str:
    return "\n".join(f"- {message}" for message in part.messages) or "No warnings."


def _text(markdown: str) -> str:
    """Markdown for marimo and Jupyter, which would render HTML in it: ``<``, ``>`` and ``&`` (from item names,
    file names, labels) shown as written. The HTML report's Markdown takes no raw HTML anyway."""
    return html.escape(markdown, quote=False)


@dataclass(frozen=True)
class Section:
    """One titled part of a page; ``key`` names it for notebooks and tests, ``title`` is its heading (None: the
    page's opening, without a heading).

    >>> Section("intro", None, ("Trained on **100** interactions.",)).titles()
    []
    """

    key: str
    title: str | None
    parts: tuple[Part, ...] = ()

    def titles(self) -> list[str]:
        """The headings this section shows: its title, if any."""
        return [] if self.title is None else [self.title]

    def _heading(self) -> list[str]:
        return [] if self.title is None else [f"## {self.title}"]

    def _display_(self) -> Any:
        """What marimo shows: the parts stacked, tables through :func:`readable`, metrics as stats."""
        import marimo as mo

        shown: list[Any] = [mo.md(_text(text)) for text in self._heading()]
        for part in self.parts:
            if isinstance(part, str):
                shown.append(mo.md(_text(part)))
            elif isinstance(part, Table):
                shown.append(readable(part.frame))
            elif isinstance(part, Chart):
                shown.append(part.chart)
            elif isinstance(part, Warnings):
                shown.append(mo.callout(mo.md(_text(_warning_list(part))), kind="warn" if part.messages else "success"))
            else:
                stats = [
                    mo.stat(value=format_value(v), label=metric_label(key, k=part.k)) for key, v in part.values.items()
                ]
                shown.append(mo.hstack(stats, justify="start", wrap=True))
            caption = getattr(part, "caption", None)
            if caption:
                shown.append(mo.md(f"<small>{_text(caption)}</small>"))
        return mo.vstack(shown)

    def _ipython_display_(self) -> None:
        """What Jupyter shows: each part as an output of its own (Markdown, a styled table, a Vega-Lite chart)."""
        from IPython.display import Markdown, display

        for text in self._heading():
            display(Markdown(_text(text)))
        for part in self.parts:
            if isinstance(part, str):
                display(Markdown(_text(part)))
            elif isinstance(part, Table):
                display(readable(part.frame))
            elif isinstance(part, Chart):
                display(part.chart)
            elif isinstance(part, Warnings):
                display(Markdown(("**Warnings**\n\n" if part.messages else "") + _text(_warning_list(part))))
            else:
                rows = [f"| {metric_label(key, k=part.k)} | {format_value(v)} |" for key, v in part.values.items()]
                display(Markdown(_text("\n".join(["| | |", "|---|---:|", *rows]))))
            caption = getattr(part, "caption", None)
            if caption:
                display(Markdown(f"*{_text(caption)}*"))

    def add_to(self, report: Report) -> Report:
        """Append this section to an HTML ``report``."""
        for text in self._heading():
            report.markdown(text)
        for part in self.parts:
            if isinstance(part, str):
                report.markdown(part)
            elif isinstance(part, Table):
                report.table(part.frame, max_rows=part.max_rows, caption=part.caption)
            elif isinstance(part, Chart):
                report.chart(part.chart, caption=part.caption)
            elif isinstance(part, Warnings):
                report.warnings(part.messages)
            else:
                report.metrics(part.values, k=part.k)
        return report


class Sectioned:
    """A view laid out as :meth:`sections`; a notebook cell shows one with :meth:`section`.

    >>> view.section("metrics")  # doctest: +SKIP
    """

    def sections(self) -> list[Section]:
        """The page's sections, in order."""
        raise NotImplementedError

    @cached_property
    def _sections_by_key(self) -> dict[str, Section]:
        """:meth:`sections` by key, built once for all the cells that show one (a view does not change)."""
        return {section.key: section for section in self.sections()}

    def section(self, key: str) -> Section:
        """The section named ``key``."""
        found = self._sections_by_key
        if key not in found:
            raise KeyError(f"no section {key!r}; the sections are {', '.join(found)}")
        return found[key]


def page(title: str, description: str, sections: Iterable[Section]) -> Report:
    """The HTML report of ``sections``, in order, under ``title``.

    >>> page("ALS candidates: ml-100k", "Popularity vs ALS", view.sections()).write("03_als.html")  # doctest: +SKIP
    """
    report = Report(title, description=description)
    for section in sections:
        section.add_to(report)
    return report
