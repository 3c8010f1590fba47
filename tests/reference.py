"""Brute-force references the tests compare the package against (plain Python, one user at a time), and known-answer data."""

from __future__ import annotations

import math

import pandas as pd


def two_blocks() -> pd.DataFrame:
    """Known-answer log: users u0..u4 x items a0..a4 and v0..v4 x b0..b4; user i of a block misses item i."""
    rows = [
        (f"{user}{i}", f"{item}{j}")
        for user, item in (("u", "a"), ("v", "b"))
        for i in range(5)
        for j in range(5)
        if i != j
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def residual_pairs() -> pd.DataFrame:
    """Known-answer residual table (``residual_table``'s columns): three users, five pairs, residuals chosen
    so that group means are easy by hand; gender (one missing) and '|'-joined genres as segments."""
    return pd.DataFrame(
        {
            "user_id": ["a", "a", "b", "b", "c"],
            "item_id": [1, 2, 1, 3, 2],
            "probability": [0.5, 0.1, 0.2, 0.4, 0.3],
            "observed": [1.0, 0.0, 0.0, 1.0, 0.0],
            "residual": [0.5, -0.1, -0.2, 0.6, -0.3],
            "gender": ["F", "F", "M", "M", None],
            "genres": ["Action|Comedy", "Drama", "Action", "Comedy", "Drama"],
        }
    )


def reference_metrics(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> dict:
    """Plain-Python metrics per truth user, straight from the definitions in DESIGN.md."""
    relevant: dict = {}
    for user, item in zip(truth["user_id"], truth["item_id"], strict=False):
        relevant.setdefault(user, set()).add(item)
    lists: dict = {}
    ranks = recs["rank"] if "rank" in recs.columns else [None] * len(recs)
    for user, item, rank in zip(recs["user_id"], recs["item_id"], ranks, strict=False):
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


def mean_reference(recs: pd.DataFrame, truth: pd.DataFrame, k: int, metric: str) -> float:
    """The mean over truth users of one metric of :func:`reference_metrics`."""
    per_user = reference_metrics(recs, truth, k)
    return sum(scores[metric] for scores in per_user.values()) / len(per_user)
