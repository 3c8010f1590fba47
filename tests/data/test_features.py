"""Known answers of build_features on a hand-made five-row history."""

import numpy as np
import pandas as pd
import pytest

from workbench.data.dataset import Dataset
from workbench.data.features import build_features
from workbench.errors import DataError

DAY = 86_400


@pytest.fixture
def history() -> Dataset:
    interactions = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2"],
            "item_id": ["a", "b", "b", "a", "c"],
            "rating": [5.0, 3.0, 1.0, 4.0, 2.0],
            "timestamp": [0, DAY, DAY + 3600, 2 * DAY, 3 * DAY],
        }
    )
    users = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "age": [30, 40, 50], "gender": ["F", "M", "F"]})
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "genres": ["X|Y", "Y", "Z"],
            "price": [10.0, 5.0, 1.0],
        }
    )
    return Dataset.from_frames(interactions, users, items)


@pytest.fixture
def pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "u3"],
            "item_id": ["c", "a", "d", "b", "c", "a"],
            "als_score": [0.9, 0.1, 0.5, 0.2, 0.7, np.nan],
        }
    )


def test_known_answers(history, pairs):
    before = pairs.copy()
    f = build_features(pairs, history, scores=["als_score"], recent_fraction=0.25)
    pd.testing.assert_frame_equal(pairs, before)  # input untouched
    assert f[["user_id", "item_id"]].values.tolist() == pairs[["user_id", "item_id"]].values.tolist()

    def close(column, expected):
        np.testing.assert_allclose(f[column].to_numpy(float), expected, atol=1e-9)

    nan = np.nan
    close("user_count", [3, 3, 3, 2, 2, 0])
    close("user_recency_days", [2 - 1 / 24] * 3 + [0, 0, nan])
    close("user_frequency", [2, 2, 2, 2, 2, 0])
    close("user_monetary", [20, 20, 20, 11, 11, 0])  # no events: every interaction counts
    close("user_mean_rating", [3, 3, 3, 3, 3, nan])
    close("item_mean_rating", [2, 4.5, nan, 2, 2, 4.5])
    close("user_age", [30, 30, 30, 40, 40, 50])
    assert f["user_gender"].tolist() == ["F", "F", "F", "M", "M", "F"]
    assert isinstance(f["user_gender"].dtype, pd.CategoricalDtype)
    close("item_popularity", [0.2, 0.4, 0, 0.4, 0.2, 0.4])
    # recent = timestamps >= the 75% quantile (2 days): u2's a and c
    close("item_trend", [1.0, 0.5, nan, 0.0, 1.0, 0.5])
    close("item_age_days", [0, 3, nan, 2, 0, 3])
    close("item_price", [1, 10, nan, 5, 1, 10])
    assert f["item_category"].astype(object).where(f["item_category"].notna(), None).tolist() == [
        "Z",
        "X",
        None,
        "Y",
        "Z",
        "X",
    ]
    assert list(f["item_category"].cat.categories) == ["X", "Y", "Z"]
    # u1's history: genre X in 1 of 3 interactions, Y in 3 of 3; u2: X, Y, Z in 1 of 2 each
    close("category_affinity", [0, (1 / 3 + 1) / 2, nan, 0.5, 0.5, nan])
    # binary cosine: cos(a,b) = cos(a,c) = 1/sqrt(2), cos(b,c) = 0; mean over distinct history items
    r = 1 / np.sqrt(2)
    close("cooccurrence", [r / 2, (1 + r) / 2, nan, r / 2, (r + 1) / 2, nan])
    close("als_score_rank", [1, 3, 2, 2, 1, nan])
    close("als_score_z", [1, -1, 0, -r, r, nan])
    # in time order u1 saw a, b, b and u2 a, c: (a, b) twice within the window, (a, c) once;
    # scaled by sqrt of the items' user counts (a 2, b 1, c 1), averaged over the user's 2 items
    close("sequence_cooccurrence", [r / 2, np.sqrt(2) / 2, nan, np.sqrt(2) / 2, r / 2, nan])
    # one 7-day period: every user's, where a and b hold 2 of 5 interactions and c 1
    close("period_popularity", [0.2, 0.4, nan, 0.4, 0.2, nan])
    # user's last (u1: 1 day + 1 h, u2: 3 days) minus the item's first (a 0, b 1, c 3 days)
    close("period_item_age_days", [1 / 24 - 2, 1 + 1 / 24, nan, 2, 0, nan])
    # user's first (u1 0, u2 2 days) minus the item's last (a 2, b 1 day + 1 h, c 3 days)
    close("period_item_idle_days", [-3, -2, nan, 1 - 1 / 24, -1, nan])


