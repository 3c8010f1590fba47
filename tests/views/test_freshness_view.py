"""workbench.views.freshness (notebook 09): the replay table, summary, drift and report agree with the package."""

import re

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.drift import drift_alerts, drift_table
from workbench.analysis.freshness import plan_replay
from workbench.data import Dataset
from workbench.errors import DataError
from workbench.views.freshness import freshness_note, freshness_report, freshness_view


@pytest.fixture(scope="module")
def view(shop):
    return freshness_view(shop, start_fraction=0.8, window_days=7, k=10)


def test_replay_covers_the_last_fifth_of_time_in_weekly_windows(view, shop):
    stamps = shop.interactions["timestamp"].to_numpy()
    cut = int(np.ceil(stamps.min() + 0.8 * (stamps.max() - stamps.min())))
    window = (stamps[stamps >= cut] - cut) // (7 * 86_400)
    freshness = view.freshness
    assert set(freshness["strategy"]) == {"frozen", "incremental", "refit"}
    for _, rows in freshness.groupby("strategy"):
        assert rows["n_events"].tolist() == np.bincount(window)[np.unique(window)].tolist()
    assert freshness[["ndcg", "hit_rate"]].apply(lambda c: c.between(0, 1).all()).all()
    assert view.replayed_events == len(window) and view.window == "7D"


def test_summary_and_drift_match_the_package(view, shop):
    summary, freshness = view.summary, view.freshness
    rows = freshness[freshness["strategy"] == "refit"]
    assert summary.loc["refit", "ndcg"] == pytest.approx(np.average(rows["ndcg"], weights=rows["n_users"]))
    expected = drift_table(shop, window="7D", start_fraction=0.8, quality=freshness)
    drift = view.drift
    assert drift["popularity_psi"].to_numpy() == pytest.approx(expected["popularity_psi"].to_numpy())
    assert drift["new_item_share"].to_numpy() == pytest.approx(expected["new_item_share"].to_numpy())
    assert len(view.alerts) == len(drift_alerts(expected))
    assert set(view.drift_charts) >= {"popularity_js", "popularity_psi", "new_user_share"}


def test_headline_and_report(view):
    headline = view.headline
    assert headline["ndcg_frozen"] == pytest.approx(view.summary.loc["frozen", "ndcg"])
    assert headline["windows"] == view.freshness["window"].nunique()
    html = view.report("synthetic-small").to_html()
    assert "Drift against the training period" in html and "<script" not in html
    assert "first 80% of time" in html and "windows of 7 days" in html


def test_a_log_without_timestamps_does_not_apply(shop):
    bare = Dataset.from_frames(shop.interactions[["user_id", "item_id"]])
    note = freshness_note(bare)
    assert "no timestamp column" in note and "\n" not in note and freshness_note(shop) == ""
    with pytest.raises(DataError, match="no timestamp column"):
        freshness_view(bare)
    lonely = Dataset.from_frames(pd.DataFrame({"user_id": [1], "item_id": [2]}))
    with pytest.raises(DataError):
        freshness_view(lonely)
    html = freshness_report(None, "bare", note=note).to_html()  # the page still says why
    assert "<h3>Replay</h3>" in html and note in html and html.count("<h3>") == 1


def test_the_report_of_a_view_is_its_page(view):
    stamp = re.compile(r"generated [^<]* by workbench")
    assert stamp.sub("", freshness_report(view, "x").to_html()) == stamp.sub("", view.report("x").to_html())


def test_the_replay_follows_the_size_rule_and_the_page_states_it(view, shop):
    plan = plan_replay(shop, start_fraction=0.8, window="7D")
    assert view.plan == plan
    refit = view.freshness[view.freshness["strategy"] == "refit"]
    refitted = refit["update_seconds"].to_numpy() > 0
    assert refitted.tolist() == ((refit["window"].to_numpy() + 1) % plan.refit_every == 0).tolist()
    assert (view.freshness["n_users"] <= plan.max_users).all()
    assert view.work == plan.describe() and plan.describe() in view.report("x").to_html()
