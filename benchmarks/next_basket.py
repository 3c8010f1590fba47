"""Next-basket recommendation on the synthetic shop: popularity, buy again, ALS and the re-ranker.

Protocol (after Li et al., "A Next Basket Recommendation Reality Check", TOIS 2023): the
synthetic shop's order log is written as a shop exports it (orders.csv with integer
``user_id`` and ``product_id``, products.csv, customers.csv), read back with
``read_interactions``, and each user's last order is held out (``next_basket_split``).
Every model recommends k=10 items with repeats allowed (``exclude_seen=False``); ALS is also
shown with repeats excluded (``workbench.analysis.next_basket.buy_again_study``, the same
study notebook 04 shows). Quality is reported overall, on repeat items and on explore
items (new to the user), with the repeat share of each model's lists, over five shops
(generator seeds 0-4): mean, 95% interval over seeds, and a paired per-user test of the
re-ranker against the buy-again baseline. Writes next_basket.json into benchmarks/results/.

    .venv/bin/python benchmarks/next_basket.py [--size medium] [--seeds 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from workbench.analysis.experiment import compare
from workbench.analysis.next_basket import buy_again_study
from workbench.data import read_interactions
from workbench.data.synthetic import SIZES, make_ecommerce, order_log
from workbench.evaluation import evaluate_per_user

K = 10
RESULTS = Path(__file__).parent / "results"
BASELINE, CHALLENGER, ALS_EXCLUDED = "buy again", "re-ranker", "ALS, repeats excluded"


def write_shop(seed: int, size: str, folder: Path) -> dict[str, Path]:
    """The synthetic shop as a shop exports it: orders, products and customers as CSV, integer ids."""
    ds = make_ecommerce(**SIZES[size], seed=seed, integer_ids=True)
    paths = {name: folder / f"{name}.csv" for name in ("orders", "products", "customers")}
    order_log(ds).to_csv(paths["orders"], index=False)
    ds.items.rename_axis("product_id").to_csv(paths["products"])
    ds.users.to_csv(paths["customers"])
    return paths


def run_seed(seed: int, size: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Every model's next-basket figures and per-user metrics on the shop of generator ``seed``."""
    with tempfile.TemporaryDirectory() as folder:
        paths = write_shop(seed, size, Path(folder))
        written = pd.read_csv(paths["orders"])
        shop = read_interactions(
            paths["orders"], columns={"product_id": "item_id"}, users=paths["customers"], items=paths["products"]
        )
    start = time.perf_counter()
    study = buy_again_study(shop, k=K, n_candidates=100, n_folds=5, seed=0)
    overall = study.table[study.table["segment"] == "all users"].set_index("model")
    recs = study.recs[CHALLENGER]
    figures: dict = {
        "id_kinds": shop.id_kinds,
        "test_users": int(overall["users"].iloc[0]),
        "train_rows": len(study.train),
        "study_s": time.perf_counter() - start,
        "models": {
            name: {**overall.loc[name].drop("users").to_dict(), "fit_s": study.fit_seconds[name]} for name in study.recs
        },
        "by_activity": study.table[study.table["segment"] != "all users"].to_dict("records"),
        "verdict": study.verdict(),
        "id_round_trip": {
            "user_dtype": str(recs["user_id"].dtype),
            "item_dtype": str(recs["item_id"].dtype),
            "users_in_input": bool(set(recs["user_id"]) <= set(written["user_id"])),
            "items_in_input": bool(set(recs["item_id"]) <= set(written["product_id"])),
        },
    }
    per_user = {name: evaluate_per_user(frame, study.test, k=K) for name, frame in study.recs.items()}
    return figures, per_user


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95% t-interval over seeds."""
    values = np.asarray(values, dtype=np.float64)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return {"mean": float(values.mean()), "ci_low": float(values.mean() - half), "ci_high": float(values.mean() + half)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=sorted(SIZES))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    runs, pooled = [], {}
    for seed in tqdm(range(args.seeds), desc="shops", unit="seed"):
        figures, per_user = run_seed(seed, args.size)
        runs.append(figures)
        for name, frame in per_user.items():
            pooled.setdefault(name, []).append(frame.assign(user_id=frame["user_id"].astype(str) + f"@{seed}"))
    metrics = ("ndcg", "recall", "ndcg_repeat", "ndcg_explore", "recall_repeat", "recall_explore", "repeat_share")
    summary = {
        name: {metric: interval([run["models"][name][metric] for run in runs]) for metric in metrics}
        | {"fit_s": float(np.mean([run["models"][name]["fit_s"] for run in runs]))}
        for name in pooled
    }
    paired = compare(pd.concat(pooled[BASELINE]), pd.concat(pooled[CHALLENGER]), metric="ndcg", seed=0)
    ratio = summary[CHALLENGER]["ndcg"]["mean"] / summary[BASELINE]["ndcg"]["mean"]
    results = {
        "protocol": (
            f"synthetic shop ({args.size}, generator seeds 0-{args.seeds - 1}) written as orders.csv with integer ids, "
            f"read with read_interactions, next_basket_split(by='order'), k={K}, repeats allowed unless named"
        ),
        "python": platform.python_version(),
        "summary": summary,
        "paired_reranker_vs_buy_again": paired,
        "goal": {
            "reranker_over_buy_again": ratio,
            "reranker_over_als_repeats_excluded": summary[CHALLENGER]["ndcg"]["mean"]
            / summary[ALS_EXCLUDED]["ndcg"]["mean"],
            "reached": bool(ratio >= 1.05 and paired["ci_low"] > 0),
        },
        "id_round_trip": [run["id_round_trip"] for run in runs],
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "next_basket.json").write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    out = main()
    table = pd.DataFrame(
        {
            name: {
                m: f"{v['mean']:.4f} [{v['ci_low']:.4f}, {v['ci_high']:.4f}]" for m, v in row.items() if m != "fit_s"
            }
            for name, row in out["summary"].items()
        }
    ).T
    print(table.to_string())
    print("paired re-ranker - buy again (nDCG@10):", {k: v for k, v in out["paired_reranker_vs_buy_again"].items()})
    print(out["runs"][0]["verdict"])
    print("goal", out["goal"])
    print("id round trip", out["id_round_trip"][0])
