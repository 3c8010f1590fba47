"""TIFU-KNN: vectors, neighbours and scores by hand and against a literal port of the reference code
(github.com/HaojiHu/TIFUKNN, TIFUKNN.py), baskets as basket_by makes them, the protocol on a tiny log."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from basket_logs import basket_log, own_scores

from workbench.data import Dataset
from workbench.errors import ConfigError, FallbackWarning
from workbench.models import TIFUKNNRecommender, load_model

HAND = dict(n_groups=2, within_decay=0.5, group_decay=0.5, alpha=0.5, n_neighbours=1)


@pytest.fixture
def tiny() -> Dataset:
    # user 1: {x}, {x, y}, {y}; user 2: {z}; user 3: {y}, {y, w}
    return Dataset.from_frames(basket_log({1: [["x"], ["x", "y"], ["y"]], 2: [["z"]], 3: [["y"], ["y", "w"]]}))


def test_vectors_neighbours_and_scores_by_hand(tiny):
    """m = 2 groups, r_b = r_g = alpha = 0.5, one neighbour.

    User 1 (3 baskets): groups [b1], [b2, b3]; basket weights 0.5^2, 0.5^1, 0.5^0; group 1 weighs
    0.5^1: x = (0.25 * 0.5 + (0.5 + 0) / 2) / 2 = 0.1875, y = ((0.5 + 1) / 2) / 2 = 0.375.
    User 2 (1 basket < m groups): its own group, weighed 0.5^(2-1), divided by 1: z = 0.5.
    User 3 (2 baskets): y = (0.5 * 0.5 + 1) / 2 = 0.625, w = 1 / 2 = 0.5.
    Squared distances: d(1,2) = 0.42578125, d(1,3) = 0.34765625, d(2,3) = 0.890625, so 1 -> 3,
    2 -> 1, 3 -> 1. Scores: 0.5 * own + 0.5 * neighbour.
    """
    model = TIFUKNNRecommender(**HAND).fit(tiny)
    vectors = pd.DataFrame(model.vectors_.toarray(), index=model.user_map.ids, columns=model.item_map.ids)
    assert vectors.loc[1].to_dict() == {"x": 0.1875, "y": 0.375, "z": 0.0, "w": 0.0}
    assert vectors.loc[2].to_dict() == {"x": 0.0, "y": 0.0, "z": 0.5, "w": 0.0}
    assert vectors.loc[3].to_dict() == {"x": 0.0, "y": 0.625, "z": 0.0, "w": 0.5}
    neighbours = model.user_map.to_ids(model.neighbours_.ravel()).tolist()
    assert neighbours == [3, 1, 1]
    recs = model.recommend([1, 2, 3], k=4, exclude_seen=False)
    assert own_scores(recs, 1) == {"y": 0.5, "w": 0.25, "x": 0.09375}
    assert recs[recs["user_id"] == 1]["item_id"].tolist() == ["y", "w", "x", "z"]  # z: popularity, marked
    assert recs[recs["user_id"] == 1]["fallback"].tolist() == [False, False, False, True]
    assert own_scores(recs, 2) == {"z": 0.25, "y": 0.1875, "x": 0.09375}
    assert own_scores(recs, 3) == {"y": 0.5, "w": 0.25, "x": 0.09375}
    assert recs[recs["user_id"] == 3]["item_id"].tolist()[:3] == ["y", "w", "x"]


def test_alpha_one_is_the_users_own_vector_and_zero_the_neighbours_mean(tiny):
    own = TIFUKNNRecommender(**{**HAND, "alpha": 1.0}).fit(tiny).recommend([1], k=4, exclude_seen=False)
    assert own_scores(own, 1) == {"y": 0.375, "x": 0.1875}
    others = TIFUKNNRecommender(**{**HAND, "alpha": 0.0, "n_neighbours": 2}).fit(tiny)
    assert own_scores(others.recommend([1], k=4, exclude_seen=False), 1) == {"y": 0.3125, "z": 0.25, "w": 0.25}


# -- a literal port of the reference code (TIFUKNN.py), one user at a time ----------------------------------
def _group_history_list(his_list: list[np.ndarray], group_size: int) -> tuple[list[np.ndarray], int]:
    grouped = []
    if len(his_list) < group_size:
        return list(his_list), len(his_list)
    est = len(his_list) / group_size
    base = int(np.floor(len(his_list) / group_size))
    residual = est - base
    n_extra = int(np.round(residual * group_size))
    if residual == 0:
        for i in range(group_size):
            grouped.append(sum(his_list[i * base + j] for j in range(base)) / base)
        return grouped, group_size
    last_idx = -1
    for i in range(group_size - n_extra):
        total = np.zeros(len(his_list[0]))
        for j in range(base):
            total += his_list[i * base + j]
            last_idx = i * base + j
        grouped.append(total / base)
    est_num = int(np.ceil(est))
    start = group_size - n_extra
    if len(his_list) - start * base >= est:
        for i in range(start, group_size):
            grouped.append(sum(his_list[last_idx + 1 + (i - start) * est_num + j] for j in range(est_num)) / est_num)
    return grouped, group_size


def _reference_vector(history: list[list[int]], n_items: int, group_size: int, r_b: float, r_g: float) -> np.ndarray:
    n = len(history)
    his_list = []
    for idx in range(1, n + 1):
        vector = np.zeros(n_items)
        vector[history[idx - 1]] = r_b ** (n - idx)
        his_list.append(vector)
    grouped, real = _group_history_list(his_list, group_size)
    out = np.zeros(n_items)
    for idx in range(real):
        out += grouped[idx] * r_g ** (group_size - 1 - idx)
    return out / real


def _reference_scores(histories, n_items, *, n_groups, within_decay, group_decay, alpha, n_neighbours, metric):
    users = list(histories)
    vectors = np.array([_reference_vector(histories[u], n_items, n_groups, within_decay, group_decay) for u in users])
    search = vectors
    if metric == "cosine":
        search = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = {}
    for a, user in enumerate(users):
        distance = [np.sum((search[a] - search[b]) ** 2) if b != a else np.inf for b in range(len(users))]
        order = np.argsort(distance, kind="stable")
        nearest = order[:n_neighbours]
        assert distance[order[n_neighbours]] - distance[order[n_neighbours - 1]] > 1e-9  # no tie at the cut
        scores[user] = alpha * vectors[a] + (1 - alpha) * vectors[nearest].mean(axis=0)
    return scores


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("n_groups", [1, 3, 5])
def test_matches_a_literal_port_of_the_reference_code(metric, n_groups):
    rng = np.random.default_rng(7)
    n_items = 12
    histories = {
        f"u{u}": [sorted(rng.choice(n_items, size=rng.integers(1, 5), replace=False).tolist()) for _ in range(n)]
        for u, n in enumerate(rng.integers(1, 12, size=25))
    }
    log = basket_log({user: [[f"i{i}" for i in basket] for basket in history] for user, history in histories.items()})
    params = dict(n_groups=n_groups, within_decay=0.8, group_decay=0.6, alpha=0.4, n_neighbours=4, metric=metric)
    model = TIFUKNNRecommender(**params).fit(Dataset.from_frames(log.sample(frac=1.0, random_state=0)))
    expected = _reference_scores(histories, n_items, **params)
    recs = model.recommend(list(histories), k=n_items, exclude_seen=False)
    for user, vector in expected.items():
        mine = recs[(recs["user_id"] == user) & ~recs["fallback"]]
        want = {f"i{i}": vector[i] for i in np.flatnonzero(vector > 0)}
        assert dict(zip(mine["item_id"], mine["score"], strict=True)) == pytest.approx(want, rel=1e-12)
        assert mine["score"].is_monotonic_decreasing


def test_baskets_follow_time_and_ids_keep_their_spelling():
    # the order ids run against time: basket order is by timestamp (the latest basket {b} weighs most)
    log = pd.DataFrame(
        {
            "user_id": ["7", "7", "7", "8"],
            "item_id": [10, 20, 20, 10],
            "order_id": [900, 900, 100, 500],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-05"]),
        }
    )
    model = TIFUKNNRecommender(n_groups=2, within_decay=0.5, group_decay=0.5, alpha=1.0).fit(Dataset.from_frames(log))
    recs = model.recommend([7, "8"], k=2, exclude_seen=False)  # 7 names user "7"
    assert recs["user_id"].tolist() == ["7", "7", "8", "8"]
    assert own_scores(recs, "7") == {20: 0.625, 10: 0.125}  # ({10, 20} * 0.5 * 0.5 + {20}) / 2
    assert recs["item_id"].tolist()[:2] == [20, 10] and not recs["fallback"].iloc[:3].any()


def test_order_numbers_and_days_make_the_baskets():
    numbers = pd.DataFrame({"user_id": [1, 1, 1], "item_id": ["a", "b", "a"], "timestamp": [3, 3, 9]})
    model = TIFUKNNRecommender(n_groups=1, within_decay=0.5, group_decay=1.0, alpha=1.0)
    # two baskets (order numbers 3 and 9): a in both, b in the older one only
    assert own_scores(model.fit(Dataset.from_frames(numbers)).recommend([1], k=2, exclude_seen=False), 1) == {
        "a": 0.75,
        "b": 0.25,
    }
    days = numbers.assign(timestamp=pd.to_datetime(["2024-03-01 09:00", "2024-03-01 18:00", "2024-03-04 10:00"]))
    assert own_scores(model.fit(Dataset.from_frames(days)).recommend([1], k=2, exclude_seen=False), 1) == {
        "a": 0.75,
        "b": 0.25,
    }


def test_views_do_not_make_baskets_and_unknown_users_fall_back():
    log = basket_log({1: [["x"], ["x", "y"]], 2: [["y"], ["z"]]}).assign(event="purchase")
    views = pd.DataFrame(
        {"user_id": [3, 1], "item_id": ["z", "w"], "order_id": [99, 98], "timestamp": [1_800_000_000] * 2}
    )
    ds = Dataset.from_frames(pd.concat([log, views.assign(event="view")], ignore_index=True))
    model = TIFUKNNRecommender(n_neighbours=1).fit(ds)
    with pytest.warns(FallbackWarning, match=r"1 of 3 users are unknown to the model"):
        recs = model.recommend([1, 3, "nobody"], k=2, exclude_seen=False)
    assert "w" not in set(recs.loc[~recs["fallback"], "item_id"])  # viewed, never bought
    assert recs[recs["user_id"] == 3]["fallback"].all()  # viewed only: no basket, popularity
    assert recs[recs["user_id"] == "nobody"]["fallback"].all()
    assert not recs[recs["user_id"] == 1]["fallback"].any()


def test_allow_list_block_list_and_exclude_seen(tiny):
    model = TIFUKNNRecommender(**HAND).fit(tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        allowed = model.recommend([1, 2], k=3, exclude_seen=False, items=["w", "x"])
        blocked = model.recommend([1], k=3, exclude_seen=False, exclude_items=["y"])
        unseen = model.recommend([1], k=3)
    assert set(allowed["item_id"]) <= {"w", "x"} and allowed[allowed["user_id"] == 1]["item_id"].tolist() == ["w", "x"]
    assert blocked["item_id"].tolist()[:2] == ["w", "x"]
    assert unseen["item_id"].tolist()[0] == "w" and not unseen["item_id"].isin(["x", "y"]).any()


def test_save_and_load_give_the_same_lists(tiny, tmp_path):
    model = TIFUKNNRecommender(**HAND, metric="cosine").fit(tiny)
    loaded = load_model(model.save(tmp_path / "tifu"))
    assert loaded.get_params() == model.get_params() and loaded.fit_seconds_ == model.fit_seconds_
    for kwargs in ({}, {"exclude_seen": False}, {"exclude_seen": False, "items": ["w", "y"]}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            pd.testing.assert_frame_equal(
                loaded.recommend([1, 2, 3, 4], k=3, **kwargs), model.recommend([1, 2, 3, 4], k=3, **kwargs)
            )


def test_fewer_users_than_neighbours_and_a_single_user():
    two = Dataset.from_frames(basket_log({1: [["x"], ["y"]], 2: [["y"]]}))
    model = TIFUKNNRecommender(n_neighbours=300).fit(two)
    assert model.neighbours_.shape == (2, 1)
    alone = TIFUKNNRecommender(alpha=0.5).fit(Dataset.from_frames(basket_log({1: [["x"], ["x", "y"]]})))
    assert alone.neighbours_.shape == (1, 0)
    recs = alone.recommend([1], k=2, exclude_seen=False)
    assert recs["item_id"].tolist() == ["x", "y"] and not recs["fallback"].any()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_neighbours": 0}, "n_neighbours must be a positive integer"),
        ({"n_groups": 1.5}, "n_groups must be a positive integer"),
        ({"within_decay": 1.2}, "within_decay must be a number from 0 to 1"),
        ({"group_decay": -0.1}, "group_decay must be a number from 0 to 1"),
        ({"alpha": True}, "alpha must be a number from 0 to 1"),
        ({"metric": "manhattan"}, "metric must be one of"),
    ],
)
def test_bad_parameters_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TIFUKNNRecommender(**kwargs)
