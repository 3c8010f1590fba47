"""notebooks/06_explain.py on synthetic-small: its values are workbench.views.explain's (tested in
tests/views/test_explain_view.py), built from its controls."""

import json

import pytest
from test_notebooks import run_in_process, unstamped

from workbench.views.explain import ExplainView


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("06_explain", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view = defs["view"]
    assert isinstance(view, ExplainView)
    assert (view.run.k, view.model.n_candidates, view.model.n_folds) == (
        defs["k"].value,
        defs["n_candidates"].value,
        defs["n_folds"].value,
    )
    # the defaults: the most important feature, the first user and their top item
    assert defs["feature"].value == view.features[0]
    first = view.recs.iloc[0]
    assert (defs["user"].value, defs["item"].value) == (first["user_id"], first["item_id"])
    assert (defs["why"].user, defs["why"].item) == (first["user_id"], first["item_id"])


def test_report_is_the_views(run):
    defs, report_dir = run
    view = defs["view"]
    headline = json.loads((report_dir / "06_explain.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(view.headline) and defs["headline"] == view.headline
    html = (report_dir / "06_explain.html").read_text(encoding="utf-8")
    expected = view.report("synthetic-small", feature=defs["feature"].value, why=defs["why"]).to_html()
    assert unstamped(html) == unstamped(expected)
    assert f"<h3>{defs['why'].title}</h3>" in html and "<script" not in html