def test_period_popularity_weighs_the_weeks_the_user_was_active():
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 3],
            "item_id": ["a", "b", "c", "a", "c"],
            "timestamp": [0, 3600, 8 * DAY, 8 * DAY + 3600, 9 * DAY],
        }
    )
    pairs = pd.DataFrame({"user_id": [1, 2, 1, 2], "item_id": ["c", "c", "a", "a"]})
    f = build_features(pairs, Dataset.from_frames(interactions))
    # week 0: a and b, half each; week 1: c 2 of 3, a 1 of 3; user 1 lived in week 0, user 2 in week 1
    np.testing.assert_allclose(f["period_popularity"], [0, 2 / 3, 1 / 2, 1 / 3])


def test_history_without_timestamps_ratings_or_tables():
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": [7, 8, 7]}))
    f = build_features(pd.DataFrame({"user_id": [2], "item_id": [8]}), ds)
    assert list(f.columns) == [
        "user_id",
        "item_id",
        "user_count",
        "item_popularity",
        "cooccurrence",
    ]
    # item 8 and item 7 share user 1: cos = 1 / sqrt(2 * 1); user 2's history is {7}
    np.testing.assert_allclose(
        f[["user_count", "item_popularity", "cooccurrence"]].iloc[0],
        [1, 1 / 3, 1 / np.sqrt(2)],
    )


def test_purchases_only_count_for_monetary():
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 1],
            "item_id": ["a", "b", "a"],
            "event": ["view", "purchase", "purchase"],
        }
    )
    items = pd.DataFrame({"item_id": ["a", "b"], "price": [2.0, 3.0]})
    f = build_features(
        pd.DataFrame({"user_id": [1], "item_id": ["a"]}),
        Dataset.from_frames(interactions, items=items),
    )
    assert f["user_monetary"].iloc[0] == pytest.approx(5.0)


def test_missing_column_is_a_data_error(history):
    with pytest.raises(DataError, match="als_score"):
        build_features(
            pd.DataFrame({"user_id": ["u1"], "item_id": ["a"]}),
            history,
            scores=["als_score"],
        )


def test_repeat_features_known_answers():
    log = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u1", "u2", "u2", "u2"],
            "item_id": ["milk", "milk", "milk", "tv", "milk", "tv", "tv"],
            "event": ["purchase", "purchase", "purchase", "purchase", "purchase", "view", "purchase"],
            "timestamp": [0, 7 * DAY, 14 * DAY, 15 * DAY, 19 * DAY, 20 * DAY, 21 * DAY],
        }
    )
    pairs = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2"], "item_id": ["milk", "tv", "milk", "bread"]})
    f = build_features(pairs, Dataset.from_frames(log), repeats=True)
    assert f["times_bought"].tolist() == [3.0, 1.0, 1.0, 0.0]
    # from the pair's last purchase to the user's latest one (u1: day 15, u2: day 21)
    assert f["days_since_last"].tolist()[:3] == [1.0, 0.0, 2.0]
    assert np.isnan(f["days_since_last"].iloc[3])
    assert f["repeat_interval_days"].iloc[0] == 7.0 and f["repeat_interval_days"].iloc[1:].isna().all()
    # u1 bought on days 0, 7, 14 and 15: 15 days over 3 gaps; u2 on days 19 and 21
    assert f["user_basket_gap_days"].tolist() == [5.0, 5.0, 2.0, 2.0]
    assert f["due_ratio"].iloc[0] == pytest.approx((1.0 + 5.0) / 7.0)  # how due milk is at u1's next basket
    # milk: bought again by u1, once by u2; tv: once by each (the view is no purchase)
    assert f["item_repurchase_rate"].tolist()[:2] == [0.5, 0.0]
    # u1 bought 4 times, 2 of them repeats; u2 twice, no repeat
    assert f["user_repeat_share"].tolist() == [0.5, 0.5, 0.0, 0.0]


