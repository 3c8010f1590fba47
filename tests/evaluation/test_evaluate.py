"""evaluate / evaluate_per_user / catalog_coverage: averaging, inputs and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.errors import ConfigError, DataError
from workbench.evaluation import METRICS, catalog_coverage, evaluate, evaluate_models, evaluate_per_user


def frames(seed: int = 0, n_users: int = 60, n_items: int = 40, k: int = 5):
    rng = np.random.default_rng(seed)
    truth = pd.DataFrame(
        {"user_id": rng.integers(0, n_users, 400) * 3 + 11, "item_id": [f"i{v}" for v in rng.integers(0, n_items, 400)]}
    )
    users = np.arange(0, n_users + 10) * 3 + 11  # ten users without truth
    items = np.array(
        [f"i{v}" for v in rng.permuted(np.tile(np.arange(n_items), (len(users), 1)), axis=1)[:, :k].ravel()]
    )
    recs = pd.DataFrame(
        {"user_id": np.repeat(users, k), "item_id": items, "rank": np.tile(np.arange(1, k + 1), len(users))}
    )
    return recs, truth


def test_evaluate_is_the_mean_of_evaluate_per_user():
    recs, truth = frames()
    per_user = evaluate_per_user(recs, truth, k=5)
    overall = evaluate(recs, truth, k=5)
    assert list(overall) == list(METRICS)
    assert len(per_user) == truth["user_id"].nunique()
    assert set(per_user["user_id"]) == set(truth["user_id"])
    for name in METRICS:
        assert overall[name] == pytest.approx(per_user[name].mean(), abs=1e-12)
        assert 0.0 <= overall[name] <= 1.0


def test_a_truth_user_without_recommendations_pulls_the_mean_down():
    truth = pd.DataFrame({"user_id": [1, 2], "item_id": ["a", "a"]})
    recs = pd.DataFrame({"user_id": [1], "item_id": ["a"], "rank": [1]})
    assert evaluate(recs, truth, k=1) == {name: 0.5 for name in METRICS}


def test_truth_may_be_a_dataset():
    recs, truth = frames(seed=1)
    assert evaluate(recs, Dataset.from_frames(truth), k=5) == evaluate(recs, truth, k=5)


def test_known_answer_through_evaluate():
    truth = pd.DataFrame({"user_id": ["u", "u", "v"], "item_id": [1, 2, 3]})
    recs = pd.DataFrame({"user_id": ["u", "u", "v", "v"], "item_id": [2, 9, 9, 8], "rank": [1, 2, 1, 2]})
    got = evaluate(recs, truth, k=2)
    # u: hit at rank 1 of 2 relevant; v: no hit
    assert got["precision"] == pytest.approx((1 / 2 + 0) / 2)
    assert got["recall"] == pytest.approx((1 / 2 + 0) / 2)
    assert got["ndcg"] == pytest.approx((1 / (1 + 1 / math.log2(3)) + 0) / 2)
    assert got["map"] == pytest.approx((1 / 2 + 0) / 2)
    assert got["hit_rate"] == 0.5 and got["mrr"] == 0.5


@pytest.mark.parametrize(
    ("recs", "truth", "k", "message"),
    [
        (pd.DataFrame({"user_id": [1]}), pd.DataFrame({"user_id": [1], "item_id": [1]}), 5, "'item_id' is missing"),
        (pd.DataFrame({"user_id": [1], "item_id": [1]}), pd.DataFrame({"item_id": [1]}), 5, "'user_id' is missing"),
        (
            pd.DataFrame({"user_id": [1], "item_id": [1], "rank": [0]}),
            pd.DataFrame({"user_id": [1], "item_id": [1]}),
            5,
            "'rank'",
        ),
        (
            pd.DataFrame({"user_id": [1], "item_id": [1]}),
            pd.DataFrame({"user_id": [1, None], "item_id": [1, 2]}),
            5,
            "missing values",
        ),
        (pd.DataFrame({"user_id": [1], "item_id": [1]}), pd.DataFrame({"user_id": [], "item_id": []}), 5, "no rows"),
        (  # a list row without its user (a left merge) was dropped from the scores without a word
            pd.DataFrame({"user_id": [1.0, np.nan], "item_id": [2, 1], "rank": [1, 2]}),
            pd.DataFrame({"user_id": [1], "item_id": [1]}),
            5,
            "recommendations: column 'user_id' has 1 missing values",
        ),
        (  # a bad rank of a user outside the truth is still an error
            pd.DataFrame({"user_id": [1, 7], "item_id": [1, 1], "rank": [1, -3]}),
            pd.DataFrame({"user_id": [1], "item_id": [1]}),
            5,
            "'rank' must hold ranks",
        ),
        (
            pd.DataFrame({"user_id": ["a", "a"], "item_id": [1, 2], "rank": [1.0, np.nan]}),
            pd.DataFrame({"user_id": ["a"], "item_id": [1]}),
            5,
            "'rank' must hold ranks",
        ),
        (
            pd.DataFrame({"user_id": [1], "item_id": [1], "rank": ["first"]}),
            pd.DataFrame({"user_id": [1], "item_id": [1]}),
            5,
            "'rank' must be numeric",
        ),
    ],
)
def test_bad_inputs_raise_one_line_data_errors(recs, truth, k, message):
    with pytest.raises(DataError, match=message) as info:
        evaluate(recs, truth, k=k)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "10"])
def test_a_bad_k_is_a_config_error_like_everywhere(k):
    recs = truth = pd.DataFrame({"user_id": [1], "item_id": [1]})
    with pytest.raises(ConfigError, match="k must be a positive integer") as info:
        evaluate(recs, truth, k=k)
    assert "\n" not in str(info.value) and isinstance(info.value, ValueError)


def test_catalog_coverage():
    recs = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "zz"]})
    assert catalog_coverage(recs, pd.Series(["a", "b", "c", "d", "a"])) == 0.5
    train = Dataset.from_frames(pd.DataFrame({"user_id": [1, 2, 3], "item_id": ["a", "c", "e"]}))
    assert catalog_coverage(recs, train) == pytest.approx(1 / 3)
    assert catalog_coverage(recs, np.array([], dtype=object)) == 0.0


def test_evaluate_models_has_a_row_per_model_equal_to_evaluate():
    truth = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "c"]})
    good = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "x", "c"], "rank": [1, 2, 1]})
    bad = pd.DataFrame({"user_id": [1, 2], "item_id": ["x", "y"], "rank": [1, 1]})
    table = evaluate_models({"good": good, "bad": bad}, truth, k=2)
    assert table.index.name == "model" and list(table.index) == ["good", "bad"]
    assert list(table.columns) == list(METRICS)
    assert table.loc["good"].to_dict() == evaluate(good, truth, k=2)
    assert (table.loc["bad"] == 0.0).all()
    assert table.loc["good", "hit_rate"] == 1.0


def test_evaluate_next_basket_splits_repeat_and_explore_items():
    from workbench.evaluation import evaluate_next_basket

    history = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["milk", "tea", "soap"]}))
    truth = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["milk", "jam", "rice"]})
    recs = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": ["milk", "tea", "soap", "rice"], "rank": [1, 2, 1, 2]})
    result = evaluate_next_basket(recs, truth, history, k=2)
    assert result["recall_repeat"] == 1.0  # user 1's only repeat item, milk, is at rank 1
    assert result["recall_explore"] == 0.5  # jam missed, rice found
    assert result["ndcg_repeat"] == 1.0
    assert result["ndcg_explore"] == pytest.approx(0.5 * (1 / math.log2(3)))
    assert result["repeat_share"] == 0.75  # milk, tea, soap were bought before; rice was not
    assert result["truth_repeat_share"] == pytest.approx(1 / 3)
    assert result["ndcg"] == evaluate(recs, truth, k=2)["ndcg"]


def test_int_and_text_spellings_of_one_id_match_and_a_mismatch_says_so():
    """A list with int ids scored against truth read as text (and back) matches "1" with 1; ids that match
    in no spelling ("01" is not 1) are an error, not a silent 0."""
    recs = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 11, 10], "rank": [1, 2, 1]})
    as_text = pd.DataFrame({"user_id": ["1", "2"], "item_id": ["11", "12"]})
    as_int = pd.DataFrame({"user_id": [1, 2], "item_id": [11, 12]})
    assert evaluate(recs, as_text, k=2) == evaluate(recs, as_int, k=2)
    assert evaluate(recs, as_text, k=2)["hit_rate"] == 0.5
    assert evaluate(recs.astype(str), as_int, k=2) == evaluate(recs, as_int, k=2)
    with pytest.raises(DataError, match=r"column 'user_id' holds int ids and the truth text ids.*e\.g\. 1\)"):
        evaluate(recs, as_text.assign(user_id=["01", "02"]), k=2)
