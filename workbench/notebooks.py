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
import ast
import ctypes
import hashlib
import json
import multiprocessing
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import workbench
from workbench import DATA_ENV, DATA_OPTIONS_ENV, DEFAULT_DATA
from workbench.errors import ConfigError, WorkbenchError

if TYPE_CHECKING:
    from workbench.data import Dataset
    from workbench.report.render import IndexEntry, Report

__all__ = [
    "data_choice",
    "stage",
    "load_data",
    "wait_for",
    "rerank_controls",
    "publish",
    "fitted",
    "model_key",
    "list_notebooks",
    "notebooks_dir",
    "run_notebooks",
    "scratch_folder",
    "export_twin",
    "twin_notebook",
    "twin_path",
    "execute_twin",
    "output_problem",
    "read_summary",
    "data_label",
    "data_description",
    "NotebookJob",
    "NotebookResult",
    "error_line",
    "default_jobs",
    "main",
]

REPORT_DIR_ENV = "WORKBENCH_REPORT_DIR"
#: Set by the report runner to a folder that lives as long as the run; :func:`fitted` shares models through it.
MODEL_CACHE_ENV = "WORKBENCH_MODEL_CACHE"
#: Set by the report runner: the threads of each notebook's BLAS and OpenMP pools (ALS, scoring), the cores over
#: the notebooks run at a time. Two notebooks on two cores with two threads each spin-wait for each other: an ALS
#: fit took 2-6x the wall time and twice the CPU of a one-thread fit. Results do not depend on it.
THREADS_ENV = "WORKBENCH_THREADS"
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
#: The order a report run starts notebooks in (results keep the order given): the longest first, so that
#: two slots finish together, and 05 and 06, which load the re-ranker 04 fits (:func:`fitted`), last,
#: so that they find it made instead of holding a slot while they wait for it. Others follow in order.
START_ORDER = ("04_rerank", "08_experiments", "09_freshness", "02_coldstart", "07_audit", "03_als", "01_profile")
LAST = ("05_residuals", "06_explain")
#: Lines of a notebook's output kept to find its error line (a traceback's frames come before it).
TAIL_LINES = 400
#: Names of the scratch folders a report run keeps in the temporary folder (logs, shared models).
SCRATCH_PREFIX = "workbench-report-"
#: The notebooks' process group leader: it waits for its standard input to close, which happens when the report
#: process ends however it ends (even ``kill -9``), then kills the group, with whatever the notebooks started.
REAPER = "import os, signal, sys; sys.stdin.buffer.read(); os.killpg(0, signal.SIGKILL)"
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


def load_data(name: str) -> Dataset:
    """:func:`workbench.data.load_dataset` of ``name``, announced as a stage and shown under a spinner in
    marimo (The Complete Journey takes seconds).

    >>> ds = load_data(dataset.value)  # doctest: +SKIP
    """
    import marimo as mo

    from workbench.data import load_dataset

    stage("loading data")
    with mo.status.spinner(title=f"Loading {data_label(name)}"):
        return load_dataset(name)


def wait_for(button: Any, message: str) -> None:
    """In the marimo editor and in an app (``marimo run``), stop the cell with ``message`` until the run
    ``button`` is pressed, so that pressing it is what trains; run as a script, a report or a test, go on at once.

    >>> wait_for(run, "Press **Train models** to fit popularity and ALS.")  # doctest: +SKIP
    """
    import marimo as mo

    mo.stop(mo.app_meta().mode in ("edit", "run") and not button.value, mo.md(message))


def rerank_controls() -> tuple[Any, Any, Any]:
    """The sliders of notebooks 04 and 06, which train the same re-ranker: list length, candidates per
    user and holdout folds.

    >>> k, n_candidates, n_folds = rerank_controls()  # doctest: +SKIP
    """
    import marimo as mo

    return (
        mo.ui.slider(5, 50, step=5, value=10, label="k (list length)", show_value=True),
        mo.ui.slider(20, 100, step=10, value=50, label="candidates per user", show_value=True),
        mo.ui.slider(2, 5, step=1, value=3, label="holdout folds", show_value=True),
    )


def data_label(name: str) -> str:
    """How a page names its data: a :func:`workbench.data.load_dataset` name as is, a file by its file name.

    >>> data_label("ml-100k"), data_label("/home/me/shop/orders.csv")
    ('ml-100k', 'orders.csv')
    """
    return Path(name).name or str(name)