def test_repeat_features_only_when_asked(history, pairs):
    assert "times_bought" not in build_features(pairs, history).columns


def test_sequence_cooccurrence_only_pairs_items_within_the_window():
    steps = list("abcdefg")  # user 1 in this time order: a and f are 5 steps apart, a and g 6
    interactions = pd.DataFrame(
        {
            "user_id": [1] * len(steps) + [2],
            "item_id": steps + ["a"],
            "timestamp": [*range(len(steps)), 100],
        }
    )
    f = build_features(pd.DataFrame({"user_id": [2, 2], "item_id": ["f", "g"]}), Dataset.from_frames(interactions))
    # user 2's only item is a (2 users); f met a once within the window, g never
    np.testing.assert_allclose(f["sequence_cooccurrence"], [1 / np.sqrt(2), 0])


def test_cooccurrence_features_match_the_dense_products_on_random_pairs():
    """The per-pair kernels against the users x items products they avoid forming."""
    rng = np.random.default_rng(3)
    log = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, 4_000),
            "item_id": rng.integers(0, 200, 4_000),
            "timestamp": rng.integers(0, 90 * DAY, 4_000),
        }
    )
    pairs = pd.DataFrame({"user_id": rng.integers(0, 310, 2_000), "item_id": rng.integers(0, 210, 2_000)})
    table = build_features(pairs, Dataset.from_frames(log))
    users = pd.Index(pd.unique(log["user_id"]))
    items = pd.Index(pd.unique(log["item_id"]))
    binary = np.zeros((len(users), len(items)))
    binary[users.get_indexer(log["user_id"]), items.get_indexer(log["item_id"])] = 1.0
    scaled = binary / np.sqrt(binary.sum(axis=0))
    order = log.sort_values(["user_id", "timestamp"], kind="stable")
    steps = np.zeros((len(items), len(items)))
    u, i = order["user_id"].to_numpy(), items.get_indexer(order["item_id"])
    for step in range(1, 6):
        same = np.flatnonzero(u[step:] == u[:-step])
        np.add.at(steps, (i[same], i[same + step]), 1.0)
        np.add.at(steps, (i[same + step], i[same]), 1.0)
    np.fill_diagonal(steps, 0.0)
    norms = np.sqrt(binary.sum(axis=0))
    sequence = steps / norms[:, None] / norms[None, :]
    row, column = users.get_indexer(pairs["user_id"]), items.get_indexer(pairs["item_id"])
    known = (row >= 0) & (column >= 0)
    size = binary.sum(axis=1)[row[known]]
    cosine = (binary @ scaled.T @ scaled)[row[known], column[known]] / size
    within = (binary @ sequence)[row[known], column[known]] / size
    assert np.allclose(table["cooccurrence"].to_numpy()[known], cosine)
    assert np.allclose(table["sequence_cooccurrence"].to_numpy()[known], within)
    assert table["cooccurrence"][~known].isna().all() and (~known).sum() > 0


