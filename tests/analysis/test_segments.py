import numpy as np
import pandas as pd
import pytest

from workbench.analysis.segments import activity_bands, age_bands, cold_warm, segment_metrics, user_segments
from workbench.data import Dataset
from workbench.errors import ConfigError, DataError


def log_with_counts(counts: dict) -> Dataset:
    """A training log where user u has counts[u] interactions."""
    users = np.repeat(list(counts), list(counts.values()))
    return Dataset.from_frames(pd.DataFrame({"user_id": users, "item_id": np.arange(len(users)) % 7}))


def test_age_bands_boundaries_and_missing():
    ages = [17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 90, None]
    users = pd.DataFrame({"age": ages}, index=pd.Index(range(len(ages)), name="user_id"))
    before = users.copy()
    bands = age_bands(users)
    expected = ["<18", "18-24", "18-24", "25-34", "25-34", "35-44", "35-44", "45-54", "45-54", "55+", "55+"]
    assert bands.iloc[:-1].tolist() == expected
    assert pd.isna(bands.iloc[-1])
    assert bands.cat.ordered and list(bands.cat.categories) == ["<18", "18-24", "25-34", "35-44", "45-54", "55+"]
    assert bands.name == "age_band" and bands.index.equals(users.index)
    pd.testing.assert_frame_equal(users, before)


def test_age_bands_custom_edges_and_errors():
    users = pd.DataFrame({"age": [10, 30, 70]}, index=[1, 2, 3])
    assert age_bands(users, edges=(30, 65)).tolist() == ["<30", "30-64", "65+"]
    with pytest.raises(DataError, match="no column 'years'"):
        age_bands(users, "years")
    with pytest.raises(DataError, match="1 non-numeric"):
        age_bands(pd.DataFrame({"age": [20, "old"]}))
    with pytest.raises(ConfigError, match="strictly increasing"):
        age_bands(users, edges=(30, 20))


def test_activity_bands_explicit_edges_and_cold_users():
    train = log_with_counts({"a": 1, "b": 5, "c": 19, "d": 20, "e": 60})
    bands = activity_bands(train, ["a", "b", "c", "d", "e", "new"], bands=(5, 20, 50))
    assert bands.tolist() == ["1-4", "5-19", "5-19", "20-49", "50+", "0 (cold)"]
    assert list(bands.cat.categories) == ["0 (cold)", "1-4", "5-19", "20-49", "50+"]
    assert bands.index.tolist() == ["a", "b", "c", "d", "e", "new"]


def test_activity_quartiles_split_users_evenly():
    counts = {u: u for u in range(1, 101)}  # user u has u interactions
    bands = activity_bands(log_with_counts(counts), n_quantiles=4)
    assert bands.value_counts(sort=False).tolist() == [25, 25, 25, 25]
    assert list(bands.cat.categories) == ["1-25", "26-50", "51-75", "76+"]
    # a user's band grows with activity: brute-force check of monotonicity
    codes = bands.cat.codes.reindex(range(1, 101)).to_numpy()
    assert np.all(np.diff(codes) >= 0)


def test_activity_quantiles_merge_ties_and_reject_bad_config():
    bands = activity_bands(log_with_counts({1: 3, 2: 3, 3: 3, 4: 3}), n_quantiles=10)
    assert set(bands) == {"3+"}
    with pytest.raises(ConfigError):
        activity_bands(log_with_counts({1: 1}), n_quantiles=0)
    with pytest.raises(ConfigError):
        activity_bands(log_with_counts({1: 1}), bands=(0, 5))
    with pytest.raises(DataError):
        activity_bands(pd.DataFrame({"user_id": [1]}))


def test_cold_warm():
    train = log_with_counts({1: 1, 2: 3})
    assert cold_warm(train, [1, 2, 3]).tolist() == ["warm", "warm", "cold"]
    assert cold_warm(train, [1, 2, 3], min_interactions=2).tolist() == ["cold", "warm", "cold"]


