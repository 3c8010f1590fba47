"""Properties that hold for any input (hypothesis): metric ranges, perfect recommendations,
leak-free splits, IdMap round trips."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data import Dataset, IdMap
from workbench.data.split import cold_user_split, leave_last_n_out, stratified_split, temporal_split
from workbench.evaluation import evaluate, evaluate_per_user
from workbench.evaluation.metrics import METRICS

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

int_ids = st.integers(min_value=-(2**70), max_value=2**70)
text_ids = st.text(min_size=1, max_size=6).filter(lambda s: s.strip() != "")
ids = st.one_of(int_ids, text_ids)


@st.composite
def recs_and_truth(draw):
    """Random top-k lists (ranks 1..len, distinct items per user) and random truth pairs."""
    n_users, n_items, k = draw(st.integers(1, 6)), draw(st.integers(1, 12)), draw(st.integers(1, 8))
    rows = []
    for user in range(n_users):
        items = draw(st.lists(st.integers(0, n_items - 1), unique=True, max_size=k))
        rows += [(f"u{user}", f"i{item}", float(-rank), rank + 1) for rank, item in enumerate(items)]
    recs = pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])
    pairs = draw(st.lists(st.tuples(st.integers(0, n_users), st.integers(0, n_items - 1)), min_size=1, max_size=30))
    truth = pd.DataFrame({"user_id": [f"u{u}" for u, _ in pairs], "item_id": [f"i{i}" for _, i in pairs]})
    return recs, truth, k


@SETTINGS
@given(recs_and_truth())
def test_metrics_lie_in_unit_interval(case):
    recs, truth, k = case
    per_user = evaluate_per_user(recs, truth, k=k)
    assert sorted(per_user["user_id"]) == sorted(truth["user_id"].unique())  # one row per truth user
    values = per_user[list(METRICS)].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1 + 1e-12).all()
    summary = evaluate(recs, truth, k=k)
    assert all(0.0 <= summary[m] <= 1.0 + 1e-12 for m in METRICS)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 20)), min_size=1, max_size=40), st.integers(1, 10))
def test_perfect_recommendations_score_one(pairs, k):
    truth = pd.DataFrame(pairs, columns=["user_id", "item_id"])  # repeats allowed: one relevant item
    relevant = truth.drop_duplicates()
    ranked = relevant.assign(rank=relevant.groupby("user_id").cumcount() + 1)
    recs = ranked[ranked["rank"] <= k].assign(score=lambda f: -f["rank"].astype(float))
    per_user = evaluate_per_user(recs, truth, k=k).set_index("user_id")
    n_relevant = relevant.groupby("user_id").size().reindex(per_user.index)
    for metric in ("ndcg", "map", "hit_rate", "mrr"):
        assert np.allclose(per_user[metric], 1.0), metric
    assert np.allclose(per_user["recall"], np.minimum(n_relevant, k) / n_relevant)
    assert np.allclose(per_user["precision"], np.minimum(n_relevant, k) / k)


@st.composite
def logs(draw):
    """An interaction log with string or int users (one kind per log: a mix is a DataError), a row
    marker, and (possibly tied) timestamps."""
    n = draw(st.integers(1, 60))
    kind = draw(st.sampled_from([int_ids, text_ids]))
    user_pool = draw(st.lists(kind, min_size=1, max_size=8, unique=True))
    users = draw(st.lists(st.sampled_from(user_pool), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    frame = pd.DataFrame(
        {"user_id": pd.Series(users, dtype=object), "item_id": items, "timestamp": times, "row": np.arange(n)}
    )
    return Dataset.from_frames(frame)


def _check_partition(ds: Dataset, train: Dataset, test: Dataset) -> None:
    rows = np.concatenate([train.interactions["row"], test.interactions["row"]])
    assert sorted(rows.tolist()) == list(range(len(ds)))  # no overlap, nothing lost or duplicated
    both = pd.concat([train.interactions, test.interactions]).sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(both, ds.interactions, check_dtype=False)  # rows kept as they were


@SETTINGS
@given(logs(), st.floats(0.05, 0.95))
def test_temporal_split_respects_time(ds, fraction):
    train, test = temporal_split(ds, test_fraction=fraction)
    _check_partition(ds, train, test)
    if len(train) and len(test):
        assert train.interactions["timestamp"].max() <= test.interactions["timestamp"].min()


@SETTINGS
@given(logs(), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_stratified_split_keeps_every_user_in_train(ds, ratio, seed):
    train, test = stratified_split(ds, ratio=ratio, seed=seed)
    _check_partition(ds, train, test)
    assert set(train.interactions["user_id"]) == set(ds.interactions["user_id"])


@SETTINGS
@given(logs(), st.integers(1, 3))
def test_leave_last_n_out_holds_out_each_users_latest(ds, n):
    train, test = leave_last_n_out(ds, n=n)
    _check_partition(ds, train, test)
    assert set(train.interactions["user_id"]) == set(ds.interactions["user_id"])
    assert test.interactions.groupby("user_id").size().le(n).all()
    latest_train = train.interactions.groupby("user_id")["timestamp"].max()
    earliest_test = test.interactions.groupby("user_id")["timestamp"].min()
    assert (latest_train.reindex(earliest_test.index) <= earliest_test).all()


@SETTINGS
@given(logs(), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_cold_user_split_separates_users(ds, fraction, seed):
    train, test = cold_user_split(ds, fraction=fraction, seed=seed)
    _check_partition(ds, train, test)
    assert not set(train.interactions["user_id"]) & set(test.interactions["user_id"])
    assert len(test) > 0


@SETTINGS
@given(st.lists(ids, min_size=1, max_size=40))
def test_idmap_round_trip(values):
    mapping = IdMap.from_values(pd.Series(values, dtype=object))
    distinct = list(dict.fromkeys(values))  # first appearance order
    assert len(mapping) == len(distinct)
    codes = mapping.codes(pd.Series(values, dtype=object))
    assert codes.min() == 0 and codes.max() == len(distinct) - 1
    assert mapping.to_ids(codes).tolist() == values  # exact, even for ints beyond 2**63
    assert mapping.codes(pd.Series(distinct, dtype=object)).tolist() == list(range(len(distinct)))


@SETTINGS
@given(st.lists(ids, min_size=1, max_size=20, unique=True), st.lists(ids, max_size=10))
def test_idmap_unknown_ids_are_minus_one(known, queries):
    mapping = IdMap.from_values(pd.Series(known, dtype=object))
    codes = mapping.codes(pd.Series(queries, dtype=object))
    expected = [known.index(q) if q in known else -1 for q in queries]
    assert codes.tolist() == expected
