"""Charts: valid Vega-Lite that renders, aggregated data, titles, axis labels and error bars."""

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from workbench.analysis.audit import audit
from workbench.data import Dataset
from workbench.data.profile import profile
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError, DataError
from workbench.report.charts import (
    HEIGHT,
    MAX_ROWS,
    WIDTH,
    audit_comparison_chart,
    bar_chart,
    exposure_chart,
    line_chart,
    popularity_bias_chart,
    profile_charts,
    selection_chart,
)


def _rows(chart) -> int:
    spec = chart.to_dict()
    return sum(len(v) for v in spec.get("datasets", {}).values())


def _layers(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec.get("layer", [spec])


def test_profile_charts_render_and_are_small():
    ds = make_ecommerce(300, 200, 5_000, seed=0)
    charts = profile_charts(profile(ds))
    assert set(charts) == {
        "user_activity",
        "item_popularity",
        "activity_over_time",
        "value_mix",
        "demographics_age",
        "demographics_gender",
        "demographics_region",
    }
    for name, chart in charts.items():
        spec = chart.to_dict()
        assert spec["title"] and 0 < _rows(chart) < MAX_ROWS, name
        assert vlc.vegalite_to_svg(spec).lstrip().startswith("<svg"), name
        for layer in _layers(chart):
            assert layer["encoding"]["x"]["title"] and layer["encoding"]["y"]["title"], name
    assert charts["user_activity"].to_dict()["encoding"]["x"]["scale"]["type"] == "log"
    assert charts["item_popularity"].to_dict()["encoding"]["y"]["scale"]["type"] == "log"


def test_profile_charts_skip_empty_tables():
    charts = profile_charts(profile(Dataset.from_frames(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1]}))))
    assert set(charts) == {"user_activity", "item_popularity"}


def test_bar_chart_keeps_order_and_draws_error_bars():
    frame = pd.DataFrame(
        {"group": ["b", "a", "c"], "ndcg": [0.2, 0.3, 0.1], "lo": [0.1, 0.2, 0.0], "hi": [0.3, 0.4, 0.2]}
    )
    chart = bar_chart(frame, "group", "ndcg", title="nDCG by group", error_low="lo", error_high="hi")
    bars, rules = _layers(chart)
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["sort"] == ["b", "a", "c"]
    assert rules["mark"]["type"] == "rule" and rules["encoding"]["y2"]["field"] == "hi"
    assert bars["encoding"]["y"]["title"] == "Ndcg" and chart.to_dict()["title"] == "nDCG by group"
    assert chart.to_dict()["width"] == WIDTH and chart.to_dict()["height"] == HEIGHT
    plain = bar_chart(frame, "group", "ndcg", title="plain")
    assert len(_layers(plain)) == 1 and isinstance(plain, alt.LayerChart)
    vlc.vegalite_to_svg(chart.to_dict())
    assert frame.columns.tolist() == ["group", "ndcg", "lo", "hi"]


def test_line_chart_types_and_colors():
    frame = pd.DataFrame(
        {"day": pd.date_range("2024-01-01", periods=4).repeat(2), "model": ["a", "b"] * 4, "hits": range(8)}
    )
    spec = line_chart(frame, "day", "hits", color="model", title="Hits").to_dict()
    assert spec["encoding"]["x"]["type"] == "temporal" and spec["encoding"]["color"]["field"] == "model"
    spec = line_chart(pd.DataFrame({"k": [1, 5], "r": [0.1, 0.2]}), "k", "r", title="Recall").to_dict()
    assert spec["encoding"]["x"]["type"] == "quantitative" and "color" not in spec["encoding"]


def test_helpers_reject_bad_input():
    frame = pd.DataFrame({"x": ["a"], "y": [1.0]})
    with pytest.raises(ConfigError, match="column 'z'"):
        bar_chart(frame, "x", "z", title="t")
    with pytest.raises(ConfigError, match="both error_low and error_high"):
        bar_chart(frame, "x", "y", title="t", error_low="y")
    with pytest.raises(ConfigError, match="aggregate"):
        line_chart(pd.DataFrame({"x": range(MAX_ROWS + 1), "y": 0}), "x", "y", title="t")


def test_selection_chart():
    selection = pd.DataFrame(
        {"n_clusters": [2, 3], "ndcg": [0.31, 0.33], "silhouette": [0.4, 0.35], "bic": [120.0, 110.0]}
    )
    chart = selection_chart(selection)
    assert isinstance(chart, alt.Chart)
    assert len(chart.data) == 6  # 2 candidates x 3 measures
    assert chart.to_dict()["encoding"]["row"]["field"] == "measure"
    assert vlc.vegalite_to_svg(chart.to_json()).startswith("<svg")
    with pytest.raises(DataError, match="'bic' is missing"):
        selection_chart(selection.drop(columns="bic"))


def test_audit_bias_and_exposure_charts_follow_the_models_given():
    per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.0, 1.0, 0.5, 0.5]})
    gender = pd.Series(["F", "F", "M", "M"], index=[1, 2, 3, 4], name="gender")
    result = audit(per_user, gender, n_boot=20)
    chart = audit_comparison_chart({"a": result, "b": result, "c": result}, "ndcg")
    assert isinstance(chart, alt.HConcatChart) and len(chart.hconcat) == 3
    assert chart.hconcat[2].title.startswith("c: ndcg by gender")
    bias = pd.DataFrame({"arp": [9.0, 4.0], "aplt": [0.0, 0.2]}, index=["popularity", "als"])
    spec = popularity_bias_chart(bias, k=5).to_dict()
    assert spec["title"] == "Popularity bias of the top 5" and spec["encoding"]["color"]["sort"] == [
        "popularity",
        "als",
    ]
    table = pd.DataFrame(
        {
            "category": ["x", "y", "x", "y"],
            "model": ["p", "p", "q", "q"],
            "rec_share": [0.5] * 4,
            "train_share": [0.4, 0.6, 0.4, 0.6],
            "ratio": [1.25, 0.8, 1.25, 0.8],
        }
    )
    bars, parity = exposure_chart(table, "category", k=5).to_dict()["layer"]
    assert bars["encoding"]["xOffset"]["sort"] == ["p", "q"] and parity["mark"]["type"] == "rule"
    with pytest.raises(ConfigError, match="'ratio'"):
        exposure_chart(table.drop(columns="ratio"), "category", k=5)
