"""ALS on Spark (local[2]) vs ALS on implicit: same parameters, same data.

MovieLens-100K with the ml100k.py protocol (stratified_split(ratio=0.75, seed=42),
k=10, seen items excluded, default ALSRecommender parameters): nDCG@10 and fit
time per backend; goal: Spark's nDCG within 15% of implicit's. With ``--shop``,
also the fit time on the 10M-event synthetic shop (64 factors, 5 iterations),
Spark only when ``--shop-spark`` is given (it takes long on two cores).

    python benchmarks/spark_vs_implicit.py [--out DIR] [--shop] [--shop-spark]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from _common import ml100k_split, write_result

from workbench.data.split import temporal_split
from workbench.data.synthetic import make_ecommerce
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender
from workbench.models.als_spark import spark_session

RESULTS = Path(__file__).parent / "results"
SHOP = (300_000, 50_000, 10_000_000)


def timed_fit(model: ALSRecommender, train) -> tuple[ALSRecommender, float]:
    start = time.perf_counter()
    model.fit(train)
    return model, round(time.perf_counter() - start, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--shop", action="store_true", help="also time the fits on the 10M-event shop")
    parser.add_argument("--shop-spark", action="store_true", help="include Spark in the shop timing")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    spark_session()  # started once, outside the timed fits
    result: dict = {"spark_start_seconds": round(time.perf_counter() - start, 2)}

    train, test = ml100k_split()
    users = test.interactions["user_id"].unique()
    ml = {}
    for backend in ("implicit", "spark"):
        model, seconds = timed_fit(ALSRecommender(backend=backend, seed=0), train)
        ml[backend] = {"fit_seconds": seconds, "ndcg": round(evaluate(model.recommend(users, k=10), test)["ndcg"], 5)}
        print(f"ml-100k {backend}: ndcg@10 {ml[backend]['ndcg']:.4f}, fit {seconds:.1f} s", file=sys.stderr)
    ml["ndcg_ratio_spark_over_implicit"] = round(ml["spark"]["ndcg"] / ml["implicit"]["ndcg"], 4)
    ml["fit_time_ratio_spark_over_implicit"] = round(ml["spark"]["fit_seconds"] / ml["implicit"]["fit_seconds"], 2)
    ml["within_15_percent"] = abs(1 - ml["ndcg_ratio_spark_over_implicit"]) <= 0.15
    result["ml100k"] = {"params": ALSRecommender().get_params(), **ml}

    if args.shop:
        shop_train, _ = temporal_split(make_ecommerce(*SHOP, seed=0))
        shop = {"n_users": SHOP[0], "n_items": SHOP[1], "n_events": SHOP[2], "train_rows": len(shop_train)}
        for backend in ("implicit", "spark") if args.shop_spark else ("implicit",):
            _, seconds = timed_fit(ALSRecommender(factors=64, iterations=5, backend=backend), shop_train)
            shop[f"{backend}_fit_seconds"] = seconds
            print(f"shop 10m {backend}: fit {seconds:.1f} s", file=sys.stderr)
        result["shop_10m"] = shop

    write_result(args.out, "spark_vs_implicit.json", result, default=str)
    print(json.dumps(result["ml100k"], default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
