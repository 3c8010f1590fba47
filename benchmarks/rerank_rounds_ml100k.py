"""How the re-ranker's settings were chosen: boosting rounds and the time features, on tuning splits.

MovieLens-100K split seeds 100-104 (stratified_split(ratio=0.75, seed)), apart from the
evaluation seeds 0-4 of benchmarks/rerank_ml100k.py. Per seed, LightGBMReranker(n_rounds=300)
at the default learning rate (0.04) is fitted with every feature and without the time features
(sequence co-occurrence and the period features); its test nDCG@10 is read after 25 ... 300
rounds (``best_iteration_`` set before ``recommend``), beside ALS. Early stopping on held-out users of the label folds
(``valid_fraction=0.2``) is fitted too, for the rounds it picks.
Writes rerank_rounds_ml100k.json into benchmarks/results/ (or --out DIR).

    .venv/bin/python benchmarks/rerank_rounds_ml100k.py [--seeds 100 101 102 103 104] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rerank_ml100k import interval, reranker
from tqdm import tqdm

from workbench.data import load_movielens_100k
from workbench.data.split import stratified_split
from workbench.evaluation import evaluate_per_user
from workbench.models import ALSRecommender

K = 10
ROUNDS = (25, 50, 100, 150, 200, 300)
RESULTS = Path(__file__).parent / "results"
VARIANTS = {"all features": [], "without time features": ["sequence_cooccurrence", "period_*"]}


def one_seed(ds, seed: int) -> dict:
    train, test = stratified_split(ds, ratio=0.75, seed=seed)
    users = np.sort(test.interactions["user_id"].unique())

    def ndcg(model) -> float:
        return float(evaluate_per_user(model.recommend(users, k=K), test, k=K)["ndcg"].mean())

    out = {"seed": seed, "als": ndcg(ALSRecommender().fit(train)), "by_rounds": {}}
    for name, excluded in VARIANTS.items():
        model = reranker(n_rounds=max(ROUNDS), exclude_features=excluded).fit(train)
        scores = {}
        for rounds in ROUNDS:
            model.best_iteration_ = rounds
            scores[str(rounds)] = ndcg(model)
        out["by_rounds"][name] = scores
    stopped = reranker(n_rounds=1000, valid_fraction=0.2).fit(train)
    out["early_stopping"] = {"best_iteration": stopped.best_iteration_, "ndcg": ndcg(stopped)}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    ds = load_movielens_100k()
    start = time.perf_counter()
    runs = [one_seed(ds, seed) for seed in tqdm(args.seeds, desc="tuning seeds")]
    summary = {
        name: {rounds: interval([r["by_rounds"][name][rounds] - r["als"] for r in runs]) for rounds in map(str, ROUNDS)}
        for name in VARIANTS
    }
    results = {
        "protocol": "ml-100k stratified_split(ratio=0.75, seed) on tuning seeds, k=10; test nDCG@10 of "
        "LightGBMReranker(CandidateGenerator(seed=0), seed=0, holdout='random') after n rounds, minus ALS",
        "seeds": args.seeds,
        "als": interval([r["als"] for r in runs]),
        "minus_als_by_rounds": summary,
        "early_stopping": {
            "best_iteration": [r["early_stopping"]["best_iteration"] for r in runs],
            "minus_als": interval([r["early_stopping"]["ndcg"] - r["als"] for r in runs]),
        },
        "runs": runs,
        "seconds": time.perf_counter() - start,
        "python": platform.python_version(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "rerank_rounds_ml100k.json"
    path.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    out = main()
    table = {name: {r: v["mean"] for r, v in rows.items()} for name, rows in out["minus_als_by_rounds"].items()}
    print("re-ranker - ALS, mean over tuning seeds, by rounds:")
    print(pd.DataFrame(table).T.round(4).to_string())
    print("early stopping:", out["early_stopping"])
