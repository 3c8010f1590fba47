"""Residual analysis: calibration without leakage, known-answer aggregation, cluster bootstrap, rating RMSE."""

import math

import numpy as np
import pandas as pd
import pytest
from reference import residual_pairs
from sklearn.calibration import calibration_curve as sklearn_calibration_curve
from sklearn.isotonic import IsotonicRegression

from workbench.analysis.residuals import (
    calibration_curve,
    rating_predictions,
    rating_residuals,
    residual_table,
    residuals_by_segment,
    worst_segments,
)
from workbench.analysis.segments import pair_segments
from workbench.analysis.stats import MISSING, by_group
from workbench.data.dataset import Dataset
from workbench.errors import ConfigError, DataError


def test_known_answer_aggregation():
    table = residual_pairs()
    before = table.copy()
    result = residuals_by_segment(table, ["gender", "genres"], n_boot=200, seed=0).set_index(["segment", "group"])
    pd.testing.assert_frame_equal(table, before)  # input untouched
    assert result.loc[("gender", "F"), "residual"] == pytest.approx(0.2)
    assert result.loc[("gender", "F"), "predicted"] == pytest.approx(0.3)
    assert result.loc[("gender", "F"), "observed"] == pytest.approx(0.5)
    assert result.loc[("gender", "M"), "residual"] == pytest.approx(0.2)
    assert result.loc[("gender", MISSING), ["pairs", "users"]].tolist() == [1, 1]
    # the first pair has two genres and counts in both
    assert result.loc[("genres", "Action"), "residual"] == pytest.approx((0.5 - 0.2) / 2)
    assert result.loc[("genres", "Comedy"), "residual"] == pytest.approx((0.5 + 0.6) / 2)
    assert result.loc[("genres", "Drama"), ["pairs", "users"]].tolist() == [2, 2]
    assert result.loc[("genres", "Drama"), "residual"] == pytest.approx(-0.2)
    # a group of a single user has a degenerate interval at its mean
    single = result.loc[("gender", MISSING)]
    assert single["lower"] == pytest.approx(single["residual"]) == pytest.approx(single["upper"])


def test_bootstrap_resamples_users_not_pairs():
    # two users, each with residuals +1 and -1: every user mean is 0, so resampling users gives exactly 0,
    # while resampling pairs independently would spread widely
    table = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2],
            "item_id": [1, 2, 1, 2],
            "probability": 0.5,
            "observed": [1.0, 0.0, 1.0, 0.0],
            "residual": [0.5, -0.5, 0.5, -0.5],
            "segment": "all",
        }
    )
    row = residuals_by_segment(table, "segment", n_boot=300, seed=1).iloc[0]
    assert row["residual"] == 0 and row["lower"] == pytest.approx(0) and row["upper"] == pytest.approx(0)


def test_intervals_contain_the_mean_and_are_reproducible():
    rng = np.random.default_rng(3)
    n = 3000
    table = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, n),
            "item_id": np.arange(n),
            "probability": rng.uniform(0, 0.3, n),
            "observed": (rng.uniform(size=n) < 0.2).astype(float),
            "band": rng.choice(["x", "y", "z"], n),
        }
    )
    table["residual"] = table["observed"] - table["probability"]
    first = residuals_by_segment(table, "band", n_boot=400, seed=7)
    again = residuals_by_segment(table, "band", n_boot=400, seed=7)
    other = residuals_by_segment(table, "band", n_boot=400, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["lower"], other["lower"])
    assert (first["lower"] <= first["residual"]).all() and (first["residual"] <= first["upper"]).all()
    assert (first["upper"] - first["lower"] > 0).all()
    expected = table.groupby("band")["residual"].mean()
    assert first.set_index("group")["residual"].to_dict() == pytest.approx(expected.to_dict())


