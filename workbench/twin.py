"""What a Jupyter twin imports as ``mo``: marimo's layout and control helpers as plain IPython display.

The marimo notebooks in ``notebooks/`` are the source of truth; ``python -m workbench.notebooks sync`` writes
their twins (``notebooks/jupyter/*.ipynb``) with ``import workbench.twin as mo`` in place of ``import marimo as
mo``, so a cell's code stays the marimo cell's, and what it shows is something JupyterLab renders by itself,
offline:

- ``mo.md(text)`` is Markdown; ``mo.vstack`` / ``mo.hstack`` show their parts one after the other (a row of
  ``mo.stat`` becomes one Markdown table, a row of controls one line); ``mo.ui.tabs`` / ``mo.accordion`` show
  each tab under its name; ``mo.callout`` is a quoted Markdown block; ``mo.ui.table(df)`` is the DataFrame.
- Tables are pandas, with numbers as :func:`workbench.report.format_value` writes them (about four
  significant digits, thousands separators).
- Charts are Altair specs under JupyterLab's own Vega-Lite mimetype (``application/vnd.vegalite.v5+json``, drawn
  by the Vega-Lite bundled with JupyterLab; no script is loaded from a CDN). Altair 6's own ``mimetype``
  renderer says ``vnd.vegalite.v6.json``, which JupyterLab 4 does not know.
- Controls (``mo.ui.slider``, ``dropdown``, ``checkbox``, ...) are plain values: the twin's ``parameters``
  cell (papermill-style) names each control, and :func:`parameter` gives the control the value set there,
  checked against its range or options. A run button counts as pressed.
- tqdm progress bars are plain text: the ``IProgress not found`` warning of a kernel without ipywidgets is
  silenced when this module is imported (before any library imports ``tqdm.auto``).

>>> import workbench.twin as mo
>>> k = parameter(20, mo.ui.slider(5, 50, step=5, value=10, label="k (list length)"))
>>> k.value
20
>>> parameter(None, mo.ui.dropdown(options=["kmeans", "gmm"], value="kmeans", label="clustering")).value
'kmeans'
"""

from __future__ import annotations

import html
import textwrap
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = [
    "md",
    "vstack",
    "hstack",
    "callout",
    "stat",
    "stop",
    "show",
    "accordion",
    "as_html",
    "center",
    "left",
    "right",
    "app_meta",
    "plain_text",
    "ui",
    "status",
    "output",
    "parameter",
    "parameters",
    "Control",
    "Stopped",
    "VEGALITE_MIME",
    "setup",
]

#: The Vega-Lite mimetype JupyterLab 4 renders with its bundled Vega-Lite (5.x); Altair 6 specs compile with it.
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: The schema named in a twin's chart, so that the bundled Vega-Lite does not warn of a newer spec.
VEGALITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
RENDERER = "workbench-twin"

_CALLOUT_TITLES = {
    "warn": "⚠ Warning",
    "danger": "✖ Problem",
    "success": "✓ All clear",
    "info": "ℹ Note",
    "neutral": "",
}


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def show(obj: Any) -> None:
    """Display ``obj`` as a Jupyter output (nothing for None); what a cell's last expression shows."""
    if obj is None:
        return
    if isinstance(obj, str):
        obj = md(obj)
    _display(obj)


class Markdown:
    """Markdown text, displayed as ``text/markdown``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def md(text: str) -> Markdown:
    """``mo.md``: Markdown, dedented like marimo's."""
    return Markdown(textwrap.dedent(str(text)).strip())


def center(item: Any, **_: Any) -> Any:
    """``mo.center`` (and ``left``, ``right``): the item itself."""
    return item


left = right = center


def app_meta() -> Any:
    """``mo.app_meta()``: a twin runs straight through, as a script does."""
    from types import SimpleNamespace

    return SimpleNamespace(mode="script", theme="light", request=None)


def as_html(obj: Any) -> Any:
    """``mo.as_html``: the object itself (Jupyter displays it)."""
    return obj


def plain_text(text: str) -> Markdown:
    """``mo.plain_text``: the text as a code block."""
    return Markdown(f"```\n{text}\n```")


class _Stat:
    def __init__(self, value: Any, label: str | None = None, caption: str | None = None) -> None:
        self.value, self.label, self.caption = value, label, caption

    def _repr_markdown_(self) -> str:
        return _stat_table([self])


def stat(value: Any, label: str | None = None, caption: str | None = None, **_: Any) -> _Stat:
    """``mo.stat``: a labelled number (a row of them is one Markdown table)."""
    return _Stat(value, label, caption)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _stat_table(stats: list[_Stat]) -> str:
    head = "| " + " | ".join(_cell(s.label or "") for s in stats) + " |"
    rule = "|" + "---:|" * len(stats)
    row = "| " + " | ".join(f"**{_cell(s.value)}**" for s in stats) + " |"
    captions = [s.caption for s in stats]
    tail = ["| " + " | ".join(_cell(c or "") for c in captions) + " |"] if any(captions) else []
    return "\n".join([head, rule, row, *tail])