def test_user_segments_covers_users_table_and_log():
    users = pd.DataFrame(
        {"user_id": [1, 2, 3], "age": [20, 40, None], "gender": ["F", "M", "F"], "zip_code": ["1", "2", "3"]}
    )
    interactions = pd.DataFrame({"user_id": [1, 1, 2, 4], "item_id": [1, 2, 1, 3]})
    ds = Dataset.from_frames(interactions, users)
    train = ds.with_interactions(interactions[interactions["user_id"] != 2])
    segments = user_segments(ds, train, n_quantiles=2)
    assert segments.index.name == "user_id"
    assert sorted(segments.index) == [1, 2, 3, 4]
    assert segments.columns.tolist() == ["gender", "age_band", "activity_band"]
    assert segments.loc[1, "age_band"] == "18-24" and segments.loc[2, "age_band"] == "35-44"
    assert pd.isna(segments.loc[3, "age_band"]) and pd.isna(segments.loc[4, "gender"])
    assert segments.loc[2, "activity_band"] == "0 (cold)" and segments.loc[3, "activity_band"] == "0 (cold)"
    assert segments.loc[1, "activity_band"] != "0 (cold)"


def test_user_segments_without_users_table():
    ds = log_with_counts({1: 2, 2: 4})
    segments = user_segments(ds, ds)
    assert segments.columns.tolist() == ["activity_band"]


def test_segment_metrics_known_answer():
    per_user = pd.DataFrame({"user_id": [1, 2, 3, 4], "ndcg": [0.0, 1.0, 0.5, 0.25], "hit_rate": [0.0, 1, 1, 1]})
    segments = pd.Series(["heavy", "cold", "cold", "light"], index=[1, 2, 3, 4])
    table = segment_metrics(per_user, segments)
    assert table.columns.tolist() == ["segment", "ndcg", "hit_rate", "count"]
    assert table["segment"].tolist() == ["cold", "light", "heavy"]
    assert table["ndcg"].tolist() == [0.75, 0.25, 0.0]
    assert table["count"].tolist() == [2, 1, 1]
    with pytest.raises(DataError, match="no segment"):
        segment_metrics(per_user, segments.iloc[:2])


def test_segment_metrics_orders_other_segments_after_the_hybrid_ones_and_rejects_bad_input():
    per_user = pd.DataFrame({"user_id": ["a", "b", "c"], "ndcg": [0.2, 0.4, 0.6]})
    clusters = pd.Series(["1", "0", "cold"], index=["a", "b", "c"], name="cluster")
    assert segment_metrics(per_user, clusters)["segment"].tolist() == ["cold", "0", "1"]
    with pytest.raises(DataError, match="3 evaluated users have no segment"):
        segment_metrics(per_user, pd.Series([], dtype=object))
    with pytest.raises(DataError, match="user_id"):
        segment_metrics(per_user.set_index("user_id"), clusters)


def test_user_segments_of_a_grocer_text_bands_and_spend():
    """The Complete Journey's shape: age already in bands (text), income bands, a spend column in the log."""
    users = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4],
            "age": ["25-34", "65+", "25-34", None],
            "income": ["35-49K", "35-49K", "100-124K", "Under 15K"],
            "member_no": ["a1", "a2", "a3", "a4"],  # every user their own value: an id, not a segment
        }
    )
    log = pd.DataFrame(
        {"user_id": [1, 1, 2, 3, 4], "item_id": [1, 2, 1, 3, 3], "sales_value": [1.0, 1.0, 4.0, 10.0, 20.0]}
    )
    ds = Dataset.from_frames(log, users)
    train = ds.with_interactions(log[log["user_id"] != 4])
    segments = user_segments(ds, train, n_quantiles=2)
    assert segments.columns.tolist() == ["age", "income", "activity_band", "spend_band"]
    assert segments.loc[2, "age"] == "65+" and segments.loc[3, "income"] == "100-124K"
    # training spend: 2, 4 and 10; median 4 splits them into two bands; user 4 has no training rows
    assert segments["spend_band"].tolist() == ["2.00-4.00", "2.00-4.00", "4.00-10.00", "0 (cold)"]
