"""Notebook 09_freshness on synthetic-small: the replay table, summary, drift and report agree with the package."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from workbench.analysis.drift import drift_alerts, drift_table
from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.notebooks import notebooks_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_DATA", "synthetic-small")
        patch.setenv("WORKBENCH_REPORT_DIR", str(out))
        spec = importlib.util.spec_from_file_location("notebook_09_freshness", notebooks_dir() / "09_freshness.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _, defs = module.app.run()
    return defs, out


def test_replay_covers_the_last_fifth_of_time_in_weekly_windows(run):
    defs, _ = run
    log = make_ecommerce(**SIZES["small"], seed=0).interactions
    stamps = log["timestamp"].to_numpy()
    cut = int(np.ceil(stamps.min() + 0.8 * (stamps.max() - stamps.min())))
    window = (stamps[stamps >= cut] - cut) // (7 * 86_400)
    freshness = defs["freshness"]
    assert set(freshness["strategy"]) == {"frozen", "incremental", "refit"}
    for _, rows in freshness.groupby("strategy"):
        assert rows["n_events"].tolist() == np.bincount(window)[np.unique(window)].tolist()
    assert freshness[["ndcg", "hit_rate"]].apply(lambda c: c.between(0, 1).all()).all()


def test_summary_and_drift_match_the_package(run):
    defs, _ = run
    summary, freshness = defs["summary"], defs["freshness"]
    rows = freshness[freshness["strategy"] == "refit"]
    assert summary.loc["refit", "ndcg"] == pytest.approx(np.average(rows["ndcg"], weights=rows["n_users"]))
    ds = make_ecommerce(**SIZES["small"], seed=0)
    expected = drift_table(ds, window="7D", start_fraction=0.8, quality=freshness)
    drift = defs["drift"]
    assert drift["popularity_psi"].to_numpy() == pytest.approx(expected["popularity_psi"].to_numpy())
    assert drift["new_item_share"].to_numpy() == pytest.approx(expected["new_item_share"].to_numpy())
    assert len(defs["alerts"]) == len(drift_alerts(expected))
    assert set(defs["drift_charts"]) >= {"popularity_js", "popularity_psi", "new_user_share"}


def test_report_is_published(run):
    defs, out = run
    headline = json.loads((out / "09_freshness.json").read_text(encoding="utf-8"))["headline"]
    assert headline["ndcg_frozen"] == pytest.approx(defs["summary"].loc["frozen", "ndcg"])
    assert headline["windows"] == defs["freshness"]["window"].nunique()
    html = (out / "09_freshness.html").read_text(encoding="utf-8")
    assert "Drift against the training period" in html and "<script" not in html
