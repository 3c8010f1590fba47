"""Helpers shared by the notebooks and the CLI: find, run headless, publish, export Jupyter twins.

The marimo notebooks live in ``notebooks/`` of the repository checkout, next to
the ``workbench`` package source (an editable install). Their Jupyter twins are
generated into ``notebooks/jupyter/``. ``workbench report`` runs them with
:func:`run_notebooks`: as many at a time as there are cores, each in a process
forked from one that imported the package once, and notebooks that fit the same
model on the same data share one fit (:func:`fitted`).

>>> [p.name for p in list_notebooks()]  # doctest: +SKIP
['01_profile.py', '03_als.py']
>>> # python -m workbench.notebooks sync   (regenerate every twin)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import workbench
from workbench import DATA_ENV, DEFAULT_DATA
from workbench.errors import ConfigError, WorkbenchError

if TYPE_CHECKING:
    from workbench.data import Dataset
    from workbench.report.render import IndexEntry, Report

__all__ = [
    "data_choice",
    "stage",
    "wait_for",
    "rerank_controls",
    "publish",
    "fitted",
    "model_key",
    "list_notebooks",
    "notebooks_dir",
    "run_notebooks",
    "export_twin",
    "twin_path",
    "read_summary",
    "default_jobs",
    "main",
]

REPORT_DIR_ENV = "WORKBENCH_REPORT_DIR"
#: Set by the report runner to a folder that lives as long as the run; :func:`fitted` shares models through it.
MODEL_CACHE_ENV = "WORKBENCH_MODEL_CACHE"
#: Modules several notebooks import: the report runner imports them once, in the process every notebook is forked
#: from (one notebook's own imports, such as shap or optuna, stay in its process, beside the others' work).
PRELOAD = (
    "marimo",
    "pandas",
    "altair",
    "lightgbm",
    "workbench.data",
    "workbench.models",
    "workbench.evaluation",
    "workbench.analysis.explain",
    "workbench.report.charts",
    "workbench.report.render",
)
STAGE_PREFIX = "[workbench stage] "
#: The data sets every notebook's dropdown offers (``workbench.data.load_dataset`` names; no pandas needed here).
NAMED_DATA = (DEFAULT_DATA, "complete-journey", "synthetic-small", "synthetic-medium")


def checkout_dir(folder: str) -> Path:
    """``folder`` of the repository checkout the package was installed from (it may not exist)."""
    return Path(workbench.__file__).resolve().parent.parent / folder


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the repository checkout the package was installed from."""
    path = checkout_dir("notebooks")
    if not path.is_dir():
        raise ConfigError(
            f"notebooks folder not found at {path}: the notebooks ship with the repository, "
            "so install workbench from a checkout (pip install -e .)"
        )
    return path


def list_notebooks(only: str | None = None) -> list[Path]:
    """Notebooks in workflow order (``NN_name.py``); ``only`` is a comma-separated list of stems."""
    found = sorted(notebooks_dir().glob("[0-9][0-9]_*.py"))
    if not only:
        return found
    wanted = [name.strip().removesuffix(".py") for name in only.split(",") if name.strip()]
    by_stem = {path.stem: path for path in found}
    unknown = [name for name in wanted if name not in by_stem]
    if unknown:
        raise ConfigError(f"unknown notebook {unknown[0]!r}; available: {', '.join(by_stem) or 'none'}")
    return [by_stem[name] for name in wanted]


def data_choice() -> dict[str, Any]:
    """Arguments of every notebook's data set dropdown; the default comes from ``WORKBENCH_DATA``.

    >>> dataset = mo.ui.dropdown(**data_choice())  # doctest: +SKIP
    """
    default = os.environ.get(DATA_ENV, DEFAULT_DATA)
    return {"options": list(dict.fromkeys([default, *NAMED_DATA])), "value": default, "label": "data set"}


def stage(name: str) -> None:
    """Announce a stage of a notebook run; the CLI shows it as progress."""
    print(f"{STAGE_PREFIX}{name}", flush=True)


def wait_for(button: Any, message: str) -> None:
    """In the marimo editor, stop the cell with ``message`` until the run ``button`` is pressed; run as
    a script, an app, a report or a test, go on at once.

    >>> wait_for(run, "Press **Train models** to fit popularity and ALS.")  # doctest: +SKIP
    """
    import marimo as mo

    mo.stop(mo.app_meta().mode == "edit" and not button.value, mo.md(message))