def data_description(name: str, options: Mapping[str, Any] | None = None) -> str:
    """Where the data set ``name`` comes from (``workbench.data.loaders.data_note``), with the users and items
    tables and the column mapping given with it (``options``, as in ``DATA_OPTIONS_ENV``).

    >>> data_description("orders.csv", {"items": "/shop/products.csv", "columns": {"product_id": "item_id"}})
    'Your file orders.csv. Items from /shop/products.csv. Columns: product_id as item_id.'
    """
    from workbench.data.loaders import data_note

    parts = [data_note(name)]
    options = options or {}
    for table in ("users", "items"):
        if options.get(table):
            parts.append(f"{table.capitalize()} from {options[table]}.")
    if options.get("columns"):
        parts.append("Columns: " + ", ".join(f"{yours} as {ours}" for yours, ours in options["columns"].items()) + ".")
    return " ".join(parts)


def publish(report: Report, name: str, headline: Mapping[str, Any], *, data: str | None = None) -> Path | None:
    """Write ``<dir>/<name>.html`` and ``<dir>/<name>.json`` when ``WORKBENCH_REPORT_DIR`` is set.

    A data file's path in the title is shortened to its file name (:func:`data_label`).
    The page says under its title which data it was computed on: ``data`` (the notebook's data set;
    default: the one ``WORKBENCH_DATA`` names), described by :func:`data_description` with the
    options the run gave it. The JSON holds the title, description, data and headline numbers;
    returns the HTML path (None when unset).
    """
    directory = os.environ.get(REPORT_DIR_ENV)
    if not directory:
        return None
    from workbench.data.loaders import data_options

    data = data or os.environ.get(DATA_ENV) or DEFAULT_DATA
    described = data_description(data, data_options(data))
    label = data_label(data)
    page = replace(
        report,
        title=report.title.replace(data, label),  # a view titles its page with the data it was given: a file's path
        description=report.description.replace(data, label),
        data=f"Data: {label}. {described}",
    )
    out = Path(directory)
    html_path = page.write(out / f"{name}.html")
    summary = {
        "title": page.title,
        "description": page.description,
        "data": data_label(data),
        "data_description": described,
        "headline": dict(headline),
    }
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    return html_path


