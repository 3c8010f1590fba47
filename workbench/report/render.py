"""Offline HTML reports: one self-contained file, no script, no network fetch.

The page, its blocks and the index are jinja2 templates (``report/templates``) with autoescaping on: every
string that comes from data (titles, table cells, ids, captions, warnings) is HTML-escaped by the template, and
only HTML made here (an SVG chart, a block, converted Markdown) is marked safe. Markdown is converted by
Python-Markdown, without raw HTML. Charts are rendered to inline SVG by vl-convert.

>>> report = Report("ALS: ml-100k").markdown("## Summary\\n- **943** test users")
>>> report.metrics({"test_users": 943, "ndcg_als": 0.31}, k=10).write("out/als.html")  # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import markdown
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.environment import TemplateModule
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from workbench.errors import ConfigError
from workbench.guards import positive_int

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from pandas.io.formats.style import Styler

_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')
_KEY = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")
#: Bidirectional controls (embeddings, overrides, isolates, marks): a name holding them could reorder the text
#: around it on the page, so a page shows each as its code point, e.g. ``[U+202E]``.
_BIDI = {code: f"[U+{code:04X}]" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
#: Characters a table cell shows of a longer string; the whole string is in its tooltip.
CELL_CHARS = 80
#: Python-Markdown's parts a report does without: raw HTML and entities (shown as written, escaped like all the
#: text), links, images and reference definitions (a page fetches nothing and links nowhere: shown as written).
_NO_INLINE = (
    "html",
    "entity",
    "link",
    "image_link",
    "reference",
    "image_reference",
    "short_reference",
    "short_image_ref",
    "autolink",
    "automail",
)
#: Markdown heading tags, each a level down on a page (its title is the only ``<h1>``).
_HEADINGS = {f"h{level}": f"h{min(level + 1, 6)}" for level in range(1, 7)}
#: Headline measures (the key, or its part before a model name) -> (label, unit); "@k" takes the list length.
_MEASURES: dict[str, tuple[str, str]] = {
    "ndcg": ("nDCG@k", ""),
    "precision": ("precision@k", ""),
    "recall": ("recall@k", ""),
    "map": ("MAP@k", ""),
    "hit_rate": ("hit rate@k", ""),
    "mrr": ("MRR@k", ""),
    "ndcg_ratio_to_popularity": ("nDCG@k ratio to popularity", ""),
    "ndcg_gain_vs_best": ("nDCG@k gain over the best single model", ""),
    "ndcg_gain_over_popularity": ("nDCG@k gain over popularity, per user", ""),
    "n_clusters": ("clusters", ""),
    "fit_seconds": ("fit time", "s"),
    "update_ms_per_1k": ("update time per 1,000 events", "ms"),
    "mean_probability": ("mean predicted probability", ""),
    "observed_rate": ("observed share relevant", ""),
    "worst_residual": ("worst segment residual", ""),
    "rating_rmse": ("rating RMSE", ""),
    "additivity_max_error": ("SHAP additivity, max error", ""),
    "top_mean_abs_shap": ("top feature, mean |SHAP|", ""),
    "flags": ("flagged gaps", ""),
    "max_gap": ("largest gap", ""),
    "aplt": ("long-tail share", ""),
    "coverage": ("catalogue coverage", ""),
    "p_tuned_vs_default": ("p-value, tuned vs default ALS", ""),
    "trials": ("tuning trials", ""),
}
#: Models a headline key may end with, longest first (``tuned_als`` before ``als``).
_MODELS = {
    "tuned_als": "tuned ALS",
    "default_als": "default ALS",
    "reranker": "re-ranker",
    "popularity": "popularity",
    "incremental": "incremental",
    "clusters": "clusters",
    "ridge": "ridge",
    "frozen": "frozen",
    "refit": "refit",
    "als": "ALS",
}


def format_value(value: Any) -> str:
    """Human-readable number: thousands separators, about four significant digits.

    >>> format_value(100000), format_value(0.123456), format_value(1234.5678)
    ('100,000', '0.1235', '1,235')
    """
    if not _is_number(value):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) >= 1:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def readable(frame: pd.DataFrame, *, max_rows: int = 100) -> Styler:
    """``frame`` styled for reading in a notebook, where marimo and Jupyter both show it as a plain table: numbers
    as :func:`format_value` writes them (about four significant digits, p-values as 3.1e-12, counts with
    separators), also in columns of mixed types; id columns (named ``...id``), text and booleans as given.
    At most ``max_rows`` rows are shown, and a caption says how many there are.

    >>> readable(pd.DataFrame({"item_id": [1234], "ndcg": [0.48886640059850134]})).to_html()  # doctest: +SKIP
    """
    max_rows = positive_int(max_rows, "readable: max_rows")
    shown = frame.head(max_rows)
    if not shown.index.is_unique:  # a Styler formats by label: give repeated labels a column of their own
        shown = shown.reset_index()
    not_ids = [c for c in shown.columns if not str(c).lower().endswith("id")]  # as in the reports' tables
    styled = shown.style
    if shown.columns.is_unique:
        styled = styled.format(format_value, subset=not_ids, na_rep="")
    if len(frame) > max_rows:
        styled = styled.set_caption(f"Showing the first {max_rows:,} of {len(frame):,} rows.")
    return styled


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


class _ReportTree(Treeprocessor):
    """Headings a level down, and the text escaped as :func:`_escape` does: an entity written in the data
    (``&lt;``, ``&#x202E;``) shows as written, as every other character does."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            element.tag = _HEADINGS.get(element.tag, element.tag)
            if element.text and element.tag != "code":  # a code span's text is escaped already
                element.text = html.escape(element.text)
            if element.tail:
                element.tail = html.escape(element.tail)


class _ReportMarkdown(Extension):
    """Python-Markdown for report text: no raw HTML, no links or images, headings under the page title."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # Python-Markdown's name
        md.preprocessors.deregister("html_block")
        md.parser.blockprocessors.deregister("reference")
        for name in _NO_INLINE:
            md.inlinePatterns.deregister(name)
        md.treeprocessors.register(_ReportTree(md), "report", 5)  # after the inline patterns, before unescaping


def markdown_to_html(text: str) -> str:
    """Markdown as HTML, by Python-Markdown (with ``sane_lists``): headings (``#`` is an ``<h2>``: the page title
    is the only ``<h1>``), paragraphs, lists, ``**bold**``, ``*emphasis*``, ``code``.

    Raw HTML, entities, links and images are not taken: they show as written, escaped like all the text.

    >>> markdown_to_html("# Hi <b>\\n- **a** &amp; [b](https://example.org)")
    '<h2>Hi &lt;b&gt;</h2>\\n<ul>\\n<li><strong>a</strong> &amp;amp; [b](https://example.org)</li>\\n</ul>'
    """
    return markdown.Markdown(extensions=["sane_lists", _ReportMarkdown()]).convert(str(text))


def _escape(value: Any) -> Markup:
    """A template's value as HTML: ``Markup`` as it is, anything else escaped as :func:`html.escape` does (quotes
    as ``&quot;`` and ``&#x27;``, the spelling the pages have always had and their readers compare with)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


@cache
def _templates() -> Environment:
    """The report templates: autoescaped (by :func:`_escape`), with :func:`format_value`, :func:`metric_label`
    and the test ``quantity`` (a number, not a boolean)."""
    env = Environment(
        loader=PackageLoader("workbench.report", "templates"),
        autoescape=select_autoescape(["html.j2"], default=True),
        finalize=_escape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(format_value=format_value, metric_label=metric_label)
    env.tests["quantity"] = _is_number
    env.globals["cell_chars"] = CELL_CHARS
    return env


def _blocks() -> TemplateModule:
    """The macros of ``blocks.html.j2``, one per kind of block; each returns escaped HTML (``Markup``)."""
    return _templates().get_template("blocks.html.j2").module


def metric_label(key: str, *, k: int | None = None) -> str:
    """What a reader calls a headline number: ``ndcg_reranker`` -> ``nDCG@10, re-ranker`` at ``k=10``.

    A key is a measure, optionally followed by the model it was measured on; the unit goes last.
    Unknown snake_case keys read as words; a key that is not snake_case is already a label and
    is kept as given.

    >>> metric_label("ndcg_reranker", k=10), metric_label("fit_seconds_reranker"), metric_label("test_users")
    ('nDCG@10, re-ranker', 'fit time, re-ranker (s)', 'test users')
    """
    key = str(key)
    if not _KEY.fullmatch(key):
        return key
    measure, model = key, ""
    if key not in _MEASURES:
        for name, label in _MODELS.items():
            if key.endswith(f"_{name}") and key.removesuffix(f"_{name}") in _MEASURES:
                measure, model = key.removesuffix(f"_{name}"), label
                break
    text, unit = _MEASURES.get(measure, (measure.replace("_", " "), ""))
    text = text.replace("@k", "" if k is None else f"@{k}")
    return text + (f", {model}" if model else "") + (f" ({unit})" if unit else "")


def neutralise_bidi(text: str) -> str:
    """``text`` with each bidirectional control shown as its code point.

    >>> neutralise_bidi("evil\u202ecod.exe")
    'evil[U+202E]cod.exe'
    """
    return text.translate(_BIDI)


def _table_html(frame: pd.DataFrame, max_rows: int) -> Markup:
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"Report.table expects a pandas DataFrame, got {type(frame).__name__}")
    max_rows = positive_int(max_rows, "Report.table: max_rows")
    shown = frame.head(max_rows)
    default_index = isinstance(shown.index, pd.RangeIndex) and shown.index.name is None
    if not default_index:
        shown = shown.reset_index()
    shown = shown.copy()
    shown.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in shown.columns]
    is_id = [c.lower().endswith("id") for c in shown.columns]  # ids are labels: no separators, left-aligned
    numeric = [
        not ident and pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
        for t, ident in zip(shown.dtypes, is_id, strict=True)
    ]
    columns = [(c, "num" if is_num else "") for c, is_num in zip(shown.columns, numeric, strict=True)]
    rows = [  # display only: at most max_rows rows
        [_cell(v, ident) for v, ident in zip(row, is_id, strict=True)]
        for row in shown.itertuples(index=False, name=None)
    ]
    return _blocks().table(columns, rows, max_rows, len(frame))


