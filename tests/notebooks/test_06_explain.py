"""notebooks/06_explain.py on synthetic-small: additivity, importance, dependence, waterfall, SHAP by activity band."""

import json

import numpy as np
import pandas as pd
import pytest
from test_notebooks import run_in_process

IDS = ["user_id", "item_id"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("06_explain", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_contributions_add_up_to_the_score(run):
    defs, report_dir = run
    contrib, recs = defs["contrib"], defs["recs"]
    k = defs["k"].value
    assert len(contrib) == len(defs["test_users"]) * k
    assert contrib[IDS].equals(recs[IDS])
    shap_columns = [c for c in contrib.columns if c not in IDS]
    assert "base_value" in shap_columns and "als_prior" in shap_columns
    total = contrib[shap_columns].to_numpy().sum(axis=1)
    error = np.abs(total - recs["score"].to_numpy())
    assert error.max() < 1e-4
    assert defs["additivity_error"] == pytest.approx(error.max(), abs=1e-12)
    # the explained model is the fitted one: its recommend gives the same scores
    again = defs["model"].recommend(defs["test_users"], k=k)
    np.testing.assert_allclose(again["score"], recs["score"])
    headline = json.loads((report_dir / "06_explain.json").read_text(encoding="utf-8"))["headline"]
    assert headline["recommendations_explained"] == len(contrib)
    assert "<script" not in (report_dir / "06_explain.html").read_text(encoding="utf-8")


def test_importance_is_mean_absolute_contribution(run):
    defs, _ = run
    contrib, importance = defs["contrib"], defs["importance"]
    features = [c for c in contrib.columns if c not in (*IDS, "base_value")]
    assert sorted(importance["feature"]) == sorted(features)
    expected = {f: float(np.mean(np.abs(contrib[f].to_numpy()))) for f in features}
    assert importance.set_index("feature")["mean_abs_shap"].to_dict() == pytest.approx(expected)
    assert importance["mean_abs_shap"].is_monotonic_decreasing
    assert importance["mean_abs_shap"].iloc[0] > 0  # the ranker learned something
    assert len(defs["importance_chart"].data) == min(15, len(features))


def test_dependence_and_dropdowns(run):
    defs, _ = run
    feature, values, contrib = defs["feature"].value, defs["values"], defs["contrib"]
    assert feature == next(f for f in defs["importance"]["feature"] if f in values.columns)
    assert values[IDS].equals(contrib[IDS])
    data = defs["dependence"].data
    assert len(data) == len(contrib) <= 5000
    np.testing.assert_allclose(data["shap"], contrib[feature])
    np.testing.assert_allclose(data["value"], values[feature].astype(float))
    assert len(defs["beeswarm"].data) <= 5000


def test_waterfall_ends_at_the_recommended_score(run):
    defs, report_dir = run
    user, item, recs = defs["user"].value, defs["item"].value, defs["recs"]
    first = recs.iloc[0]
    assert (user, item) == (first["user_id"], first["item_id"])  # defaults: first user, top item
    row = defs["why_row"]
    assert (row["user_id"], row["item_id"]) == (user, item)
    name = defs["ds"].items.loc[item, "name"]
    assert defs["why_name"] == f"{name} (item {item})"
    assert defs["waterfall"].to_dict()["title"]["text"] == f"Why {name} (item {item}) for user {user}"
    frame = defs["waterfall"].data
    assert frame["start"].iloc[0] == pytest.approx(row["base_value"])
    assert frame["end"].iloc[-1] == pytest.approx(first["score"], abs=1e-4)
    # the report's section and the chart both name the item
    text = (report_dir / "06_explain.html").read_text(encoding="utf-8")
    why = f"Why {name} (item {item}) for user {user}"
    assert f"<h3>{why}</h3>" in text and f">{why}</text>" in text


def test_shap_by_activity_band(run):
    defs, _ = run
    contrib, by_segment, bands = defs["contrib"], defs["by_segment"], defs["bands"]
    counts = defs["train"].interactions["user_id"].value_counts()
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
    table = defs["segment_table"]
    assert list(table.columns) == [b for b in bands.cat.categories if b in set(by_segment["segment"])]
    pivot = by_segment.pivot(index="feature", columns="segment", values="mean_abs_shap")
    pd.testing.assert_frame_equal(
        table.rename_axis(columns=None), pivot.loc[table.index, table.columns].rename_axis(columns=None)
    )
    assert len(defs["segment_chart"].data) == 8 * len(table.columns)
