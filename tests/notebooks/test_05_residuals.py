"""notebooks/05_residuals.py on synthetic-small: its values are workbench.views.residuals's (tested in
tests/views/test_residuals_view.py), built from its controls."""

import json

import pytest
from test_notebooks import run_in_process, small_log, unstamped

from workbench.views.residuals import MIN_PAIRS, ResidualsView


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("05_residuals", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view = defs["view"]
    assert isinstance(view, ResidualsView) and view.model.n_candidates == defs["n_candidates"].value
    assert defs["min_pairs"].value == MIN_PAIRS  # the slider starts at the page's default
    assert len(small_log()) == len(view.run.train) + len(view.run.test)
    assert set(view.scored["user_id"]) == set(view.run.test_users)


def test_report_is_the_views(run):
    defs, report_dir = run
    view, min_pairs = defs["view"], defs["min_pairs"].value
    headline = json.loads((report_dir / "05_residuals.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(view.headline(min_pairs)) and defs["headline"] == view.headline(min_pairs)
    html = (report_dir / "05_residuals.html").read_text(encoding="utf-8")
    assert unstamped(html) == unstamped(view.report("synthetic-small", min_pairs=min_pairs).to_html())
