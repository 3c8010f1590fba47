"""The statistics core: typed results, bootstrap, group codes, metrics by group."""

import dataclasses
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis.stats import (
    MISSING,
    Record,
    bootstrap_ci,
    bootstrap_group_means,
    by_group,
    check_bootstrap,
    group_codes,
    group_labels,
    split_values,
    t_interval,
)
from workbench.data.stats import MISSING_LABEL
from workbench.errors import ConfigError, DataError


@dataclasses.dataclass(frozen=True, eq=False)
class Pair(Record):
    left: float
    right: int
    note: str = ""


# --- typed results -------------------------------------------------------------------------------


def test_a_record_reads_as_attributes_and_as_a_read_only_dict():
    pair = Pair(0.5, 2)
    assert pair.left == pair["left"] == 0.5 and pair.right == 2 and pair.note == ""
    assert list(pair.keys()) == ["left", "right", "note"] and len(pair) == 3 and "note" in pair
    assert dict(pair) == pair.to_dict() == {"left": 0.5, "right": 2, "note": ""} == pair
    assert type(pair.to_dict()) is dict and {**pair, "extra": 1}["right"] == 2
    assert json.loads(json.dumps(pair)) == {"left": 0.5, "right": 2, "note": ""}
    assert pd.Series(pair).to_dict() == {"left": 0.5, "right": 2, "note": ""}
    assert pd.DataFrame({"a": pair, "b": Pair(1.0, 3)}).loc["right"].tolist() == [2, 3]  # a dict of results
    assert pd.DataFrame([pair, Pair(1.0, 3)])["left"].tolist() == [0.5, 1.0]
    assert repr(pair) == "Pair(left=0.5, right=2, note='')"
    with pytest.raises(TypeError, match="read-only"):
        pair["left"] = 1.0
    with pytest.raises(TypeError, match="read-only"):
        pair.update(left=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.left = 1.0
    again = pickle.loads(pickle.dumps(pair))
    assert again == pair and again.left == 0.5 and type(again) is Pair


# --- bootstrap -----------------------------------------------------------------------------------


def test_bootstrap_ci_is_the_percentile_interval_of_resampled_means():
    values = np.random.default_rng(0).normal(size=50)
    rng = np.random.default_rng(11)
    means = [values[rng.integers(0, 50, size=(1, 50))].mean() for _ in range(300)]
    assert bootstrap_ci(values, n_boot=300, seed=11) == pytest.approx(tuple(np.quantile(means, [0.025, 0.975])))
    narrow = bootstrap_ci(values, n_boot=300, level=0.5, seed=11)
    assert narrow == pytest.approx(tuple(np.quantile(means, [0.25, 0.75])))


def test_bootstrap_ci_is_scipys_percentile_bootstrap():
    values = np.random.default_rng(1).random(3000)  # 3,000 x 2,000 resampled values: drawn in several batches
    theirs = stats.bootstrap(
        (values,), np.mean, n_resamples=2000, confidence_level=0.9, method="percentile", rng=np.random.default_rng(4)
    ).confidence_interval
    assert bootstrap_ci(values, n_boot=2000, level=0.9, seed=4) == pytest.approx((theirs.low, theirs.high), rel=1e-12)
    assert bootstrap_ci(np.array([0.25]), n_boot=10) == (0.25, 0.25)  # one value: one possible resample
    with pytest.raises(DataError, match="non-empty"):
        bootstrap_ci(np.array([]))


def test_group_means_resample_within_each_group():
    values = np.array([[1.0], [1.0], [5.0], [7.0], [9.0]])
    boot = bootstrap_group_means(values, np.array([0, 2]), np.array([2, 3]), 200, 0)
    assert boot.shape == (200, 2, 1)
    assert (boot[:, 0, 0] == 1.0).all()  # a group of equal values has a single possible mean
    assert boot[:, 1, 0].min() >= 5.0 and boot[:, 1, 0].max() <= 9.0 and boot[:, 1, 0].std() > 0
    # a brute-force loop with the same generator: group after group, each resample drawn on its own
    rng = np.random.default_rng(0)
    loop = [
        [values[start + rng.integers(0, size, size), 0].mean() for _ in range(200)] for start, size in [(0, 2), (2, 3)]
    ]
    np.testing.assert_allclose(boot[:, :, 0], np.array(loop).T, rtol=1e-12)


def test_t_interval_is_the_textbook_interval_of_a_mean():
    values = np.array([0.31, 0.325, 0.318, 0.329, 0.322])
    half = stats.t.ppf(0.95, 4) * values.std(ddof=1) / np.sqrt(5)  # 90%: 5% in each tail
    assert t_interval(values, level=0.9) == pytest.approx((values.mean(), values.mean() - half, values.mean() + half))
    assert t_interval([0.2, 0.2]) == pytest.approx((0.2, 0.2, 0.2))
    assert t_interval([0.5]) == pytest.approx((0.5, np.nan, np.nan), nan_ok=True)  # one run: no spread
    with pytest.raises(DataError, match="non-empty"):
        t_interval([])
    with pytest.raises(ConfigError, match="level"):
        t_interval(values, level=95)


@pytest.mark.parametrize(("n_boot", "level", "match"), [(0, 0.95, "n_boot"), (1.5, 0.95, "n_boot"), (10, 1.0, "level")])
def test_bad_bootstrap_settings(n_boot, level, match):
    with pytest.raises(ConfigError, match=match):
        check_bootstrap(n_boot, level)


# --- groups --------------------------------------------------------------------------------------


def test_one_missing_label_shared_with_the_profile():
    assert MISSING == MISSING_LABEL == "(missing)"


def test_split_values_counts_each_part_once():
    rows, parts = split_values(pd.Series(["Action|Comedy", None, "", "Drama|Drama", 3]))
    assert rows.tolist() == [0, 0, 1, 2, 3, 4]
    assert parts.tolist()[:2] == ["Action", "Comedy"] and parts[2:4].isna().all()
    assert parts.tolist()[4:] == ["Drama", "3"]


def test_group_codes_of_combinations_aligned_rows_and_missing():
    segments = pd.DataFrame(
        {"gender": ["M", "F", "F"], "band": pd.Categorical(["old", "young", "old"], ["young", "old"])},
        index=["u1", "u2", "u3"],
    )
    # analysed rows: u3, u1, an unknown user, u2
    rows, group, index = group_codes(segments, np.array([2, 0, -1, 1]))
    assert rows.tolist() == [0, 1, 2, 3]
    assert index.names == ["gender", "band"]
    assert index.tolist() == [("F", "young"), ("F", "old"), ("M", "old"), (MISSING, MISSING)]  # categorical order
    assert group.tolist() == [1, 2, 3, 0]


def test_group_codes_split_multi_valued_text_into_every_part():
    segments = pd.DataFrame({"genres": ["A|B", "B", None], "gender": ["F", "M", "F"]})
    rows, group, index = group_codes(segments, separator="|")
    labels = group_labels(index)
    assert [labels[g] for g in group] == [
        "genres=A, gender=F",
        "genres=B, gender=F",
        "genres=B, gender=M",
        f"genres={MISSING}, gender=F",
    ]
    assert rows.tolist() == [0, 0, 1, 2]
    # without a separator the joined text is a value of its own
    assert group_codes(segments[["genres"]])[2].tolist() == ["A|B", "B", MISSING]


# --- metrics by group ----------------------------------------------------------------------------


def test_by_group_matches_pandas_groupby():
    rng = np.random.default_rng(4)
    n = 300
    per_user = pd.DataFrame({"user_id": rng.permutation(10**5)[:n], "ndcg": rng.random(n), "recall": rng.random(n)})
    gender = pd.Series(rng.choice(["F", "M", None], n), index=per_user["user_id"][::-1].to_numpy(), name="gender")
    result = by_group(per_user, gender)
    joined = per_user.set_index("user_id").join(gender.fillna(MISSING))
    expected = joined.groupby("gender")[["ndcg", "recall"]].agg(["mean", "size"])
    assert result.by_group.index.tolist() == ["F", "M", MISSING]
    for group in result.by_group.index:
        assert result.by_group.loc[group, "ndcg"] == pytest.approx(expected.loc[group, ("ndcg", "mean")])
        assert result.by_group.loc[group, "count"] == expected.loc[group, ("ndcg", "size")]
    assert result.overall.to_dict() == pytest.approx(per_user[["ndcg", "recall"]].mean().to_dict())
    assert result.ci is None and list(result.by_group.columns) == ["ndcg", "recall", "count"]
    assert result.difference()["ndcg"] == pytest.approx(result.by_group["ndcg"].max() - result.by_group["ndcg"].min())
    assert result.ratio()["recall"] == pytest.approx(result.by_group["recall"].min() / result.by_group["recall"].max())


def test_by_group_intervals_contain_the_mean_and_are_reproducible():
    rng = np.random.default_rng(2)
    per_user = pd.DataFrame({"ndcg": rng.random(200)}, index=pd.RangeIndex(200, name="user_id"))
    band = pd.Series(np.repeat(["a", "b"], 100), index=per_user.index, name="band")
    result = by_group(per_user, band, ci=True, n_boot=300, seed=3)
    lower, upper = result.ci[("ndcg", "lower")], result.ci[("ndcg", "upper")]
    assert (lower < result.by_group["ndcg"]).all() and (result.by_group["ndcg"] < upper).all()
    pd.testing.assert_frame_equal(result.ci, by_group(per_user, band, ci="ndcg", n_boot=300, seed=3).ci)
    wider = by_group(per_user, band, ci=True, level=0.99, n_boot=300, seed=3).ci
    assert ((wider[("ndcg", "upper")] - wider[("ndcg", "lower")]) > upper - lower).all()
    rng = np.random.default_rng(3)  # scipy's bootstrap of each group's mean, groups in order, one generator
    for group in ("a", "b"):
        sample = per_user.loc[band == group, "ndcg"].to_numpy()
        theirs = stats.bootstrap((sample,), np.mean, n_resamples=300, method="percentile", rng=rng).confidence_interval
        assert (lower[group], upper[group]) == pytest.approx((theirs.low, theirs.high), rel=1e-12)


def test_by_group_of_pairs_resamples_whole_clusters():
    # users 1 and 2 each have residuals +0.5 and -0.5: every user mean is 0, so resampling users gives exactly 0
    pairs = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3],
            "genres": ["A|B", "A", "A|B", "A", "B"],
            "residual": [0.5, -0.5, 0.5, -0.5, 0.25],
        }
    )
    result = by_group(pairs, "genres", metrics=["residual"], clusters="user_id", separator="|", ci=True, n_boot=200)
    table = result.by_group
    assert table.index.tolist() == ["A", "B"]
    assert table["count"].tolist() == [4, 3] and table["clusters"].tolist() == [2, 3]
    assert table.loc["A", "residual"] == 0.0 and table.loc["B", "residual"] == pytest.approx(1.25 / 3)
    assert result.ci.loc["A", ("residual", "lower")] == result.ci.loc["A", ("residual", "upper")] == 0.0
    assert result.overall["residual"] == pytest.approx(0.05)  # over the pairs as given, not their parts


