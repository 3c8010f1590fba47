"""workbench.views.explain on synthetic-small: additivity, importance, dependence, waterfall, SHAP by
activity band."""

import re
from html import unescape

import numpy as np
import pandas as pd
import pytest

from workbench.views.explain import ExplainView

IDS = ["user_id", "item_id"]


@pytest.fixture(scope="module")
def view(rerank_small):
    return ExplainView(rerank_small)


def test_contributions_add_up_to_the_score(view):
    contrib, recs = view.contrib, view.recs
    assert len(contrib) == len(view.run.test_users) * view.run.k
    assert contrib[IDS].equals(recs[IDS])
    shap_columns = [c for c in contrib.columns if c not in IDS]
    assert "base_value" in shap_columns and "als_prior" in shap_columns
    error = np.abs(contrib[shap_columns].to_numpy().sum(axis=1) - recs["score"].to_numpy())
    assert error.max() < 1e-4
    assert view.additivity_error == pytest.approx(error.max(), abs=1e-12)
    # the explained model is the fitted one: its recommend gives the same scores
    again = view.model.recommend(view.run.test_users, k=view.run.k)
    np.testing.assert_allclose(again["score"], recs["score"])
    assert view.headline["recommendations_explained"] == len(contrib)


def test_importance_is_mean_absolute_contribution(view):
    contrib, importance = view.contrib, view.importance
    features = [c for c in contrib.columns if c not in (*IDS, "base_value")]
    assert sorted(importance["feature"]) == sorted(features)
    expected = {f: float(np.mean(np.abs(contrib[f].to_numpy()))) for f in features}
    assert importance.set_index("feature")["mean_abs_shap"].to_dict() == pytest.approx(expected)
    assert importance["mean_abs_shap"].is_monotonic_decreasing
    assert importance["mean_abs_shap"].iloc[0] > 0  # the ranker learned something
    assert len(view.importance_chart.data) == min(15, len(features))


def test_dependence_of_each_feature(view):
    values, contrib = view.values, view.contrib
    assert view.features[0] == next(f for f in view.importance["feature"] if f in values.columns)
    assert values[IDS].equals(contrib[IDS])
    feature = view.features[0]
    data = view.dependence(feature).data
    assert len(data) == len(contrib) <= 5000
    np.testing.assert_allclose(data["shap"], contrib[feature])
    np.testing.assert_allclose(data["value"], values[feature].astype(float))
    assert len(view.beeswarm.data) <= 5000


def test_waterfall_ends_at_the_recommended_score(view):
    first = view.recs.iloc[0]
    user = view.users[0]
    items = view.items_of(user)
    assert user == first["user_id"] and next(iter(items.values())) == first["item_id"]
    assert list(items)[0].startswith("1. ")
    why = view.why(user, first["item_id"])
    assert (why.row["user_id"], why.row["item_id"]) == (user, first["item_id"])
    name = view.run.ds.items.loc[first["item_id"], "name"]
    assert why.name == f"{name} (item {first['item_id']})" and why.title == f"Why {why.name} for user {user}"
    assert why.chart.to_dict()["title"]["text"] == why.title
    frame = why.chart.data
    assert frame["start"].iloc[0] == pytest.approx(why.row["base_value"])
    assert frame["end"].iloc[-1] == pytest.approx(first["score"], abs=1e-4)
    text = view.report("shop", feature=view.features[0], why=why).to_html()
    assert f"<h3>{why.title}</h3>" in text and f">{why.title}</text>" in text  # the section and the chart


def test_shap_by_activity_band(view):
    contrib, by_segment, bands = view.contrib, view.by_segment, view.bands
    counts = view.run.train.interactions["user_id"].value_counts()
    # each band label names the range of training interactions its users have
    for user, band in bands.items():
        low, _, high = str(band).rstrip("+").partition("-")
        assert int(low) <= counts[user] and (str(band).endswith("+") or counts[user] <= int(high or low))
    label = bands.reindex(contrib["user_id"]).astype(str).to_numpy()
    for segment in by_segment["segment"].unique():
        rows = contrib[label == str(segment)]
        got = by_segment[by_segment["segment"] == segment].set_index("feature")
        for feature_name in got.index:
            assert got.loc[feature_name, "mean_abs_shap"] == pytest.approx(np.abs(rows[feature_name]).mean())
        assert (got["n_rows"] == len(rows)).all()
        assert got["share"].sum() == pytest.approx(1.0)
    table = view.segment_table
    assert list(table.columns) == [b for b in bands.cat.categories if b in set(by_segment["segment"])]
    pivot = by_segment.pivot(index="feature", columns="segment", values="mean_abs_shap")
    pd.testing.assert_frame_equal(
        table.rename_axis(columns=None), pivot.loc[table.index, table.columns].rename_axis(columns=None)
    )
    chart = view.segment_chart.to_dict()
    assert len(view.segment_chart.data) == 8 * len(table.columns)
    assert chart["encoding"]["xOffset"]["sort"] == [str(b) for b in table.columns]  # light to heavy


def test_sections_follow_the_pickers(view):
    assert [section.key for section in view.sections()] == ["setup", "importance", "dependence", "why", "bands"]
    # the defaults are the notebook's first choices: the most important feature, the first user's top item
    first = view.recs.iloc[0]
    assert view.section("dependence").title == f"Dependence: {view.features[0]}"
    assert view.section("why").title == view.why(first["user_id"], first["item_id"]).title
    feature, user = view.features[-1], view.users[1]
    why = view.why(user, list(view.items_of(user).values())[2])
    dependence = view.dependence_section(feature)
    assert dependence.title == f"Dependence: {feature}"
    np.testing.assert_allclose(dependence.parts[0].chart.data["shap"], view.contrib[feature])
    assert view.why_section(why).title == why.title and view.why_section(why).parts[0].chart is why.chart
    opening = view.section("setup").parts
    assert opening[1].startswith(f"Additivity holds: over **{len(view.contrib):,}** recommendations")
    assert opening[-1].values == view.headline
    html = view.report("shop", feature=feature, why=why).to_html()
    headings = [unescape(heading) for heading in re.findall(r"<h3>([^<]*)</h3>", html)]
    assert headings == [section.title for section in view.sections(feature, why)[1:]]
    assert headings[1:3] == [f"Dependence: {feature}", why.title]
