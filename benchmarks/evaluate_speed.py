"""Speed of ``workbench.evaluation.evaluate`` against a plain pandas merge/groupby evaluation.

100,000 users at k=10: about 1.5M truth rows (with repeated pairs) and 1M
recommendation rows, int64 user ids (sparse, like a customer number) and
string item ids (SKUs). Both evaluations run in the same process on the same
frames; the script checks that they agree and writes the times and the ratio.

    python benchmarks/evaluate_speed.py [--out DIR] [--users N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import versions, write_result

from workbench.evaluation import METRICS, evaluate

RESULTS = Path(__file__).parent / "results"


def make_frames(
    n_users: int, *, k: int = 10, n_items: int = 20_000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(recs, truth): recs sorted by user then rank; truth ~15 rows per user, partly overlapping recs."""
    rng = np.random.default_rng(seed)
    user_ids = np.sort(rng.choice(10**9, size=n_users, replace=False)).astype(np.int64)
    skus = np.array([f"SKU-{i:06d}" for i in rng.permutation(n_items)], dtype=object)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity /= popularity.sum()

    # k distinct items per user, mostly popular ones: a popular start and small strides
    start = rng.choice(n_items, size=(n_users, 1), p=popularity)
    stride = rng.integers(1, n_items // (4 * k), size=(n_users, 1))
    rec_items = (start + stride * np.arange(k)) % n_items
    recs = pd.DataFrame(
        {
            "user_id": np.repeat(user_ids, k),
            "item_id": skus[rec_items.ravel()],
            "score": np.sort(rng.random((n_users, k)), axis=1)[:, ::-1].ravel(),
            "rank": np.tile(np.arange(1, k + 1), n_users),
        }
    )
    n_truth = rng.integers(1, 30, size=n_users)  # mean 15
    truth_users = np.repeat(np.arange(n_users), n_truth)
    truth_items = rng.choice(n_items, size=len(truth_users), p=popularity)
    # a third of the truth rows reuse one of the user's recommended items, so there are hits
    from_recs = rng.random(len(truth_users)) < 0.3
    truth_items[from_recs] = rec_items[truth_users[from_recs], rng.integers(0, k, size=from_recs.sum())]
    truth = pd.DataFrame({"user_id": user_ids[truth_users], "item_id": skus[truth_items]})
    truth = truth.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return recs, truth


def pandas_evaluate(recs: pd.DataFrame, truth: pd.DataFrame, *, k: int = 10) -> dict[str, float]:
    """The straightforward pandas evaluation: drop duplicate truth pairs, merge, groupby."""
    relevant = truth[["user_id", "item_id"]].drop_duplicates()
    n_relevant = relevant.groupby("user_id").size().rename("n_relevant")
    top = recs.loc[recs["rank"] <= k, ["user_id", "item_id", "rank"]]
    hits = top.merge(relevant, on=["user_id", "item_id"], how="inner").sort_values(["user_id", "rank"])
    hits["gain"] = 1.0 / np.log2(hits["rank"] + 1.0)
    hits["precision_at_hit"] = (hits.groupby("user_id").cumcount() + 1) / hits["rank"]
    per_user = hits.groupby("user_id").agg(
        hits=("rank", "size"), dcg=("gain", "sum"), ap=("precision_at_hit", "sum"), first=("rank", "min")
    )
    table = per_user.reindex(n_relevant.index).fillna(0.0).join(n_relevant)
    ideal = np.minimum(table["n_relevant"], k)
    discounts = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))]
    table["precision"] = table["hits"] / k
    table["recall"] = table["hits"] / table["n_relevant"]
    table["ndcg"] = table["dcg"] / discounts[ideal.to_numpy(dtype=np.int64)]
    table["map"] = table["ap"] / ideal
    table["hit_rate"] = (table["hits"] > 0).astype(float)
    table["mrr"] = np.where(table["first"] > 0, 1.0 / table["first"].where(table["first"] > 0, 1.0), 0.0)
    return {name: float(table[name].mean()) for name in METRICS}


def interleaved_times(functions: dict, repeat: int) -> tuple[dict[str, list[float]], dict]:
    """Run each function once per round, ``repeat`` rounds, so drifts in machine load hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    results: dict = {}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
    return times, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    k = 10
    recs, truth = make_frames(args.users, k=k)
    evaluate(recs.head(100), truth.head(100), k=k)  # compile outside the timing
    times, results = interleaved_times(
        {"workbench": lambda: evaluate(recs, truth, k=k), "pandas": lambda: pandas_evaluate(recs, truth, k=k)},
        args.repeat,
    )
    ours, reference = results["workbench"], results["pandas"]
    workbench_s, pandas_s = min(times["workbench"]), min(times["pandas"])
    median_speedup = float(np.median(times["pandas"]) / np.median(times["workbench"]))
    assert np.allclose([ours[m] for m in METRICS], [reference[m] for m in METRICS], rtol=1e-12, atol=0), (
        ours,
        reference,
    )

    result = {
        "benchmark": "evaluate_speed",
        "n_users": args.users,
        "k": k,
        "truth_rows": len(truth),
        "rec_rows": len(recs),
        "id_types": {"user_id": "int64", "item_id": "str"},
        "workbench_seconds": workbench_s,
        "pandas_seconds": pandas_s,
        "speedup": pandas_s / workbench_s,
        "timing": f"best of {args.repeat} interleaved rounds",
        "median_speedup": median_speedup,
        "metrics": ours,
        **versions(),
    }
    write_result(args.out, "evaluate_speed.json", result)
    print(
        f"evaluate on {len(truth):,} truth / {len(recs):,} rec rows ({args.users:,} users, k={k}): "
        f"workbench {workbench_s:.3f} s, pandas merge/groupby {pandas_s:.3f} s, speedup {pandas_s / workbench_s:.1f}x (median {median_speedup:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
