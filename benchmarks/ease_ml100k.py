"""EASE on MovieLens-100K against ALS: nDCG@10 per regularization, over split seeds, and fit time.

Protocol: stratified_split(ratio=0.75, seed=s) for s in 42 (the headline, as ml100k.py and
rerank_ml100k.py) and 0..4 (mean and 95% t-interval over seeds), k=10, seen items excluded.
ALS is configured as rerank_ml100k.py does (``ALSRecommender()``). The regularization is
chosen without the test set: on a validation split carved from each train set
(stratified_split(train, ratio=0.75, seed=s)), best mean validation nDCG over seeds 0..4;
the test figures of every value are listed beside it. Fit time is the median over seeds,
with the ratio ALS / EASE measured in the same run, BLAS single-threaded for both (ALS
always is; EASE's Cholesky with two BLAS threads was slower and noisier on a shared 2-core
machine). Writes ease_ml100k.json into
benchmarks/results/ (or --out DIR).

    .venv/bin/python benchmarks/ease_ml100k.py [--out DIR] [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import scipy
from _common import write_result
from threadpoolctl import threadpool_limits

from workbench.analysis.stats import t_interval
from workbench.data import load_movielens_100k
from workbench.data.split import stratified_split
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender, EASERecommender

RESULTS = Path(__file__).parent / "results"
K = 10
HEADLINE_SEED = 42
REGULARIZATIONS = (100.0, 250.0, 500.0, 750.0, 1000.0)


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95% t-interval over seeds."""
    mean, low, high = t_interval(values)
    return {"mean": mean, "ci_low": low, "ci_high": high}


def score(model, train, test) -> dict[str, float]:
    """Fit on ``train``, recommend for the users of ``test``: metrics at K, fit and recommend seconds."""
    users = np.sort(test.interactions["user_id"].unique())
    with threadpool_limits(1, "blas"):  # ALS always is; EASE's Cholesky too, for a like-for-like time
        start = time.perf_counter()
        model.fit(train)
        fitted = time.perf_counter()
        recs = model.recommend(users, k=K)
        done = time.perf_counter()
    metrics = evaluate(recs, test, k=K)
    return {
        "ndcg": metrics["ndcg"],
        "recall": metrics["recall"],
        "precision": metrics["precision"],
        "fit_s": fitted - start,
        "recommend_s": done - fitted,
    }


def run_seed(ds, seed: int) -> dict:
    train, test = stratified_split(ds, ratio=0.75, seed=seed)
    fit_part, valid = stratified_split(train, ratio=0.75, seed=seed)
    row: dict = {"seed": seed, "test": {"als": score(ALSRecommender(), train, test)}, "validation": {}}
    for lam in REGULARIZATIONS:
        row["test"][f"ease_{lam:g}"] = score(EASERecommender(regularization=lam), train, test)
        row["validation"][f"ease_{lam:g}"] = score(EASERecommender(regularization=lam), fit_part, valid)["ndcg"]
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    ds = load_movielens_100k()
    headline = run_seed(ds, HEADLINE_SEED)
    runs = [run_seed(ds, seed) for seed in args.seeds]

    names = list(headline["test"])
    validation = {name: interval([r["validation"][name] for r in runs]) for name in headline["validation"]}
    chosen = max(validation, key=lambda name: validation[name]["mean"])
    summary = {
        name: {
            "ndcg": interval([r["test"][name]["ndcg"] for r in runs]),
            "ndcg_seed_42": headline["test"][name]["ndcg"],
            "fit_s_median": float(np.median([r["test"][name]["fit_s"] for r in runs])),
            "recommend_s_median": float(np.median([r["test"][name]["recommend_s"] for r in runs])),
        }
        for name in names
    }
    for name in names:
        if name != "als":
            summary[name]["ndcg_minus_als"] = interval(
                [r["test"][name]["ndcg"] - r["test"]["als"]["ndcg"] for r in runs]
            )
            summary[name]["fit_time_ratio_als_over_ease"] = (
                summary["als"]["fit_s_median"] / summary[name]["fit_s_median"]
            )
    result = {
        "benchmark": "ease_ml100k",
        "protocol": "ml-100k stratified_split(ratio=0.75, seed=s), k=10, seen excluded; "
        f"headline seed {HEADLINE_SEED}, interval over seeds {args.seeds}",
        "selection": {
            "rule": "best mean validation nDCG@10 over seeds, validation = stratified_split(train, ratio=0.75, seed=s)",
            "validation_ndcg": validation,
            "chosen": chosen,
            "default_regularization": EASERecommender().regularization,
        },
        "summary": summary,
        "runs": [headline, *runs],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    write_result(args.out, "ease_ml100k.json", result)
    return result


if __name__ == "__main__":
    out = main()
    print(f"nDCG@{K}: seed {HEADLINE_SEED}, mean [95% interval] over split seeds; median fit seconds")
    for name, s in out["summary"].items():
        ci = s["ndcg"]
        line = (
            f"{name:12s} {s['ndcg_seed_42']:.4f}  {ci['mean']:.4f} [{ci['ci_low']:.4f}, {ci['ci_high']:.4f}]"
            f"  fit {s['fit_s_median']:.3f} s"
        )
        if "ndcg_minus_als" in s:
            d = s["ndcg_minus_als"]
            line += f"  vs ALS {d['mean']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
        print(line)
    print(
        "validation nDCG",
        {n: round(v["mean"], 4) for n, v in out["selection"]["validation_ndcg"].items()},
        "chosen",
        out["selection"]["chosen"],
    )
