"""buy_again_vs_discover: one row per model and segment, figures equal to evaluate_next_basket."""

import pandas as pd
import pytest

from workbench.analysis.next_basket import FIGURES, buy_again_vs_discover
from workbench.data import Dataset
from workbench.evaluation import evaluate_next_basket


def test_rows_per_model_and_segment_match_evaluate_next_basket():
    history = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["milk", "tea", "soap", "rice"]}))
    truth = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["milk", "jam", "rice", "rice"]})
    recs = pd.DataFrame(
        {"user_id": [1, 1, 2, 2, 3], "item_id": ["milk", "tea", "soap", "rice", "bread"], "rank": [1, 2, 1, 2, 1]}
    )
    segments = pd.Series(pd.Categorical(["heavy", "light", "light"], categories=["light", "heavy"]), index=[1, 2, 3])
    table = buy_again_vs_discover({"a": recs}, truth, history, k=2, segments=segments)
    assert table[["segment", "users"]].values.tolist() == [["all users", 3], ["light", 2], ["heavy", 1]]
    light = evaluate_next_basket(recs[recs.user_id.isin([2, 3])], truth[truth.user_id.isin([2, 3])], history, k=2)
    row = table.set_index("segment").loc["light"]
    for name in FIGURES:
        assert row[name] == pytest.approx(light[name], nan_ok=True)
    assert table.set_index("segment").loc["heavy", "ndcg_repeat"] == 1.0


def test_buy_again_study_without_a_second_basket_names_the_cause():
    from workbench.analysis.next_basket import buy_again_study
    from workbench.errors import DataError

    # both customers bought an item twice, in one order each: order numbers 1 (ties), no second basket
    log = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": ["a", "a", "b", "b"], "timestamp": [1, 1, 4, 4]})
    message = (
        r"^buy again vs discover: no user has two or more baskets: baskets are a user's distinct timestamps, which "
        r"look like order numbers \(1 to 4\), and every user has a single one, so none can be held out$"
    )
    with pytest.raises(DataError, match=message):
        buy_again_study(Dataset.from_frames(log))
    days = r"baskets are calendar days \(UTC\) of the timestamp \(the log has no order_id or session_id column\)"
    with pytest.raises(DataError, match=days):
        buy_again_study(Dataset.from_frames(log.assign(timestamp=[1_700_000_000, 1_700_000_060] * 2)))


def test_verdict_names_the_winner_and_who_beats_the_baseline():
    from workbench.analysis.next_basket import BuyAgainStudy

    table = pd.DataFrame(
        {
            "model": ["buy again", "TIFU-KNN", "ALS", "re-ranker", "re-ranker"],
            "segment": ["all users"] * 4 + ["low"],
            "ndcg": [0.20, 0.21, 0.10, 0.25, 0.90],
        }
    )
    study = BuyAgainStudy("order", None, None, 10, {}, {}, table)
    assert study.verdict() == (
        "Best: re-ranker (nDCG@10 0.2500). Against buy again (0.2000): re-ranker (0.2500), TIFU-KNN (0.2100) "
        "beat it; ALS (0.1000) loses to it."
    )


def test_buy_again_study_keeps_users_with_3_to_50_baskets():
    from workbench.analysis.next_basket import buy_again_study
    from workbench.errors import DataError

    # user 1: two orders (dropped by the range); users 2, 3 and 4: four orders each of b and c
    rows = [(1, "a", 10, 0), (1, "a", 11, 1)]
    rows += [(user, item, user * 10 + day, day) for user in (2, 3, 4) for day in range(4) for item in ("b", "c")]
    log = pd.DataFrame(rows, columns=["user_id", "item_id", "order_id", "timestamp"])
    log["timestamp"] = 1_700_000_000 + 86_400 * log["timestamp"]
    with pytest.raises(
        DataError, match=r"^buy again vs discover: no user has 5 to 50 baskets \(a basket is one order\)$"
    ):
        buy_again_study(Dataset.from_frames(log), baskets=(5, 50), n_candidates=5, n_folds=2)
    study = buy_again_study(Dataset.from_frames(log), n_candidates=5, n_folds=2)
    assert study.baskets == (3, 50) and sorted(study.test.interactions["user_id"].unique()) == [2, 3, 4]
    assert set(study.train.interactions["user_id"]) == {2, 3, 4}
