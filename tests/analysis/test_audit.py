import math

import altair as alt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench.analysis.audit import (
    Audit,
    PopularityBias,
    audit,
    exposure,
    popularity_bias,
    summary_flags,
)
from workbench.analysis.stats import MISSING, by_group
from workbench.data import Dataset
from workbench.errors import ConfigError, DataError


@pytest.fixture
def small():
    per_user = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
            "ndcg": [0.0, 1.0, 0.2, 0.4, 0.6, 1.0],
            "hit_rate": [0.0, 1.0, 1.0, 1.0, 0.0, 1.0],
            "note": ["x"] * 6,  # non-numeric: ignored
        }
    )
    segments = pd.Series(["A", "A", "B", "B", "B", "C"], index=per_user["user_id"], name="group")
    return per_user, segments


def test_by_group_overall_difference_ratio_known_answers(small):
    per_user, segments = small
    before = per_user.copy(), segments.copy()
    result = audit(per_user, segments, n_boot=200, min_group_size=2, seed=1)
    assert isinstance(result, Audit)
    assert result.metrics == ["ndcg", "hit_rate"]
    assert result.by_group.index.tolist() == ["A", "B", "C"] and result.by_group.index.name == "group"
    np.testing.assert_allclose(result.by_group["ndcg"], [0.5, 0.4, 1.0])
    np.testing.assert_allclose(result.by_group["hit_rate"], [0.5, 2 / 3, 1.0])
    assert result.by_group["count"].tolist() == [2, 3, 1]
    assert result.by_group["small"].tolist() == [False, False, True]
    np.testing.assert_allclose(result.overall, [3.2 / 6, 4 / 6])
    np.testing.assert_allclose(result.difference(), [0.6, 0.5])
    np.testing.assert_allclose(result.ratio(), [0.4, 0.5])
    np.testing.assert_allclose(result.difference(exclude_small=True), [0.1, 1 / 6])
    pd.testing.assert_frame_equal(per_user, before[0])
    pd.testing.assert_series_equal(segments, before[1])


