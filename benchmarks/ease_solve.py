"""Seconds of EASE's closed-form solve (``ease_weights``) by catalogue size, on one BLAS thread.

The re-ranker's EASE source fits once per label fold, so its item cap (``EASE_ITEMS`` in
``workbench.models.candidates``) is set by this time, not by memory. Random sparse users x items
data (20 interactions per user, 20 users per item); median of ``--runs`` fits per size.

    python benchmarks/ease_solve.py [--out DIR] [--runs N] [--sizes 1000,2000,3000,5000,10000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from _common import write_result

from workbench.models.candidates import EASE_ITEMS
from workbench.models.ease import ease_weights

RESULTS = Path(__file__).parent / "results"


def random_log(n_items: int, *, seed: int) -> sp.csr_matrix:
    """Binary users x items matrix: 20 users per item on average, 20 items per user."""
    rng = np.random.default_rng(seed)
    n_users = n_items
    rows = np.repeat(np.arange(n_users), 20)
    cols = rng.integers(0, n_items, size=len(rows))
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))
    matrix.data[:] = 1.0
    return matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,2000,3000,5000,10000")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    ease_weights(random_log(200, seed=0), 750.0)  # warm up BLAS
    rows = []
    for n_items in sizes:
        matrix = random_log(n_items, seed=n_items)
        times = []
        for _ in range(args.runs if n_items <= 5000 else 1):
            start = time.perf_counter()
            ease_weights(matrix, 750.0)
            times.append(time.perf_counter() - start)
        rows.append({"n_items": n_items, "seconds": statistics.median(times), "runs": len(times)})
        print(f"{n_items:>7,} items  {rows[-1]['seconds']:7.2f} s")
    result = {"benchmark": "ease_solve", "ease_items_cap": EASE_ITEMS, "blas_threads": 1, "sizes": rows}
    write_result(args.out, "ease_solve.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
