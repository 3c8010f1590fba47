"""workbench.views.audit (notebook 07): group means, intervals, tests, flags, popularity bias, exposure."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis.segments import user_segments
from workbench.data import Dataset
from workbench.errors import ConfigError
from workbench.report.sections import Chart, Warnings
from workbench.views.audit import audit_segments, audit_view
from workbench.views.common import standard_run


@pytest.fixture(scope="module")
def view(small_run, shop):
    segments = user_segments(shop, small_run.train)
    return audit_view(small_run, audit_segments(small_run, segments), metric="ndcg", threshold=0.1)


def test_segments_of_the_synthetic_shop(view, shop):
    assert view.segments == ["gender", "region", "age_band", "activity_band"]
    assert set(view.audits) == {(m, s) for m in ("popularity", "als") for s in view.segments}
    assert set(view.audit_charts) == set(view.segments)


def test_group_means_and_tests_match_a_direct_computation(view, shop):
    per_user = view.run.per_user["als"].set_index("user_id")
    assert set(per_user.index) == set(view.run.test.interactions["user_id"])
    gender = shop.users["gender"].reindex(per_user.index)
    expected = per_user["ndcg"].groupby(gender).agg(["mean", "size"])
    table = view.audit_table
    rows = table[(table["model"] == "als") & (table["segment"] == "gender")].set_index("group")
    assert rows["ndcg"].to_dict() == pytest.approx(expected["mean"].to_dict())
    assert rows["count"].to_dict() == expected["size"].to_dict()
    assert (table["lower"] <= table["ndcg"] + 1e-12).all() and (table["ndcg"] <= table["upper"] + 1e-12).all()
    samples = [group.to_numpy() for _, group in per_user["ndcg"].groupby(gender)]
    assert view.significance.loc[("als", "gender"), "ndcg"] == pytest.approx(stats.kruskal(*samples).pvalue)


def test_flags_follow_the_threshold(view):
    threshold, table = view.threshold, view.audit_table
    expected = 0
    for _, rows in table.groupby(["model", "segment"]):
        best = rows["ndcg"].max()
        expected += int(((best - rows["ndcg"]) / best > threshold).sum())
    flagged = view.flagged
    assert len(flagged) == expected
    assert ((flagged["best_value"] - flagged["value"]) / flagged["best_value"] > threshold).all()
    worst = view.worst
    assert len(worst) == flagged[["model", "segment"]].drop_duplicates().shape[0]
    largest = flagged.groupby(["model", "segment"])["gap"].max()
    assert worst.set_index(["model", "segment"])["gap"].to_dict() == largest.to_dict()
    assert view.section("flags").parts[0].messages == tuple(f"{r.model}: {r.message}" for r in worst.itertuples())
    headline = view.headline
    assert list(headline) == ["ndcg_als", "ndcg_popularity", "flags_als", "max_gap_als", "aplt_als", "coverage_als"]
    assert headline["flags_als"] == int((flagged["model"] == "als").sum())
    assert headline["ndcg_als"] == pytest.approx(view.run.per_user["als"]["ndcg"].mean())


def test_popularity_bias_by_hand(view):
    train = view.run.train.interactions
    counts = train["item_id"].value_counts()
    for name, recs in view.run.recs.items():
        bias = view.bias.loc[name]
        popularity = counts.reindex(recs["item_id"], fill_value=0).to_numpy()
        arp = pd.Series(popularity, index=recs.index).groupby(recs["user_id"]).mean().mean()
        assert bias["arp"] == pytest.approx(arp)
        assert bias["coverage"] == pytest.approx(recs["item_id"].nunique() / train["item_id"].nunique())
        head_cut = counts.sort_values(ascending=False).iloc[int(np.ceil(0.2 * len(counts))) - 1]
        tail = pd.Series(popularity < head_cut, index=recs.index)
        assert bias["aplt"] == pytest.approx(tail.groupby(recs["user_id"]).mean().mean())
    # ALS reaches further into the catalogue than the most-popular list
    assert view.bias.loc["als", "coverage"] > view.bias.loc["popularity", "coverage"]


def test_exposure_by_category_by_hand(view, shop):
    train = view.run.train.interactions
    category = shop.items["category"]
    assert view.attribute == "category" and view.exposure_note() == ""
    wide = view.exposure_wide
    train_share = category.reindex(train["item_id"]).value_counts(normalize=True)
    assert wide["train share"].to_dict() == pytest.approx(train_share.to_dict())
    for name, recs in view.run.recs.items():
        rec_share = category.reindex(recs["item_id"]).value_counts(normalize=True)
        assert wide[f"{name} share"].to_dict() == pytest.approx(rec_share.reindex(wide.index, fill_value=0).to_dict())


def test_the_page_is_its_sections_in_order(view):
    keys = ["setup", "overall", "flags", "segments", "popularity", "exposure", "details"]
    sections = view.sections()
    assert [section.key for section in sections] == keys
    assert [section.title for section in sections] == [
        None,
        "Overall",
        "Flagged gaps in ndcg: the largest per model and segment",
        "ndcg by segment",
        "Popularity bias",
        "Exposure by category",
        "Details",
    ]
    opening, metrics = view.section("setup").parts
    assert "per-user 75/25 split (seed 42)" in opening and "top 10 for" in opening and "**10%**" in opening
    assert metrics.values == view.headline and metrics.k == 10
    flags, smaller = view.section("flags").parts
    assert isinstance(flags, Warnings) and len(flags.messages) == len(view.worst) > 0
    assert smaller == f"... and {len(view.flagged) - len(view.worst)} smaller flagged gaps (details below)."
    charts = [part.chart for part in view.section("segments").parts if isinstance(part, Chart)]
    assert charts == list(view.audit_charts.values())
    assert view.section("segments").parts[-1].frame is view.significance
    flagged, groups = view.section("details").parts
    assert flagged.frame.equals(view.flagged[flagged.frame.columns]) and groups.frame is view.audit_table
    assert groups.caption == "Group means with 95% bootstrap intervals; small: fewer than 10 users."
    html = view.report("synthetic-small").to_html()
    for title in filter(None, (section.title for section in sections)):
        assert f"<h3>{title}</h3>" in html
    assert html.index("<h3>Overall</h3>") < html.index("<h3>Details</h3>") and "<script" not in html


def test_the_metric_and_threshold_change_the_flags_section(view):
    strict = audit_view(view.run, view.audits, metric="recall", threshold=0.9)
    assert strict.section("flags").title == "Flagged gaps in recall: the largest per model and segment"
    assert strict.flagged.empty and strict.section("flags").parts == ("No recall gap above 90%.",)
    assert strict.section("segments").title == "recall by segment"
    assert "**recall**" in strict.section("setup").parts[0] and "**90%**" in strict.section("setup").parts[0]


def test_without_demographics_or_item_attributes_the_sections_say_so(shop):
    bare = Dataset.from_frames(shop.interactions[["user_id", "item_id"]])
    run = standard_run(bare, k=5)
    segments = user_segments(bare, run.train)
    assert list(segments.columns) == ["activity_band"]  # no demographics: only the activity band is audited
    view = audit_view(run, audit_segments(run, segments), metric="recall", threshold=0.2)
    assert view.attribute is None and view.exposure_chart is None and view.exposure_wide.empty
    assert "no genres, category or department column" in view.exposure_note()
    exposure = view.section("exposure")
    assert (exposure.title, exposure.parts) == ("Exposure", (view.exposure_note(),))
    assert "Exposure does not apply" in view.report("bare").to_html()
    with pytest.raises(ConfigError, match="unknown metric"):
        audit_view(run, view.audits, metric="rmse")
    with pytest.raises(ConfigError, match="focus"):
        audit_view(run, view.audits, focus="tuned")