def synthetic_shop(n_users=1200, n_items=40, *, seed=0, boost_b=False):
    """Scored pairs with relevance drawn from a known monotone function of the score.

    Users of group B are twice as likely to be relevant when ``boost_b``."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    score = rng.normal(size=len(users))
    truth = 0.3 / (1 + np.exp(-2 * score))
    group = np.where(np.arange(n_users) % 2 == 0, "A", "B")
    if boost_b:
        truth = np.where(group[users] == "B", 2 * truth, truth)
    relevant = rng.uniform(size=len(users)) < truth
    scored = pd.DataFrame({"user_id": users, "item_id": items, "score": score})
    test = scored.loc[relevant, ["user_id", "item_id"]]
    people = pd.DataFrame({"gender": group}, index=pd.Index(np.arange(n_users), name="user_id"))
    train_log = pd.DataFrame({"user_id": np.arange(n_users), "item_id": rng.integers(0, n_items, n_users)})
    return scored, Dataset(test.reset_index(drop=True)), Dataset(train_log, people)


def test_calibrated_score_leaves_near_zero_residuals():
    scored, test, train = synthetic_shop()
    table = residual_table(scored, test, train, seed=0)
    by = residuals_by_segment(table, ["gender", "activity_band"], n_boot=300, seed=0)
    assert by["residual"].abs().max() < 0.01
    assert ((by["lower"] < 0.005) & (by["upper"] > -0.005)).all()
    curve = calibration_curve(table, n_bins=10)
    assert curve["pairs"].sum() == len(table)
    # each bin's share relevant is within three binomial standard errors of its prediction (or within a point)
    noise = np.sqrt(curve["predicted"] * (1 - curve["predicted"]) / curve["pairs"])
    assert (np.abs(curve["predicted"] - curve["observed"]) < np.maximum(0.01, 3 * noise)).all()
    assert curve["predicted"].is_monotonic_increasing


def test_calibration_curve_is_sklearns_quantile_curve_with_its_bins_counted():
    rng = np.random.default_rng(0)
    probability = rng.choice(np.linspace(0.01, 0.5, 7), 500)  # ties, as isotonic probabilities have
    table = pd.DataFrame({"probability": probability, "observed": (rng.random(500) < probability).astype(float)})
    curve = calibration_curve(table, n_bins=10)
    observed, predicted = sklearn_calibration_curve(table["observed"], probability, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(curve["predicted"], predicted, rtol=1e-12)
    np.testing.assert_allclose(curve["observed"], observed, rtol=1e-12)
    # by hand: bin k holds the probabilities above its lower inner quantile edge and up to its upper one
    edges = np.quantile(probability, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    counts = [int(((edges[k] < probability) & (probability <= edges[k + 1])).sum()) for k in range(10)]
    assert curve["bin"].tolist() == [k + 1 for k in range(10) if counts[k]]
    assert curve["pairs"].tolist() == [c for c in counts if c]
    assert len(curve) <= len(np.unique(probability))  # equal probabilities share a bin: 7 values, at most 7 bins


def test_calibration_curve_without_ties_has_equal_count_bins():
    rng = np.random.default_rng(1)
    probability = rng.random(1000) * 0.3
    table = pd.DataFrame({"probability": probability, "observed": (rng.random(1000) < probability).astype(float)})
    curve = calibration_curve(table, n_bins=10)
    chunks = np.argsort(probability).reshape(10, 100)  # the 10 runs of 100 pairs by rising probability
    assert curve["bin"].tolist() == list(range(1, 11)) and curve["pairs"].tolist() == [100] * 10
    np.testing.assert_allclose(curve["predicted"], probability[chunks].mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(curve["observed"], table["observed"].to_numpy()[chunks].mean(axis=1), rtol=1e-12)


def test_a_miscalibrated_segment_is_found():
    scored, test, train = synthetic_shop(boost_b=True)
    by = residuals_by_segment(residual_table(scored, test, train, seed=0), "gender", n_boot=300, seed=0)
    worst = worst_segments(by, min_pairs=100, n=2)
    assert worst["group"].tolist()[0] in {"A", "B"}
    rows = worst.set_index("group")
    assert rows.loc["B", "direction"] == "under" and rows.loc["A", "direction"] == "over"
    assert rows["significant"].all()
    assert "B" in rows.loc["B", "message"] and "under-predicts" in rows.loc["B", "message"]
    # the truth: B has 2/3 of the relevance of the mixture, A 1/3; the calibrated mean sits between
    assert rows.loc["B", "residual"] == pytest.approx(-rows.loc["A", "residual"], abs=0.01)


def test_calibration_uses_other_users_only():
    scored, test, train = synthetic_shop(n_users=200)
    table = residual_table(scored, test, train, calibration_share=0.3, seed=5)
    report_users = set(table["user_id"])
    assert len(report_users) == 200 - round(0.3 * 200)
    calibration = scored[~scored["user_id"].isin(report_users)]
    observed = pd.MultiIndex.from_frame(calibration[["user_id", "item_id"]]).isin(
        pd.MultiIndex.from_frame(test.interactions)
    )
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(calibration["score"], observed.astype(float))
    np.testing.assert_allclose(table["probability"], iso.predict(table["score"]))
    expected_observed = pd.MultiIndex.from_frame(table[["user_id", "item_id"]]).isin(
        pd.MultiIndex.from_frame(test.interactions)
    )
    np.testing.assert_array_equal(table["observed"], expected_observed.astype(float))
    np.testing.assert_allclose(table["residual"], table["observed"] - table["probability"])
    pd.testing.assert_frame_equal(table, residual_table(scored, test, train, calibration_share=0.3, seed=5))


def test_pair_segments_known_answer():
    log = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["i1", "i2", "i1"]})
    items = pd.DataFrame(
        {"genres": ["Action|Drama", "Comedy", "Drama"], "price": [1.0, 2.0, 3.0]},
        index=pd.Index(["i1", "i2", "i3"], name="item_id"),
    )
    train = Dataset(log, None, items)
    pairs = pd.DataFrame({"user_id": ["u1", "u3", "u2"], "item_id": ["i3", "i1", "i2"]}, index=[10, 11, 12])
    seg = pair_segments(pairs, train, n_quantiles=2)
    assert list(seg.index) == [10, 11, 12]
    assert seg["cold_warm"].astype(str).tolist() == ["warm", "cold", "warm"]
    assert seg["activity_band"].astype(str).tolist() == ["2+", "0 (cold)", "1"]
    assert seg["popularity_band"].astype(str).tolist() == ["0 (cold)", "2+", "1"]
    assert seg["genres"].tolist() == ["Drama", "Action|Drama", "Comedy"]
    assert seg["price_band"].notna().all()
    assert seg["price_band"].cat.codes.tolist() == [3, 0, 1]  # quartiles of 1, 2, 3: (2.5, 3], [1, 1.5], (1.5, 2]


def rated():
    train = Dataset(
        pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["i1", "i2", "i1"], "rating": [5, 3, 4]}),
        pd.DataFrame({"gender": ["F", "M", "F"]}, index=pd.Index(["u1", "u2", "u3"], name="user_id")),
    )
    test = Dataset(pd.DataFrame({"user_id": ["u1", "u2", "u3"], "item_id": ["i3", "i2", "i1"], "rating": [4, 2, 5]}))
    return train, test


def test_rating_baseline_known_answer():
    train, test = rated()
    # mean 4; b_i1 = (1 + 0) / 2, b_i2 = -1; b_u1 = ((1 - .5) + (-1 + 1)) / 2 = .25, b_u2 = (0 - .5) / 1
    table = rating_predictions(train, test, damping=0.0)
    # u1/i3: unknown item -> 4.25; u2/i2: 4 - .5 - 1 = 2.5, clipped to the train minimum 3; u3/i1: unknown user -> 4.5
    np.testing.assert_allclose(table["predicted"], [4.25, 3.0, 4.5])
    np.testing.assert_allclose(table["residual"], [-0.25, -1.0, 0.5])
    by = rating_residuals(train, test, by="gender", damping=0.0).set_index(["segment", "group"])
    assert by.loc[("all", "all"), "rmse"] == pytest.approx(math.sqrt((0.0625 + 1 + 0.25) / 3))
    assert by.loc[("gender", "F"), "rmse"] == pytest.approx(math.sqrt((0.0625 + 0.25) / 2))
    assert by.loc[("gender", "F"), "mae"] == pytest.approx(0.375)
    assert by.loc[("gender", "M"), ["ratings", "rmse", "mean_residual"]].tolist() == pytest.approx([1, 1.0, -1.0])
    # damping shrinks the biases: b_i1 = 1 / 3, b_u1 = ((1 - 1/3) + (-1 + 1/2)) / 3 with b_i2 = -1/2
    damped = rating_predictions(train, test, damping=1.0)
    assert damped["predicted"].iloc[0] == pytest.approx(4 + ((1 - 1 / 3) + (-1 + 0.5)) / 3)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda s: s.drop(columns="score"), DataError, "no column 'score'"),
        (lambda s: s.assign(score=np.nan), DataError, "non-finite"),
        (lambda s: pd.concat([s, s.head(1)]), DataError, "more than once"),
    ],
)
def test_bad_scored_input(change, error, match):
    scored, test, train = synthetic_shop(n_users=20, n_items=5)
    with pytest.raises(error, match=match):
        residual_table(change(scored), test, train)


def test_bad_settings():
    scored, test, train = synthetic_shop(n_users=20, n_items=5)
    with pytest.raises(ConfigError, match="calibration_share"):
        residual_table(scored, test, train, calibration_share=1.0)
    with pytest.raises(DataError, match="nothing to calibrate"):
        residual_table(scored, Dataset(pd.DataFrame({"user_id": [-1], "item_id": [-1]})), train)
    with pytest.raises(DataError, match="no column 'age'"):
        residuals_by_segment(residual_pairs(), "age")
    with pytest.raises(ConfigError, match="n_boot"):
        residuals_by_segment(residual_pairs(), "gender", n_boot=0)
    with pytest.raises(DataError, match="the table has no rows"):
        residuals_by_segment(residual_pairs().head(0), "gender")
    with pytest.raises(DataError, match="no 'rating' column"):
        rating_residuals(train, test, by="gender")


def test_residuals_by_segment_is_by_group_over_pairs_with_users_as_clusters():
    table = residual_pairs()
    by = residuals_by_segment(table, "genres", n_boot=100, level=0.9, seed=2).set_index("group")
    core = by_group(
        table,
        "genres",
        metrics=["probability", "observed", "residual"],
        clusters="user_id",
        separator="|",
        ci=True,
        level=0.9,
        n_boot=100,
        seed=2,
    )
    assert by["residual"].to_dict() == core.by_group["residual"].to_dict()
    assert by["users"].to_dict() == core.by_group["clusters"].to_dict()
    assert by["lower"].to_dict() == core.ci[("residual", "lower")].to_dict()


def test_rating_residuals_split_genres():
    train, test = rated()
    items = pd.DataFrame({"genres": ["A|B", "B", "A"]}, index=pd.Index(["i1", "i2", "i3"], name="item_id"))
    train = Dataset(train.interactions, train.users, items)
    by = rating_residuals(train, test, by="genres", damping=0.0).set_index(["segment", "group"])
    # test pairs: u1/i3 (A) residual -0.25, u2/i2 (B) -1.0, u3/i1 (A and B) +0.5
    assert by.loc[("genres", "A"), "ratings"] == 2 and by.loc[("genres", "B"), "ratings"] == 2
    assert by.loc[("genres", "A"), "mean_residual"] == pytest.approx(0.125)
    assert by.loc[("genres", "B"), "rmse"] == pytest.approx(math.sqrt((1.0 + 0.25) / 2))
    assert by.loc[("all", "all"), "ratings"] == 3
