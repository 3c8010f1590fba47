"""Synthetic shop: reproducible, valid, funnel order, cold users and items, segment tastes."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from workbench.data import Dataset, read_interactions
from workbench.data.synthetic import CATEGORIES, CONSUMABLES, SIZES, make_ecommerce, order_log
from workbench.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return make_ecommerce(2_000, 400, 40_000, seed=3)


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    """Purchases of a medium shop in time order, with the category and whether the user bought the item before."""
    ds = make_ecommerce(**SIZES["medium"], seed=0)
    log = ds.interactions
    bought = log[log["event"] == "purchase"].join(ds.items["category"], on="item_id")
    return bought.assign(repeat=bought.duplicated(["user_id", "item_id"]))


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_ecommerce(100, 50, 2_000, seed=1), make_ecommerce(100, 50, 2_000, seed=1)
    for x, y in [(a.interactions, b.interactions), (a.users, b.users), (a.items, b.items)]:
        pd.testing.assert_frame_equal(x, y)
    c = make_ecommerce(100, 50, 2_000, seed=2)
    assert not a.interactions.equals(c.interactions)
    assert not a.users.equals(c.users)
    assert not a.interactions["order_id"].equals(c.interactions["order_id"])


def test_shape_ids_and_columns(shop):
    log = shop.interactions
    assert len(log) == 40_000
    assert log.columns.tolist() == ["user_id", "item_id", "event", "timestamp", "session_id", "order_id"]
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
    assert SIZES["small"] == dict(n_users=300, n_items=200, n_events=8_000)


def test_orders_are_the_purchases_of_a_session(shop):
    log = shop.interactions
    order = log["order_id"]
    assert order.dtype == "Int64"
    assert order.notna().equals(log["event"] == "purchase")  # set on purchases only
    bought = log[order.notna()]
    assert bought.groupby("order_id")["user_id"].nunique().max() == 1
    assert bought.groupby("order_id")["session_id"].nunique().max() == 1
    assert bought.groupby("session_id")["order_id"].nunique().max() == 1
    first = bought.groupby("order_id")["timestamp"].min()
    assert first.is_monotonic_increasing and first.index.tolist() == list(range(1, len(first) + 1))


def test_consumables_are_bought_again_and_durables_almost_never(purchases):
    consumable = purchases["category"].isin(CONSUMABLES)
    rate = purchases.groupby("category")["repeat"].mean()
    assert set(rate.index) == set(CATEGORIES)
    assert purchases.loc[consumable, "repeat"].mean() > 0.4  # bought on a cycle
    assert purchases.loc[~consumable, "repeat"].mean() < 0.02  # without repeats both would be alike
    assert rate[list(CONSUMABLES)].min() > 10 * rate.drop(list(CONSUMABLES)).max()
    assert 0.3 < purchases["repeat"].mean() < 0.6


def test_last_order_is_mostly_repeats_and_follows_the_cycle(purchases):
    """Among users with 2+ orders, 50-70 % of last-order items were bought before; an item is more
    likely in that basket when the time since its last purchase has reached its usual interval."""
    orders = purchases.groupby("user_id")["order_id"]
    last = purchases["order_id"] == orders.transform("max")  # order ids increase with time
    several = orders.transform("nunique") > 1
    history, basket = purchases[several & ~last], purchases[several & last]
    pairs = pd.MultiIndex.from_frame(basket[["user_id", "item_id"]])
    assert 0.5 < pairs.isin(pd.MultiIndex.from_frame(history[["user_id", "item_id"]])).mean() < 0.7

    stats = history.groupby(["user_id", "item_id"])["timestamp"].agg(["size", "min", "max"]).reset_index()
    stats = stats[(stats["size"] >= 2) & stats["user_id"].isin(basket["user_id"])]
    since = stats["user_id"].map(basket.groupby("user_id")["timestamp"].min()) - stats["max"]
    due = (since >= 0.8 * (stats["max"] - stats["min"]) / (stats["size"] - 1)).to_numpy()
    in_basket = pd.MultiIndex.from_frame(stats[["user_id", "item_id"]]).isin(pairs)
    assert in_basket[due].mean() > 1.5 * in_basket[~due].mean()


def test_explore_purchases_keep_the_tastes(purchases):
    explore = purchases[~purchases["repeat"]]
    users = make_ecommerce(**SIZES["medium"], seed=0).users
    table = pd.crosstab(explore["user_id"].map(users["gender"]), explore["category"], normalize="index")
    assert table.loc["F", "beauty"] > 2 * table.loc["M", "beauty"]


def test_integer_ids():
    text = make_ecommerce(60, 40, 1_500, seed=5)
    ints = make_ecommerce(60, 40, 1_500, seed=5, integer_ids=True)
    log = ints.interactions
    assert log["user_id"].dtype == np.int64 and log["item_id"].dtype == np.int64
    assert ints.users.index.tolist() == list(range(1, 61)) and ints.items.index.tolist() == list(range(1, 41))
    assert ints.users.index.dtype == np.int64 and ints.items.index.dtype == np.int64
    # the same shop: "u000012" is user 13
    assert (log["user_id"] - 1).tolist() == text.interactions["user_id"].str[1:].astype(int).tolist()
    assert (log["item_id"] - 1).tolist() == text.interactions["item_id"].str[1:].astype(int).tolist()
    ids = ["user_id", "item_id"]
    pd.testing.assert_frame_equal(log.drop(columns=ids), text.interactions.drop(columns=ids))
    pd.testing.assert_frame_equal(ints.users.reset_index(drop=True), text.users.reset_index(drop=True))


def test_order_log_round_trips_through_csv(shop, tmp_path):
    orders = order_log(shop)
    assert orders.columns.tolist() == ["order_id", "user_id", "product_id", "timestamp"]
    assert len(orders) == (shop.interactions["event"] == "purchase").sum()
    assert orders["order_id"].dtype == np.int64 and orders["order_id"].is_monotonic_increasing
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    back = read_interactions(path, columns={"product_id": "item_id"}).interactions
    assert back.columns.tolist() == ["order_id", "user_id", "item_id", "timestamp"]
    # ids compare as text: whether integer-looking ids come back as text or int64 is read_interactions' choice
    for column, original in zip(back.columns, orders.columns, strict=False):
        assert back[column].astype(str).tolist() == orders[original].astype(str).tolist()
    with pytest.raises(DataError, match="order_id.*missing"):
        order_log(shop.with_interactions(shop.interactions.drop(columns="order_id")))
