"""notebooks/07_audit.py on synthetic-small: its values are workbench.views.audit's (tested in tests/views)."""

import json

import pytest
from test_notebooks import run_in_process, small_log, unstamped

from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.views.audit import AuditView


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("07_audit", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view = defs["view"]
    assert isinstance(view, AuditView) and view.run is defs["base"] and view.audits is defs["audits"]
    assert (view.metric, view.threshold, view.run.k) == (defs["metric"].value, defs["threshold"].value, defs["k"].value)
    assert (view.run.seed, view.run.ratio) == (42, 0.75)
    shop = make_ecommerce(**SIZES["small"], seed=0)
    segments = defs["segments"]
    assert list(segments.columns) == view.segments == ["gender", "region", "age_band", "activity_band"]
    assert set(segments.index) == set(small_log()["user_id"]) | set(shop.users.index)


def test_the_report_is_the_views(run):
    defs, report_dir = run
    view = defs["view"]
    written = json.loads((report_dir / "07_audit.json").read_text(encoding="utf-8"))
    assert written["headline"] == pytest.approx(view.headline) and defs["headline"] == view.headline
    assert written["headline"]["flags_als"] == int((view.flagged["model"] == "als").sum())
    html = (report_dir / "07_audit.html").read_text(encoding="utf-8")
    assert unstamped(html) == unstamped(view.report("synthetic-small").to_html())
    assert "<script" not in html
