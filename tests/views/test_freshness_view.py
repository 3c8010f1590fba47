"""workbench.views.freshness (notebook 09): the replay table, summary, drift and report agree with the package."""

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from workbench.analysis.drift import drift_alerts, drift_table
from workbench.analysis.freshness import plan_replay
from workbench.data import Dataset
from workbench.errors import DataError
from workbench.report.sections import Warnings
from workbench.views.freshness import (
    FreshnessView,
    NoReplay,
    freshness_note,
    freshness_page,
    freshness_report,
    freshness_view,
)

#: The time stamp of a page, which two renderings do not share.
STAMP = re.compile(r"generated [^<]* by workbench")


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
    page = freshness_page(bare)  # the page still says why, in the same sections
    assert isinstance(page, NoReplay) and page.headline == {}
    assert [(section.key, section.title) for section in page.sections()] == [
        ("setup", None),
        ("strategies", "Strategies"),
        ("windows", "Quality and update cost per window"),
        ("drift", "Drift against the training period"),
    ]
    assert page.section("setup").parts == (note,)
    html = freshness_report(None, "bare", note=note).to_html()
    assert STAMP.sub("", html) == STAMP.sub("", page.report("bare").to_html())
    assert note in html and html.count("<h3>") == 3 and "<h3>Drift against the training period</h3>" in html


def test_the_page_is_its_sections_in_order(view, shop):
    sections = view.sections()
    assert [(section.key, section.title) for section in sections] == [
        ("setup", None),
        ("strategies", "Strategies"),
        ("windows", "Quality and update cost per window"),
        ("drift", "Drift against the training period"),
    ]
    opening, metrics = sections[0].parts
    assert "first 80% of time" in opening and f"**{view.replayed_events:,}** events" in opening
    assert metrics.values == view.headline and metrics.k == 10
    work, summary = sections[1].parts
    assert work == view.work and summary.frame is view.summary
    *charts, windows = sections[2].parts
    assert [chart.chart.to_json() for chart in charts] == [chart.to_json() for chart in view.charts.values()]
    assert windows.frame is view.freshness
    alerts, drift, *charts = sections[3].parts
    assert view.alerts.empty and alerts == "No drift signal above its alert threshold."
    drifting = replace(view, drift=view.drift.assign(new_item_share=1.0))  # every window above the threshold
    listed = drifting.section("drift").parts[0]
    assert isinstance(listed, Warnings) and len(listed.messages) == len(view.drift)
    assert list(listed.messages) == drifting.alerts["message"].tolist()
    assert drift.frame is view.drift
    assert [chart.chart.to_json() for chart in charts] == [chart.to_json() for chart in view.drift_charts.values()]
    assert isinstance(freshness_page(shop), FreshnessView)


def test_the_report_of_a_view_is_its_page(view):
    assert STAMP.sub("", freshness_report(view, "x").to_html()) == STAMP.sub("", view.report("x").to_html())


def test_the_replay_follows_the_size_rule_and_the_page_states_it(view, shop):
    plan = plan_replay(shop, start_fraction=0.8, window="7D")
    assert view.plan == plan
    refit = view.freshness[view.freshness["strategy"] == "refit"]
    refitted = refit["update_seconds"].to_numpy() > 0
    assert refitted.tolist() == ((refit["window"].to_numpy() + 1) % plan.refit_every == 0).tolist()
    assert (view.freshness["n_users"] <= plan.max_users).all()
    assert view.work == plan.describe() and plan.describe() in view.report("x").to_html()