def test_order_numbers_count_orders_and_leave_out_the_shared_clock():
    """Timestamps 1, 2, 3 per customer: days are orders, and nothing compares customers' clocks."""
    log = pd.DataFrame(
        {
            "user_id": ["u1"] * 5 + ["u2"] * 2,
            "item_id": ["a", "b", "a", "c", "a", "a", "b"],
            "timestamp": [1, 1, 2, 3, 5, 1, 2],
        }
    )
    pairs = pd.DataFrame({"user_id": ["u1", "u1", "u2"], "item_id": ["a", "c", "b"]})
    table = build_features(pairs, Dataset.from_frames(log), repeats=True).set_index(["user_id", "item_id"])
    absent = {"user_recency_days", "item_trend", "item_age_days", "period_popularity", "period_item_age_days"}
    assert not absent & set(table.columns)
    assert table.loc[("u1", "a"), "user_frequency"] == 4  # orders 1, 2, 3 and 5
    assert table.loc[("u1", "a"), "times_bought"] == 3
    assert table.loc[("u1", "a"), "days_since_last"] == 0  # bought in the user's latest order
    assert table.loc[("u1", "a"), "repeat_interval_days"] == 2  # orders 1 -> 5 over two repeats
    assert table.loc[("u1", "c"), "days_since_last"] == 2  # order 3, latest 5
    assert table.loc[("u1", "a"), "user_basket_gap_days"] == 4 / 3  # orders 1 to 5 over 4 orders
    assert table.loc[("u2", "b"), "days_since_last"] == 0


def test_basket_features_known_answers():
    # u1's baskets, oldest first: {a, b}, {a}, {a, c}; u2's: {a}, {d}
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 1, 2, 2],
            "item_id": ["a", "b", "a", "c", "a", "a", "d"],
            "order_id": [1, 1, 2, 3, 3, 4, 5],
            "timestamp": [0, 0, DAY, 2 * DAY, 2 * DAY, 0, DAY],
        }
    )
    pairs = pd.DataFrame({"user_id": [1, 1, 1, 1, 2], "item_id": ["a", "b", "c", "d", "a"]})
    f = build_features(pairs, Dataset.from_frames(log), repeats=True)
    assert f["basket_share"].tolist() == pytest.approx([1.0, 1 / 3, 1 / 3, 0.0, 0.5])
    assert f["baskets_since_last"].tolist()[:3] == [0.0, 2.0, 0.0] and np.isnan(f["baskets_since_last"].iloc[3])
    assert f["baskets_since_last"].iloc[4] == 1.0
    # weights 0.9 ** baskets back: u1's sum 1 + 0.9 + 0.81, u2's 1 + 0.9
    assert f["decayed_basket_share"].tolist() == pytest.approx([1.0, 0.81 / 2.71, 1 / 2.71, 0.0, 0.9 / 1.9])
    assert f["user_baskets"].tolist() == [3.0, 3.0, 3.0, 3.0, 2.0]
    assert f["user_basket_size"].tolist() == pytest.approx([5 / 3] * 4 + [1.0])


def test_quantity_spend_and_category_repeat_rate_known_answers():
    # u1's baskets: {milk, tea}, {milk}; u2's: {tea}, {soap}; u3's: {soap}
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 3],
            "item_id": ["milk", "tea", "milk", "tea", "soap", "soap"],
            "order_id": [1, 1, 2, 3, 4, 5],
            "timestamp": [0, 0, DAY, 0, DAY, 0],
            "quantity": [2, 1, 4, 3, 1, np.nan],
            "sales_value": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
        }
    )
    items = pd.DataFrame(
        {"department": ["dairy", "drinks", "home"]}, index=pd.Index(["milk", "tea", "soap"], name="item_id")
    )
    pairs = pd.DataFrame({"user_id": [1, 1, 2, 3, 3], "item_id": ["milk", "tea", "soap", "soap", "milk"]})
    f = build_features(pairs, Dataset.from_frames(log, items=items), repeats=True)
    assert f["pair_mean_quantity"].iloc[:3].tolist() == [3.0, 1.0, 1.0]  # u1's milk: 2 then 4
    assert np.isnan(f["pair_mean_quantity"].iloc[3:]).all()  # u3's soap has no quantity; milk never bought
    assert f["item_mean_spend"].tolist() == [2.0, 3.0, 6.0, 6.0, 2.0]
    # dairy: u1 in two baskets (rate 1); drinks: u1 and u2 once each (0); home: u2 and u3 once each (0)
    assert f["category_repeat_rate"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]
