"""Ranking metrics against a brute-force reference written from DESIGN.md, and hand-worked answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_metrics

from workbench.evaluation import METRICS
from workbench.evaluation.metrics import per_user_metrics


@st.composite
def cases(draw):
    """(recs, truth, k): int or string ids, repeated truth pairs, truth users without
    recommendations, recommended users outside the truth, k below or above list lengths,
    and recs either shuffled with a rank column or in rank order without one."""
    as_text = draw(st.booleans())
    name = (lambda i: f"id-{i}") if as_text else (lambda i: 1000 + 7 * i)
    n_items = draw(st.integers(1, 12))
    truth_users = draw(st.integers(1, 8))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, truth_users - 1), st.integers(0, n_items - 1)), min_size=1, max_size=40)
    )
    pairs += draw(st.lists(st.sampled_from(pairs), max_size=5))  # repeated truth pairs
    truth = pd.DataFrame({"user_id": [name(u) for u, _ in pairs], "item_id": [name(i) for _, i in pairs]})

    rows = []
    for user in range(truth_users + draw(st.integers(0, 3))):  # some users are not in truth
        length = draw(st.integers(0, n_items))  # 0: a truth user without recommendations
        items = draw(st.permutations(range(n_items)))[:length]
        rows += [(name(user), name(item), rank) for rank, item in enumerate(items, start=1)]
    recs = pd.DataFrame(rows, columns=["user_id", "item_id", "rank"]).astype({"rank": np.int64})
    if draw(st.booleans()):
        recs = recs.sample(frac=1.0, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)
    else:
        recs = recs.drop(columns="rank")
    return recs, truth, draw(st.integers(1, n_items + 3))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_metrics_match_the_brute_force_reference(case):
    recs, truth, k = case
    expected = reference_metrics(recs, truth, k)
    got = per_user_metrics(recs, truth, k=k)
    assert sorted(got.index.tolist(), key=str) == sorted(expected, key=str)
    for user, row in got.iterrows():
        for name in METRICS:
            assert row[name] == pytest.approx(expected[user][name], abs=1e-12), (user, name)


def hand_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.DataFrame({"user_id": ["a", "a", "a", "a", "b", "c"], "item_id": ["x", "y", "z", "x", "w", "v"]})
    recs = pd.DataFrame(
        {
            "user_id": ["a", "a", "a", "b", "b", "b", "zz"],
            "item_id": ["x", "q", "y", "q", "w", "x", "v"],
            "rank": [1, 2, 3, 1, 2, 3, 1],
        }
    )
    return recs, truth


def test_hand_worked_example():
    # a: relevant {x, y, z} (x repeated), hits at ranks 1 and 3; b: relevant {w}, hit at rank 2;
    # c: no recommendations; zz is not a truth user and is ignored.
    recs, truth = hand_case()
    got = per_user_metrics(recs, truth, k=3)
    idcg_a = 1 + 1 / math.log2(3) + 1 / 2
    expected = pd.DataFrame(
        {
            "precision": [2 / 3, 1 / 3, 0.0],
            "recall": [2 / 3, 1.0, 0.0],
            "ndcg": [(1 + 1 / 2) / idcg_a, 1 / math.log2(3), 0.0],
            "map": [(1 / 1 + 2 / 3) / 3, (1 / 2) / 1, 0.0],
            "hit_rate": [1.0, 1.0, 0.0],
            "mrr": [1.0, 0.5, 0.0],
        },
        index=pd.Index(["a", "b", "c"], name="user_id"),
    )
    pd.testing.assert_frame_equal(got.loc[["a", "b", "c"]], expected, atol=1e-12, rtol=0)


def test_k_cuts_the_lists_and_bounds_the_ideal():
    recs, truth = hand_case()
    got = per_user_metrics(recs, truth, k=1).loc["a"]
    # only x at rank 1 counts; ideal list length min(3, 1) = 1
    assert got["precision"] == 1.0 and got["recall"] == pytest.approx(1 / 3)
    assert got["ndcg"] == 1.0 and got["map"] == 1.0


def test_row_order_and_rank_gaps_do_not_matter():
    recs, truth = hand_case()
    shuffled = recs.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        per_user_metrics(shuffled, truth, k=3).sort_index(), per_user_metrics(recs, truth, k=3).sort_index()
    )
    # without a rank column the row order is the rank order
    no_rank = recs.drop(columns="rank")
    pd.testing.assert_frame_equal(per_user_metrics(no_rank, truth, k=3), per_user_metrics(recs, truth, k=3))


def test_inputs_are_not_mutated():
    recs, truth = hand_case()
    recs_copy, truth_copy = recs.copy(), truth.copy()
    per_user_metrics(recs.iloc[::-1], truth, k=2)
    pd.testing.assert_frame_equal(recs, recs_copy)
    pd.testing.assert_frame_equal(truth, truth_copy)


@pytest.mark.parametrize(
    ("user_ids", "item_ids"),
    [(np.int32, np.uint16), (np.int64, str), (str, np.int64), (np.uint64, object)],
)
def test_id_types_give_the_same_metrics(user_ids, item_ids):
    recs, truth = hand_case()
    users = {"a": 10, "b": 20, "c": 30, "zz": 40}
    items = {name: i for i, name in enumerate("qvwxyz")}

    def recode(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(
            user_id=frame["user_id"].map(users).astype(user_ids),
            item_id=frame["item_id"].map(items).astype(item_ids),
        )

    got = per_user_metrics(recode(recs), recode(truth), k=3)
    expected = per_user_metrics(recs, truth, k=3)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    assert got.index.tolist() == expected.index.map(users).astype(user_ids).tolist()


def test_int_and_text_spellings_of_an_id_match():
    truth = pd.DataFrame({"user_id": [1, 2], "item_id": [5, 6]})
    recs = pd.DataFrame({"user_id": ["1", "2"], "item_id": [5, 6]})
    assert per_user_metrics(recs, truth, k=2)["hit_rate"].tolist() == [1.0, 1.0]
    recs = pd.DataFrame({"user_id": [1, 2], "item_id": ["5", "7"]})
    assert per_user_metrics(recs, truth, k=2)["hit_rate"].tolist() == [1.0, 0.0]


def test_a_user_split_across_the_frame_is_scored_once_in_rank_order():
    truth = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["x", "y", "z"]})
    # user 1's rows come in two runs, the second holding the better ranks
    split = pd.DataFrame({"user_id": [1, 2, 1], "item_id": ["y", "z", "x"], "rank": [2, 1, 1]})
    grouped = split.sort_values(["user_id", "rank"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(per_user_metrics(split, truth, k=2), per_user_metrics(grouped, truth, k=2))
    assert per_user_metrics(split, truth, k=1).loc[1, "mrr"] == 1.0


def test_missing_recommended_items_never_hit():
    truth = pd.DataFrame({"user_id": [1, 1], "item_id": ["x", "y"]})
    recs = pd.DataFrame({"user_id": [1, 1], "item_id": [None, "y"], "rank": [1, 2]})
    row = per_user_metrics(recs, truth, k=2).loc[1]
    assert row["precision"] == 0.5 and row["mrr"] == 0.5


@pytest.mark.parametrize("item_ids", [np.int64, str])
def test_thousands_of_sparse_ids_match_the_brute_force_reference(item_ids):
    """Enough distinct users and items to grow the hash tables, shuffled truth with repeats,
    and some users' rows split in two runs."""
    rng = np.random.default_rng(7)
    user_ids = rng.choice(10**12, size=3_000, replace=False)
    n_truth = rng.integers(1, 12, size=len(user_ids))
    truth = pd.DataFrame(
        {
            "user_id": np.repeat(user_ids, n_truth),
            "item_id": (rng.integers(0, 2_500, size=n_truth.sum()) * 7919).astype(item_ids),
        }
    ).sample(frac=1.0, random_state=1)
    recs = pd.DataFrame(
        {
            "user_id": np.repeat(np.r_[user_ids[:2_800], rng.choice(10**12, 50)], 10),
            # ten distinct items per user
            "item_id": ((rng.integers(0, 2_500, size=(2_850, 1)) + 13 * np.arange(10)) % 2_500 * 7919)
            .ravel()
            .astype(item_ids),
            "rank": np.tile(np.arange(1, 11), 2_850),
        }
    )
    recs = pd.concat([recs.iloc[:5], recs.iloc[20:], recs.iloc[5:20]], ignore_index=True)  # a split user
    expected = reference_metrics(recs, truth, 5)
    got = per_user_metrics(recs, truth, k=5)
    assert len(got) == len(user_ids)
    for name in METRICS:
        want = np.array([expected[user][name] for user in got.index])
        np.testing.assert_allclose(got[name].to_numpy(), want, rtol=0, atol=1e-12, err_msg=name)