def read_summary(json_path: str | Path, *, href: str | None = None) -> IndexEntry:
    """The index entry of a published report, from its JSON file; ``href`` links the page (default: its
    file name, beside the index)."""
    from workbench.report.render import IndexEntry

    path = Path(json_path)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        return IndexEntry(
            href=href if href is not None else f"{path.stem}.html",
            title=str(summary["title"]),
            description=str(summary.get("description", "")),
            headline=dict(summary.get("headline", {})),
            data=str(summary.get("data", "")),
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


@dataclass(frozen=True)
class NotebookJob:
    """One notebook to run on one data set.

    ``data`` is a :func:`workbench.data.load_dataset` name or an absolute path, ``report_dir`` the
    folder its page goes into, and ``options`` the ``users`` / ``items`` paths and ``columns``
    mapping that :func:`workbench.data.load_dataset` applies to that data (see ``DATA_OPTIONS_ENV``).
    ``label`` names the run in progress and errors (default: the notebook's stem).

    >>> NotebookJob(Path("notebooks/03_als.py"), data="ml-100k", label="ml-100k/03_als").name
    'ml-100k/03_als'
    """

    path: Path
    data: str | None = None
    report_dir: Path | None = None
    options: Mapping[str, Any] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        """:attr:`label`, or the notebook's stem."""
        return self.label or Path(self.path).stem

    def env(self) -> dict[str, str]:
        """What the notebook's process finds in its environment (a job naming its data also names its options,
        so no options leak in from the caller's environment)."""
        env = {}
        if self.data is not None:
            env[DATA_ENV] = str(self.data)
            env[DATA_OPTIONS_ENV] = json.dumps(dict(self.options)) if self.options else ""
        elif self.options:
            env[DATA_OPTIONS_ENV] = json.dumps(dict(self.options))
        if self.report_dir is not None:
            env[REPORT_DIR_ENV] = str(Path(self.report_dir).resolve())
        return env


@dataclass(frozen=True)
class NotebookResult:
    """How one :class:`NotebookJob` ended: its time and, when it failed, the failure in one line."""

    job: NotebookJob
    seconds: float
    #: the notebook's error in one line (e.g. ``KeyError: 'b'``); empty when it ran to the end
    error: str = ""

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def ok(self) -> bool:
        return not self.error


def run_notebooks(
    notebooks: Sequence[Path | NotebookJob],
    *,
    data: str | None = None,
    report_dir: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    on_stage: Callable[[str, str], None] | None = None,
    on_done: Callable[[NotebookResult], None] | None = None,
) -> list[NotebookResult]:
    """Run notebooks headless, ``jobs`` at a time (default: :func:`default_jobs`), started in
    :data:`START_ORDER` (stable: the data sets of one notebook side by side).

    ``notebooks`` are paths, run on ``data`` into ``report_dir`` with ``options`` (see
    :class:`NotebookJob`), or jobs that name their own: the notebooks of several data sets share one
    call, so the slots stay busy. Each runs as ``__main__`` in a process forked from a server that
    imported :data:`PRELOAD` once, with its settings in the environment and a model cache
    (:func:`fitted`) that lives as long as this call. ``on_stage(name, stage)`` hears the stages a
    notebook announces, ``on_done(result)`` its end. A failing notebook does not stop the others:
    every notebook runs, and the results (in the order given) hold each failure in one line.

    The notebooks, and whatever they start, run in one process group that dies with this process, however it
    ends (:data:`REAPER`); their logs and models live in a :func:`scratch_folder` of the temporary folder.

    >>> failed = [r for r in run_notebooks(list_notebooks(), data="synthetic-small") if not r.ok]  # doctest: +SKIP
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    slots = jobs or default_jobs()
    todo = [
        item if isinstance(item, NotebookJob) else NotebookJob(Path(item), data, report_dir, options)
        for item in notebooks
    ]
    waiting = deque(sorted(enumerate(todo), key=lambda numbered: _start_rank(Path(numbered[1].path).stem)))
    running: list[_Run] = []
    results: dict[int, NotebookResult] = {}
    with scratch_folder() as scratch, _reaper() as group:
        cache = {
            MODEL_CACHE_ENV: str(Path(scratch) / "models"),
            THREADS_ENV: os.environ.get(THREADS_ENV) or str(max(1, default_jobs() // slots)),
        }
        try:
            while waiting or running:
                while waiting and len(running) < slots:
                    number, job = waiting.popleft()
                    running.append(_Run(context, number, job, {**cache, **job.env()}, scratch, group))
                wait([run.process.sentinel for run in running], timeout=0.2)
                for run in list(running):
                    for stage_name in run.read():
                        if on_stage is not None:
                            on_stage(run.job.name, stage_name)
                    if run.process.exitcode is None:
                        continue
                    running.remove(run)
                    results[run.number] = run.finish()
                    if on_done is not None:
                        on_done(results[run.number])
        finally:
            for run in running:
                run.process.terminate()
                run.process.join()
                run.log.close()
    return [results[number] for number in range(len(todo))]


@contextmanager
def scratch_folder(parent: str | Path | None = None, prefix: str = SCRATCH_PREFIX) -> Iterator[Path]:
    """A new folder ``<parent>/<prefix>XXXX`` (default: the temporary folder), removed on leaving; first removes
    the ones a killed run left there.

    The folder is locked (``flock``) while it lives, and the lock goes with the process that holds it, so an
    unlocked folder of that name is a killed run's; another run's folder is left alone.
    """
    parent = Path(parent or tempfile.gettempdir())
    for stale in parent.glob(f"{prefix}*"):
        handle = _lock(stale)
        if handle is not None:
            shutil.rmtree(stale, ignore_errors=True)
            os.close(handle)
    made = Path(tempfile.mkdtemp(prefix=f".new-{prefix}", dir=parent))
    handle = _lock(made)
    path = made.with_name(made.name.removeprefix(".new-"))
    made.rename(path)  # locked before it takes a name another run would clean
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if handle is not None:
            os.close(handle)


def _lock(folder: Path) -> int | None:
    """A descriptor holding an exclusive lock on ``folder``; None when another process holds it (or it is gone)."""
    import fcntl

    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        return None
    return handle


@contextmanager
def _reaper() -> Iterator[int]:
    """Start :data:`REAPER` as the leader of a new process group; yields the group's id. On leaving, the group
    is killed (notebooks still running have been ended by then)."""
    reaper = subprocess.Popen([sys.executable, "-c", REAPER], stdin=subprocess.PIPE, process_group=0)
    try:
        yield reaper.pid
    finally:
        reaper.stdin.close()
        reaper.wait()


def _start_rank(name: str) -> int:
    """Where a notebook stands in :data:`START_ORDER` (unlisted ones between it and :data:`LAST`).

    >>> sorted(["05_residuals", "10_new", "01_profile", "04_rerank"], key=_start_rank)
    ['04_rerank', '01_profile', '10_new', '05_residuals']
    """
    if name in START_ORDER:
        return START_ORDER.index(name)
    return len(START_ORDER) + 1 + LAST.index(name) if name in LAST else len(START_ORDER)


#: A traceback's last line names the exception with its module (``workbench.errors.DataError: ...``).
_EXCEPTION_MODULE = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?=[A-Za-z_]\w*(?::|$))")


def error_line(output: Sequence[str], exitcode: int) -> str:
    """The one line that says why a notebook process ended with ``exitcode`` (empty for 0), from the tail
    of what it printed: the exception line of the last traceback (without the exception's module), else
    the exit code or signal with the last line printed.

    >>> error_line(["Traceback (most recent call last):", '  File "x.py", line 1', "    f()",
    ...             "workbench.errors.DataError: no user_id", "more text"], 1)
    'DataError: no user_id'
    >>> error_line(["loading", "no data here"], 3), error_line([], -9)
    ('exit code 3 after: no data here', 'killed by SIGKILL')
    """
    if exitcode == 0:
        return ""
    lines = [line for line in output if line.strip()]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    after = [line for line in lines[starts[-1] + 1 :] if not line[:1].isspace()] if starts else []
    if after:
        return _EXCEPTION_MODULE.sub("", after[0].strip())
    try:
        how = f"killed by {signal.Signals(-exitcode).name}" if exitcode < 0 else f"exit code {exitcode}"
    except ValueError:
        how = f"exit code {exitcode}"
    return f"{how} after: {lines[-1].strip()}" if lines else how


class _Run:
    """One notebook's process, its output file and the tail of what it printed."""

    def __init__(
        self, context: Any, number: int, job: NotebookJob, env: Mapping[str, str], scratch: Path, group: int
    ) -> None:
        self.number = number
        self.job = job
        path = Path(job.path)
        log = scratch / f"{number:03d}_{path.stem}.log"
        log.touch()
        self.log = log.open(encoding="utf-8", errors="replace")
        self.pending = ""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.start = time.perf_counter()
        self.process = context.Process(
            target=_notebook_main, args=(str(path), dict(env), str(log), group), name=path.stem
        )
        self.process.start()

    def read(self) -> list[str]:
        """Stages announced in the complete lines printed since the last read."""
        *lines, self.pending = (self.pending + self.log.read()).split("\n")
        stages = []
        for line in lines:
            if line.startswith(STAGE_PREFIX):
                stages.append(line.removeprefix(STAGE_PREFIX).strip())
            elif line.strip():
                self.tail.append(line.rstrip())
        return stages

    def finish(self) -> NotebookResult:
        """Close the output; the result holds the time and, when the notebook failed, its error in one line."""
        seconds = time.perf_counter() - self.start
        self.process.join()
        self.read()
        if self.pending.strip():
            self.tail.append(self.pending.rstrip())
        self.log.close()
        return NotebookResult(self.job, seconds, error_line(self.tail, self.process.exitcode))


def _notebook_main(path: str, env: Mapping[str, str], log: str, group: int) -> None:
    """A notebook's process: in the run's process ``group``, output into ``log``, the run's settings in the
    environment, the notebook as a script."""
    _join(group)
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.environ.update(env)
    if os.environ.get(THREADS_ENV):
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(os.environ[THREADS_ENV]))  # for the life of the process (see THREADS_ENV)
    os.chdir(Path(path).parent.parent)
    sys.argv = [path]
    runpy.run_path(path, run_name="__main__")


def _join(group: int) -> None:
    """Join the run's process ``group`` (it fails when the run is over) and, on Linux, die with the parent too."""
    os.setpgid(0, group)
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def twin_path(path: Path) -> Path:
    """Where the Jupyter twin of a notebook lives: ``notebooks/jupyter/<stem>.ipynb``."""
    return path.parent / "jupyter" / f"{path.stem}.ipynb"


def export_twin(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the Jupyter twin of a marimo notebook; returns the .ipynb path.

    ``marimo export ipynb`` gives the cells in run order (a literal ``mo.md`` cell becomes a Markdown cell);
    :func:`twin_notebook` then makes it a notebook JupyterLab shows whole, offline: ``import workbench.twin as
    mo`` (:mod:`workbench.twin`) in place of marimo, the controls as a ``parameters`` cell, ``mo.stop`` as an
    ``if``. The marimo notebook stays the source; ``tests/notebooks`` fail when a twin is stale.
    """
    import nbformat

    path = Path(path)
    target = Path(out) if out is not None else twin_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        exported = Path(scratch) / target.name
        result = subprocess.run(
            [sys.executable, "-m", "marimo", "export", "ipynb", str(path), "-o", str(exported)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not exported.is_file():
            detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise WorkbenchError(f"exporting {path.name} to ipynb failed: {detail}")
        notebook = json.loads(exported.read_text(encoding="utf-8"))
    try:
        twin = nbformat.from_dict(twin_notebook(notebook))
    except SyntaxError as exc:
        raise WorkbenchError(f"{path.name}: a cell cannot be made a Jupyter cell: {exc}") from None
    nbformat.validate(twin)
    target.write_text(nbformat.writes(twin), encoding="utf-8")
    return target


#: The kernel a twin asks for (papermill and JupyterLab need one named).
TWIN_KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: marimo controls that are buttons: pressed in a twin, not parameters.
_BUTTONS = ("run_button", "button")


@dataclass(frozen=True)
class _Control:
    """A control a twin's parameters cell names: the global(s) a cell binds to a control and how."""

    names: tuple[str, ...]
    cell: int
    statement: ast.Assign
    button: bool
    #: for each name, its default in the parameters cell (Python source) and a comment saying what it takes
    described: tuple[tuple[str, str], ...]


def twin_notebook(notebook: Mapping[str, Any]) -> dict[str, Any]:
    """The twin of an exported marimo notebook (nbformat 4 as a dict): see :func:`export_twin`."""
    cells = [dict(cell) for cell in notebook["cells"]]
    sources = ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"] for cell in cells]
    trees = {i: ast.parse(sources[i]) for i, cell in enumerate(cells) if cell["cell_type"] == "code"}
    controls = _find_controls(trees)
    for i, tree in trees.items():
        mine = [control for control in controls if control.cell == i and not control.button]
        cells[i] = {**cells[i], "source": _twin_source(sources[i], tree, mine)}
    params = [control for control in controls if not control.button]
    if params:
        where = min(control.cell for control in params)
        cells.insert(where, _parameters_cell(params))
    metadata = {**notebook.get("metadata", {}), "kernelspec": TWIN_KERNEL}
    return {**notebook, "cells": cells, "metadata": metadata}


def _find_controls(trees: Mapping[int, ast.Module]) -> list[_Control]:
    """Globals bound to a control: ``x = mo.ui.<control>(...)``, or names bound together to a call's result
    whose ``.value`` the notebook reads (``k, n_folds = rerank_controls()``)."""
    read = {
        node.value.id
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "value" and isinstance(node.value, ast.Name)
    }
    found = []
    for i, tree in trees.items():
        for statement in tree.body:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                continue
            target, call = statement.targets[0], statement.value
            if not isinstance(call, ast.Call):
                continue
            names = [target] if isinstance(target, ast.Name) else getattr(target, "elts", [])
            if not names or not all(isinstance(name, ast.Name) for name in names):
                continue
            kind = _ui_kind(call.func)
            ids = tuple(name.id for name in names)
            if kind is None and not all(name in read for name in ids):
                continue
            if kind is not None:
                described = (_describe(call, kind),)
            else:
                unknown = ("None", f"None: the default of {ast.unparse(call)}")
                described = _helper_controls(call, len(ids)) or (unknown,) * len(ids)
            found.append(_Control(ids, i, statement, kind in _BUTTONS, described))
    return found


def _ui_kind(func: ast.expr) -> str | None:
    """``slider`` for ``mo.ui.slider``; None for any other callee."""
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "ui"
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "mo"
        and func.attr not in ("table", "dataframe", "tabs")
    ):
        return func.attr
    return None


def _literal(node: ast.expr | None) -> Any:
    """The value of a literal expression; ``...`` when it is not one."""
    if node is None:
        return ...
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ...


def _describe(call: ast.Call, kind: str) -> tuple[str, str]:
    """The parameters cell's default (Python source) and comment for the control ``call`` makes."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    label = _literal(keywords.get("label"))
    value = _literal(keywords.get("value"))
    if value is ... and kind in ("checkbox", "switch") and "value" not in keywords:
        value = False
    if value is ... and kind == "slider" and "value" not in keywords and call.args:
        value = _literal(call.args[0])
    about = []
    if kind in ("slider", "number"):
        bounds = [_literal(arg) for arg in call.args[:3]] + [...] * 3
        start, stop = (
            _literal(keywords.get(key)) if key in keywords else bounds[n] for n, key in enumerate(("start", "stop"))
        )
        step = _literal(keywords["step"]) if "step" in keywords else bounds[2]
        if start is not ... and stop is not ...:
            about.append(f"{start} to {stop}" + (f", step {step}" if step is not ... else ""))
    elif kind in ("dropdown", "radio"):
        options = _literal(keywords.get("options", call.args[0] if call.args else None))
        if isinstance(options, (list, tuple)) and len(options) <= 8:
            about.append(" or ".join(_python(option) for option in options))
        elif any(kw.arg is None and "data_choice" in ast.unparse(kw.value) for kw in call.keywords):
            about.append(f"{', '.join(NAMED_DATA)} or a file's path; None: ${DATA_ENV}, else {DEFAULT_DATA}")
        else:
            given = keywords.get("options", call.args[0] if call.args else None)
            public = given is not None and not any(
                isinstance(node, ast.Name) and node.id.startswith("_") for node in ast.walk(given)
            )
            computed = f"one of {ast.unparse(given)}" if public else "one of the options the notebook computes"
            about.append(computed + ("; None: the notebook's first" if value is ... else ""))
    elif kind in ("checkbox", "switch"):
        about.append("True or False")
    elif kind == "dictionary":
        about.append("a dict naming the ticked boxes, e.g. {'" + "': True, '".join(_dict_keys(call)) + "': True}")
    head = f"{label}: " if isinstance(label, str) and label else ""
    comment = head + "; ".join(part for part in about if part)
    return ("None" if value is ... else _python(value)), comment.rstrip(": ")


def _python(value: Any) -> str:
    """``value`` as Python source, strings in double quotes as the notebooks write them."""
    return json.dumps(value) if isinstance(value, str) and value.isprintable() and "\\" not in value else repr(value)


def _dict_keys(call: ast.Call) -> list[str]:
    first = call.args[0] if call.args else None
    keys = [_literal(key) for key in first.keys] if isinstance(first, ast.Dict) else []
    return [key for key in keys if isinstance(key, str)][:3] or ["name"]


def _helper_controls(call: ast.Call, count: int) -> tuple[tuple[str, str], ...] | None:
    """Defaults and comments of the ``count`` controls a helper of this module makes (``rerank_controls()``,
    called without arguments); None for any other call."""
    from workbench.twin import parameter

    name = call.func.id if isinstance(call.func, ast.Name) else None
    if name not in __all__ or call.args or call.keywords or not name.endswith("_controls"):
        return None
    made = [parameter(None, element) for element in globals()[name]()]
    if len(made) != count:
        return None
    described = []
    for control in made:
        about = f": {control.start} to {control.stop}, step {control.step}" if control.kind == "slider" else ""
        described.append((_python(control.shown), f"{control.label}{about}"))
    return tuple(described)


#: What a twin runs for a marimo cell's ``mo.stop`` on a missing package: a kernel without the package stops
#: Run All with one line saying what to do, before ``import workbench.twin as mo`` could fail.
TWIN_GUARD = """if importlib.util.find_spec("workbench") is None:
    raise ModuleNotFoundError(
        f"workbench is not installed in this kernel's Python ({sys.executable}): in the project folder run "
        "`make setup`, then open the twins with `.venv/bin/jupyter lab notebooks/jupyter/`"
    )
import workbench.twin as mo"""


def _twin_source(source: str, tree: ast.Module, controls: Sequence[_Control]) -> str:
    """A marimo cell's code as a twin's: controls take the parameters cell's values, ``import marimo as mo``
    becomes ``import workbench.twin as mo`` (first, so that tqdm is quiet before anything imports it; or in place
    of the cell's check that the package is installed, which then raises one readable error), and a
    ``mo.stop(...)`` statement becomes an ``if`` around the rest of the cell."""
    lines = source.splitlines()
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end line, end col, text), 1-based lines
    first = []
    guard = next((s for s in tree.body if _is_stop(s) and "find_spec" in ast.get_source_segment(source, s)), None)
    if guard is not None:
        edits.append((guard.lineno, 0, guard.end_lineno, guard.end_col_offset, TWIN_GUARD))
    for statement in tree.body:
        if isinstance(statement, ast.Import) and [(a.name, a.asname) for a in statement.names] == [("marimo", "mo")]:
            edits.append((statement.lineno, 0, statement.end_lineno, statement.end_col_offset, ""))
            if guard is None:
                first.append("import workbench.twin as mo")
    for control in controls:
        value = control.statement.value
        rhs = ast.get_source_segment(source, value)
        if len(control.names) == 1:
            name = control.names[0]
            free = ", any_value=True" if "data_choice" in rhs else ""
            text = f'mo.parameter({name}, {rhs}, name="{name}"{free})'
        else:
            given = ", ".join(control.names)
            names = ", ".join(f'"{name}"' for name in control.names)
            text = f"mo.parameters(({given}), {rhs}, names=({names}))"
        edits.append((value.lineno, value.col_offset, value.end_lineno, value.end_col_offset, text))
    for line, col, end_line, end_col, text in sorted(edits, reverse=True):
        head, tail = lines[line - 1][:col], lines[end_line - 1][end_col:]
        lines[line - 1 : end_line] = [head + text + tail] if (head + text + tail).strip() else []
    code = re.sub(r"\n{3,}", "\n\n", "\n".join(first + lines).strip("\n"))
    return _stops_as_ifs(code)


def _is_stop(statement: ast.stmt) -> bool:
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "stop"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "mo"
    )


def _stops_as_ifs(code: str) -> str:
    """``mo.stop(cond, out)`` then the rest of the cell, as ``if cond: mo.show(out)`` ``else:`` the rest (its
    last expression shown with ``mo.show``): *Run all* goes on past a section that cannot be computed."""
    tree = ast.parse(code)
    stops = [statement for statement in tree.body if _is_stop(statement)]
    if not stops:
        return code
    stop = stops[0]
    lines = code.splitlines()
    before = lines[: stop.lineno - 1]
    after_statements = [statement for statement in tree.body if statement.lineno > stop.end_lineno]
    call = stop.value
    condition = ast.get_source_segment(code, call.args[0]) if call.args else "True"
    output = [ast.get_source_segment(code, call.args[1])] if len(call.args) > 1 else []
    output += [ast.get_source_segment(code, kw.value) for kw in call.keywords if kw.arg == "output"]
    rest = lines[stop.end_lineno :]
    if after_statements and isinstance(after_statements[-1], ast.Expr):
        last = after_statements[-1]
        offset = stop.end_lineno
        start, end = last.lineno - 1 - offset, last.end_lineno - offset
        segment = ast.get_source_segment(code, last.value)
        rest[start:end] = [f"mo.show({segment})"]
    body = _stops_as_ifs("\n".join(rest).strip("\n")) if after_statements else "pass"
    indented = textwrap.indent(body, "    ", lambda _: True)
    if not output:
        return "\n".join([*before, f"if {_negated(call.args[0]) if call.args else 'False'}:", indented])
    if len(condition.splitlines()) > 1:
        condition = f"({condition})"
    return "\n".join([*before, f"if {condition}:", f"    mo.show({output[0]})", "else:", indented])


def _negated(condition: ast.expr) -> str:
    """Source of ``not condition``, read as it would be written: ``x is not None`` for ``x is None``."""
    if isinstance(condition, ast.Compare) and len(condition.ops) == 1:
        opposite = {ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
        flip = {**opposite, ast.In: ast.NotIn, ast.NotIn: ast.In}.get(type(condition.ops[0]))
        if flip is not None:
            return ast.unparse(ast.Compare(condition.left, [flip()], condition.comparators))
    if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
        return ast.unparse(condition.operand)
    return f"not ({ast.unparse(condition)})"


def _parameters_cell(controls: Sequence[_Control]) -> dict[str, Any]:
    """The twin's ``parameters`` cell (papermill-style): one line per control, its default and what it takes."""
    lines = [
        "# Parameters: the marimo notebook's controls. Change a value here and run all cells, or let papermill",
        "# set them (papermill -p k 20 ...). None keeps the notebook's default; a value outside the control's",
        "# range or options stops its cell with the allowed ones.",
    ]
    for control in controls:
        for name, (default, comment) in zip(control.names, control.described, strict=True):
            lines.append(f"{name} = {default}" + (f"  # {comment}" if comment else ""))
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": "parameters",
        "metadata": {"tags": ["parameters"]},
        "outputs": [],
        "source": "\n".join(lines),
    }


#: Mimetypes JupyterLab 4 draws by itself, offline (its Vega-Lite is 5.x: Altair 6's ``vnd.vegalite.v6.json`` is not one).
JUPYTERLAB_MIMES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/html",
        "text/latex",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/svg+xml",
        "application/json",
        "application/pdf",
        "application/vnd.vega.v5+json",
        "application/vnd.vegalite.v5+json",
    }
)
#: An HTML output that JupyterLab cannot show whole offline: a marimo element, or a script or style from the web.
_MARIMO_HTML = re.compile(r"<marimo-[\w-]+")
_NETWORK_HTML = re.compile(r"""<(?:script|link)[^>]*(?:src|href)\s*=\s*["']?https?://|cdn\.jsdelivr|unpkg\.com""")


