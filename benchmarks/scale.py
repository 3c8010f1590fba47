"""The large-data path on one machine: synthetic shop -> profile -> split -> ALS -> recommend -> evaluate.

Time and peak resident memory per stage (RSS sampled in a thread every 20 ms;
tracemalloc is far too slow at this size). Goals: 10m end to end <= 300 s and
<= 6 GB peak; 50m within 24 GB.

    python benchmarks/scale.py --size 10m [--out DIR] [--split temporal|stratified]

sizes: 10m = 300,000 users x 50,000 items x 10M events; 50m = 1M x 100k x 50M;
small = 30,000 x 5,000 x 1M (a quick check). ALS: implicit backend, 64 factors,
5 iterations, BLAS single-threaded; recommend k=10 for every test user.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.data import profile
from workbench.data.split import stratified_split, temporal_split
from workbench.data.synthetic import make_ecommerce
from workbench.evaluation import evaluate
from workbench.models import ALSRecommender

RESULTS = Path(__file__).parent / "results"
SIZES = {
    "small": (30_000, 5_000, 1_000_000),
    "10m": (300_000, 50_000, 10_000_000),
    "50m": (1_000_000, 100_000, 50_000_000),
}
GOALS = {"10m": {"seconds": 300, "peak_gb": 6}, "50m": {"peak_gb": 24}}
PAGE = 4096
GB = 1 << 30


def rss() -> int:
    """Resident set size of this process in bytes (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRSS:
    """Samples RSS in a daemon thread; ``reset()`` starts a new stage, ``peak`` is the stage maximum."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.peak, self._stop = every, rss(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss())

    def reset(self) -> None:
        self.peak = rss()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="10m")
    parser.add_argument("--split", choices=("temporal", "stratified"), default="temporal")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n_users, n_items, n_events = SIZES[args.size]

    monitor = PeakRSS()
    stages: dict[str, dict[str, float]] = {}
    state: dict[str, Any] = {}

    def stage(name: str, function: Callable[[], Any]) -> None:
        print(f"[scale {args.size}] {name} ...", file=sys.stderr, flush=True)
        monitor.reset()
        before = rss()
        start = time.perf_counter()
        state[name] = function()
        seconds = time.perf_counter() - start
        stages[name] = {
            "seconds": round(seconds, 2),
            "peak_rss_gb": round(monitor.peak / GB, 3),
            "stage_peak_over_start_gb": round((monitor.peak - before) / GB, 3),
        }
        print(f"[scale {args.size}] {name}: {seconds:.1f} s, peak RSS {monitor.peak / GB:.2f} GB", file=sys.stderr)

    split = temporal_split if args.split == "temporal" else lambda ds: stratified_split(ds, ratio=0.8, seed=0)
    start_rss = rss()
    stage("generate", lambda: make_ecommerce(n_users, n_items, n_events, seed=0))
    stage("profile", lambda: profile(state["generate"]).summary)
    stage("split", lambda: split(state.pop("generate")))
    train, test = state.pop("split")
    stage("fit_als", lambda: ALSRecommender(factors=64, iterations=5, seed=0).fit(train))
    test_users = test.interactions["user_id"].unique()
    stage("recommend", lambda: state["fit_als"].recommend(test_users, k=10))
    stage("evaluate", lambda: evaluate(state["recommend"], test, k=10))
    monitor.stop()

    total = sum(s["seconds"] for s in stages.values())
    peak = max(s["peak_rss_gb"] for s in stages.values())
    goal = GOALS.get(args.size, {})
    result = {
        "size": args.size,
        "n_users": n_users,
        "n_items": n_items,
        "n_events": n_events,
        "split": args.split,
        "train_rows": len(train),
        "test_rows": len(test),
        "test_users": len(test_users),
        "python_start_rss_gb": round(start_rss / GB, 3),
        "stages": stages,
        "total_seconds": round(total, 1),
        "peak_rss_gb": peak,
        "metrics": {k: round(v, 5) for k, v in state["evaluate"].items()},
        "goal": goal,
        "meets_goal": all(
            (total <= goal["seconds"]) if key == "seconds" else (peak <= goal["peak_gb"]) for key in goal
        ),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale_{args.size}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.size}: {total:.0f} s end to end, peak RSS {peak:.2f} GB, ndcg@10 {result['metrics']['ndcg']:.4f} -> {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