class _Stack:
    """``mo.vstack`` / ``mo.hstack``: each part shown in turn; stats side by side are one table, controls one line."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = [item for item in items if item is not None]

    def _ipython_display_(self) -> None:
        group: list[Any] = []
        for item in [*self.items, None]:
            if group and (item is None or type(item) is not type(group[0])):
                text = _stat_table(group) if isinstance(group[0], _Stat) else _controls_line(group)
                if text:
                    show(Markdown(text))
                group = []
            if isinstance(item, (_Stat, Control)):
                if not (isinstance(item, Control) and item.kind == "run_button"):
                    group.append(item)
            elif item is not None:
                show(item)


def vstack(items: Iterable[Any], **_: Any) -> _Stack:
    """``mo.vstack``: the parts one after the other."""
    return _Stack(items)


def hstack(items: Iterable[Any], **_: Any) -> _Stack:
    """``mo.hstack``: the parts one after the other (stats as one table, controls as one line)."""
    return _Stack(items)


class _Sections:
    def __init__(self, sections: Mapping[str, Any]) -> None:
        self.sections = dict(sections)

    def _ipython_display_(self) -> None:
        for name, content in self.sections.items():
            show(Markdown(f"**{_cell(name)}**"))
            show(content)


def accordion(items: Mapping[str, Any], **_: Any) -> _Sections:
    """``mo.accordion``: each section under its name."""
    return _Sections(items)


class _Callout:
    def __init__(self, value: Any, kind: str) -> None:
        self.value, self.kind = value, kind

    def _ipython_display_(self) -> None:
        title = _CALLOUT_TITLES.get(self.kind, "")
        if isinstance(self.value, (Markdown, str)):
            lines = ([f"**{title}**", ""] if title else []) + str(self.value).splitlines()
            show(Markdown("\n".join(f"> {line}".rstrip() for line in lines)))
            return
        if title:
            show(Markdown(f"> **{title}**"))
        show(self.value)


def callout(value: Any, kind: str = "neutral") -> _Callout:
    """``mo.callout``: a quoted Markdown block headed by its kind (warning, all clear, ...)."""
    return _Callout(value, kind)


class Stopped(Exception):
    """Raised by :func:`stop` inside a function (a cell's own ``mo.stop`` is an ``if`` in the twin)."""


def stop(predicate: Any, output: Any = None) -> None:
    """``mo.stop``: when ``predicate`` holds, show ``output`` and stop the cell (:class:`Stopped`).

    The twin generator turns a ``mo.stop(...)`` statement of a cell into an ``if``, so that a section that
    cannot be computed does not stop *Run all*; this is for calls from inside functions.
    """
    if predicate:
        show(output)
        raise Stopped(str(output) if output is not None else "stopped")


# Controls ------------------------------------------------------------------------------------------------------


class Control:
    """A marimo control in a twin: its label, value and what values it takes; ``.value`` as in marimo.

    Shown as one line: the label, the value and where to change it (the parameters cell).
    """

    def __init__(
        self,
        kind: str,
        value: Any,
        *,
        label: str = "",
        options: Any = None,
        start: Any = None,
        stop: Any = None,
        step: Any = None,
        elements: Mapping[str, Control] | None = None,
    ) -> None:
        self.kind = kind
        self.label = str(label or "")
        self.options = options
        self.start, self.stop, self.step = start, stop, step
        self.elements = dict(elements) if elements is not None else None
        self.name = ""  # the parameter's name, set by :func:`parameter`
        self._value = value

    @property
    def value(self) -> Any:
        if self.elements is not None:
            return {key: element.value for key, element in self.elements.items()}
        if isinstance(self.options, Mapping):  # a dropdown over a dict: the chosen key's value, as in marimo
            return self.options.get(self._value) if self._value is not None else None
        return self._value

    @property
    def shown(self) -> Any:
        """The value as the user picks it (a dropdown's key, a dictionary's values)."""
        return self._value if isinstance(self.options, Mapping) else self.value

    def set(self, given: Any, *, any_value: bool = False) -> Control:
        """This control with the value ``given`` (checked against its range or options unless ``any_value``)."""
        if self.elements is not None:
            if not isinstance(given, Mapping):
                raise ValueError(f"{self._what()}: give a dict of {sorted(self.elements)}, not {given!r}")
            unknown = set(given) - set(self.elements)
            if unknown:
                raise ValueError(f"{self._what()}: unknown keys {sorted(unknown)}; known: {sorted(self.elements)}")
            for key, value in given.items():
                self.elements[key].set(value)
            return self
        if self.kind in ("slider", "number", "range_slider"):
            low = self.start if self.start is not None else given
            high = self.stop if self.stop is not None else given
            if not isinstance(given, (int, float)) or isinstance(given, bool) or not low <= given <= high:
                raise ValueError(f"{self._what()} takes a number from {self.start} to {self.stop}, not {given!r}")
        elif self.kind in ("checkbox", "switch"):
            if not isinstance(given, bool):
                raise ValueError(f"{self._what()} is True or False, not {given!r}")
        elif self.options is not None and not any_value:
            keys = list(self.options)
            if isinstance(self.options, Mapping) and given not in keys:
                matching = [key for key, value in self.options.items() if _same(value, given)]
                given = matching[0] if matching else given
            if given not in keys:
                shown = ", ".join(repr(key) for key in keys[:20]) + (", ..." if len(keys) > 20 else "")
                raise ValueError(f"{self._what()} takes one of {shown}; not {given!r}")
        elif isinstance(self.options, Mapping) and any_value and given not in self.options:
            self.options = {**self.options, given: given}
        self._value = given
        return self

    def form(self, **_: Any) -> Control:
        """``.form()``: the control itself (a twin's parameters are submitted by running the cells)."""
        return self

    def _what(self) -> str:
        named = f"{self.name} ({self.label})" if self.name and self.label else self.name or self.label
        return named or self.kind

    def _repr_markdown_(self) -> str:
        return _controls_line([self])

    def __repr__(self) -> str:
        return f"{self.kind}({self._what()}={self.shown!r})"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or str(a) == str(b)
    except (TypeError, ValueError):
        return False


def _controls_line(controls: list[Control]) -> str:
    parts = [f"{html.escape(c.label or c.name)}: `{c.shown!r}`" for c in controls if c.kind != "run_button"]
    names = ", ".join(f"`{c.name}`" for c in controls if c.name)
    where = f" (set {names} in the parameters cell at the top)" if names else ""
    return " · ".join(parts) + where if parts else ""


def _first(options: Any) -> Any:
    return next(iter(options), None) if options is not None else None


class _Ui:
    """``mo.ui``: controls as :class:`Control` values, tables as DataFrames, tabs as sections."""

    @staticmethod
    def slider(start: Any = None, stop: Any = None, step: Any = None, value: Any = None, label: str = "", **kw: Any):
        steps = kw.get("steps")
        if steps is not None:
            start, stop = min(steps), max(steps)
        return Control("slider", start if value is None else value, label=label, start=start, stop=stop, step=step)

    @staticmethod
    def number(start: Any = None, stop: Any = None, step: Any = None, value: Any = None, label: str = "", **_: Any):
        return Control("number", start if value is None else value, label=label, start=start, stop=stop, step=step)

    @staticmethod
    def dropdown(options: Any, value: Any = None, label: str = "", **_: Any) -> Control:
        options = dict(options) if isinstance(options, Mapping) else list(options)
        return Control("dropdown", value, label=label, options=options)

    @staticmethod
    def radio(options: Any, value: Any = None, label: str = "", **_: Any) -> Control:
        options = dict(options) if isinstance(options, Mapping) else list(options)
        return Control("radio", value if value is not None else _first(options), label=label, options=options)

    @staticmethod
    def multiselect(options: Any, value: Any = None, label: str = "", **_: Any) -> Control:
        return Control("multiselect", list(value or []), label=label)

    @staticmethod
    def checkbox(value: bool = False, label: str = "", **_: Any) -> Control:
        return Control("checkbox", bool(value), label=label)

    @staticmethod
    def switch(value: bool = False, label: str = "", **_: Any) -> Control:
        return Control("switch", bool(value), label=label)

    @staticmethod
    def text(value: str = "", label: str = "", **_: Any) -> Control:
        return Control("text", value, label=label)

    text_area = text

    @staticmethod
    def dictionary(elements: Mapping[str, Control], label: str = "", **_: Any) -> Control:
        return Control("dictionary", None, label=label, elements=elements)

    @staticmethod
    def run_button(label: str = "", **_: Any) -> Control:
        return Control("run_button", True, label=label)  # a twin runs its cells when asked: always pressed

    button = run_button

    @staticmethod
    def table(data: Any, *, format_mapping: Mapping[str, Any] | None = None, **_: Any) -> Any:
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        return frame.style.format(format_mapping) if format_mapping else frame

    dataframe = table

    @staticmethod
    def altair_chart(chart: Any, **_: Any) -> Any:
        return chart

    @staticmethod
    def tabs(tabs: Mapping[str, Any], **_: Any) -> _Sections:
        return _Sections(tabs)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"mo.ui.{name} has no Jupyter twin yet: add it to workbench/twin.py")


