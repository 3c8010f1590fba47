"""Notebook 09_freshness on synthetic-small: its values are workbench.views.freshness's
(tested in tests/views/test_freshness_view.py)."""

from __future__ import annotations

import json

import pytest
from test_notebooks import run_in_process, unstamped

from workbench.views.freshness import FreshnessView


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("09_freshness", monkeypatch, report_dir=out)
    return defs, out


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view = defs["view"]
    assert isinstance(view, FreshnessView)
    assert (view.start_fraction, view.window_days, view.k) == (
        defs["start_fraction"].value,
        defs["window_days"].value,
        defs["k"].value,
    )


def test_report_is_the_views(run):
    defs, out = run
    view = defs["view"]
    headline = json.loads((out / "09_freshness.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(view.headline) and defs["headline"] == view.headline
    html = (out / "09_freshness.html").read_text(encoding="utf-8")
    assert unstamped(html) == unstamped(view.report("synthetic-small").to_html())
    assert "Drift against the training period" in html and "<script" not in html
