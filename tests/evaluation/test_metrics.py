"""Ranking metrics against a brute-force reference written from DESIGN.md, and hand-worked answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.evaluation import METRICS
from workbench.evaluation.metrics import per_user_metrics


def reference_metrics(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> dict:
    """Plain-Python metrics per truth user, straight from the definitions in DESIGN.md."""
    relevant: dict = {}
    for user, item in zip(truth["user_id"], truth["item_id"]):
        relevant.setdefault(user, set()).add(item)
    lists: dict = {}
    ranks = recs["rank"] if "rank" in recs.columns else [None] * len(recs)
    for user, item, rank in zip(recs["user_id"], recs["item_id"], ranks):
        lists.setdefault(user, []).append((rank if rank is not None else len(lists.get(user, [])) + 1, item))
    result = {}
    for user, items in relevant.items():
        ranked = sorted(lists.get(user, []), key=lambda pair: pair[0])
        hit_ranks = [rank for rank, item in ranked if rank <= k and item in items]
        ideal = min(len(items), k)
        idcg = sum(1 / math.log2(i + 1) for i in range(1, ideal + 1))
        result[user] = {
            "precision": len(hit_ranks) / k,
            "recall": len(hit_ranks) / len(items),
            "ndcg": sum(1 / math.log2(r + 1) for r in hit_ranks) / idcg,
            "map": sum(n / r for n, r in enumerate(hit_ranks, start=1)) / ideal,
            "hit_rate": float(bool(hit_ranks)),
            "mrr": 1 / hit_ranks[0] if hit_ranks else 0.0,
        }
    return result


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
    truth = pd.DataFrame(
        {"user_id": ["a", "a", "a", "a", "b", "c"], "item_id": ["x", "y", "z", "x", "w", "v"]}
    )
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
