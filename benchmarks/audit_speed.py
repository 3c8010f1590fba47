"""Speed and peak memory of ``workbench.analysis.audit.audit`` against a per-resample pandas bootstrap.

100,000 users with six random per-user metrics (like ``evaluate_per_user``)
and three segment columns (gender x age band x activity decile: 140 groups),
1,000 bootstrap resamples. The baseline is the straightforward loop: per
resample, ``groupby().sample(frac=1, replace=True)`` then a groupby mean; it
runs ``--baseline-boot`` resamples and its time is scaled to ``--boot``.
Peak memory is the tracemalloc peak of one audit call (numpy reports its buffers).

    python benchmarks/audit_speed.py [--out DIR] [--users N] [--boot B] [--baseline-boot B]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from _common import versions, write_result

from workbench.analysis.audit import audit

RESULTS = Path(__file__).parent / "results"
METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "mrr")


def make_frames(n_users: int, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per_user, segments) for ``n_users`` users with sparse int64 ids."""
    rng = np.random.default_rng(seed)
    users = pd.Index(np.sort(rng.choice(10**9, size=n_users, replace=False)), name="user_id")
    hits = rng.binomial(10, 0.15, size=n_users)
    per_user = pd.DataFrame(
        {
            "user_id": users,
            "precision": hits / 10,
            "recall": np.minimum(hits / rng.integers(1, 30, n_users), 1.0),
            "ndcg": rng.beta(1, 3, n_users),
            "map": rng.beta(1, 5, n_users),
            "hit_rate": (hits > 0).astype(float),
            "mrr": rng.beta(1, 2, n_users),
        }
    )
    segments = pd.DataFrame(
        {
            "gender": rng.choice(["F", "M"], n_users, p=[0.3, 0.7]),
            "age_band": rng.choice(["<18", "18-24", "25-34", "35-44", "45-54", "55+", "65+"], n_users),
            "activity_band": rng.integers(1, 11, n_users),
        },
        index=users,
    )
    return per_user, segments


def pandas_bootstrap(per_user: pd.DataFrame, segments: pd.DataFrame, n_boot: int, *, seed: int = 0) -> pd.DataFrame:
    """Percentile intervals from a Python loop over resamples (the baseline)."""
    frame = per_user.set_index("user_id").join(segments)
    keys = list(segments.columns)
    grouped = frame.groupby(keys)
    means = []
    for b in range(n_boot):
        sample = grouped.sample(frac=1.0, replace=True, random_state=seed + b)
        means.append(sample.groupby(keys)[list(METRICS)].mean())
    stacked = pd.concat(means, keys=range(n_boot), names=["boot"])
    return stacked.groupby(level=keys).quantile(0.975) - stacked.groupby(level=keys).quantile(0.025)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--baseline-boot", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    per_user, segments = make_frames(args.users)
    times, cpu_times = [], []
    for _ in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = audit(per_user, segments, n_boot=args.boot, seed=0)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    tracemalloc.start()
    audit(per_user, segments, n_boot=args.boot, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    start = time.perf_counter()
    baseline_width = pandas_bootstrap(per_user, segments, args.baseline_boot)
    baseline_s = (time.perf_counter() - start) * args.boot / args.baseline_boot
    width = result.ci.xs("upper", axis=1, level="bound") - result.ci.xs("lower", axis=1, level="bound")
    # independent check of the intervals: the normal-theory 95% width 2 * 1.96 * sd / sqrt(n) per group
    frame = per_user.set_index("user_id").join(segments).groupby(list(segments.columns))[list(METRICS)]
    theory = 2 * 1.959964 * frame.std(ddof=0) / np.sqrt(frame.size().to_numpy())[:, None]
    width_ratio = float((width / theory.reindex(width.index)).to_numpy().mean())
    baseline_ratio = float((baseline_width / theory).to_numpy().mean())
    workbench_s = min(times)
    output = {
        "benchmark": "audit_speed",
        "n_users": args.users,
        "n_metrics": len(METRICS),
        "segment_columns": list(segments.columns),
        "n_groups": len(result.by_group),
        "n_boot": args.boot,
        "workbench_seconds": workbench_s,
        "workbench_cpu_seconds": min(cpu_times),
        "timing": f"best of {args.repeat} (wall clock; cpu = process time, robust to a loaded machine)",
        "peak_memory_mb": peak / 2**20,
        "pandas_loop_seconds_scaled": baseline_s,
        "pandas_loop_resamples_run": args.baseline_boot,
        "speedup": baseline_s / workbench_s,
        "ci_width_over_normal_theory": width_ratio,
        "baseline_ci_width_over_normal_theory": baseline_ratio,
        **versions(),
    }
    write_result(args.out, "audit_speed.json", output)
    print(
        f"audit of {args.users:,} users, {len(METRICS)} metrics, {len(result.by_group)} groups, {args.boot} resamples: "
        f"{workbench_s:.2f} s, peak {peak / 2**20:.0f} MiB; pandas loop (scaled from {args.baseline_boot}) "
        f"{baseline_s:.1f} s, speedup {baseline_s / workbench_s:.0f}x; "
        f"CI width / normal theory: {width_ratio:.3f} (baseline {baseline_ratio:.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