def output_problem(output: Mapping[str, Any]) -> str:
    """Why JupyterLab shows an executed cell's rich output (display data or a result) blank, broken or only with
    the network: ``marimo element``, ``network``, ``unknown mimetype``, ``blank``; empty when it renders.

    >>> output_problem({"output_type": "display_data", "data": {"text/html": "<marimo-slider data-x=1>"}})
    'marimo element'
    >>> output_problem({"output_type": "execute_result", "data": {"text/markdown": "**3** users"}})
    ''
    """
    if output.get("output_type") not in ("display_data", "execute_result"):
        return ""
    data = output.get("data") or {}
    text = {mime: "".join(value) if isinstance(value, list) else value for mime, value in data.items()}
    page = str(text.get("text/html", ""))
    if _MARIMO_HTML.search(page):
        return "marimo element"
    if _NETWORK_HTML.search(page):
        return "network"
    if set(data) - JUPYTERLAB_MIMES:
        return "unknown mimetype"
    shown = [value for mime, value in text.items() if mime != "text/plain" or len(text) == 1]
    if not any(value if not isinstance(value, str) else value.strip() for value in shown):
        return "blank"
    return ""


def execute_twin(
    path: str | Path,
    *,
    data: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = 900,
    allow_errors: bool = False,
) -> Any:
    """Run a Jupyter twin in a fresh kernel (nbclient, kernel ``python3``) from the repository checkout, on
    ``data`` (``WORKBENCH_DATA``), with ``parameters`` set as papermill does (a cell after the ``parameters``
    cell); returns the executed notebook (``nbformat.NotebookNode``). Nothing is written.

    >>> notebook = execute_twin(twin_path(notebooks_dir() / "03_als.py"), data="synthetic-small")  # doctest: +SKIP
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    if parameters:
        where = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", []))
        source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
        notebook.cells.insert(where + 1, cell)
    env = {key: value for key, value in os.environ.items() if key not in (REPORT_DIR_ENV, MODEL_CACHE_ENV)}
    if data is not None:
        env[DATA_ENV] = data
        env.pop(DATA_OPTIONS_ENV, None)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(checkout_dir(""))}},
    )
    client.execute(env=env)  # passed on to the kernel manager's start_kernel
    return notebook


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
