"""notebooks/08_experiments.py on synthetic-small: its values are workbench.views.experiments's
(tested in tests/views/test_experiments_view.py)."""

import json

import pytest
from test_notebooks import (
    run_in_process,
    unstamped,
)  # tests/notebooks is on sys.path (pytest's rootdir-relative import)

from workbench.analysis.experiment import peeking_curve
from workbench.views.experiments import ExperimentsView, bandit_study, experiments_report, online_plan


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    report_dir = tmp_path_factory.mktemp("reports")
    try:
        yield run_in_process("08_experiments", monkeypatch, report_dir=report_dir), report_dir
    finally:
        monkeypatch.undo()


def test_the_notebook_shows_the_view_of_its_controls(run):
    defs, _ = run
    view = defs["view"]
    assert isinstance(view, ExperimentsView) and view.run is defs["base"] and view.tuned is defs["tuned"]
    assert view.run.k == defs["k"].value and (view.run.seed, view.run.ratio) == (42, 0.75)
    assert view.trials == defs["n_trials"].value == 8  # the small-data default
    plan = defs["plan"]
    assert plan == online_plan(
        defs["baseline"].value,
        defs["lift"].value,
        target_power=defs["target_power"].value,
        n_per_arm=defs["n_per_arm"].value,
    )
    assert defs["peeking"].equals(peeking_curve(seed=0))
    bandits = defs["bandits"]
    assert bandits.bandits.equals(bandit_study(view, n_steps=defs["n_steps"].value).bandits)


def test_tracking_is_off_by_default_and_the_report_is_the_views(run):
    defs, report_dir = run
    assert defs["track"].value is False and defs["run_id"] is None
    view = defs["view"]
    headline = json.loads((report_dir / "08_experiments.json").read_text(encoding="utf-8"))["headline"]
    assert headline == pytest.approx(view.headline) and defs["headline"] == view.headline
    assert headline["trials"] == 8 and headline["test_users"] == len(view.run.test_users)
    html = (report_dir / "08_experiments.html").read_text(encoding="utf-8")
    expected = experiments_report(view, defs["plan"], defs["peeking"], defs["bandits"], "synthetic-small")
    assert unstamped(html) == unstamped(expected.to_html())
    assert "<script" not in html and "identical" in html
