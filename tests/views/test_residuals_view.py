"""workbench.views.residuals on synthetic-small: calibration split, residuals, segment means, worst segments."""

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from workbench.views.residuals import ResidualsView, residuals_run


@pytest.fixture(scope="module")
def view(shop):
    return ResidualsView(residuals_run(shop, n_candidates=50))


def test_candidates_are_scored_for_every_test_user(view):
    scored, n = view.scored, view.model.n_candidates
    test_users = set(view.run.test.interactions["user_id"])
    assert set(scored["user_id"]) == test_users
    assert scored.groupby("user_id").size().max() == n
    pd.testing.assert_frame_equal(scored, view.model.recommend(view.run.test_users, k=n))  # the run's lists
    train = view.run.train.interactions
    seen = pd.MultiIndex.from_frame(train[["user_id", "item_id"]])
    assert not pd.MultiIndex.from_frame(scored[["user_id", "item_id"]]).isin(seen).any()


def test_residuals_are_calibrated_on_the_other_users(view):
    scored, table, test = view.scored, view.table, view.run.test.interactions
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


def test_segment_means_match_a_direct_groupby(view):
    table, by_segment = view.table, view.by_segment
    # the synthetic shop has gender, region, age and category, price: no occupation, no genres
    assert view.segment_names == [
        "gender",
        "region",
        "age_band",
        "activity_band",
        "cold_warm",
        "popularity_band",
        "category",
        "price_band",
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


def test_worst_segments_and_calibration_curve(view):
    min_pairs = 200
    by_segment, worst = view.by_segment, view.worst(min_pairs)
    eligible = by_segment[by_segment["pairs"] >= min_pairs]
    assert worst["residual"].abs().iloc[0] == pytest.approx(eligible["residual"].abs().max())
    assert worst["residual"].abs().is_monotonic_decreasing and (worst["pairs"] >= min_pairs).all()
    curve, table = view.curve, view.table
    assert curve["pairs"].sum() == len(table)
    assert (curve["pairs"] * curve["observed"]).sum() == pytest.approx(table["observed"].sum())
    headline = view.headline(min_pairs)
    assert headline["pairs"] == len(table)
    assert headline["observed_rate"] == pytest.approx(table["observed"].mean())
    assert headline["worst_residual"] == pytest.approx(worst["residual"].iloc[0])
    assert "rating_rmse" not in headline and not view.rated  # the shop logs events, not ratings


def test_sections_follow_the_slider(view):
    min_pairs = 200
    keys = [section.key for section in view.sections()]
    assert keys == ["setup", "worst", "calibration", "segments", "ratings"]
    worst = view.worst_section(min_pairs)
    assert worst == view.section("worst")  # the notebook's default
    assert worst.title == f"Where the model is most wrong (segments with at least {min_pairs} pairs)"
    assert list(worst.parts[0].messages) == list(view.worst(min_pairs)["message"])
    assert view.worst_section(10**9).parts[0] == f"No segment has at least {10**9} pairs."
    # the slider changes the cards too: the worst residual is among the larger segments
    assert view.opening(50).parts[-1].values == view.headline(50) != view.headline(10**9)
    assert view.opening(10**9).parts[-1].values["worst_residual"] == 0.0
    segments = view.section("segments").parts
    assert len(segments) == len(view.segment_names) + 1 and segments[-1].frame is view.by_segment
    assert view.section("ratings").parts == (
        "Does not apply: the log has no ratings, so there is no rating to predict.",
    )
    html = view.report("shop", min_pairs=min_pairs).to_html()
    assert "<script" not in html
    assert [f"<h3>{section.title}</h3>" in html for section in view.sections()[1:]] == [True] * 4
    assert (
        "The re-ranker of notebooks 04 and 06 (ALS, EASE, item-neighbour and popularity candidates; a report fits "
        "it once for the three) over 50 candidates per test user (3 holdout folds; per-user 75/25 split (seed 42))"
        in html
    )
