"""The Spark backend of :class:`~workbench.models.ALSRecommender` (``backend="spark"``).

``pyspark`` (4.0+) is an optional extra (``pip install 'workbench[spark]'``, Java 17+).
Data moves in and out as Arrow tables; factors come back as numpy arrays.
Spark's implicit ALS differs from ``implicit``'s in two places; this module maps
the parameters so that they keep the meaning they have with ``implicit``:

- confidence: ``implicit`` uses ``c = alpha * w``, Spark ``c = 1 + alpha * r``.
  Spark gets ``r = w - 1 / alpha`` (same ``alpha``), so both see ``c = alpha * w``;
  where ``alpha * w < 1`` (possible only with ``implicit``) Spark's ``c`` is clipped to 1.
- regularisation: ``implicit`` adds an absolute ``lambda`` to every factor row, Spark
  adds ``regParam * n`` with ``n`` the row's interaction count (ALS-WR, "scaled
  lambda"). We use the least-squares match over all user and item rows,
  ``regParam = argmin sum_r (regParam * n_r - lambda)^2 = lambda * sum(n) / sum(n^2)``,
  so rows of typical length get about ``lambda``; heavy rows get more, light rows less.
  On MovieLens-100K this keeps nDCG@10 at the implicit backend's level
  (``benchmarks/spark_vs_implicit.py``); matching the mean count instead
  (``lambda / mean(n)``) over-regularises the heavy rows that dominate the data.

>>> als = ALSRecommender(backend="spark", seed=0).fit(train)  # doctest: +SKIP
>>> spark_session("spark://head-node:7077")  # a real cluster  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import socket
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from workbench.errors import ConfigError, ModelError, first_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Default master: two local cores, like the machine this runs on.
LOCAL_MASTER = "local[2]"
#: Seconds to wait for a ``spark://`` master to accept a connection before giving up.
CONNECT_TIMEOUT = 5.0
#: Spark confidence ``1 + alpha * r`` needs ``r > 0`` to count as a positive; the floor used when clipping.
MIN_RATING = 1e-6


def _check_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        if not os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
            raise ModelError(
                f"Spark needs Java 17+, but JAVA_HOME={java_home!r} has no bin/java; "
                "point JAVA_HOME at a JDK or unset it, or use backend='implicit'"
            )
    elif shutil.which("java") is None:
        raise ModelError("Spark needs Java 17+, and no 'java' is on PATH; install a JDK, or use backend='implicit'")


def _check_master(master: str) -> None:
    if master.startswith("local"):
        return
    parts = urlsplit(master)
    if parts.scheme != "spark" or not parts.hostname:
        raise ConfigError(f"spark_master must be 'local[N]' or 'spark://host:port', got {master!r}")
    try:
        port = parts.port or 7077
    except ValueError:
        raise ConfigError(f"spark_master {master!r} has an invalid port") from None
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ConfigError(
            f"Spark master {master} is unreachable ({exc.strerror or exc}); start the master "
            "or fix spark_master (None runs Spark locally)"
        ) from None


def spark_session(master: str | None = None, *, driver_memory: str = "4g") -> SparkSession:
    """A quiet Spark session: ``local[2]`` by default, or ``master`` (e.g. ``spark://host:7077``).

    No UI, no console progress, driver bound to 127.0.0.1 in local mode, few shuffle
    partitions, Arrow transfers. An existing session is reused (Spark allows one per process).
    Missing pyspark or Java, a bad or unreachable master raise one-line ConfigError / ModelError.

    >>> spark = spark_session()  # doctest: +SKIP
    """
    try:
        import pyspark
        from pyspark.sql import SparkSession
    except ImportError:
        pyspark = None
    if pyspark is None or int(pyspark.__version__.split(".")[0]) < 4:
        raise ConfigError(
            "backend='spark' needs pyspark>=4.0: pip install 'workbench[spark]', or use backend='implicit'"
        )
    master = master or LOCAL_MASTER
    _check_master(master)
    _check_java()
    builder = (
        SparkSession.builder.master(master)
        .appName("workbench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", driver_memory)
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 -- py4j / pyspark raise many types; name the cause in one line
        raise ModelError(
            f"Spark failed to start on {master} ({first_line(exc)}); check Java 17+ / JAVA_HOME, "
            "or use backend='implicit'"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_params(weights: sp.csr_matrix, *, regularization: float, alpha: float) -> dict[str, float]:
    """Spark's ``regParam`` and ``alpha`` equivalent to ``implicit``'s parameters (see module doc).

    >>> spark_params(sp.csr_matrix(np.ones((2, 3))), regularization=6.0, alpha=0.5)
    {'regParam': 2.4, 'alpha': 0.5}
    """
    weights = weights.tocsr()
    counts = np.concatenate([np.diff(weights.indptr), np.bincount(weights.indices, minlength=weights.shape[1])])
    counts = counts.astype(np.float64)
    return {"regParam": float(regularization * counts.sum() / max((counts**2).sum(), 1.0)), "alpha": float(alpha)}


def _factors(table: pa.Table, n_rows: int, rank: int) -> np.ndarray:
    """Spark's ``(id, features)`` table as a float32 array aligned with codes 0..n_rows-1; absent ids stay 0."""
    out = np.zeros((n_rows, rank), dtype=np.float32)
    if table.num_rows:
        ids = table.column("id").to_numpy().astype(np.int64)
        values = table.column("features").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        out[ids] = values.reshape(len(ids), rank)
    return out


def fit_spark_als(model: Any, weights: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Fit Spark ML's implicit ALS on the users x items CSR of confidence ``weights``.

    ``model`` supplies ``factors, regularization, iterations, alpha, seed, spark_master``.
    Returns float32 (user, item) factors aligned with the matrix rows / columns.

    >>> users, items = fit_spark_als(ALSRecommender(backend="spark"), weights)  # doctest: +SKIP
    """
    spark = spark_session(model.spark_master)
    with warnings.catch_warnings():  # pyspark warns on import that it has not been tested with pandas 3
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
        from pyspark.ml.recommendation import ALS

    coo = weights.tocoo()
    params = spark_params(weights, regularization=model.regularization, alpha=model.alpha)
    ratings = pa.table(
        {
            "user": coo.row.astype(np.int32),
            "item": coo.col.astype(np.int32),
            "rating": np.maximum(coo.data - np.float32(1.0 / model.alpha), np.float32(MIN_RATING)),
        }
    )
    blocks = spark.sparkContext.defaultParallelism
    frame = spark.createDataFrame(ratings)
    als = ALS(
        implicitPrefs=True,
        rank=model.factors,
        regParam=params["regParam"],
        alpha=params["alpha"],
        maxIter=model.iterations,
        seed=model.seed,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        nonnegative=False,
        coldStartStrategy="drop",
        numUserBlocks=blocks,
        numItemBlocks=blocks,
    )
    try:
        fitted = als.fit(frame)
        user_table = fitted.userFactors.toArrow()
        item_table = fitted.itemFactors.toArrow()
    except Exception as exc:  # noqa: BLE001 -- a job failing inside Spark: name it in one line
        raise ModelError(f"Spark ALS failed ({str(exc).strip().splitlines()[0]}); see the Spark logs") from None
    return _factors(user_table, weights.shape[0], model.factors), _factors(item_table, weights.shape[1], model.factors)