def test_cluster_intervals_are_the_percentile_interval_of_resampled_ratios():
    rng = np.random.default_rng(5)
    pairs = pd.DataFrame({"user_id": rng.integers(0, 40, 300), "residual": rng.normal(size=300)})
    pairs["band"] = np.where(pairs["user_id"] < 20, "low", "high")
    result = by_group(pairs, "band", metrics=["residual"], clusters="user_id", ci=True, n_boot=400, level=0.9, seed=6)
    draw = np.random.default_rng(6)
    for band in ("high", "low"):  # groups in sorted order; a drawn user brings all their pairs
        rows = pairs[pairs["band"] == band]
        users = rows["user_id"].unique()  # clusters in order of first appearance
        sums, counts = rows.groupby("user_id")["residual"].sum()[users], rows.groupby("user_id").size()[users]
        ratios = []
        for _ in range(400):
            drawn = draw.integers(0, len(users), len(users))
            ratios.append(sums.to_numpy()[drawn].sum() / counts.to_numpy()[drawn].sum())
        expected = np.quantile(ratios, [0.05, 0.95])
        got = result.ci.loc[band, "residual"][["lower", "upper"]].to_numpy(np.float64)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_by_group_bad_input_gives_one_line_errors():
    per_user = pd.DataFrame({"user_id": [1, 2], "ndcg": [0.1, 0.2], "band": ["a", "b"]})
    cases = [
        (lambda: by_group(per_user, "age"), DataError, "no column 'age'"),
        (lambda: by_group(per_user, ["band", "age"]), DataError, "no column 'age'"),
        (lambda: by_group(per_user.head(0), "band"), DataError, "no rows"),
        (lambda: by_group(per_user, pd.Series([], dtype=object, name="band")), DataError, "segments has no rows"),
        (lambda: by_group(per_user, pd.DataFrame(index=[1, 2])), DataError, "at least one column"),
        (lambda: by_group(per_user, pd.Series(["x"], index=[9], name="g")), DataError, "no value for any"),
        (lambda: by_group(per_user, "band", clusters="session"), DataError, "no column 'session'"),
        (lambda: by_group(per_user, "band", ci="recall"), ConfigError, "'recall', not one of the metrics"),
        (lambda: by_group(per_user, "band", ci=True, n_boot=0), ConfigError, "n_boot"),
        (lambda: by_group(per_user, []), ConfigError, "no segment column"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match) as caught:
            call()
        assert "\n" not in str(caught.value)