ui = _Ui()


class _Status:
    """``mo.status``: progress as plain tqdm text, a spinner as a printed line."""

    @staticmethod
    def progress_bar(
        collection: Iterable[Any] | None = None, *, title: str | None = None, total: int | None = None, **_
    ):
        from tqdm.auto import tqdm

        return tqdm(collection, desc=title, total=total)

    @staticmethod
    @contextmanager
    def spinner(title: str | None = None, subtitle: str | None = None, **_: Any) -> Iterator[Any]:
        if title or subtitle:
            print(" ".join(part for part in (title, subtitle) if part), flush=True)
        yield _Spinner()


class _Spinner:
    def update(self, title: str | None = None, subtitle: str | None = None) -> None:
        if title or subtitle:
            print(" ".join(part for part in (title, subtitle) if part), flush=True)


status = _Status()


class _Output:
    """``mo.output``: displayed in the cell's output area."""

    @staticmethod
    def append(value: Any) -> None:
        show(value)

    replace = append

    @staticmethod
    def clear() -> None:
        from IPython.display import clear_output

        clear_output()


output = _Output()


def parameter(given: Any, control: Any, *, name: str = "", any_value: bool = False) -> Control:
    """The control of a twin: ``control`` (a :class:`Control`, or a marimo element from a workbench helper)
    with the value ``given`` in the parameters cell, or its own default when ``given`` is None.

    >>> parameter(3, ui.slider(1, 5, value=2, label="folds"), name="n_folds").value
    3
    >>> parameter(9, ui.slider(1, 5, value=2, label="folds"), name="n_folds")
    Traceback (most recent call last):
    ...
    ValueError: n_folds (folds) takes a number from 1 to 5, not 9
    """
    control = control if isinstance(control, Control) else _from_marimo(control)
    control.name = name
    if isinstance(given, Control):  # the control cell run again: keep the value it had
        given = given.shown
    return control if given is None else control.set(given, any_value=any_value)


