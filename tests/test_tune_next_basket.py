"""tune_next_basket: settings chosen on each user's second-to-last basket, never on the test basket."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from basket_logs import basket_log

from workbench.data import Dataset
from workbench.data.split import next_basket_split
from workbench.errors import ConfigError, DataError, FallbackWarning
from workbench.evaluation import evaluate
from workbench.models import PopularityRecommender, TIFUKNNRecommender, UPCFRecommender
from workbench.tuning import tune_next_basket


@pytest.fixture
def shop() -> Dataset:
    """Every user buys {a} three times, then {b} twice (the last {b} is the validation basket), then
    {a} (the test basket): the validation basket favours a short recency window, the test basket
    the whole history. Two users also buy {c}, so that users differ."""
    histories = {user: [["a"], ["a"], ["a"], ["b"], ["b"], ["a"]] for user in range(1, 9)}
    histories[1] = [["c"], *histories[1]]
    histories[2] = [["c"], *histories[2]]
    return Dataset.from_frames(basket_log(histories))


def test_chooses_on_the_second_to_last_basket_and_never_sees_the_test_basket(shop):
    train, test = next_basket_split(shop)
    assert set(test.interactions["item_id"]) == {"a"}
    grid = {"recency": [None, 1], "alpha": [0.5], "locality": [1]}
    tuned = tune_next_basket(UPCFRecommender, train, grid, k=2)
    assert tuned.best_params == {"recency": 1, "alpha": 0.5, "locality": 1}  # validation: {b}, the last basket
    assert tuned.users == 8 and tuned.by == "order" and tuned.k == 2
    assert tuned.table["recency"].tolist() == [1, None] and tuned.table["ndcg"].tolist() == pytest.approx(
        [1.0, 1 / 1.584962500721156]
    )
    # the test basket would have chosen the other setting: tuning on all the data (wrongly) shows it
    assert tune_next_basket(UPCFRecommender, shop, grid, k=2).best_params["recency"] is None


def test_alpha_varied_on_one_fit_gives_what_separate_fits_give():
    log = basket_log(
        {
            user: [
                [f"i{(user * 7 + 3 * basket + j) % 11}" for j in range(1 + (user + basket) % 3)] for basket in range(6)
            ]
            for user in range(12)
        }
    )
    train = Dataset.from_frames(log)
    grid = {"n_groups": [2, 3], "n_neighbours": [2], "alpha": [0.2, 0.6, 1.0]}
    tuned = tune_next_basket(TIFUKNNRecommender, train, grid, k=3)
    fit, valid = next_basket_split(train)
    users = valid.interactions["user_id"].unique()
    for row in tuned.table.itertuples():
        model = TIFUKNNRecommender(n_groups=row.n_groups, n_neighbours=row.n_neighbours, alpha=row.alpha).fit(fit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            expected = evaluate(model.recommend(users, k=3, exclude_seen=False), valid, k=3)["ndcg"]
        assert row.ndcg == pytest.approx(expected, abs=1e-12)
    assert len(tuned.table) == 6 and tuned.table["ndcg"].is_monotonic_decreasing


def test_default_grid_and_a_factory(shop):
    train, _ = next_basket_split(shop)
    tuned = tune_next_basket(TIFUKNNRecommender, train, k=2)
    assert len(tuned.table) == 48 and set(tuned.best_params) == set(TIFUKNNRecommender.default_grid)
    by_factory = tune_next_basket(lambda **p: UPCFRecommender(locality=1, **p), train, {"recency": [1, 2]}, k=2)
    assert set(by_factory.table.columns[:1]) == {"recency"} and by_factory.best_params == {"recency": 1}


def test_bad_calls_are_one_line_errors(shop):
    train, _ = next_basket_split(shop)
    with pytest.raises(ConfigError, match="has no default_grid; pass grid"):
        tune_next_basket(PopularityRecommender, train)
    with pytest.raises(ConfigError, match="grid must be a non-empty mapping"):
        tune_next_basket(UPCFRecommender, train, {})
    with pytest.raises(ConfigError, match="parameter 'recency' has no values"):
        tune_next_basket(UPCFRecommender, train, {"recency": []})
    with pytest.raises(ConfigError, match="recency must be a positive integer"):
        tune_next_basket(UPCFRecommender, train, {"recency": [0]})
    single = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "b"], "order_id": [1, 2]}))
    with pytest.raises(DataError, match="needs a 'timestamp' column"):
        tune_next_basket(UPCFRecommender, single)
    one_each = Dataset.from_frames(basket_log({1: [["a", "b"]], 2: [["a"]]}))
    with pytest.raises(DataError, match="no user has two or more baskets"):
        tune_next_basket(UPCFRecommender, one_each)
