"""Same seed, same data, same results: every model and every split; other seeds differ where random.

Besides repeated fits in this process, one test runs the pipeline in two fresh
interpreters with different PYTHONHASHSEED values: string ids must not make the
results depend on hash order.
"""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import workbench.models as models
from workbench.data import Dataset
from workbench.data.split import cold_user_split, leave_last_n_out, stratified_split, temporal_split
from workbench.data.synthetic import make_ecommerce
from workbench.models import (
    ALSRecommender,
    ClusterColdStart,
    ContentRecommender,
    HybridRecommender,
    PopularityRecommender,
)


def _reranker_class():
    if hasattr(models, "LightGBMReranker"):
        return models.LightGBMReranker
    rerank = pytest.importorskip("workbench.models.rerank")
    return rerank.LightGBMReranker


FACTORIES = {
    "popularity": lambda seed: PopularityRecommender(),
    "als": lambda seed: ALSRecommender(factors=8, iterations=5, seed=seed),
    "coldstart-kmeans": lambda seed: ClusterColdStart(method="kmeans", n_clusters=4, seed=seed),
    "coldstart-gmm": lambda seed: ClusterColdStart(method="gmm", n_clusters=4, seed=seed),
    "coldstart-chosen-k": lambda seed: ClusterColdStart(method="kmeans", candidates=(2, 3), seed=seed),
    "content": lambda seed: ContentRecommender(),
    "hybrid": lambda seed: HybridRecommender(
        ClusterColdStart(n_clusters=3, seed=seed), ALSRecommender(factors=8, iterations=5, seed=seed)
    ),
    "lightgbm-reranker": lambda seed: _reranker_class()(n_candidates=20, seed=seed, n_estimators=20),
}
RANDOM = ("als", "lightgbm-reranker")  # a different seed must change these results


@pytest.fixture(scope="module")
def data() -> tuple[Dataset, np.ndarray]:
    ds = make_ecommerce(n_users=120, n_items=80, n_events=2_000, seed=0)
    train, test = stratified_split(ds, ratio=0.75, seed=0)
    users = np.append(pd.unique(test.interactions["user_id"]), "nobody-at-all")
    return train, users


def _recs(name: str, seed: int, data) -> pd.DataFrame:
    train, users = data
    return FACTORIES[name](seed).fit(train).recommend(users, k=10)


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_recommendations(name, data):
    first = _recs(name, 0, data)
    assert len(first) > 0
    pd.testing.assert_frame_equal(first, _recs(name, 0, data))


@pytest.mark.parametrize("name", RANDOM)
def test_different_seed_different_recommendations(name, data):
    a, b = _recs(name, 0, data), _recs(name, 1, data)
    assert not (a.shape == b.shape and np.allclose(a["score"], b["score"]))


def test_synthetic_data_is_seeded():
    a, b = (make_ecommerce(n_users=50, n_items=30, n_events=400, seed=s) for s in (3, 3))
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    pd.testing.assert_frame_equal(a.users, b.users)
    pd.testing.assert_frame_equal(a.items, b.items)
    c = make_ecommerce(n_users=50, n_items=30, n_events=400, seed=4)
    assert not a.interactions.equals(c.interactions)


SPLITS = {
    "temporal": (lambda ds, seed: temporal_split(ds, test_fraction=0.2), False),
    "leave_last_n_out": (lambda ds, seed: leave_last_n_out(ds, n=2), False),
    "stratified": (lambda ds, seed: stratified_split(ds, ratio=0.75, seed=seed), True),
    "cold_user": (lambda ds, seed: cold_user_split(ds, fraction=0.2, seed=seed), True),
}


@pytest.mark.parametrize("name", SPLITS)
def test_splits_are_reproducible(name, data):
    ds = make_ecommerce(n_users=80, n_items=40, n_events=1_000, seed=1)
    split, random = SPLITS[name]
    (train_a, test_a), (train_b, test_b) = split(ds, 0), split(ds, 0)
    pd.testing.assert_frame_equal(train_a.interactions, train_b.interactions)
    pd.testing.assert_frame_equal(test_a.interactions, test_b.interactions)
    _, test_c = split(ds, 1)
    assert test_a.interactions.equals(test_c.interactions) is not random


SCRIPT = """
import hashlib, numpy as np, pandas as pd
from workbench.data.split import stratified_split
from workbench.data.synthetic import make_ecommerce
from workbench.models import ALSRecommender, ClusterColdStart, ContentRecommender, PopularityRecommender
ds = make_ecommerce(n_users=80, n_items=50, n_events=1_000, seed=0)
train, test = stratified_split(ds, ratio=0.75, seed=0)
users = pd.unique(test.interactions["user_id"])
digest = hashlib.sha256()
for model in (PopularityRecommender(), ALSRecommender(factors=8, iterations=5, seed=0),
              ClusterColdStart(n_clusters=3, seed=0), ContentRecommender()):
    recs = model.fit(train).recommend(users, k=5)
    digest.update(pd.util.hash_pandas_object(recs.round({"score": 5}), index=False).to_numpy().tobytes())
print(digest.hexdigest())
"""


def test_results_do_not_depend_on_the_hash_seed():
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        digests.add(result.stdout.strip())
    assert len(digests) == 1 and len(next(iter(digests))) == len(hashlib.sha256().hexdigest())
