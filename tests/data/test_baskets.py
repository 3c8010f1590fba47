"""user_baskets and keep_basket_counts: known answers on a hand-made order log."""

import pandas as pd
import pytest

from workbench.data import Dataset
from workbench.data.baskets import keep_basket_counts, user_baskets
from workbench.data.dataset import IdMap
from workbench.errors import ConfigError

DAY = 86_400


@pytest.fixture
def orders() -> Dataset:
    """u1: 3 orders, u2: 1 order, u3: 2 orders (one of them bought at two times of the day)."""
    log = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 3, 3, 3],
            "item_id": ["a", "b", "a", "c", "a", "b", "b", "c"],
            "order_id": [10, 10, 11, 12, 20, 30, 31, 31],
            "timestamp": [0, 0, DAY, 2 * DAY, 0, 5 * DAY, 6 * DAY, 6 * DAY + 60],
        }
    )
    return Dataset.from_frames(log)


def test_user_baskets_known_answers(orders):
    users, items = IdMap.from_values([1, 2, 3]), IdMap.from_values(["a", "b", "c"])
    held = user_baskets(orders, users, items)
    assert held.by == "order"
    assert held.n_baskets.tolist() == [3, 1, 2]
    assert list(zip(held.user_codes.tolist(), held.position.tolist(), held.item_codes.tolist(), strict=True)) == [
        (0, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
        (0, 2, 2),
        (1, 0, 0),
        (2, 0, 1),
        (2, 1, 1),
        (2, 1, 2),
    ]
    assert held.age.tolist() == [2, 2, 1, 0, 0, 1, 0, 0]


def test_keep_basket_counts_keeps_whole_users_in_the_range(orders):
    kept = keep_basket_counts(orders, low=2, high=3)
    assert kept.interactions["user_id"].tolist() == [1, 1, 1, 1, 3, 3, 3]
    assert keep_basket_counts(orders, low=1, high=1).interactions["user_id"].tolist() == [2]
    assert keep_basket_counts(orders, low=3, high=50).interactions["user_id"].unique().tolist() == [1]
    with pytest.raises(ConfigError, match="low <= high"):
        keep_basket_counts(orders, low=4, high=3)