def test_ci_contains_mean_is_reproducible_and_single_member_collapses(small):
    per_user, segments = small
    result = audit(per_user, segments, n_boot=300, seed=7)
    for metric in result.metrics:
        lower, upper = result.ci[(metric, "lower")], result.ci[(metric, "upper")]
        assert (lower <= result.by_group[metric] + 1e-12).all() and (result.by_group[metric] <= upper + 1e-12).all()
    # a group of one user has a single possible resample
    assert result.ci.loc["C", ("ndcg", "lower")] == result.ci.loc["C", ("ndcg", "upper")] == 1.0
    again = audit(per_user, segments, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(result.ci, again.ci)
    # another seed draws other resamples: visible in the quartiles (the 95% bounds of these 2-3 user groups are
    # the extreme means, which most seeds reach)
    quartiles = audit(per_user, segments, n_boot=300, seed=7, level=0.5).ci
    assert not quartiles.equals(audit(per_user, segments, n_boot=300, seed=8, level=0.5).ci)


def test_ci_width_matches_normal_theory_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    n_small, n_large = 100, 1600
    values = rng.integers(0, 2, n_small + n_large).astype(float)
    per_user = pd.DataFrame({"hit": values}, index=pd.RangeIndex(len(values), name="user_id"))
    segments = pd.Series(np.r_[["small"] * n_small, ["large"] * n_large], index=per_user.index, name="size")
    result = audit(per_user, segments, n_boot=2000, seed=0)
    width = result.ci[("hit", "upper")] - result.ci[("hit", "lower")]
    for group, n in (("small", n_small), ("large", n_large)):
        p = result.by_group.loc[group, "hit"]
        expected = 2 * 1.959964 * math.sqrt(p * (1 - p) / n)  # normal approximation of the 95% interval
        assert width[group] == pytest.approx(expected, rel=0.15)
    assert width["large"] < width["small"] / 2.5  # 1/sqrt(16) = 1/4 in theory


def test_combinations_of_columns_match_pandas_groupby():
    rng = np.random.default_rng(3)
    n = 500
    users = pd.Index(rng.choice(10**6, n, replace=False), name="user_id")
    per_user = pd.DataFrame({"ndcg": rng.random(n), "recall": rng.random(n)}, index=users)
    segments = pd.DataFrame(
        {
            "gender": rng.choice(["F", "M"], n),
            "band": pd.Categorical(rng.choice(["young", "old"], n), ["young", "old"]),
        },
        index=users,
    )
    result = audit(per_user, segments, n_boot=50)
    grouped = per_user.join(segments).groupby(["gender", "band"], observed=True)
    reference = grouped[["ndcg", "recall"]].agg(["mean", "size"])
    assert result.by_group.index.names == ["gender", "band"]
    # categorical order is kept: young before old
    assert result.by_group.index.tolist() == [("F", "young"), ("F", "old"), ("M", "young"), ("M", "old")]
    for key in result.by_group.index:
        assert result.by_group.loc[key, "ndcg"] == pytest.approx(reference.loc[key, ("ndcg", "mean")])
        assert result.by_group.loc[key, "count"] == reference.loc[key, ("ndcg", "size")]


def test_users_missing_from_segments_form_a_missing_group(small):
    per_user, segments = small
    partial = segments.drop("u6").copy()
    partial["u5"] = None
    result = audit(per_user, partial, n_boot=20)
    assert result.by_group.index.tolist() == ["A", "B", MISSING]
    assert result.by_group["count"].tolist() == [2, 2, 2]
    assert result.by_group.loc[MISSING, "ndcg"] == pytest.approx(0.8)


def test_per_user_indexed_by_user_id_gives_the_same_audit(small):
    per_user, segments = small
    a = audit(per_user, segments, n_boot=100, seed=2)
    b = audit(per_user.set_index("user_id"), segments, n_boot=100, seed=2)
    pd.testing.assert_frame_equal(a.by_group, b.by_group)
    pd.testing.assert_frame_equal(a.ci, b.ci)


def test_bad_inputs_raise_one_line_errors(small):
    per_user, segments = small
    with pytest.raises(DataError, match="no value for any"):
        audit(per_user, pd.Series(["A"] * 6, index=range(6), name="g"))
    with pytest.raises(DataError, match="no numeric metric"):
        audit(per_user[["user_id", "note"]], segments)
    with pytest.raises(DataError, match="'note' is not a numeric"):
        audit(per_user, segments, metrics=["note"])
    with pytest.raises(DataError, match="repeated user ids"):
        audit(pd.concat([per_user, per_user]), segments)
    with pytest.raises(DataError, match="2 missing values"):
        audit(per_user.assign(ndcg=[np.nan, np.nan, 0, 0, 0, 0]), segments)
    with pytest.raises(DataError, match="Series or a DataFrame"):
        audit(per_user, ["A"] * 6)
    with pytest.raises(ConfigError):
        audit(per_user, segments, n_boot=0)
    with pytest.raises(ConfigError):
        audit(per_user, segments, level=1.5)


def test_significance_is_scipy_kruskal(small):
    rng = np.random.default_rng(5)
    n = 90
    per_user = pd.DataFrame({"ndcg": rng.random(n) + np.repeat([0.0, 0.1, 0.3], 30), "flat": np.ones(n)})
    segments = pd.Series(np.repeat(["x", "y", "z"], 30), name="seg")
    table = audit(per_user, segments, n_boot=10).significance()
    expected = stats.kruskal(*per_user["ndcg"].to_numpy().reshape(3, 30))
    row = table.set_index("metric").loc["ndcg"]
    assert row["statistic"] == pytest.approx(expected.statistic) and row["p_value"] == pytest.approx(expected.pvalue)
    assert table.set_index("metric").loc["flat"].isna().all()  # identical values: no test


def test_summary_flags_words_and_threshold():
    per_user = pd.DataFrame({"ndcg": [0.41] * 10 + [0.47] * 10}, index=pd.RangeIndex(20, name="user_id"))
    gender = pd.Series(["F"] * 10 + ["M"] * 10, index=per_user.index, name="gender")
    result = audit(per_user, gender, n_boot=20)
    table = summary_flags(result, threshold=0.1)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["group"] == "gender=F" and row["best_group"] == "gender=M"
    assert row["gap"] == pytest.approx(0.06 / 0.47) and bool(row["flagged"])
    expected = "ndcg for gender=F is 0.41 vs 0.47 for gender=M: a gap of 13%, above the 10% threshold"
    assert row["message"].startswith(expected)
    assert not summary_flags(result, threshold=0.2)["flagged"].any()
    with pytest.raises(ConfigError):
        summary_flags(per_user, threshold=0.1)


def test_chart_has_bars_and_error_bars(small):
    per_user, segments = small
    chart = audit(per_user, segments, n_boot=20).chart("ndcg")
    assert isinstance(chart, alt.LayerChart)
    spec = chart.to_dict()
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["bar", "errorbar", "rule"]
    with pytest.raises(ConfigError, match="unknown metric"):
        audit(per_user, segments, n_boot=20).chart("nope")


# --- popularity bias -----------------------------------------------------------------------------


def train_with_popularity(popularity: dict) -> Dataset:
    """Every interaction by a distinct user, so item popularity == users of the item."""
    items = np.repeat(list(popularity), list(popularity.values()))
    return Dataset.from_frames(pd.DataFrame({"user_id": np.arange(len(items)), "item_id": items}))


def recs_frame(lists: dict) -> pd.DataFrame:
    rows = [(u, i, rank) for u, items in lists.items() for rank, i in enumerate(items, start=1)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rank"])


def test_popularity_bias_known_answers():
    train = train_with_popularity({"a": 5, "b": 4, "c": 3, "d": 2, "e": 1})  # 15 users
    recs = recs_frame({1: ["a", "c", "b"], 2: ["e", "z", "a"]})  # rank 3 is cut by k=2; z is not in train
    result = popularity_bias(recs, train, k=2)
    assert result["arp"] == pytest.approx(((5 + 3) / 2 + (1 + 0) / 2) / 2)
    # ceil(0.2 * 5) = 1: the head is {a}; c, e and the unknown z are tail
    assert result["aplt"] == pytest.approx((1 / 2 + 2 / 2) / 2)
    assert result["coverage"] == pytest.approx(3 / 5)
    # counts of a..e: 1, 0, 1, 0, 1 -> ascending 0, 0, 1, 1, 1
    assert result["gini"] == pytest.approx(((2 * 3 - 6) + (2 * 4 - 6) + (2 * 5 - 6)) / (5 * 3))
    info = lambda users: -math.log2(users / 15)  # noqa: E731
    assert result["novelty"] == pytest.approx(((info(5) + info(3)) / 2 + (info(1) + info(1)) / 2) / 2)


def test_head_boundary_includes_ties():
    train = train_with_popularity({"a": 5, "b": 5, "c": 3, "d": 2, "e": 1})
    assert popularity_bias(recs_frame({1: ["b"]}), train, k=1)["aplt"] == 0.0  # b ties the boundary item
    ten = train_with_popularity({i: 20 - i for i in range(10)})  # ceil(0.2 * 10) = 2: head {0, 1}
    assert popularity_bias(recs_frame({1: [1], 2: [2]}), ten, k=1)["aplt"] == pytest.approx(0.5)


def test_gini_uniform_and_concentrated():
    train = train_with_popularity({i: 1 for i in range(4)})
    uniform = recs_frame({u: [u % 4] for u in range(8)})
    assert popularity_bias(uniform, train, k=1)["gini"] == pytest.approx(0.0)
    concentrated = recs_frame({u: [0] for u in range(8)})
    assert popularity_bias(concentrated, train, k=1)["gini"] == pytest.approx(3 / 4)


def test_popularity_bias_without_rank_uses_row_order_and_rejects_bad_input():
    train = train_with_popularity({"a": 3, "b": 1})
    recs = pd.DataFrame({"user_id": [1, 1], "item_id": ["b", "a"]})
    assert popularity_bias(recs, train, k=1)["arp"] == 1.0
    with pytest.raises(DataError, match="item_id"):
        popularity_bias(recs.rename(columns={"item_id": "sku"}), train)
    with pytest.raises(ConfigError):
        popularity_bias(recs, train, k=0)
    with pytest.raises(DataError):
        popularity_bias(recs, recs)


def test_exposure_splits_genres_and_reports_missing():
    interactions = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": ["x", "x", "y", "z"]})
    items = pd.DataFrame({"item_id": ["x", "y", "z"], "genres": ["A|B", "B", None]})
    train = Dataset.from_frames(interactions, items=items)
    recs = recs_frame({1: ["y", "z"], 2: ["y", "x"]})
    table = exposure(recs, train, by="genres", k=2).set_index("genres")
    assert sorted(table.index) == sorted(["A", "B", MISSING])
    assert table.loc["A", "train_share"] == pytest.approx(2 / 4) and table.loc["A", "rec_share"] == pytest.approx(1 / 4)
    assert table.loc["B", "train_share"] == pytest.approx(3 / 4) and table.loc["B", "rec_share"] == pytest.approx(3 / 4)
    assert table.loc[MISSING, "ratio"] == pytest.approx((1 / 4) / (1 / 4))
    assert table.loc["A", "ratio"] == pytest.approx(0.5)
    with pytest.raises(DataError, match="no column 'brand'"):
        exposure(recs, train, by="brand")


def test_summary_flags_for_a_metric_where_lower_is_better():
    per_user = pd.DataFrame(
        {"ndcg": [0.41] * 10 + [0.47] * 10, "rmse": [1.2] * 10 + [0.9] * 10},
        index=pd.RangeIndex(20, name="user_id"),
    )
    gender = pd.Series(["F"] * 10 + ["M"] * 10, index=per_user.index, name="gender")
    result = audit(per_user, gender, n_boot=20)
    row = summary_flags(result, lower_is_better=["rmse"]).set_index("metric").loc["rmse"]
    # M has the lower error, so F is the group behind: (1.2 - 0.9) / 0.9
    assert row["group"] == "gender=F" and row["best_group"] == "gender=M"
    assert row["gap"] == pytest.approx(0.3 / 0.9) and bool(row["flagged"])
    assert row["message"].startswith("rmse for gender=F is 1.2 vs 0.9 for gender=M: a gap of 33%")
    naive = summary_flags(result).set_index("metric").loc["rmse"]  # read as higher-is-better
    assert naive["best_group"] == "gender=F"
    with pytest.raises(ConfigError, match="'mse', not a metric"):
        summary_flags(result, lower_is_better="mse")


def test_audit_is_by_group_with_intervals_and_small_groups(small):
    per_user, segments = small
    result = audit(per_user, segments, n_boot=200, min_group_size=2, seed=4)
    core = by_group(per_user, segments, ci=True, n_boot=200, seed=4)
    pd.testing.assert_frame_equal(result.by_group.drop(columns="small"), core.by_group)
    pd.testing.assert_frame_equal(result.ci, core.ci)
    pd.testing.assert_series_equal(result.overall, core.overall)
    assert result.level == 0.95


def test_audit_level(small):
    per_user, segments = small
    narrow = audit(per_user, segments, n_boot=200, level=0.5, seed=1)
    assert narrow.level == 0.5 and "50% bootstrap CI" in narrow.chart("ndcg").to_dict()["title"]
    with pytest.raises(TypeError):
        audit(per_user, segments, n_boot=200, confidence=0.5, seed=1)  # the older name is gone


def test_audit_segments_without_rows_or_columns_give_one_line_errors(small):
    per_user, segments = small
    for bad, match in ((segments.iloc[:0], "segments has no rows"), (pd.DataFrame(index=segments.index), "column")):
        with pytest.raises(DataError, match=match) as caught:
            audit(per_user, bad, n_boot=10)
        assert "\n" not in str(caught.value)


def test_popularity_bias_is_typed_and_reads_as_a_dict():
    train = train_with_popularity({"a": 3, "b": 1})
    result = popularity_bias(recs_frame({1: ["a", "b"]}), train, k=2)
    assert isinstance(result, PopularityBias) and result.arp == result["arp"] == 2.0
    assert list(result) == ["arp", "aplt", "coverage", "gini", "novelty"]
    assert pd.DataFrame({"m": result}).T.columns.tolist() == list(result)  # as notebook 07 builds its table
