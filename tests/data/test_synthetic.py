"""Synthetic shop: reproducible, valid, funnel order, cold users and items, segment tastes."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from workbench.data import Dataset
from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.errors import ConfigError


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return make_ecommerce(2_000, 400, 40_000, seed=3)


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_ecommerce(100, 50, 2_000, seed=1), make_ecommerce(100, 50, 2_000, seed=1)
    for x, y in [(a.interactions, b.interactions), (a.users, b.users), (a.items, b.items)]:
        pd.testing.assert_frame_equal(x, y)
    c = make_ecommerce(100, 50, 2_000, seed=2)
    assert not a.interactions.equals(c.interactions)
    assert not a.users.equals(c.users)


def test_shape_ids_and_columns(shop):
    log = shop.interactions
    assert len(log) == 40_000
    assert log.columns.tolist() == ["user_id", "item_id", "event", "timestamp", "session_id"]
    assert shop.users.shape == (2_000, 4) and shop.items.shape == (400, 4)
    assert shop.users.index[123] == "u000123" and shop.items.index[42] == "p00042"
    assert log["timestamp"].dtype == np.int64 and log["timestamp"].is_monotonic_increasing
    assert set(log["event"]) == {"view", "cart", "purchase"}
    assert set(log["user_id"]) <= set(shop.users.index) and set(log["item_id"]) <= set(shop.items.index)
    assert (shop.items["price"] > 0).all()
    assert shop.items["name"].str.match(r"^\w+ \w+ [\w ]+ \d+$").all()


def test_output_is_what_from_frames_would_build(shop):
    rebuilt = Dataset.from_frames(shop.interactions, shop.users, shop.items)
    pd.testing.assert_frame_equal(rebuilt.interactions, shop.interactions)
    pd.testing.assert_frame_equal(rebuilt.users, shop.users)
    pd.testing.assert_frame_equal(rebuilt.items, shop.items)


def test_funnel_order_holds_in_every_session(shop):
    log = shop.interactions
    stage = log["event"].map({"view": 0, "cart": 1, "purchase": 2}).to_numpy()
    ordered = log.assign(stage=stage).sort_values(["timestamp", "stage"], kind="stable")
    flags = pd.DataFrame({s: ordered["stage"] == i for i, s in enumerate(["view", "cart", "purchase"])})
    seen = flags.groupby([ordered["session_id"], ordered["item_id"]]).cumsum()
    # at each event, the session has seen at least as many views as carts, and carts as purchases, of the item
    assert (seen["view"] >= seen["cart"]).all() and (seen["cart"] >= seen["purchase"]).all()
    # ... and strictly before: no cart shares a second with the view it follows
    first = ordered.groupby(["session_id", "item_id", "stage"])["timestamp"].min().unstack()
    assert (first[1].dropna() > first.loc[first[1].notna(), 0]).all()
    assert log.groupby("session_id")["user_id"].nunique().max() == 1
    assert not log.duplicated().any()  # repeats are real repeats, never double-logged rows


def test_event_mix_is_about_70_20_10(shop):
    share = shop.interactions["event"].value_counts(normalize=True)
    assert share["view"] == pytest.approx(0.7, abs=0.02)
    assert share["cart"] == pytest.approx(0.2, abs=0.02)
    assert share["purchase"] == pytest.approx(0.1, abs=0.02)


def test_cold_users_and_items_exist(shop):
    log = shop.interactions
    assert (~shop.users.index.isin(log["user_id"])).sum() >= 0.05 * len(shop.users)
    assert (~shop.items.index.isin(log["item_id"])).sum() >= 0.05 * len(shop.items)


def test_time_span_and_signup_before_activity(shop):
    log = shop.interactions
    assert 5 * 7 * 86_400 < log["timestamp"].max() - log["timestamp"].min() <= 57 * 86_400
    first = pd.to_datetime(log.groupby("user_id")["timestamp"].min(), unit="s")
    assert (shop.users.loc[first.index, "signup_date"] <= first).all()


def test_long_tail_popularity(shop):
    counts = shop.interactions["item_id"].value_counts().to_numpy()
    top = int(np.ceil(0.2 * len(counts)))
    assert counts[:top].sum() / counts.sum() > 0.5
    assert counts[0] > 20 * np.median(counts)


def test_category_tastes_differ_by_segment(shop):
    joined = shop.interactions.join(shop.users, on="user_id").join(shop.items["category"], on="item_id")
    band = pd.cut(joined["age"], [0, 30, 45, 60, 200], right=False)
    # one row per session: events within a session are not independent draws
    sessions = joined.assign(band=band).drop_duplicates("session_id")
    table = pd.crosstab([sessions["band"], sessions["gender"]], sessions["category"])
    assert chi2_contingency(table).pvalue < 1e-6
    by_gender = pd.crosstab(sessions["gender"], sessions["category"], normalize="index")
    assert by_gender.loc["F", "beauty"] > 2 * by_gender.loc["M", "beauty"]


def test_prices_follow_category():
    items = make_ecommerce(10, 2_000, 10, seed=0).items
    median = items.groupby("category")["price"].median()
    assert median["electronics"] > 3 * median["grocery"]


def test_tiny_and_bad_sizes():
    ds = make_ecommerce(1, 1, 3, seed=0)
    assert len(ds) == 3 and ds.n_users == 1 and ds.n_items == 1
    for bad in [dict(n_users=0, n_items=5, n_events=5), dict(n_users=5, n_items=5, n_events=2.5)]:
        with pytest.raises(ConfigError, match="positive integer"):
            make_ecommerce(**bad, seed=0)


def test_sizes_are_named():
    assert set(SIZES) == {"small", "medium", "large"}
    assert SIZES["small"] == dict(n_users=300, n_items=200, n_events=5_000)
