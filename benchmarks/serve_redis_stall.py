"""`workbench serve` while its Redis is stopped (SIGSTOP: connections hang, nothing answers).

Fits ALS on MovieLens-100K and serves it twice over real HTTP on 127.0.0.1:
with the in-memory cache and distinct user x k pairs, so every request misses
(the baseline: the work of serving without a cache), then with
`--cache redis://...`, first with Redis answering, then while the redis-server
is stopped for 5 s. In each phase 4 client threads send requests for 5 s and a
fifth asks `/health` every 100 ms.
Goal: p99 of `/api/recommendations` with Redis stopped within 2x of the
baseline's, `/health` under 100 ms. Needs `redis-server` on PATH; ~35 s.

    python benchmarks/serve_redis_stall.py [--out DIR] [--seconds 5] [--clients 4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from _common import free_port, start_server, write_result

from workbench.data import load_movielens_100k
from workbench.models import ALSRecommender

RESULTS = Path(__file__).parent / "results"
GOAL_RATIO, GOAL_HEALTH_MS = 2.0, 100.0


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "requests": len(ms),
        **{f"p{q}_ms": round(float(np.percentile(ms, q)), 2) for q in (50, 99)},
        "max_ms": round(float(ms.max()), 2),
    }


def load(base: str, pairs, seconds: float, clients: int) -> tuple[list[float], list[float], dict]:
    """Requests from ``clients`` threads and /health every 100 ms for ``seconds``: their latencies."""
    latencies, health, lock, stop = [], [], threading.Lock(), time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            while time.monotonic() < stop:
                with lock:
                    user, k = next(pairs)
                start = time.perf_counter()
                assert http.get("/api/recommendations", params={"user_id": user, "k": k}).status_code == 200
                with lock:
                    latencies.append(time.perf_counter() - start)

    def prober() -> None:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            while time.monotonic() < stop:
                start = time.perf_counter()
                http.get("/health")
                health.append(time.perf_counter() - start)
                time.sleep(0.1)

    threads = [threading.Thread(target=client) for _ in range(clients)] + [threading.Thread(target=prober)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, health, httpx.get(f"{base}/health").json()["cache"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on PATH")

    load_before = round(os.getloadavg()[0], 2)
    ds = load_movielens_100k()
    model = ALSRecommender(seed=0).fit(ds)
    users = np.sort(ds.interactions["user_id"].unique()).tolist()
    pairs = ((str(u), 10 + j) for j in itertools.count() for u in users)  # distinct: every request misses
    redis_port = free_port()
    redis_server = subprocess.Popen(
        [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    phases = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            model_dir = model.save(Path(folder) / "als")
            redis = f"redis://127.0.0.1:{redis_port}/0"
            for cache, names in (("memory", ["no_cache"]), (redis, ["redis_answering", "redis_stopped"])):
                process, base = start_server(model_dir, "--cache", cache)
                try:
                    load(base, pairs, 1.0, args.clients)  # warm up
                    for name in names:
                        if name == "redis_stopped":
                            redis_server.send_signal(signal.SIGSTOP)
                        try:
                            latencies, health, stats = load(base, pairs, args.seconds, args.clients)
                        finally:
                            redis_server.send_signal(signal.SIGCONT)
                        phases[name] = {
                            "recommend": percentiles(latencies),
                            "health": percentiles(health),
                            "cache": stats,
                        }
                finally:
                    process.terminate()
                    process.wait(timeout=10)
    finally:
        redis_server.send_signal(signal.SIGCONT)
        redis_server.terminate()
        redis_server.wait(timeout=10)

    ratio = phases["redis_stopped"]["recommend"]["p99_ms"] / phases["no_cache"]["recommend"]["p99_ms"]
    health_max = phases["redis_stopped"]["health"]["max_ms"]
    result = {
        "data": "ml-100k",
        "model": "ALSRecommender(seed=0)",
        "seconds_per_phase": args.seconds,
        "clients": args.clients,
        "load_average_before": load_before,
        "phases": phases,
        "p99_ratio_redis_stopped_vs_no_cache": round(ratio, 2),
        "goal_p99_ratio": GOAL_RATIO,
        "health_max_ms_redis_stopped": health_max,
        "goal_health_ms": GOAL_HEALTH_MS,
        "goals_met": bool(ratio <= GOAL_RATIO and health_max < GOAL_HEALTH_MS),
    }
    write_result(args.out, "serve_redis_stall.json", result)
    for name, phase in phases.items():
        print(f"{name:14s} recommend {phase['recommend']}  health {phase['health']}  cache {phase['cache']}")
    print(f"p99 ratio (Redis stopped / no cache): {ratio:.2f} (goal <= {GOAL_RATIO}); /health max {health_max} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
