"""MovieLens-100K benchmark, Microsoft recommenders protocol.

Per-user random 75/25 split (seed 42), top 10, seen items excluded. Every model
in ``MODELS`` is fitted and scored; add a model with one entry (name -> factory).

    python benchmarks/ml100k.py [--out DIR]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import write_result

from workbench.data import load_movielens_100k
from workbench.data.split import stratified_split
from workbench.evaluation import METRICS, evaluate
from workbench.models import ALSRecommender, PopularityRecommender
from workbench.models.base import Recommender

RESULTS = Path(__file__).parent / "results"
K = 10
SEED = 42

#: name -> factory of an unfitted recommender (default parameters).
MODELS: dict[str, Callable[[], Recommender]] = {
    "popularity": PopularityRecommender,
    "als": lambda: ALSRecommender(seed=SEED),
}


def run(name: str, factory: Callable[[], Recommender], train, test) -> dict[str, float]:
    users = test.interactions["user_id"].unique()
    start = time.perf_counter()
    model = factory().fit(train)
    fitted = time.perf_counter()
    recs = model.recommend(users, k=K, exclude_seen=True)
    done = time.perf_counter()
    return {
        "model": name,
        **evaluate(recs, test, k=K),
        "fit_seconds": fitted - start,
        "recommend_seconds": done - fitted,
    }


def markdown(rows: list[dict]) -> str:
    columns = ["model", *METRICS, "fit_seconds", "recommend_seconds"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(row[c] if c == "model" else f"{row[c]:.4f}" for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    train, test = stratified_split(load_movielens_100k(), ratio=0.75, seed=SEED)
    rows = [run(name, factory, train, test) for name, factory in MODELS.items()]
    result = {
        "benchmark": "ml100k",
        "protocol": {"split": "stratified_split(ratio=0.75, seed=42)", "k": K, "exclude_seen": True},
        "train_rows": len(train),
        "test_rows": len(test),
        "results": rows,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    write_result(args.out, "ml100k.json", result)
    print(f"MovieLens-100K, {len(train):,} train / {len(test):,} test rows, k={K}\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
