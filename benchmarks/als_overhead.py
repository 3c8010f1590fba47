"""Overhead of ALSRecommender.fit over a raw implicit AlternatingLeastSquares fit.

Same MovieLens-100K data, same confidence matrix and parameters, BLAS
single-threaded for both; median of 5 runs each. Goal: ratio <= 1.10.

    python benchmarks/als_overhead.py [--out DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import implicit
from _common import write_result
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from workbench.data import IdMap, load_movielens_100k
from workbench.models import ALSRecommender
from workbench.models.weights import confidence

RESULTS = Path(__file__).parent / "results"


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    ds = load_movielens_100k()
    workbench_model = ALSRecommender(seed=0)
    params = workbench_model.get_params()
    log = ds.interactions
    matrix = ds.user_item_matrix(
        IdMap.from_values(log["user_id"]), IdMap.from_values(log["item_id"]), confidence(ds, params["weighting"])
    )

    def raw_fit() -> None:
        with threadpool_limits(1, "blas"):
            AlternatingLeastSquares(
                factors=params["factors"],
                regularization=params["regularization"],
                iterations=params["iterations"],
                alpha=params["alpha"],
                random_state=params["seed"],
                calculate_training_loss=False,
            ).fit(matrix, show_progress=False)

    with threadpool_limits(1, "blas"):
        raw_fit()  # warm up: imports, BLAS and thread pools
        ALSRecommender(seed=0).fit(ds)
        # interleave the two so that load on the machine hits both alike
        raw, ours = [], []
        for _ in range(args.runs):
            raw.append(seconds(raw_fit))
            ours.append(seconds(lambda: ALSRecommender(seed=0).fit(ds)))
    raw_s, ours_s = statistics.median(raw), statistics.median(ours)
    result = {
        "benchmark": "als_overhead",
        "data": "MovieLens-100K (all ratings)",
        "params": params,
        "runs": args.runs,
        "implicit_seconds": raw_s,
        "workbench_seconds": ours_s,
        "ratio": ours_s / raw_s,
        "goal_ratio": 1.10,
        "implicit_version": implicit.__version__,
    }
    write_result(args.out, "als_overhead.json", result)
    print(
        f"ALS fit on MovieLens-100K (median of {args.runs}): implicit {raw_s:.3f} s, "
        f"ALSRecommender {ours_s:.3f} s, ratio {ours_s / raw_s:.2f} (goal <= 1.10)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
