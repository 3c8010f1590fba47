"""CandidateGenerator: each source's items are in, seen items are out, unknown users get popularity."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.errors import ConfigError, ModelError
from workbench.models.candidates import CandidateGenerator, candidate_recall


@pytest.fixture(scope="module")
def data():
    ds = load_dataset("synthetic-small")
    return ds


@pytest.fixture(scope="module")
def gen(data):
    return CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0).fit(data)


def test_frame_shape_and_order(gen, data):
    users = pd.unique(data.interactions["user_id"])[:20]
    c = gen.candidates(users, k=15)
    assert list(c.columns[:4]) == ["user_id", "item_id", "score", "rank"]
    assert {
        "als_score",
        "ease_score",
        "knn_score",
        "popularity_score",
        "in_als",
        "in_ease",
        "in_knn",
        "in_popularity",
    } <= set(c.columns)
    assert c.groupby("user_id").size().max() <= 15
    assert c.sort_values(["user_id", "rank"]).index.tolist() == c.index.tolist()
    assert (c.groupby("user_id")["score"].diff().dropna() <= 0).all()
    assert not c.duplicated(["user_id", "item_id"]).any()
    # every candidate comes from at least one source, and no candidate is a seen item
    assert c[["in_als", "in_ease", "in_knn", "in_popularity"]].any(axis=1).all()
    seen = data.interactions[["user_id", "item_id"]].drop_duplicates()
    assert c.merge(seen, on=["user_id", "item_id"]).empty


def test_each_source_top_items_are_candidates(gen, data):
    users = np.sort(pd.unique(data.interactions["user_id"]))[:30]
    c = gen.candidates(users, k=40)  # deep enough that the fused cut keeps each source's top items
    pairs = set(map(tuple, c[["user_id", "item_id"]].to_numpy()))
    # ALS: the ALS model's own top 5 (seen excluded)
    als = gen.als.recommend(users, k=5)
    assert set(map(tuple, als[["user_id", "item_id"]].to_numpy())) <= pairs
    # EASE: scores X_u @ B of the closed form, brute force; X counts each user's rows per item
    log = data.interactions
    counts = log.groupby(["user_id", "item_id"]).size()
    X = np.zeros((len(gen.user_map), len(gen.item_map)))
    X[gen.user_map.codes(counts.index.get_level_values(0)), gen.item_map.codes(counts.index.get_level_values(1))] = (
        counts
    )
    gram = X.T @ X + gen.ease_regularization * np.eye(X.shape[1])
    P = np.linalg.inv(gram)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    u = gen.user_map.codes([users[1]])[0]
    expected = X[u] @ B
    expected[X[u] > 0] = -np.inf
    best_ease = gen.item_map.to_ids(np.argsort(-expected, kind="stable")[:3])
    mine = c[c["user_id"] == users[1]].set_index("item_id")
    assert set(best_ease) <= set(mine.index) and mine.loc[best_ease, "in_ease"].all()
    np.testing.assert_allclose(
        mine.loc[best_ease, "ease_score"], expected[gen.item_map.codes(best_ease)], rtol=1e-3, atol=1e-5
    )
    # popularity: the 5 most popular unseen items (brute force on the log)
    log = data.interactions
    counts = log["item_id"].value_counts()
    user = users[0]
    unseen = counts.drop(log.loc[log["user_id"] == user, "item_id"].unique(), errors="ignore")
    top_pop = unseen.sort_values(ascending=False, kind="stable").index[:5]
    assert {(user, i) for i in top_pop if unseen[i] > unseen.iloc[5]} <= pairs
    # neighbours: brute-force score = sum of similarities to the user's interactions (repeats count)
    sim = gen.similarity.toarray()
    history = log.loc[log["user_id"] == user, "item_id"].value_counts()
    codes = gen.item_map.codes(history.index)
    knn = history.to_numpy() @ sim[codes]
    knn[codes] = -np.inf
    best = gen.item_map.to_ids(np.argsort(-knn, kind="stable")[:3])
    assert {(user, i) for i in best} <= pairs
    flagged = c[(c["user_id"] == user) & c["item_id"].isin(best)]
    assert flagged["in_knn"].all()
    np.testing.assert_allclose(
        np.sort(flagged["knn_score"].to_numpy()),
        np.sort(knn[gen.item_map.codes(best)]),
        rtol=1e-5,
    )


def test_unknown_user_gets_popularity_only(gen):
    c = gen.candidates(["nobody"], k=5)
    assert len(c) == 5
    assert c["in_popularity"].all() and not c["in_als"].any() and not c["in_knn"].any()
    assert c["als_score"].isna().all()
    assert (np.diff(c["popularity_score"].to_numpy()) <= 0).all()
    recs = gen.recommend(["nobody"], k=5)
    assert recs["item_id"].tolist() == c["item_id"].tolist()


def test_recommend_matches_candidates(gen, data):
    users = pd.unique(data.interactions["user_id"])[:10]
    recs = gen.recommend(users, k=10)
    c = gen.candidates(users, k=gen.n_candidates)
    top = c[c["rank"] <= 10]
    np.testing.assert_allclose(recs["score"].to_numpy(), top["score"].to_numpy())


def test_save_load_same_candidates(gen, data, tmp_path):
    users = pd.unique(data.interactions["user_id"])[:10]
    loaded = CandidateGenerator.load(gen.save(tmp_path / "gen"))
    pd.testing.assert_frame_equal(loaded.candidates(users, k=10), gen.candidates(users, k=10))


def test_errors():
    with pytest.raises(ModelError):
        CandidateGenerator().candidates([1])
    with pytest.raises(ConfigError, match="n_candidates must be a positive integer"):
        CandidateGenerator(n_candidates=0)


def test_candidate_recall_known_answer():
    cands = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": ["a", "b", "c", "a"], "rank": [1, 2, 3, 1]})
    truth = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["b", "c", "z", "a"]})
    # k=2: user 1 finds b of {b, c} (0.5), user 2 nothing, user 3 has no candidates: mean 0.5 / 3
    assert candidate_recall(cands, truth, 2) == pytest.approx(0.5 / 3)
    assert candidate_recall(cands, truth, 3) == pytest.approx(1 / 3)
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        candidate_recall(cands, truth, 0)


def test_candidates_honour_items_and_exclude_items(gen, data):
    users = np.sort(pd.unique(data.interactions["user_id"]))[:10]
    plain = gen.candidates(users, k=20)
    allowed = sorted(set(data.interactions["item_id"]) - set(plain["item_id"]))[:50]
    c = gen.candidates(users, k=20, items=allowed)
    assert set(c["item_id"]) <= set(allowed) and c.groupby("user_id").size().eq(20).all()
    assert c[["in_als", "in_knn", "in_popularity"]].any(axis=1).all()
    blocked = gen.candidates([*users, "nobody"], k=20, exclude_items=plain["item_id"])
    assert not set(blocked["item_id"]) & set(plain["item_id"])
    recs = gen.recommend(users, k=10, items=allowed)
    deep = gen.candidates(users, k=gen.n_candidates, items=allowed)  # recommend fuses at n_candidates
    top = deep[deep["rank"] <= 10]
    assert recs[["user_id", "item_id"]].values.tolist() == top[["user_id", "item_id"]].values.tolist()


def test_ease_source_keeps_the_most_popular_items_of_a_large_catalogue(data, monkeypatch):
    import workbench.models.candidates as candidates

    monkeypatch.setattr(candidates, "EASE_ITEMS", 5)  # as a catalogue beyond EASE_ITEMS would be
    gen = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0).fit(data)
    top5 = set(data.interactions["item_id"].value_counts(sort=True).index[:5])
    c = gen.candidates(pd.unique(data.interactions["user_id"])[:30], k=20)
    assert set(c.loc[c["in_ease"], "item_id"]) <= top5
    assert np.isneginf(c.loc[~c["item_id"].isin(top5), "ease_score"]).all() and c["in_als"].any()


def test_sources_score_only_the_pool_of_a_large_catalogue(data, monkeypatch, tmp_path):
    """With POOL_ITEMS below the catalogue, every candidate is a pool item, and ALS's, EASE's and
    popularity's scores of those items are what they score them over the whole catalogue (the neighbour
    similarities are fitted on the pool's items alone)."""
    import workbench.models.candidates as candidates

    users = pd.unique(data.interactions["user_id"])[:40]
    whole = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0).fit(data)
    monkeypatch.setattr(candidates, "EASE_ITEMS", 10)
    whole_ease = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0).fit(data)
    monkeypatch.setattr(candidates, "POOL_ITEMS", 30)
    gen = CandidateGenerator(factors=8, iterations=5, n_neighbours=20, seed=0).fit(data)
    assert whole._pool is None and len(gen._pool) == 30
    counts = data.interactions["item_id"].value_counts(sort=False)
    order = np.argsort(-counts.to_numpy(), kind="stable")
    pool_ids = set(counts.index[order[:30]])
    c = gen.candidates([*users, "nobody"], k=15)
    assert set(c["item_id"]) <= pool_ids and c.groupby("user_id").size().max() == 15
    codes = whole.user_map.codes(users)
    reference = {name: whole_ease._source_scores(codes)[name] for name in candidates.SOURCES}
    known = c[c["user_id"].isin(users)]
    rows = pd.Index(users).get_indexer(known["user_id"])
    cols = whole.item_map.codes(known["item_id"])
    for name in ("als", "ease", "popularity"):
        assert np.allclose(known[f"{name}_score"], reference[name][rows, cols], equal_nan=True)
    assert gen.similarity.shape == (30, 30) and np.isfinite(known.loc[known["in_knn"], "knn_score"]).all()
    recs = gen.recommend(users, k=10)
    assert set(recs.loc[~recs["fallback"], "item_id"]) <= pool_ids
    loaded = CandidateGenerator.load(gen.save(tmp_path / "gen"))
    pd.testing.assert_frame_equal(loaded.candidates(users, k=15), c[c["user_id"] != "nobody"].reset_index(drop=True))