def rerank_controls() -> tuple[Any, Any, Any]:
    """The sliders of notebooks 04 and 06, which train the same re-ranker: list length, candidates per
    user and holdout folds.

    >>> k, n_candidates, n_folds = rerank_controls()  # doctest: +SKIP
    """
    import marimo as mo

    return (
        mo.ui.slider(5, 50, step=5, value=10, label="k (list length)"),
        mo.ui.slider(20, 100, step=10, value=50, label="candidates per user"),
        mo.ui.slider(2, 5, step=1, value=3, label="holdout folds"),
    )


def publish(report: Report, name: str, headline: Mapping[str, Any]) -> Path | None:
    """Write ``<dir>/<name>.html`` and ``<dir>/<name>.json`` when ``WORKBENCH_REPORT_DIR`` is set.

    The JSON holds the title, description and headline numbers; returns the HTML path (None when unset).
    """
    directory = os.environ.get(REPORT_DIR_ENV)
    if not directory:
        return None
    out = Path(directory)
    html_path = report.write(out / f"{name}.html")
    summary = {"title": report.title, "description": report.description, "headline": dict(headline)}
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    return html_path


def read_summary(json_path: str | Path) -> IndexEntry:
    """The index entry of a published report, from its JSON file."""
    from workbench.report.render import IndexEntry

    path = Path(json_path)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        return IndexEntry(
            href=f"{path.stem}.html",
            title=str(summary["title"]),
            description=str(summary.get("description", "")),
            headline=dict(summary.get("headline", {})),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbenchError(f"{path}: not a readable report summary ({exc})") from None


def fitted(model: Any, train: Dataset) -> Any:
    """``model.fit(train)``, shared between the notebooks of one report run.

    The report runner sets ``WORKBENCH_MODEL_CACHE`` to a folder that lives as long as the run.
    The first notebook to ask for a model fits it and saves it there (``save``, no pickle) under
    :func:`model_key`; a notebook asking for the same class, parameters and training data waits
    for that fit and loads it (``load_model``). Without the variable this is plain ``fit``.

    >>> model = fitted(LightGBMReranker(CandidateGenerator(seed=0), seed=0), train)  # doctest: +SKIP
    """
    folder = os.environ.get(MODEL_CACHE_ENV)
    if not folder:
        return model.fit(train)
    import fcntl

    from workbench.models import load_model

    entry = Path(folder) / model_key(model, train)
    entry.parent.mkdir(parents=True, exist_ok=True)
    with entry.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when this process ends, whatever happens
        if entry.is_dir():
            return load_model(entry)
        partial = entry.with_suffix(".partial")
        model.fit(train).save(partial)
        partial.rename(entry)
    return model


def model_key(model: Any, train: Dataset) -> str:
    """Content address of ``model`` fitted on ``train``: its class and parameters (nested models'
    too, such as a re-ranker's candidate stage) and the columns, dtypes, values and index of every table."""
    import pandas as pd

    digest = hashlib.sha256(json.dumps(_recipe(model), sort_keys=True, default=repr).encode())
    for frame in (train.interactions, train.users, train.items):
        if frame is None:
            digest.update(b"no table")
            continue
        digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
        loose = [c for c in frame.columns if frame[c].dtype == object]  # may hold lists or mixed types
        exact = frame.assign(**{str(c): frame[c].map(repr) for c in loose}) if loose else frame
        digest.update(pd.util.hash_pandas_object(exact, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:32]


def _recipe(model: Any) -> dict[str, Any]:
    """Class and parameters of an unfitted model, with those of the models it holds."""
    nested = {name: _recipe(value) for name, value in vars(model).items() if hasattr(value, "get_params")}
    return {"class": f"{type(model).__module__}.{type(model).__qualname__}", "params": model.get_params(), **nested}


def default_jobs() -> int:
    """Notebooks run at once by ``workbench report``: the cores this process may use (where the system tells)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_notebooks(
    paths: Sequence[Path],
    *,
    data: str | None = None,
    report_dir: str | Path | None = None,
    jobs: int | None = None,
    on_stage: Callable[[str, str], None] | None = None,
    on_done: Callable[[str, float], None] | None = None,
) -> None:
    """Run notebooks headless, ``jobs`` at a time (default: :func:`default_jobs`), in workflow order.

    Each notebook runs as ``__main__`` in a process forked from a server that imported
    :data:`PRELOAD` once, with ``data`` and ``report_dir`` in its environment and a model cache
    (:func:`fitted`) that lives as long as this call. ``on_stage(name, stage)`` hears the stages a
    notebook announces, ``on_done(name, seconds)`` its end. The first failure stops the run with a
    WorkbenchError naming the notebook and its last error line.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    slots = jobs or default_jobs()
    waiting = deque(paths)
    running: list[_Run] = []
    with tempfile.TemporaryDirectory(prefix="workbench-report-") as scratch:
        env = {MODEL_CACHE_ENV: str(Path(scratch) / "models")}
        if data is not None:
            env[DATA_ENV] = str(data)
        if report_dir is not None:
            env[REPORT_DIR_ENV] = str(Path(report_dir).resolve())
        try:
            while waiting or running:
                while waiting and len(running) < slots:
                    running.append(_Run(context, waiting.popleft(), env, Path(scratch)))
                wait([run.process.sentinel for run in running], timeout=0.2)
                for run in list(running):
                    for stage_name in run.read():
                        if on_stage is not None:
                            on_stage(run.path.stem, stage_name)
                    if run.process.exitcode is None:
                        continue
                    running.remove(run)
                    run.finish()
                    if on_done is not None:
                        on_done(run.path.stem, run.seconds)
        finally:
            for run in running:
                run.process.terminate()
                run.process.join()
                run.log.close()


class _Run:
    """One notebook's process, its output file and the tail of what it printed."""

    def __init__(self, context: Any, path: Path, env: Mapping[str, str], scratch: Path) -> None:
        self.path = path
        log = scratch / f"{path.stem}.log"
        log.touch()
        self.log = log.open(encoding="utf-8", errors="replace")
        self.pending = ""
        self.tail: deque[str] = deque(maxlen=50)
        self.start = time.perf_counter()
        self.seconds = 0.0
        self.process = context.Process(target=_notebook_main, args=(str(path), dict(env), str(log)), name=path.stem)
        self.process.start()

    def read(self) -> list[str]:
        """Stages announced in the complete lines printed since the last read."""
        *lines, self.pending = (self.pending + self.log.read()).split("\n")
        stages = []
        for line in lines:
            if line.startswith(STAGE_PREFIX):
                stages.append(line.removeprefix(STAGE_PREFIX).strip())
            elif line.strip():
                self.tail.append(line.strip())
        return stages

    def finish(self) -> None:
        """Close the output; a notebook that failed raises WorkbenchError with its last error line."""
        self.seconds = time.perf_counter() - self.start
        self.process.join()
        self.read()
        if self.pending.strip():
            self.tail.append(self.pending.strip())
        self.log.close()
        if self.process.exitcode != 0:
            detail = self.tail[-1] if self.tail else f"exit code {self.process.exitcode}"
            raise WorkbenchError(f"notebook {self.path.stem} failed: {detail}")


def _notebook_main(path: str, env: Mapping[str, str], log: str) -> None:
    """A notebook's process: output into ``log``, the run's settings in the environment, the notebook as a script."""
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.environ.update(env)
    os.chdir(Path(path).parent.parent)
    sys.argv = [path]
    runpy.run_path(path, run_name="__main__")


def twin_path(path: Path) -> Path:
    """Where the Jupyter twin of a notebook lives: ``notebooks/jupyter/<stem>.ipynb``."""
    return path.parent / "jupyter" / f"{path.stem}.ipynb"


def export_twin(path: str | Path, out: str | Path | None = None) -> Path:
    """Export a marimo notebook to its Jupyter twin (``marimo export ipynb``); returns the .ipynb path."""
    path = Path(path)
    target = Path(out) if out is not None else twin_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "marimo", "export", "ipynb", str(path), "-o", str(target)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not target.is_file():
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise WorkbenchError(f"exporting {path.name} to ipynb failed: {detail}")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m workbench.notebooks sync`` regenerates every twin; ``list`` prints the notebooks."""
    parser = argparse.ArgumentParser(prog="python -m workbench.notebooks")
    parser.add_argument("command", choices=["sync", "list"])
    args = parser.parse_args(argv)
    for path in list_notebooks():
        print(export_twin(path) if args.command == "sync" else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
