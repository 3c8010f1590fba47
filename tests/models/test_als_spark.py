"""ALSRecommender(backend="spark"): known answers on tiny data, parameter mapping, clear failures.

One Spark session serves the whole module (started by the first fit)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from workbench.data import Dataset
from workbench.errors import ConfigError
from workbench.models import ALSRecommender
from workbench.models.als_spark import fit_spark_als, spark_params

pytest.importorskip("pyspark", reason="pyspark is an optional extra: pip install 'workbench[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17+, and none is installed", allow_module_level=True)

PARAMS = {"factors": 4, "regularization": 0.1, "iterations": 10, "alpha": 10.0}


def blocks() -> Dataset:
    """Users u0..u4 x items a0..a4 and v0..v4 x b0..b4; user i of a block misses item i; b0 is the most popular."""
    rows = [(f"{u}{i}", f"{it}{j}") for u, it in (("u", "a"), ("v", "b")) for i in range(5) for j in range(5) if i != j]
    rows += [(f"w{i}", "b0") for i in range(6)]
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id"]))


@pytest.fixture(scope="module")
def model() -> ALSRecommender:
    return ALSRecommender(**PARAMS, seed=1, backend="spark").fit(blocks())


def test_recommends_the_missing_item_of_the_users_own_block(model):
    users = [f"u{i}" for i in range(5)] + [f"v{i}" for i in range(5)]
    recs = model.recommend(users, k=1)
    assert recs["item_id"].tolist() == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank", "fallback"]


def test_factors_are_float32_aligned_with_the_id_maps_and_seen_items_are_excluded(model):
    assert model.user_factors.dtype == np.float32 and model.item_factors.dtype == np.float32
    assert model.user_factors.shape == (len(model.user_map), 4)
    assert model.item_factors.shape == (len(model.item_map), 4)
    recs = model.recommend(["u0"], k=3)
    assert not set(recs["item_id"]) & {"a1", "a2", "a3", "a4"}


def test_same_seed_same_factors(model):
    again = ALSRecommender(**PARAMS, seed=1, backend="spark").fit(blocks())
    np.testing.assert_allclose(again.item_factors, model.item_factors, rtol=1e-5, atol=1e-6)


def test_rows_and_columns_without_ratings_get_zero_vectors(model):
    weights = sp.csr_matrix(np.array([[1, 2, 0, 0], [0, 0, 0, 0], [3, 0, 1, 0]], dtype=np.float32))
    params = SimpleNamespace(factors=3, regularization=0.1, iterations=3, alpha=1.0, seed=0, spark_master=None)
    users, items = fit_spark_als(params, weights)
    assert users.shape == (3, 3) and items.shape == (4, 3)
    assert not users[1].any() and not items[3].any()
    assert users[[0, 2]].any(axis=1).all() and items[:3].any(axis=1).all()


def test_reg_param_is_the_least_squares_match_of_per_row_penalties():
    rng = np.random.default_rng(0)
    weights = sp.random(30, 20, density=0.2, random_state=1, format="csr", dtype=np.float32)
    weights.data[:] = rng.random(weights.nnz) + 0.5
    counts = np.concatenate([np.diff(weights.indptr), np.bincount(weights.indices, minlength=20)])
    grid = np.linspace(0.001, 2.0, 200_001)
    loss = ((grid[:, None] * counts[None, :] - 5.0) ** 2).sum(axis=1)
    got = spark_params(weights, regularization=5.0, alpha=0.7)
    assert got["regParam"] == pytest.approx(grid[loss.argmin()], abs=1e-5)
    assert got["alpha"] == 0.7
    equal_rows = sp.csr_matrix(np.ones((4, 4), dtype=np.float32))  # every row has n = 4: regParam * 4 == lambda
    assert spark_params(equal_rows, regularization=2.0, alpha=1.0)["regParam"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("master", "message"),
    [("spark://127.0.0.1:1", "unreachable"), ("yarn", "spark_master must be")],
)
def test_bad_master_is_one_clear_config_error_and_implicit_still_works(master, message):
    with pytest.raises(ConfigError, match=message):
        ALSRecommender(**PARAMS, backend="spark", spark_master=master).fit(blocks())
    recs = ALSRecommender(**PARAMS, seed=1).fit(blocks()).recommend(["u0"], k=1)
    assert recs["item_id"].tolist() == ["a0"]


SCRIPT = textwrap.dedent(
    """
    import pandas as pd
    from workbench.data import Dataset
    from workbench.errors import ModelError
    from workbench.models import ALSRecommender
    ds = Dataset.from_frames(pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"]}))
    try:
        ALSRecommender(factors=2, iterations=2, backend="spark").fit(ds)
    except ModelError as exc:
        print("MODEL_ERROR", exc)
    print("IMPLICIT", len(ALSRecommender(factors=2, iterations=2).fit(ds).recommend([2], k=1)))
    """
)


def _run_without_working_java(java_home: str) -> str:
    env = {**os.environ, "JAVA_HOME": java_home}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_missing_java_is_one_model_error_naming_java_home(tmp_path):
    out = _run_without_working_java(str(tmp_path / "nowhere"))
    error = next(line for line in out.splitlines() if line.startswith("MODEL_ERROR"))
    assert "JAVA_HOME" in error and "nowhere" in error and "backend='implicit'" in error
    assert "IMPLICIT 1" in out


def test_java_that_fails_to_start_is_one_model_error(tmp_path):
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho broken java >&2\nexit 1\n")
    java.chmod(0o755)
    out = _run_without_working_java(str(tmp_path / "jdk"))
    error = next(line for line in out.splitlines() if line.startswith("MODEL_ERROR"))
    assert "Spark failed to start" in error and "Java" in error
    assert "IMPLICIT 1" in out
