"""The cost model of an ALS fit (``workbench.models.als.fit_seconds``) against measured fits.

Notebooks 08 and 09 choose their work by size: how many tuning trials on which ranges, how often
the replay refits. They use an estimate, not a clock, so the same data always gets the same work.
This measures what the estimate stands for: seconds of one core (implicit's CPU solver, one
thread, BLAS on one thread) per ALS iteration, on the validation split that tuning fits on (per
user 75% of a 75% train), for 16-256 factors; and the top-k ranking of every item for the
validation users. It prints each measurement beside the estimate and the least-squares
coefficients of the four terms of ``FIT_COST`` (rows x factors², pairs x factors, pairs, rows),
and writes ``results/als_cost.json``.

    python benchmarks/als_cost.py [--data ml-100k --data complete-journey --data orders.csv] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import write_result
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from workbench.data import load_dataset
from workbench.data.split import stratified_split
from workbench.models import ALSRecommender
from workbench.models.als import FIT_COST, RANK_COST, fit_seconds, log_size, rank_seconds
from workbench.tuning import validation_split

RESULTS = Path(__file__).parent / "results"
FACTORS = (16, 32, 64, 128, 256)
ITERATIONS = 4


def measure(name: str) -> list[dict]:
    train, _ = stratified_split(load_dataset(name), ratio=0.75, seed=42)
    fit, valid = validation_split(train, seed=0)
    users, items, pairs = log_size(fit)
    weights = ALSRecommender(factors=16, iterations=1, seed=0).fit(fit)._weights
    ranked = valid.interactions["user_id"].unique()
    rows = []
    for factors in FACTORS:
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=factors, iterations=ITERATIONS, num_threads=1, random_state=0, calculate_training_loss=False
            )
            start = time.process_time()
            model.fit(weights, show_progress=False)
            per_iteration = (time.process_time() - start) / ITERATIONS
        als = ALSRecommender(factors=factors, iterations=1, seed=0).fit(fit)
        start = time.process_time()
        als.recommend(ranked, k=10)
        ranking = time.process_time() - start
        row = {
            "data": name,
            "users": users,
            "items": items,
            "pairs": pairs,
            "ranked_users": len(ranked),
            "factors": factors,
            "iteration_seconds": per_iteration,
            "iteration_estimate": fit_seconds(users, items, pairs, factors=factors, iterations=1),
            "ranking_seconds": ranking,
            "ranking_estimate": rank_seconds(len(ranked), items, factors=factors),
        }
        print(
            f"{name[:24]:<24} {factors:>4} factors  iteration {per_iteration:7.4f} s (estimate "
            f"{row['iteration_estimate']:7.4f})  ranking {ranking:6.3f} s (estimate {row['ranking_estimate']:6.3f})",
            flush=True,
        )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="a load_dataset name or a path (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = [row for name in args.data or ["ml-100k", "complete-journey"] for row in measure(name)]
    terms = np.array([[r["users"] + r["items"], r["pairs"]] for r in rows], dtype=np.float64)
    factors = np.array([r["factors"] for r in rows], dtype=np.float64)
    design = np.column_stack([terms[:, 0] * factors**2, terms[:, 1] * factors, terms[:, 1], terms[:, 0]])
    measured = np.array([r["iteration_seconds"] for r in rows])
    # relative least squares: every measurement counts alike, small logs as much as large ones
    fitted, *_ = np.linalg.lstsq(design / measured[:, None], np.ones(len(rows)), rcond=None)
    ratios = [r["iteration_estimate"] / r["iteration_seconds"] for r in rows]
    result = {
        "benchmark": "als_cost",
        "threads": 1,
        "iterations_timed": ITERATIONS,
        "fit_cost": list(FIT_COST),
        "fit_cost_refitted": fitted.tolist(),
        "rank_cost": list(RANK_COST),
        "estimate_over_measured": {"min": min(ratios), "max": max(ratios)},
        "rows": rows,
    }
    print(f"FIT_COST {FIT_COST}; least squares on these runs {tuple(float(f'{c:.3g}') for c in fitted)}")
    print(f"estimate / measured per iteration: {min(ratios):.2f} to {max(ratios):.2f}")
    write_result(args.out, "als_cost.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
