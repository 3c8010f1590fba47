"""One layout per notebook: the marimo notebook, its Jupyter twin and its HTML report show the same sections, in
the same order, from the view's ``sections()`` (run on synthetic-small)."""

import html
import importlib.util
import re
from html.parser import HTMLParser

import pytest

from workbench.notebooks import execute_twin, list_notebooks, notebooks_dir, twin_path
from workbench.report.sections import Section

SMALL = "synthetic-small"
#: The notebooks whose views lay their page out as sections (they show them with ``view.section(key)``).
SECTIONED = [path.stem for path in list_notebooks() if re.search(r"^\s+view\.section\(", path.read_text(), re.M)]


class Headings(HTMLParser):
    """The text of every heading below the page title (h2 to h4)."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3", "h4"):
            self._open = tag
            self.headings.append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.headings[-1] += data


def shown_in_marimo(name: str, monkeypatch, report_dir) -> list[str]:
    """The section headings a marimo run of ``name`` shows (its cells' outputs), writing its report."""
    monkeypatch.setenv("WORKBENCH_DATA", SMALL)
    monkeypatch.setenv("WORKBENCH_REPORT_DIR", str(report_dir))
    monkeypatch.delenv("WORKBENCH_MODEL_CACHE", raising=False)
    spec = importlib.util.spec_from_file_location(f"notebook_{name}", notebooks_dir() / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs, _ = module.app.run()
    return [title for output in outputs if isinstance(output, Section) for title in output.titles()]


def shown_in_jupyter(name: str) -> list[str]:
    """The section headings the executed twin of ``name`` shows: its Markdown outputs that are headings."""
    notebook = execute_twin(twin_path(notebooks_dir() / f"{name}.py"), data=SMALL)
    texts = [
        "".join(output["data"].get("text/markdown", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output["output_type"] in ("display_data", "execute_result")
    ]
    return [html.unescape(text.removeprefix("## ")) for text in texts if text.startswith("## ")]


def test_every_notebook_shows_its_view_sections():
    assert [path.stem for path in list_notebooks()] == SECTIONED


@pytest.mark.parametrize("name", SECTIONED)
def test_marimo_jupyter_and_html_show_the_same_sections(name, monkeypatch, tmp_path):
    marimo = shown_in_marimo(name, monkeypatch, tmp_path)
    parser = Headings()
    parser.feed((tmp_path / f"{name}.html").read_text(encoding="utf-8"))
    page = [heading.strip() for heading in parser.headings]
    jupyter = shown_in_jupyter(name)
    assert len(marimo) >= 3, marimo
    assert marimo == page == jupyter, f"marimo {marimo}\nHTML {page}\nJupyter {jupyter}"
