"""Helpers the benchmark scripts share (not a benchmark: `workbench benchmark` skips names starting with `_`).

The scripts run as `python benchmarks/<name>.py`, so this folder is on `sys.path` and they
import these as `from _common import ...`.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.data import Dataset, load_movielens_100k
from workbench.data.split import stratified_split

if TYPE_CHECKING:
    import httpx  # a dev dependency: imported only by the helpers of the serving benchmarks

#: where the scripts write their JSON by default (``--out``)
RESULTS = Path(__file__).parent / "results"


def versions() -> dict[str, str]:
    """The Python, numpy and pandas versions a result was measured with."""
    return {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__}


def write_result(folder: Path, name: str, result: Any, **dumps: Any) -> Path:
    """Write ``result`` as indented JSON to ``folder / name`` (the folder made if missing): the path.

    ``dumps``: more keyword arguments of ``json.dumps`` (e.g. ``default=float``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(result, indent=2, **dumps) + "\n", encoding="utf-8")
    return path


def write_and_show(folder: Path, name: str, result: Any) -> Path:
    """:func:`write_result`, then print the JSON and where it went: the path."""
    path = write_result(folder, name, result)
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path


def tuning_arguments(description: str, *, trials: int) -> argparse.Namespace:
    """The command line of the tuning benchmarks: ``--trials`` (default ``trials``), ``--seed``, ``--out``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--trials", type=int, default=trials)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def ml100k_split() -> tuple[Dataset, Dataset]:
    """(train, test) of MovieLens-100K by the protocol of ml100k.py: ``stratified_split(ratio=0.75, seed=42)``."""
    return stratified_split(load_movielens_100k(), ratio=0.75, seed=42)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(client: httpx.Client, process: subprocess.Popen, limit: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early: {process.stderr.read().decode()[-500:]}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("server did not answer /health in time")


def start_server(model_dir: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`python -m workbench.cli serve model_dir *options` on 127.0.0.1 and a free port, once /health answers:
    the process (stopped again if it never answers) and its base URL."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "workbench.cli", "serve", str(model_dir), "--port", str(port), *options]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10.0) as client:
            wait_for(client, process)
    except BaseException:
        process.terminate()
        process.wait(timeout=10)
        raise
    return process, base
