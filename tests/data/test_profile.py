"""Profile: a tiny hand-counted Dataset, time periods, value mixes, spend, and sizes on real data."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset, load_dataset, load_movielens_100k
from workbench.data.profile import normalise_label, profile

DAY = 86_400
EPOCH = 1_700_000_000  # 14 November 2023, in seconds
MIDNIGHT = 1_699_920_000  # 14 November 2023, 00:00 UTC


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    log = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u3"],
            "item_id": ["a", "a", "b", "a", "c"],
            "event": ["view", "view", "cart", "view", "purchase"],
            "timestamp": [MIDNIGHT + t for t in (0, 0, DAY, 2 * DAY, 9 * DAY)],
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
    assert s["first_timestamp"] == "2023-11-14T00:00:00" and s["last_timestamp"] == "2023-11-23T00:00:00"
    assert s["span_days"] == 9.0


def test_tables_counted_by_hand(tiny):
    p = profile(tiny)
    assert p.user_activity[["label", "users"]].values.tolist() == [["1", 2], ["2-3", 1]]
    assert p.item_popularity["interactions"].tolist() == [3, 1, 1]
    assert p.item_popularity["cumulative_share"].tolist() == pytest.approx([0.6, 0.8, 1.0])
    over_time = p.activity_over_time
    assert len(over_time) == 10 and over_time["period"].iloc[0] == pd.Timestamp("2023-11-14")
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
    assert (weeks["period"].dt.day_of_week == 0).all() and weeks["period"].iloc[0] == pd.Timestamp("2024-01-01")
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


@pytest.fixture(scope="module")
def shop() -> Dataset:
    """Thirteen hand-counted rows: three users, items a and b in the items table, c missing from it."""
    log = pd.DataFrame(
        [
            ("u1", "a", "view", 0, None),
            ("u1", "a", "cart", 1, None),
            ("u1", "a", "purchase", 2, "o1"),
            ("u1", "b", "view", 3, None),
            ("u1", "a", "purchase", 100, "o4"),  # a repeat: u1 bought a at t=2
            ("u1", "b", "purchase", 100, "o4"),
            ("u2", "a", "view", 4, None),
            ("u2", "b", "view", 5, None),
            ("u2", "b", "cart", 6, None),
            ("u2", "b", "purchase", 7, "o2"),
            ("u3", "c", "view", 8, None),
            ("u3", "c", "purchase", 9, "o3"),
            ("u3", "c", "purchase", 9, "o3"),  # same time, same order: not a repeat
        ],
        columns=["user_id", "item_id", "event", "timestamp", "order_id"],
    )
    log["timestamp"] += EPOCH  # wall-clock seconds: integers below one day alone would be order numbers
    users = pd.DataFrame({"user_id": ["u1", "u2", "u4"], "age": [30, None, 50], "gender": ["F", None, "M"]})
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "d", "e"],
            "name": ["Alpha", "Beta", "  ", "Echo"],
            "category": ["Toys", "toys ", "Books", "Toys"],
            "brand": ["Acme", "Acmé", None, "Acme"],
            "price": [1.0, None, 3.0, 2.0],
        }
    )
    return Dataset.from_frames(log, users, items)


def test_top_items_by_name_with_purchases(shop):
    top = profile(shop).top_items
    assert top.columns.tolist() == ["item_id", "name", "interactions", "share", "purchases"]
    assert top[["item_id", "interactions", "purchases"]].values.tolist() == [["a", 5, 2], ["b", 5, 2], ["c", 3, 2]]
    assert top["name"].tolist()[:2] == ["Alpha", "Beta"] and pd.isna(top["name"].iloc[2])  # c: not in items table
    assert top["share"].tolist() == pytest.approx([5 / 13, 5 / 13, 3 / 13])


def test_label_mix_counts_interactions_and_items_per_label(shop):
    mix = profile(shop).label_mix
    category = mix[mix["column"] == "category"]
    rows = category[["value", "interactions", "items", "catalogue_items"]].values.tolist()
    assert rows == [["Toys", 5, 1, 2], ["toys ", 5, 1, 1], ["Books", 0, 0, 1], ["(not in items table)", 3, 1, 0]]
    assert category["share"].tolist() == pytest.approx([5 / 13, 5 / 13, 0, 3 / 13])
    brand = mix[mix["column"] == "brand"][["value", "interactions", "items", "catalogue_items"]].values.tolist()
    assert brand == [["Acme", 5, 1, 2], ["Acmé", 5, 1, 1], ["(missing)", 0, 0, 1], ["(not in items table)", 3, 1, 0]]


def test_multi_valued_genres_count_once_per_label():
    log = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": [1, 1, 2, 3]})
    items = pd.DataFrame({"item_id": [1, 2, 3], "genres": ["A|B", "B", None]})
    mix = profile(Dataset.from_frames(log, items=items)).label_mix
    assert mix[["value", "interactions", "items", "catalogue_items"]].values.tolist() == [
        ["B", 3, 2, 2],
        ["A", 2, 1, 1],
        ["(missing)", 1, 1, 1],
    ]
    assert mix["share"].tolist() == pytest.approx([0.75, 0.5, 0.25])


def test_funnel_users_events_and_conversions(shop):
    funnel = profile(shop).funnel
    assert funnel[["stage", "users", "events"]].values.tolist() == [["view", 3, 5], ["cart", 2, 2], ["purchase", 3, 6]]
    assert funnel["users_from_previous"].tolist() == pytest.approx([np.nan, 2 / 3, 3 / 2], nan_ok=True)
    assert funnel["events_from_previous"].tolist() == pytest.approx([np.nan, 2 / 5, 3], nan_ok=True)
    assert funnel["users_from_views"].tolist() == pytest.approx([1, 2 / 3, 1])


def test_baskets_and_repeat_purchases(shop):
    p = profile(shop)
    s = p.to_dict()
    # orders o1 {a}, o2 {b}, o3 {c} (c twice), o4 {a, b}
    assert p.basket_sizes[["items", "orders"]].values.tolist() == [["1", 3], ["2", 1]]
    assert (s["orders"], s["orders_from"], s["mean_items_per_order"], s["median_items_per_order"]) == (
        4,
        "order_id",
        1.25,
        1.0,
    )
    # of 6 purchases only u1's second a repeats an earlier one; u3's two c share a timestamp
    assert s["repeats_of"] == "purchases"
    assert s["repeat_rate"] == pytest.approx(1 / 6) and s["repeat_users_share"] == pytest.approx(1 / 3)
    untimed = profile(Dataset.from_frames(shop.interactions.drop(columns="timestamp"), shop.users, shop.items))
    # without timestamps the log order decides: u3's second c repeats the first
    assert untimed.to_dict()["repeat_rate"] == pytest.approx(2 / 6)
    assert untimed.to_dict()["repeat_users_share"] == pytest.approx(2 / 3)


def test_repeats_without_events_use_interactions_and_sessions():
    log = pd.DataFrame(
        {"user_id": [1, 1, 1, 2], "item_id": [5, 5, 6, 5], "session_id": [10, 11, 11, 12], "timestamp": [0, 9, 9, 3]}
    )
    s = profile(Dataset.from_frames(log)).to_dict()
    assert (s["repeats_of"], s["repeat_rate"], s["repeat_users_share"]) == ("interactions", 0.25, 0.5)
    assert (s["orders_from"], s["orders"], s["mean_items_per_order"]) == ("session_id", 3, pytest.approx(4 / 3))


def test_repeats_sorted_the_same_when_pairs_and_times_overflow_one_int64():
    filler = pd.DataFrame({"user_id": np.arange(100, 40_100), "item_id": np.arange(100, 40_100), "timestamp": DAY + 5})
    times = [DAY, DAY + 9, DAY + 3]  # seconds on 2 January 1970 (below one day they would be order numbers)
    log = pd.concat([pd.DataFrame({"user_id": [1, 1, 2], "item_id": [5, 5, 5], "timestamp": times}), filler])
    narrow = profile(Dataset.from_frames(log)).to_dict()
    # pair codes reach 1.6e9 and seconds span 9e9 (285 years): their product overflows, so lexsort orders the rows
    wide = profile(Dataset.from_frames(log.assign(timestamp=log["timestamp"].replace(DAY + 5, 9_000_000_000))))
    wide = wide.to_dict()
    for s in (narrow, wide):
        assert s["repeat_rate"] == pytest.approx(1 / 40_003) and s["repeat_users_share"] == pytest.approx(1 / 40_002)


def test_spellings_grouped_after_accents_case_and_whitespace(shop):
    p = profile(shop)
    rows = p.spellings[["table", "column", "canonical", "spelling", "rows"]].values.tolist()
    assert rows == [
        ["items", "category", "Toys", "Toys", 2],
        ["items", "category", "Toys", "toys ", 1],
        ["items", "brand", "Acme", "Acme", 2],
        ["items", "brand", "Acme", "Acmé", 1],
    ]
    text = " | ".join(p.warnings)
    assert "items.category spells 1 label(s) in several ways (e.g. 'Toys' / 'toys ')" in text
    assert normalise_label(pd.Series(["Prodúct  A", " product a", "ＰＲＯＤＵＣＴ A"])).tolist() == ["product a"] * 3


def test_missing_attributes_and_unknown_ids(shop):
    p = profile(shop)
    table = p.missing_attributes.set_index(["table", "attribute"])
    expected = {
        ("items", "without name"): (1, 0.25, 0),  # d's name is blank
        ("items", "without category"): (0, 0.0, 0),
        ("items", "without price"): (1, 0.25, 5),  # b, with 5 interactions
        ("users", "without demographics"): (1, 1 / 3, 4),  # u2
        ("interactions", "user_id not in the users table"): (1, 1 / 3, 3),  # u3
        ("interactions", "item_id not in the items table"): (1, 1 / 3, 3),  # c
    }
    assert list(table.index) == list(expected)
    for key, (missing, share, interactions) in expected.items():
        assert table.loc[key, "missing"] == missing and table.loc[key, "interactions"] == interactions, key
        assert table.loc[key, "share"] == pytest.approx(share), key
    text = " | ".join(p.warnings)
    assert "1 items (25%) are without price; they have 38.5% of the interactions." in text
    assert "1 users (33.3%) are without demographics" in text
    assert p.not_applicable == {"spend": "the interactions have no sales_value column"}


def test_outlier_users_and_items_by_robust_z():
    counts = [2] * 10 + [3] * 10 + [4] * 10
    users = np.repeat([f"u{i}" for i in range(30)], counts)
    log = pd.DataFrame(
        {
            "user_id": np.concatenate([users, ["bot"] * 200]),
            "item_id": np.concatenate([[f"n{i}" for i in range(len(users))], ["x"] * 200]),
        }
    )
    p = profile(Dataset.from_frames(log))
    assert (p.to_dict()["outlier_users"], p.to_dict()["outlier_items"]) == (1, 1)
    assert p.outliers[["kind", "id", "interactions"]].values.tolist() == [["user", "bot", 200], ["item", "x", 200]]
    # median log 3, MAD = |log 4 - log 3| (the 16th of 31 deviations)
    assert p.outliers["robust_z"].iloc[0] == pytest.approx(0.6745 * np.log(200 / 3) / np.log(4 / 3))
    # 90 items seen once: MAD 0, so the mean absolute deviation scales
    assert p.outliers["robust_z"].iloc[1] == pytest.approx(np.log(200) / (1.253314 * np.log(200) / 91))
    assert any("1 users are far more active than the rest" in w for w in p.warnings)


def test_sections_that_do_not_apply_say_why():
    p = profile(Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1]})))
    assert set(p.not_applicable) == {
        "top_items",
        "label_mix",
        "funnel",
        "basket_sizes",
        "spend",
        "spellings",
        "missing_attributes",
    }
    assert p.not_applicable["funnel"] == "the interactions have no event column"
    assert p.funnel.empty and p.label_mix.empty and p.basket_sizes.empty and p.spellings.empty
    assert p.top_items.columns.tolist() == ["item_id", "interactions", "share"]
    assert p.to_dict()["repeats_of"] == "interactions" and p.to_dict()["repeat_rate"] == 0.0
    views = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "event": ["view", "view"]}))
    q = profile(views)
    assert q.not_applicable["basket_sizes"] == q.not_applicable["repeats"] == "there are no purchase events"
    assert q.funnel["users"].tolist() == [2, 0, 0] and q.top_items["purchases"].tolist() == [0]
    assert "repeat_rate" not in q.to_dict()


# -- spend ------------------------------------------------------------------------------------------------
def spend_shop(n_rows: int, *, seed: int) -> Dataset:
    """A random shop with events, orders, amounts (some missing), departments (some missing), multi-valued
    genres and brands, and items absent from the items table."""
    rng = np.random.default_rng(seed)
    log = pd.DataFrame(
        {
            "user_id": rng.integers(0, 40, n_rows),
            "item_id": rng.integers(0, 60, n_rows),
            "event": rng.choice(["view", "cart", "purchase"], n_rows, p=[0.3, 0.2, 0.5]),
            "order_id": rng.integers(0, 150, n_rows).astype(float),
            "sales_value": rng.gamma(2.0, 3.0, n_rows).round(2),
        }
    )
    log.loc[rng.random(n_rows) < 0.05, "sales_value"] = np.nan
    log.loc[rng.random(n_rows) < 0.05, "order_id"] = np.nan
    items = pd.DataFrame(
        {
            "item_id": np.arange(50),  # 50-59 are not in the table
            "department": rng.choice(["GROCERY", "PRODUCE", "DELI", None], 50),
            "genres": rng.choice(["a|b", "b", "c|a|d", None], 50),
            "brand": rng.choice(["National", "Private"], 50),
        }
    )
    return Dataset.from_frames(log, items=items)


def brute_force_spend(ds: Dataset, column: str) -> pd.DataFrame:
    """The spend table of ``column``, one purchase row at a time in pandas."""
    bought = ds.interactions[ds.interactions["event"] == "purchase"].assign(
        sales_value=lambda f: f["sales_value"].fillna(0.0)
    )
    labels = ds.items[column].reindex(bought["item_id"]).to_numpy()
    known = bought["item_id"].isin(ds.items.index).to_numpy()
    labels = np.where(known, np.where(pd.isna(labels), "(missing)", labels), "(not in items table)")
    frame = bought.assign(value=labels)
    if column == "genres":
        frame = frame.assign(value=frame["value"].str.split("|")).explode("value")
    out = frame.groupby("value").agg(
        spend=("sales_value", "sum"), orders=("order_id", "nunique"), users=("user_id", "nunique")
    )
    out["share"] = out["spend"] / bought["sales_value"].sum()
    special = [v for v in ("(missing)", "(not in items table)") if v in out.index]
    labelled = out.drop(index=special).sort_values("spend", ascending=False, kind="stable")
    return pd.concat([labelled, out.loc[special]]).rename_axis("value").reset_index()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spend_matches_pandas_row_by_row(seed):
    ds = spend_shop(600, seed=seed)
    p = profile(ds)
    s = p.to_dict()
    bought = ds.interactions[ds.interactions["event"] == "purchase"]
    value = bought["sales_value"].fillna(0.0)
    per_order = value.groupby(bought["order_id"]).sum()  # rows without an order are in no order
    per_user = value.groupby(bought["user_id"]).sum()
    assert s["spend_from"] == "sales_value" and s["spend"] == pytest.approx(value.sum())
    assert s["spend_per_order"] == pytest.approx(per_order.mean())
    assert s["median_spend_per_order"] == pytest.approx(per_order.median())
    assert s["spend_per_user"] == pytest.approx(per_user.mean())
    assert s["median_spend_per_user"] == pytest.approx(per_user.median())
    assert p.spend["column"].unique().tolist() == ["genres", "department", "brand"]
    for column in ("department", "genres", "brand"):
        got = p.spend[p.spend["column"] == column].drop(columns="column").reset_index(drop=True)
        expected = brute_force_spend(ds, column)[["value", "spend", "share", "orders", "users"]]
        assert got["value"].tolist() == expected["value"].tolist(), column
        assert got["spend"].to_numpy() == pytest.approx(expected["spend"].to_numpy()), column
        assert got["share"].to_numpy() == pytest.approx(expected["share"].to_numpy()), column
        assert got[["orders", "users"]].values.tolist() == expected[["orders", "users"]].values.tolist(), column
    top = p.top_items.set_index("item_id")["spend"]
    assert top.to_numpy() == pytest.approx(value.groupby(bought["item_id"]).sum().reindex(top.index, fill_value=0))
    assert "spend" not in p.not_applicable


def test_spend_counted_by_hand():
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 3],
            "item_id": ["milk", "bread", "milk", "milk", "gum", "bread"],
            "order_id": [10, 10, 11, 12, 12, 13],
            "sales_value": [2.0, 3.0, 2.5, 2.0, np.nan, 4.0],
        }
    )
    items = pd.DataFrame({"item_id": ["milk", "bread"], "department": ["DAIRY", "BAKERY"]})
    p = profile(Dataset.from_frames(log, items=items))
    s = p.to_dict()
    # orders 10: 5.0, 11: 2.5, 12: 2.0 (gum has no amount), 13: 4.0; users 1: 7.5, 2: 2.0, 3: 4.0
    assert (s["spend"], s["spend_per_order"], s["median_spend_per_order"]) == (13.5, 13.5 / 4, 3.25)
    assert (s["spend_per_user"], s["median_spend_per_user"]) == (4.5, 4.0)
    rows = p.spend[["column", "value", "spend", "orders", "users"]].values.tolist()
    assert rows == [
        ["department", "BAKERY", 7.0, 2, 2],
        ["department", "DAIRY", 6.5, 3, 2],
        ["department", "(not in items table)", 0.0, 1, 1],  # gum
    ]
    assert p.spend["share"].tolist() == pytest.approx([7 / 13.5, 6.5 / 13.5, 0.0])


def test_spend_says_why_it_does_not_apply():
    log = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 1], "order_id": [5, 6]})
    assert profile(Dataset.from_frames(log)).not_applicable["spend"] == "the interactions have no sales_value column"
    texts = profile(Dataset.from_frames(log.assign(sales_value=["a", "b"])))
    assert texts.not_applicable["spend"] == "the sales_value column holds str, not amounts"
    assert "spend" not in texts.to_dict() and texts.spend.empty
    views = profile(Dataset.from_frames(log.assign(sales_value=1.0, event="view")))
    assert views.not_applicable["spend"] == "there are no purchase events"
    bare = profile(Dataset.from_frames(log.assign(sales_value=[1.0, 2.5])))
    assert bare.not_applicable["spend"] == "there is no items table to split spend by label"
    assert (bare.to_dict()["spend"], bare.to_dict()["spend_per_order"]) == (3.5, 1.75)
    assert bare.top_items["spend"].tolist() == [3.5]


def test_complete_journey_profile_shows_departments_brands_and_spend():
    ds = load_dataset("complete-journey")
    p = profile(ds)
    s = p.to_dict()
    log = ds.interactions
    assert (s["orders"], s["users"], s["items"]) == (155_848, 2_469, 68_509)
    assert s["spend"] == pytest.approx(log["sales_value"].sum())
    assert s["spend_per_order"] == pytest.approx(log["sales_value"].sum() / 155_848)
    assert s["spend_per_user"] == pytest.approx(log["sales_value"].sum() / 2_469)
    assert p.top_items["name"].iloc[0] == "BANANAS · National · 40 LB"
    assert set(p.label_mix["column"]) == {"department", "brand"}
    departments = p.spend[p.spend["column"] == "department"]
    assert departments["value"].iloc[0] == "GROCERY" and departments["share"].sum() == pytest.approx(1.0)
    by_department = log.groupby(log["item_id"].map(ds.items["department"]))["sales_value"].sum()
    assert departments.set_index("value")["spend"]["DRUG GM"] == pytest.approx(by_department["DRUG GM"])


def test_order_numbers_are_baskets_and_never_dates():
    """A shop export without order ids whose timestamps are order numbers (gaps and ties included):
    the profile says so, counts a basket per distinct number of a customer and shows no 1970 date."""
    log = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "a", "a", "b", "b", "b", "c"],
            "item_id": ["x", "y", "z", "x", "w", "x", "y", "y", "q"],
            "timestamp": [1, 1, 2, 5, 5, 3, 7, 7, 1],
        }
    )
    p = profile(Dataset.from_frames(log))
    s = p.to_dict()
    assert (s["first_timestamp"], s["last_timestamp"], s["timestamps_are"]) == (1, 7, "order numbers")
    assert "span_days" not in s
    # baskets a1 {x, y}, a2 {z}, a5 {x, w}, b3 {x}, b7 {y (twice)}, c1 {q}
    assert (s["orders_from"], s["orders"], s["mean_items_per_order"]) == ("timestamp", 6, pytest.approx(8 / 6))
    assert p.basket_sizes[["items", "orders"]].values.tolist() == [["1", 4], ["2", 2]]
    assert s["repeat_rate"] == pytest.approx(1 / 9)  # a's x in order 5; b's two y share order 7
    assert p.not_applicable["basket_sizes"] == (
        "timestamps look like order numbers (1 to 7 per customer): each distinct timestamp of a customer is a "
        "basket, its rows the basket's items; 2 of 3 customers skip numbers, which is fine"
    )
    assert p.activity_over_time.empty
    assert (
        p.not_applicable["activity_over_time"]
        == "'timestamp' holds order numbers (1 to 7), not times: there is no calendar"
    )
    text = " | ".join([*p.warnings, *map(str, s.values())])
    assert "1970" not in text and "'timestamp' holds order numbers (1 to 7), not times" in text
    # wall-clock seconds of the same shape are times: dates, a span, a chart and no basket note
    clock = profile(Dataset.from_frames(log.assign(timestamp=log["timestamp"] * DAY))).to_dict()
    assert clock["first_timestamp"] == "1970-01-02T00:00:00" and "timestamps_are" not in clock
    assert "orders_from" not in clock
