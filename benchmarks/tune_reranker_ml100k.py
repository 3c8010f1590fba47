"""Tune the LightGBM re-ranker on MovieLens-100K with the honest protocol and score the test set once.

Protocol: stratified_split(ml100k, ratio=0.75, seed=42) = (train, test); validation carved
from train (validation_split, ratio 0.75, seed 0); tune_reranker with N trials (TPE, seeded,
n_candidates=50, n_folds=2); refit on the full train with the best parameters; test nDCG@10
once. Baselines of the same run, fitted on the same train: a re-ranker with default LightGBM
parameters (same n_candidates / n_folds) and ALS with default parameters.

    OMP_WAIT_POLICY=passive .venv/bin/python benchmarks/tune_reranker_ml100k.py [--trials 8] [--seed 0] [--out DIR]
"""

from __future__ import annotations

import platform
import time

import pandas as pd
from _common import ml100k_split, tuning_arguments, write_and_show

from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, LightGBMReranker
from workbench.tuning import tune_reranker, validation_split

K = 10
N_CANDIDATES = 50
N_FOLDS = 2


def main() -> None:
    args = tuning_arguments(__doc__.splitlines()[0], trials=8)
    train, test = ml100k_split()
    fit, valid = validation_split(train, ratio=0.75, seed=args.seed)
    test_users = pd.unique(test.interactions["user_id"])
    fixed = {"seed": args.seed, "n_candidates": N_CANDIDATES, "n_folds": N_FOLDS}

    start = time.perf_counter()
    study = tune_reranker(
        fit,
        valid,
        n_trials=args.trials,
        k=K,
        seed=args.seed,
        n_candidates=N_CANDIDATES,
        n_folds=N_FOLDS,
        show_progress_bar=True,
    )
    tune_seconds = time.perf_counter() - start

    start = time.perf_counter()
    model = LightGBMReranker(**study.best_params, **fixed).fit(train)
    refit_seconds = time.perf_counter() - start
    tuned = evaluate(model.recommend(test_users, k=K), test, k=K)
    default = evaluate(LightGBMReranker(**fixed).fit(train).recommend(test_users, k=K), test, k=K)
    als = evaluate(ALSRecommender(seed=args.seed).fit(train).recommend(test_users, k=K), test, k=K)

    report = {
        "benchmark": "tune_reranker_ml100k",
        "protocol": "stratified_split(ml100k, 0.75, seed=42); validation = stratified 0.75 of train; "
        "refit on full train; test scored once",
        "trials": len(study.trials),
        "seed": args.seed,
        "n_candidates": N_CANDIDATES,
        "n_folds": N_FOLDS,
        "seconds_tuning": round(tune_seconds, 1),
        "seconds_per_trial": round(tune_seconds / len(study.trials), 1),
        "seconds_refit": round(refit_seconds, 1),
        "best_params": study.best_params,
        "validation_ndcg_at_10": study.best_value,
        "validation_ndcg_at_10_per_trial": [t.value for t in study.trials],
        "best_iteration_refit": model.best_iteration_,
        "test": tuned,
        "test_ndcg_at_10": tuned["ndcg"],
        "baseline_default_reranker_test_ndcg_at_10": default["ndcg"],
        "baseline_default_als_test_ndcg_at_10": als["ndcg"],
        "ndcg_ratio_vs_default_reranker": tuned["ndcg"] / default["ndcg"],
        "ndcg_ratio_vs_default_als": tuned["ndcg"] / als["ndcg"],
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
    }
    write_and_show(args.out, "tune_reranker_ml100k.json", report)


if __name__ == "__main__":
    main()
