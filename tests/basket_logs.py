"""Hand-made order logs for the next-basket models and their tuning: a basket per order, in time order."""

from __future__ import annotations

import pandas as pd


def basket_log(baskets: dict[object, list[list[object]]], *, start: int = 0) -> pd.DataFrame:
    """Rows of ``{user: [basket, ...]}`` (oldest basket first): one order id and one timestamp (epoch
    seconds, an hour apart) per basket, orders numbered from ``start + 1`` in the order given."""
    rows, order = [], start
    for user, history in baskets.items():
        for basket in history:
            order += 1
            rows += [
                {"user_id": user, "item_id": item, "order_id": order, "timestamp": 1_700_000_000 + 3600 * order}
                for item in basket
            ]
    return pd.DataFrame(rows)


def own_scores(recs: pd.DataFrame, user: object) -> dict[object, float]:
    """``{item: score}`` of a user's rows that the model scored itself (not marked fallback)."""
    mine = recs[(recs["user_id"] == user) & ~recs["fallback"]]
    return dict(zip(mine["item_id"], mine["score"].round(12), strict=True))
