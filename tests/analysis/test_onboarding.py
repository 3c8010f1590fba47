"""The onboarding protocol: first items revealed, every model scored on the same remaining items."""

import pandas as pd
import pytest

from workbench.analysis.onboarding import onboarding_per_user, reveal_first, without_revealed
from workbench.data.split import cold_user_split
from workbench.data.synthetic import make_ecommerce
from workbench.models import ClusterColdStart, PopularityRecommender


def test_reveal_first_by_time_and_drops_users_with_nothing_left():
    log = pd.DataFrame({"user_id": [1, 1, 1, 2, 3, 3], "item_id": [5, 6, 5, 7, 8, 9], "timestamp": [3, 1, 4, 1, 2, 2]})
    first, rest = reveal_first(log, 1)
    assert first == {1: [6], 3: [8]}  # user 2 has nothing left; a tie keeps the log's order
    assert rest[["user_id", "item_id"]].to_numpy().tolist() == [[1, 5], [1, 5], [3, 9]]


def test_without_revealed_renumbers_ranks():
    recs = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [5, 6, 7, 5], "rank": [1, 2, 3, 1]})
    kept = without_revealed(recs, {1: [6]}, 2)
    assert kept[["user_id", "item_id", "rank"]].to_numpy().tolist() == [[1, 5, 1], [1, 7, 2], [2, 5, 1]]
    assert len(without_revealed(recs, {}, 1)) == 2


@pytest.mark.filterwarnings("ignore")
def test_every_model_is_scored_on_the_same_remaining_items():
    ds = make_ecommerce(300, 80, 4_000, seed=0)
    train, test = cold_user_split(ds, fraction=0.2, seed=0)
    model = ClusterColdStart(n_clusters=3, seed=0).fit(train)
    per_user = onboarding_per_user(model, PopularityRecommender().fit(train), test, n=2, k=5)
    first, rest = reveal_first(test, 2)
    assert list(per_user) == ["popularity", "clusters", "clusters + 2 first"]
    for frame in per_user.values():
        assert set(frame["user_id"]) == set(rest["user_id"]) == set(first)