def parameters(given: tuple[Any, ...], controls: Iterable[Any], *, names: tuple[str, ...]) -> tuple[Control, ...]:
    """:func:`parameter` for each of several controls made at once (``k, n_folds = helper()``)."""
    controls = tuple(controls)
    if len(controls) != len(names):
        raise ValueError(f"expected {len(names)} controls ({', '.join(names)}), got {len(controls)}")
    return tuple(parameter(g, c, name=n) for g, c, n in zip(given, controls, names, strict=True))


def _from_marimo(element: Any) -> Control:
    """A marimo UI element (made by a helper that imports marimo itself) as a :class:`Control`."""
    kind = type(element).__name__
    args = getattr(element, "_args", None)
    label = getattr(args, "label", "") or ""
    label = html.unescape(str(label)).strip() if label else ""
    if kind in ("slider", "number"):
        control = Control(kind, element.value, label=label, start=element.start, stop=element.stop, step=element.step)
    elif kind in ("dropdown", "radio"):
        options = dict(element.options)
        key = next((k for k, v in options.items() if _same(v, element.value)), None)
        control = Control(kind, key, label=label, options=options)
    elif kind == "run_button":
        control = Control(kind, True, label=label)
    else:
        control = Control(kind, element.value, label=label)
    return control


# Setup -----------------------------------------------------------------------------------------------------------


def _vegalite(spec: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Altair renderer: the spec under JupyterLab's Vega-Lite mimetype, with a line of text for other frontends."""
    spec = {**spec, "$schema": VEGALITE_SCHEMA}
    title = spec.get("title")
    title = title.get("text") if isinstance(title, Mapping) else title
    text = f"Chart: {title}" if isinstance(title, str) and title else "Chart (Vega-Lite; JupyterLab draws it)"
    return {VEGALITE_MIME: spec, "text/plain": text}


def setup() -> None:
    """What importing this module does once: tqdm as plain text, Altair charts through :data:`VEGALITE_MIME`,
    pandas numbers through :func:`workbench.report.format_value`."""
    try:
        from tqdm import TqdmWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            import tqdm.autonotebook  # noqa: F401  (falls back to text bars without ipywidgets, now silently)
    except ImportError:
        pass
    import altair as alt
    import pandas as pd

    from workbench.report import format_value

    alt.renderers.register(RENDERER, _vegalite)
    alt.renderers.enable(RENDERER)
    pd.set_option("display.float_format", format_value)
    pd.set_option("display.max_columns", 50)


def __getattr__(name: str) -> Any:
    raise AttributeError(f"mo.{name} has no Jupyter twin yet: add it to workbench/twin.py")


setup()
