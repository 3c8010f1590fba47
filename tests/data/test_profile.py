"""Profile: a tiny hand-counted Dataset, time periods, value mixes, and sizes on real data."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset, load_movielens_100k
from workbench.data.profile import profile

DAY = 86_400


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    log = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u3"],
            "item_id": ["a", "a", "b", "a", "c"],
            "event": ["view", "view", "cart", "view", "purchase"],
            "timestamp": [0, 0, DAY, 2 * DAY, 9 * DAY],
        }
    )
    users = pd.DataFrame({"user_id": ["u1", "u2", "u4"], "age": [20, 40, 70], "gender": ["F", "M", None]})
    items = pd.DataFrame({"item_id": ["a", "b", "c", "d"], "title": ["A", "B", "C", "D"]})
    return Dataset.from_frames(log, users, items)


def test_summary_counted_by_hand(tiny):
    s = profile(tiny).to_dict()
    assert s["interactions"] == 5 and s["users"] == 3 and s["items"] == 3
    assert s["duplicate_pairs"] == 1  # (u1, a) twice
    assert s["duplicate_rows"] == 1  # and the second is an exact copy
    assert s["density"] == pytest.approx(4 / 9)
    assert (s["median_per_user"], s["mean_per_user"], s["max_per_user"]) == (1.0, pytest.approx(5 / 3), 3)
    assert s["median_per_item"] == 1.0 and s["single_interaction_users"] == 2
    # counts ascending 1, 1, 3: ((-2) * 1 + 0 * 1 + 2 * 3) / (3 * 5)
    assert s["gini_items"] == pytest.approx(4 / 15)
    assert s["top20_item_share"] == pytest.approx(3 / 5)  # ceil(0.2 * 3) = 1 item holds 3 of 5
    assert (s["users_in_table"], s["cold_users"], s["unknown_users"]) == (3, 1, 1)  # u4 cold, u3 unknown
    assert (s["items_in_table"], s["cold_items"], s["unknown_items"]) == (4, 1, 0)  # d cold
    assert s["first_timestamp"] == "1970-01-01T00:00:00" and s["last_timestamp"] == "1970-01-10T00:00:00"
    assert s["span_days"] == 9.0


def test_tables_counted_by_hand(tiny):
    p = profile(tiny)
    assert p.user_activity[["label", "users"]].values.tolist() == [["1", 2], ["2-3", 1]]
    assert p.item_popularity["interactions"].tolist() == [3, 1, 1]
    assert p.item_popularity["cumulative_share"].tolist() == pytest.approx([0.6, 0.8, 1.0])
    over_time = p.activity_over_time
    assert len(over_time) == 10 and over_time["period"].iloc[0] == pd.Timestamp("1970-01-01")
    assert over_time["interactions"].tolist() == [2, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert over_time["active_users"].tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert p.value_mix[["value", "count"]].values.tolist() == [["view", 3], ["cart", 1], ["purchase", 1]]
    assert p.value_mix["share"].tolist() == pytest.approx([0.6, 0.2, 0.2])
    age = p.demographics["age"]
    assert age[["value", "users", "interactions"]].values.tolist() == [["18-24", 1, 3], ["35-44", 1, 1], ["65+", 1, 0]]
    assert age["share"].tolist() == pytest.approx([0.75, 0.25, 0.0])
    gender = p.demographics["gender"]
    assert gender[["value", "users", "interactions"]].values.tolist() == [["F", 1, 3], ["M", 1, 1], ["(missing)", 1, 0]]
    missing = p.missing.set_index(["table", "column"])
    assert missing.loc[("users", "gender"), "missing"] == 1
    assert missing.loc[("users", "gender"), "share"] == pytest.approx(1 / 3)
    assert missing["missing"].sum() == 1


def test_warnings_in_plain_words(tiny):
    text = " | ".join(profile(tiny).warnings)
    for phrase in [
        "1 users in the users table",
        "1 items in the items table",
        "1 users in the interactions are missing from the users table",
        "repeat a (user, item) pair",
        "exact copies",
        "2 users (66.7%) have a single interaction",
        "users.gender has 1 missing values",
    ]:
        assert phrase in text
    assert "sparse" not in text and "skewed" not in text and "timestamps" not in text


def test_minimal_log_without_tables_or_timestamps():
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [1, 2, 1, 1], "rating": [5, 4, 4, 3.5]}))
    p = profile(ds)
    assert p.activity_over_time.empty and p.demographics == {}
    assert p.value_mix[["value", "count"]].values.tolist() == [["3.5", 1], ["4", 2], ["5", 1]]
    assert "cold_users" not in p.to_dict() and p.to_dict()["duplicate_rows"] == 0
    assert any("no timestamps" in w for w in p.warnings)
    assert any("no users table" in w for w in p.warnings)


def test_weekly_periods_for_long_spans_and_datetimes_match_seconds():
    rng = np.random.default_rng(0)
    seconds = rng.integers(0, 200 * DAY, 1_000) + int(pd.Timestamp("2024-01-03").timestamp())  # a Wednesday
    log = pd.DataFrame({"user_id": rng.integers(0, 50, 1_000), "item_id": rng.integers(0, 80, 1_000)})
    p = profile(Dataset.from_frames(log.assign(timestamp=seconds)))
    weeks = p.activity_over_time
    assert (weeks["period"].dt.dayofweek == 0).all() and weeks["period"].iloc[0] == pd.Timestamp("2024-01-01")
    assert weeks["interactions"].sum() == 1_000 and len(weeks) in (29, 30)
    week_of = (pd.to_datetime(seconds, unit="s") - pd.Timestamp("2024-01-01")).days // 7
    expected_active = pd.Series(log["user_id"].to_numpy()).groupby(week_of).nunique()
    assert weeks["active_users"].to_numpy()[expected_active.index].tolist() == expected_active.tolist()
    as_dates = profile(Dataset.from_frames(log.assign(timestamp=pd.to_datetime(seconds, unit="s"))))
    pd.testing.assert_frame_equal(as_dates.activity_over_time, weeks)
    assert as_dates.to_dict() == p.to_dict()


def test_movielens_profile_is_aggregated_and_sound():
    ds = load_movielens_100k()
    before = ds.interactions.copy()
    p = profile(ds)
    pd.testing.assert_frame_equal(ds.interactions, before)
    s = p.to_dict()
    assert s["density"] == pytest.approx(100_000 / (943 * 1682))
    assert s["duplicate_pairs"] == 0 and s["cold_users"] == 0
    assert p.user_activity["users"].sum() == 943 and p.item_popularity["rank"].max() == 1682
    assert set(p.demographics) == {"age", "gender", "occupation"}  # zip_code has too many values
    assert p.demographics["gender"]["interactions"].sum() == 100_000
    for table in [p.user_activity, p.item_popularity, p.activity_over_time, p.value_mix, *p.demographics.values()]:
        assert 0 < len(table) < 500
    assert p.value_mix["count"].sum() == 100_000