def _cell(value: Any, is_id: bool) -> tuple[str, str]:
    """The text of a table cell and its CSS class."""
    if _is_missing(value):
        return "", ""
    if is_id or isinstance(value, (str, bool, np.bool_)):
        return str(value), ""
    return format_value(value), "num" if isinstance(value, (int, float, np.number)) else ""


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def chart_to_svg(chart: Any, *, id_prefix: str = "c1-") -> str:
    """Render an Altair chart to an SVG string (offline, no script); its element ids start with
    ``id_prefix``, so that charts on one page (each with its own prefix) do not share ids."""
    if not hasattr(chart, "to_json"):
        raise ConfigError(f"Report.chart expects an Altair chart, got {type(chart).__name__}")
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_json())
    renamed: dict[str, str] = {}  # the renderer numbers ids across calls: number them within this chart

    def rename(match: re.Match[str]) -> str:
        name = renamed.setdefault(match.group(2), f"{id_prefix}{len(renamed) + 1}")
        return match.group(1) + name

    return _SVG_ID.sub(rename, svg)


@dataclass
class Report:
    """An HTML page built block by block; each method appends a block and returns the report.

    >>> Report("ALS").markdown("Some **text**").metrics({"ndcg": 0.31}).to_html().count("<script")
    0
    """

    title: str
    description: str = ""
    #: the page's sections, in order, as HTML
    blocks: list[str] = field(default_factory=list)
    #: which data the page was computed on, in a sentence or two (shown under the title; empty: not shown)
    data: str = ""

    def _add(self, block: Markup, caption: str | None = None, kind: str = "block") -> Self:
        self.blocks.append(_blocks().section(block, caption, kind))
        return self

    def markdown(self, text: str) -> Self:
        """Headings, paragraphs, lists, **bold** and ``code`` (see :func:`markdown_to_html`)."""
        return self._add(Markup(markdown_to_html(text)))  # no raw HTML passes through

    def metrics(self, values: Mapping[str, Any], *, k: int | None = None, caption: str | None = None) -> Self:
        """A row of big-number cards, one per entry, labelled by :func:`metric_label` at list length ``k``."""
        return self._add(_blocks().cards(values, k), caption)

    def table(self, frame: pd.DataFrame, *, max_rows: int = 20, caption: str | None = None) -> Self:
        """A DataFrame as a table (a meaningful index becomes the first columns)."""
        return self._add(_table_html(frame, max_rows), caption)

    def chart(self, chart: Any, *, caption: str | None = None) -> Self:
        """An Altair chart rendered to inline SVG."""
        n = sum('<figure class="chart">' in block for block in self.blocks) + 1  # the same page renders the same ids
        svg = Markup(chart_to_svg(chart, id_prefix=f"c{n}-"))  # vl-convert escapes the chart's text
        return self._add(_blocks().figure(svg), caption, "block chart-block")

    def warnings(self, messages: Iterable[str]) -> Self:
        """A highlighted list of warnings (or a note that there are none)."""
        return self._add(_blocks().warnings([str(m) for m in messages]))

    def to_html(self) -> str:
        """The whole page as one string."""
        body = Markup("\n".join(self.blocks))  # blocks are HTML made by the methods above
        return _page("page.html.j2", self.title, description=self.description, data=self.data, body=body)

    def write(self, path: str | Path) -> Path:
        """Write the page (UTF-8), creating parent folders; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path


def _page(template: str, title: str, **context: Any) -> str:
    """The whole HTML document from ``template``; bidirectional controls anywhere in it (titles, cells, chart
    labels) are shown as code points (:func:`neutralise_bidi`)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return neutralise_bidi(_templates().get_template(template).render(title=str(title), stamp=stamp, **context))


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index page: a link, a one-line description and headline numbers.

    ``data`` names the data set the page was computed on (the index has a section per data set);
    ``error`` says in one line why the notebook wrote no page (or a failed one): the line is marked,
    and ``href`` may be empty.
    """

    href: str
    title: str
    description: str = ""
    headline: Mapping[str, Any] = field(default_factory=dict)
    data: str = ""
    error: str = ""


def write_index(
    out_dir: str | Path,
    entries: Iterable[IndexEntry],
    *,
    title: str = "Workbench reports",
    data_notes: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/index.html`` linking each report; returns its path.

    Entries that name their ``data`` are grouped in a section per data set, in order of first
    appearance, headed by the data set's name and its sentence in ``data_notes`` (where it came from).
    A failed entry shows its error instead of numbers.

    >>> write_index("reports", [IndexEntry("01_profile.html", "Profile", "943 users", {"users": 943})])  # doctest: +SKIP
    """
    notes = dict(data_notes or {})
    groups: dict[str, list[IndexEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.data, []).append(entry)
    sections = []
    for data, group in groups.items():
        failed = sum(bool(entry.error) for entry in group)
        status = f" {failed} of {len(group)} notebooks failed." if failed else ""
        sections.append({"data": data, "note": (notes.get(data, "") + status).strip(), "entries": group})
    path = Path(out_dir) / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_page("index.html.j2", title, description="", data="", groups=sections), encoding="utf-8")
    return path
