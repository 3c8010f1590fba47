"""notebooks/05_residuals.py on synthetic-small: calibration split, residuals, segment means, worst segments."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression
from test_notebooks import run_in_process, small_log


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as monkeypatch:
        defs = run_in_process("05_residuals", monkeypatch, report_dir=report_dir)
    return defs, report_dir


def test_candidates_are_scored_for_every_test_user(run):
    defs, _ = run
    scored, n = defs["scored"], defs["n_candidates"].value
    test_users = set(defs["test"].interactions["user_id"])
    assert set(scored["user_id"]) == test_users
    assert scored.groupby("user_id").size().max() == n
    train = defs["train"].interactions
    seen = pd.MultiIndex.from_frame(train[["user_id", "item_id"]])
    assert not pd.MultiIndex.from_frame(scored[["user_id", "item_id"]]).isin(seen).any()


def test_residuals_are_calibrated_on_the_other_users(run):
    defs, _ = run
    scored, table, test = defs["scored"], defs["table"], defs["test"].interactions
    report_users = set(table["user_id"])
    n_users = scored["user_id"].nunique()
    assert len(report_users) == n_users - round(0.5 * n_users)
    assert len(table) == scored["user_id"].isin(report_users).sum()
    truth = pd.MultiIndex.from_frame(test[["user_id", "item_id"]])
    calibration = scored[~scored["user_id"].isin(report_users)]
    observed = pd.MultiIndex.from_frame(calibration[["user_id", "item_id"]]).isin(truth).astype(float)
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(calibration["score"], observed)
    np.testing.assert_allclose(table["probability"], iso.predict(table["score"]))
    expected = pd.MultiIndex.from_frame(table[["user_id", "item_id"]]).isin(truth).astype(float)
    np.testing.assert_array_equal(table["observed"], expected)
    np.testing.assert_allclose(table["residual"], table["observed"] - table["probability"])


def test_segment_means_match_a_direct_groupby(run):
    defs, _ = run
    table, by_segment = defs["table"], defs["by_segment"]
    # the synthetic shop has gender, region, age and category, price: no occupation, no genres
    assert defs["segment_names"] == [
        "gender", "region", "age_band", "activity_band", "cold_warm", "popularity_band", "category", "price_band"
    ]
    for name in ("gender", "category"):
        rows = by_segment[by_segment["segment"] == name].set_index("group")
        expected = table.groupby(name)["residual"].agg(["mean", "size"])
        assert rows["residual"].to_dict() == pytest.approx(expected["mean"].to_dict())
        assert rows["pairs"].to_dict() == expected["size"].to_dict()
        assert rows["users"].to_dict() == table.groupby(name)["user_id"].nunique().to_dict()
    assert (by_segment["lower"] <= by_segment["residual"] + 1e-12).all()
    assert (by_segment["residual"] <= by_segment["upper"] + 1e-12).all()
    # every report user is warm on a per-user split of the shop's users
    assert by_segment.loc[by_segment["segment"] == "cold_warm", "group"].tolist() == ["warm"]


def test_worst_segments_and_calibration_curve(run):
    defs, report_dir = run
    by_segment, worst, min_pairs = defs["by_segment"], defs["worst"], defs["min_pairs"].value
    eligible = by_segment[by_segment["pairs"] >= min_pairs]
    assert worst["residual"].abs().iloc[0] == pytest.approx(eligible["residual"].abs().max())
    assert worst["residual"].abs().is_monotonic_decreasing and (worst["pairs"] >= min_pairs).all()
    curve, table = defs["curve"], defs["table"]
    assert curve["pairs"].sum() == len(table)
    assert (curve["pairs"] * curve["observed"]).sum() == pytest.approx(table["observed"].sum())
    headline = json.loads((report_dir / "05_residuals.json").read_text(encoding="utf-8"))["headline"]
    assert headline["pairs"] == len(table)
    assert headline["observed_rate"] == pytest.approx(table["observed"].mean())
    assert headline["worst_residual"] == pytest.approx(worst["residual"].iloc[0])
    assert "rating_rmse" not in headline and not defs["rated"]  # the shop logs events, not ratings
    assert len(small_log()) == len(defs["train"].interactions) + len(defs["test"].interactions)
    html = (report_dir / "05_residuals.html").read_text(encoding="utf-8")
    assert "<script" not in html and "Where the model is most wrong" in html
