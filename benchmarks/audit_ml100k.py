"""Bias audit of ALS on MovieLens-100K: metric gaps across segments and popularity bias vs the baseline.

Split: ``stratified_split(ds, ratio=0.75, seed=42)``; models: ``ALSRecommender()``
(defaults) and ``PopularityRecommender``; top 10 for every test user. The ALS
per-user metrics are audited by gender, age band and activity band (training
quartiles), each on its own, with 1,000 bootstrap resamples; gaps above 10%
are listed in words. Popularity bias and genre exposure of both models are put
side by side.

    python benchmarks/audit_ml100k.py [--out DIR] [--boot B]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import write_result

from workbench import columns as C
from workbench.analysis.audit import audit, exposure, group_labels, popularity_bias, summary_flags
from workbench.analysis.segments import user_segments
from workbench.data import load_movielens_100k
from workbench.data.split import stratified_split
from workbench.evaluation import evaluate_per_user
from workbench.models import ALSRecommender, PopularityRecommender

RESULTS = Path(__file__).parent / "results"
K = 10
SEGMENTS = ("gender", "age_band", "activity_band")


def audit_record(result, metric: str) -> dict:
    """Group means, counts and intervals of one metric, plus the gap statistics, as JSON-ready values."""
    labels = group_labels(result.by_group.index, with_names=False)
    significance = result.significance().set_index("metric").loc[metric]
    return {
        "groups": {
            label: {
                "mean": float(result.by_group[metric].iloc[i]),
                "ci_lower": float(result.ci[(metric, "lower")].iloc[i]),
                "ci_upper": float(result.ci[(metric, "upper")].iloc[i]),
                "count": int(result.by_group["count"].iloc[i]),
                "small": bool(result.by_group["small"].iloc[i]),
            }
            for i, label in enumerate(labels)
        },
        "difference": float(result.difference()[metric]),
        "ratio": float(result.ratio()[metric]),
        "kruskal_statistic": float(significance["statistic"]),
        "kruskal_p_value": float(significance["p_value"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--threshold", type=float, default=0.1)
    args = parser.parse_args(argv)

    ds = load_movielens_100k()
    train, test = stratified_split(ds, ratio=0.75, seed=42)
    test_users = np.sort(pd.unique(test.interactions[C.USER]))
    segments = user_segments(ds, train)

    start = time.perf_counter()
    models = {"popularity": PopularityRecommender().fit(train), "als": ALSRecommender().fit(train)}
    fit_seconds = time.perf_counter() - start
    recs = {name: model.recommend(test_users, k=K) for name, model in models.items()}
    per_user = {name: evaluate_per_user(r, test, k=K) for name, r in recs.items()}

    start = time.perf_counter()
    audits = {name: audit(per_user["als"], segments[name], n_boot=args.boot, seed=0) for name in SEGMENTS}
    audit_seconds = time.perf_counter() - start
    flags = summary_flags(*audits.values(), threshold=args.threshold)
    flagged = flags[flags["flagged"] & flags["metric"].isin(["ndcg", "recall", "hit_rate"])]

    genre = {name: exposure(r, train, by="genres", k=K).set_index("genres") for name, r in recs.items()}
    output = {
        "benchmark": "audit_ml100k",
        "split": "stratified_split(ds, ratio=0.75, seed=42)",
        "k": K,
        "n_test_users": len(test_users),
        "n_boot": args.boot,
        "fit_seconds": fit_seconds,
        "audit_seconds": audit_seconds,
        "overall": {name: per_user[name].drop(columns=C.USER).mean().to_dict() for name in models},
        "als_audit": {
            name: {metric: audit_record(result, metric) for metric in ("ndcg", "recall", "hit_rate")}
            for name, result in audits.items()
        },
        "flags": flagged["message"].tolist(),
        "popularity_bias": {name: popularity_bias(r, train, k=K) for name, r in recs.items()},
        "genre_exposure_ratio": {name: table["ratio"].to_dict() for name, table in genre.items()},
    }
    write_result(args.out, "audit_ml100k.json", output)

    for name in audits:
        record = output["als_audit"][name]["ndcg"]
        groups = ", ".join(
            f"{g} {v['mean']:.3f} [{v['ci_lower']:.3f}, {v['ci_upper']:.3f}] n={v['count']}"
            for g, v in record["groups"].items()
        )
        print(f"ALS nDCG@{K} by {name}: {groups}; diff {record['difference']:.3f}, p={record['kruskal_p_value']:.2g}")
    for name, bias in output["popularity_bias"].items():
        print(f"{name}: " + ", ".join(f"{key} {value:.3f}" for key, value in bias.items()))
    print(f"{len(flagged)} gaps above {args.threshold:.0%} (ndcg, recall, hit_rate):")
    for message in flagged["message"]:
        print(" -", message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
