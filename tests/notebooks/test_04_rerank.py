"""notebooks/04_rerank.py on synthetic-small: its values are workbench.views.rerank's (tested in
tests/views/test_rerank_view.py), built from its controls."""

import json

import pytest
from test_notebooks import run_in_process, unstamped

from workbench.views.rerank import BuyAgainView, RerankView


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("04_rerank", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view, buy_again = defs["view"], defs["buy_again"]
    assert isinstance(view, RerankView) and isinstance(buy_again, BuyAgainView)
    assert (view.run.k, view.model.n_candidates, view.model.n_folds) == (
        defs["k"].value,
        defs["n_candidates"].value,
        defs["n_folds"].value,
    )
    assert (view.run.seed, view.run.ratio) == (42, 0.75)
    assert buy_again.study is not None and buy_again.study.k == defs["k"].value  # the small shop buys again
    # on the small shop the re-ranker beats both single models
    scores = view.run.scores["ndcg"]
    assert scores["reranker"] > scores["als"] > scores["popularity"] and view.paired.ci_low > 0


def test_report_is_the_views(run):
    defs, report_dir = run
    view = defs["view"]
    headline = json.loads((report_dir / "04_rerank.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(view.headline) and defs["headline"] == view.headline
    html = (report_dir / "04_rerank.html").read_text(encoding="utf-8")
    assert unstamped(html) == unstamped(view.report("synthetic-small", defs["buy_again"]).to_html())
    assert "Buy again vs discover" in html and view.verdict in html
