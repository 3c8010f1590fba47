"""Latency and throughput of `workbench serve`: an ALS model on MovieLens-100K over real HTTP.

Fits ALS on MovieLens-100K, saves it and the item titles to a temporary folder,
starts `python -m workbench.cli serve` on 127.0.0.1 (a free port, in-memory
cache) and sends requests one at a time over a keep-alive connection:
uncached (distinct user x k pairs, so every request misses the cache) and
cached (a few pairs repeated). Client and server share the machine's cores,
so the load average is recorded beside the figures. Baseline: `model.recommend([user], k)` in
process, the work an uncached request does. Goal: p99 < 20 ms uncached.

    python benchmarks/serve.py [--out DIR] [--requests N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from _common import start_server, write_result

from workbench.data import load_movielens_100k
from workbench.models import ALSRecommender

RESULTS = Path(__file__).parent / "results"
GOAL_P99_MS = 20.0


def summary(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "requests": len(ms),
        "requests_per_second": round(len(ms) / (ms.sum() / 1000), 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
    }


def timed(call, pairs) -> list[float]:
    seconds = []
    for user, k in pairs:
        start = time.perf_counter()
        call(user, k)
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)

    load_before = round(os.getloadavg()[0], 2)  # client and server share the CPUs with everything else
    ds = load_movielens_100k()
    model = ALSRecommender(seed=0).fit(ds)
    users = np.sort(ds.interactions["user_id"].unique())
    n_ks = -(-args.requests // len(users))
    uncached = list(itertools.islice(((int(u), 10 + j) for j in range(n_ks) for u in users), args.requests))
    repeated = [(int(u), 10) for u in users[:50]]
    cached = list(itertools.islice(itertools.cycle(repeated), args.requests))

    def in_process(user: int, k: int) -> None:
        model.recommend([user], k=k)

    timed(in_process, uncached[:200])  # warm up
    baseline = summary(timed(in_process, uncached))

    with tempfile.TemporaryDirectory() as folder:
        model_dir = model.save(Path(folder) / "als")
        items = Path(folder) / "items.csv"
        ds.items.reset_index()[["item_id", "title"]].to_csv(items, index=False)
        process, base = start_server(model_dir, "--items", str(items), "--cache-ttl", "600")
        try:
            with httpx.Client(base_url=base, timeout=10.0) as client:

                def over_http(user: int, k: int) -> None:
                    body = client.get("/api/recommendations", params={"user_id": str(user), "k": k}).json()
                    assert len(body["recommendations"]) == k, body

                timed(over_http, [(u, 9) for u in users[:200]])  # warm up (k=9 is never measured)
                cold = summary(timed(over_http, uncached))
                timed(over_http, repeated)  # fill the cache
                warm = summary(timed(over_http, cached))
                again = client.get("/api/recommendations", params={"user_id": str(uncached[0][0]), "k": 10}).json()
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert again["cached"] is True, "a repeated request should be a cache hit"

    result = {
        "data": "ml-100k",
        "model": "ALSRecommender(seed=0), default parameters",
        "client": "httpx, one keep-alive connection, sequential requests",
        "in_process_recommend": baseline,
        "http_uncached": cold,
        "http_cached": warm,
        "uncached_p99_over_in_process_p99": round(cold["p99_ms"] / baseline["p99_ms"], 2),
        "goal_p99_uncached_ms": GOAL_P99_MS,
        "goal_met": cold["p99_ms"] < GOAL_P99_MS,
        "load_average_1min_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
    }
    write_result(args.out, "serve.json", result)
    for name in ("in_process_recommend", "http_uncached", "http_cached"):
        row = result[name]
        print(
            f"{name:22s} {row['requests_per_second']:8.1f} req/s  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms"
        )
    print(f"goal p99 < {GOAL_P99_MS} ms uncached: {'met' if result['goal_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
