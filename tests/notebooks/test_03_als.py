"""notebooks/03_als.py on synthetic-small: its values are workbench.views.als's (tested in tests/views)."""

import json

import pytest
from test_notebooks import run_in_process, unstamped

from workbench.views.als import AlsView


def test_the_notebook_shows_the_view_of_its_controls(monkeypatch, tmp_path):
    defs = run_in_process("03_als", monkeypatch, report_dir=tmp_path)
    view = defs["view"]
    assert isinstance(view, AlsView) and view.run.k == defs["k"].value
    assert view.run.models["als"].factors == defs["factors"].value
    assert (view.run.seed, view.run.ratio) == (42, 0.75)
    written = json.loads((tmp_path / "03_als.json").read_text(encoding="utf-8"))
    assert written["headline"] == pytest.approx(view.headline) and defs["headline"] == view.headline
    assert unstamped((tmp_path / "03_als.html").read_text(encoding="utf-8")) == unstamped(
        view.report("synthetic-small").to_html()
    )
