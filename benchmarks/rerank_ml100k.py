"""Two-stage re-ranking on MovieLens-100K over split seeds: single models, candidate recall by
source, the LightGBM re-ranker, its paired difference against the best single model, and an
ablation of its feature groups.

Protocol: for each seed, stratified_split(ratio=0.75, seed), k=10, seen items excluded. The
re-ranker is the default LightGBMReranker(CandidateGenerator(seed=0), seed=0, holdout="random")
(100 candidates from ALS, EASE, neighbours and popularity; 5 label folds carved from train;
100 boosting rounds at learning rate 0.04). Its settings (the rounds, the sequence window of the features) were chosen
on other split seeds (100-104, benchmarks/rerank_rounds_ml100k.py): nothing here is tuned on
these test splits.
Figures: mean over seeds with a 95% t-interval, and per seed the per-user paired difference
(workbench's compare: bootstrap interval, paired t-test) against the best single model.
Writes rerank_ml100k.json into benchmarks/results/ (or --out DIR).

    .venv/bin/python benchmarks/rerank_ml100k.py [--seeds 0 1 2 3 4] [--no-ablation] [--out DIR]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import write_result
from tqdm import tqdm

from workbench.analysis.experiment import compare
from workbench.analysis.stats import t_interval
from workbench.data import load_movielens_100k
from workbench.data.split import stratified_split
from workbench.evaluation import evaluate_per_user
from workbench.models import ALSRecommender, EASERecommender, PopularityRecommender
from workbench.models.candidates import SOURCES, CandidateGenerator, candidate_recall
from workbench.models.rerank import LightGBMReranker

K = 10
DEPTHS = (10, 20, 50, 100)
RESULTS = Path(__file__).parent / "results"
SINGLE = ("popularity", "als", "ease")
#: Feature groups left out of the trees, one at a time (shell patterns of feature names).
ABLATIONS = {
    "EASE scores": ["ease_*"],
    "neighbour scores": ["knn_*"],
    "fused rank": ["fusion_*"],
    "history match (category affinity, co-occurrence)": ["category_affinity", "cooccurrence"],
    "sequence co-occurrence": ["sequence_cooccurrence"],
    "period (item popularity and age when the user was active)": ["period_*"],
    "item side (popularity, trend, age, rating, attributes)": ["item_*"],
    "user side (activity, recency, demographics)": ["user_*"],
}


def interval(values: list[float]) -> dict:
    """Mean and 95% t-interval over seeds."""
    mean, low, high = t_interval(values)
    return {"mean": mean, "low": low, "high": high}


def reranker(**kwargs) -> LightGBMReranker:
    return LightGBMReranker(CandidateGenerator(seed=0), seed=0, holdout="random", **kwargs)


def one_seed(ds, seed: int, ablation: bool) -> dict:
    train, test = stratified_split(ds, ratio=0.75, seed=seed)
    users = np.sort(test.interactions["user_id"].unique())
    per_user, fit_s = {}, {}
    for name, model in (
        ("popularity", PopularityRecommender()),
        ("als", ALSRecommender()),
        ("ease", EASERecommender()),
    ):
        model.fit(train)
        fit_s[name] = model.fit_seconds_
        per_user[name] = evaluate_per_user(model.recommend(users, k=K), test, k=K)
    model = reranker().fit(train)
    fit_s["reranker"] = model.fit_seconds_
    per_user["reranker"] = evaluate_per_user(model.recommend(users, k=K), test, k=K)
    pool = model.candidates.candidates(users, k=max(DEPTHS))
    recall = {
        source: {
            str(n): candidate_recall(pool[pool[f"in_{source}"]] if source != "fused" else pool, test, n) for n in DEPTHS
        }
        for source in (*SOURCES, "fused")
    }
    ndcg = {name: float(frame["ndcg"].mean()) for name, frame in per_user.items()}
    best = max(SINGLE, key=ndcg.get)
    paired = compare(per_user[best], per_user["reranker"], seed=seed)
    out = {
        "seed": seed,
        "ndcg": ndcg,
        "fit_seconds": fit_s,
        "best_iteration": model.best_iteration_,
        "best_single": best,
        "paired_vs_best": paired.to_dict(),
        "candidate_recall": recall,
        "features": model.feature_names,
    }
    if ablation:
        out["ablation"] = {}
        for group, patterns in ABLATIONS.items():
            ablated = reranker(exclude_features=patterns).fit(train)
            scores = evaluate_per_user(ablated.recommend(users, k=K), test, k=K)
            out["ablation"][group] = {
                "ndcg": float(scores["ndcg"].mean()),
                "diff_vs_full": compare(per_user["reranker"], scores, seed=seed).diff,
            }
    return out


def summarize(runs: list[dict], ablation: bool) -> dict:
    names = list(runs[0]["ndcg"])
    summary = {
        "ndcg": {name: interval([r["ndcg"][name] for r in runs]) for name in names},
        "fit_seconds": {name: interval([r["fit_seconds"][name] for r in runs]) for name in names},
        "reranker_minus_best_single": interval(
            [r["ndcg"]["reranker"] - max(r["ndcg"][m] for m in SINGLE) for r in runs]
        ),
        "seeds_where_paired_interval_excludes_zero": sum(r["paired_vs_best"]["ci_low"] > 0 for r in runs),
        "candidate_recall_at_100": {
            source: interval([r["candidate_recall"][source]["100"] for r in runs]) for source in (*SOURCES, "fused")
        },
    }
    if ablation:
        summary["ablation_diff_vs_full"] = {
            group: interval([r["ablation"][group]["diff_vs_full"] for r in runs]) for group in ABLATIONS
        }
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--no-ablation", dest="ablation", action="store_false")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    ds = load_movielens_100k()
    start = time.perf_counter()
    runs = [one_seed(ds, seed, args.ablation) for seed in tqdm(args.seeds, desc="split seeds")]
    results = {
        "protocol": "ml-100k stratified_split(ratio=0.75, seed) per seed, k=10, seen excluded; "
        "reranker = LightGBMReranker(CandidateGenerator(seed=0), seed=0, holdout='random') defaults",
        "seeds": args.seeds,
        "summary": summarize(runs, args.ablation),
        "runs": runs,
        "seconds": time.perf_counter() - start,
        "python": platform.python_version(),
    }
    write_result(args.out, "rerank_ml100k.json", results, default=float)
    return results


if __name__ == "__main__":
    out = main()
    summary = out["summary"]
    print(pd.DataFrame(summary["ndcg"]).T.round(4).to_string())
    print("reranker - best single:", {k: round(v, 4) for k, v in summary["reranker_minus_best_single"].items()})
    for run in out["runs"]:
        p = run["paired_vs_best"]
        print(f"seed {run['seed']}: vs {run['best_single']} {p['diff']:+.4f} [{p['ci_low']:+.4f}, {p['ci_high']:+.4f}]")
    print("fit seconds, re-ranker:", {k: round(v, 1) for k, v in summary["fit_seconds"]["reranker"].items()})
    if "ablation_diff_vs_full" in summary:
        print(pd.DataFrame(summary["ablation_diff_vs_full"]).T.round(4).to_string())
