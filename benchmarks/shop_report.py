"""A real shop end to end: the re-ranker's fit and ``workbench report`` on The Complete Journey and
on an order export of our own making.

The export is cut from The Complete Journey (84.51°'s grocery data, simulated from real shopping
patterns): households drawn at random (``--seed``) until ``--lines`` line items, written as a shop
hands them over: ``customer, product_id, order_id, ordered_at`` (integer ids, ISO times), no
customer or product table, the shop's own column names (mapped with ``--column``).

Fit: ``LightGBMReranker(seed=0)`` with its defaults (baskets held out, 5 folds, 100 candidates)
and the re-ranker of the notebooks (``workbench.views.reranker``: random holdouts, 3 folds, 50
candidates), each fitted on the log minus every customer's last order; the seconds of ``fit`` and
the peak memory of the process. Report: ``workbench report`` run as a user runs it (2 notebooks at
a time), seconds per notebook from its output, wall seconds and the peak memory of the whole
process tree (proportional set sizes, sampled every 0.5 s). Writes shop_report.json into benchmarks/results/.

    .venv/bin/python benchmarks/shop_report.py [--lines 150000] [--seed 7] [--skip-fit] [--skip-report] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _common import write_result

from workbench.data import load_dataset, read_interactions
from workbench.data.split import next_basket_split
from workbench.models import LightGBMReranker
from workbench.views import reranker

RESULTS = Path(__file__).parent / "results"
EXPORT_COLUMNS = {"customer": "user_id", "product_id": "item_id", "ordered_at": "timestamp"}
NOTEBOOK_LINE = re.compile(r"^(\d\d_\w+)\s+([\d.]+) s$")


def write_export(path: Path, *, lines: int, seed: int) -> dict[str, int]:
    """Households of The Complete Journey drawn at random until ``lines`` line items, as a shop's CSV."""
    log = load_dataset("complete-journey").interactions
    households = np.random.default_rng(seed).permutation(log["user_id"].unique())
    sizes = log["user_id"].value_counts().reindex(households).to_numpy()
    kept = households[: int(np.searchsorted(np.cumsum(sizes), lines)) + 1]
    rows = log[log["user_id"].isin(kept)]
    export = pd.DataFrame(
        {
            "customer": rows["user_id"],
            "product_id": rows["item_id"],
            "order_id": rows["order_id"],
            "ordered_at": rows["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    export.to_csv(path, index=False)
    return {
        "lines": len(export),
        "customers": int(export["customer"].nunique()),
        "products": int(export["product_id"].nunique()),
        "orders": int(export["order_id"].nunique()),
    }


class PeakMemory:
    """Peak memory of a process and its children, sampled every ``interval`` seconds: the sum of their
    proportional set sizes (PSS: a page shared by n processes, as forked notebooks share their imports,
    counts 1/n in each), else of their resident sets where PSS cannot be read."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.root, self.interval, self.peak = psutil.Process(pid), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                total = 0
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        info = process.memory_full_info()
                        total += getattr(info, "pss", info.rss)
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def time_fits(ds_name: str, ds) -> list[dict]:
    """Fit seconds and peak memory of the default re-ranker and the notebooks' re-ranker."""
    train, _ = next_basket_split(ds, by="order")
    rows = []
    for name, model in (
        ("LightGBMReranker(seed=0)", LightGBMReranker(seed=0)),
        ("notebooks' re-ranker", reranker(n_candidates=50, n_folds=3)),
    ):
        with PeakMemory(psutil.Process().pid) as memory:
            model.fit(train)
        rows.append(
            {
                "data": ds_name,
                "model": name,
                "fit_seconds": model.fit_seconds_,
                "peak_memory_gb": memory.peak / 1e9,
                "train_rows": len(train),
            }
        )
        print(f"{ds_name:18s} {name:26s} fit {model.fit_seconds_:7.1f} s  peak {memory.peak / 1e9:5.2f} GB", flush=True)
    return rows


def time_report(ds_name: str, args: list[str], cwd: Path) -> dict:
    """``workbench report`` as a user runs it: seconds per notebook, wall seconds, peak memory of the tree."""
    out = cwd / f"reports-{ds_name}"
    command = [str(Path(sys.executable).parent / "workbench"), "report", *args, "--out", str(out), "--jobs", "2"]
    start = time.perf_counter()
    # as `make report` runs it: modules write their bytecode once, whatever PYTHONDONTWRITEBYTECODE says here
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with PeakMemory(process.pid) as memory:
        output, _ = process.communicate()
    wall = time.perf_counter() - start
    notebooks = {}
    for line in output.replace("\r", "\n").splitlines():
        match = NOTEBOOK_LINE.match(line.strip())
        if match:
            notebooks[match.group(1)] = float(match.group(2))
    result = {
        "data": ds_name,
        "command": " ".join(["workbench", "report", *args]),
        "exit_code": process.returncode,
        "wall_seconds": wall,
        "peak_memory_gb": memory.peak / 1e9,
        "notebook_seconds": notebooks,
        "last_line": output.strip().splitlines()[-1] if output.strip() else "",
    }
    print(
        f"{ds_name:18s} report {wall:6.1f} s  peak {memory.peak / 1e9:5.2f} GB  exit {process.returncode}", flush=True
    )
    for name, seconds in notebooks.items():
        print(f"    {name:16s} {seconds:6.1f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result: dict = {"benchmark": "shop_report", "machine": f"{platform.machine()}, {psutil.cpu_count()} cores"}
    with tempfile.TemporaryDirectory(prefix="shop-report-") as folder:
        folder = Path(folder)
        export = folder / "orders.csv"
        result["export"] = write_export(export, lines=args.lines, seed=args.seed)
        print(f"export: {result['export']}", flush=True)
        columns = [f"--column={yours}={canonical}" for yours, canonical in EXPORT_COLUMNS.items()]
        if not args.skip_fit:
            export_ds = read_interactions(export, columns=EXPORT_COLUMNS)
            result["fits"] = time_fits("order export", export_ds) + time_fits(
                "complete-journey", load_dataset("complete-journey")
            )
        if not args.skip_report:
            result["reports"] = [
                time_report("order export", ["--data", "orders.csv", *columns], folder),
                time_report("complete-journey", ["--data", "complete-journey"], folder),
            ]
    write_result(args.out, "shop_report.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
