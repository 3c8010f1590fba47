"""The ``workbench`` command: render reports, profile a file, run benchmarks, serve a model.

Notebooks and benchmarks are found in the repository checkout next to the
package source (``notebooks/``, ``benchmarks/``), so install with ``pip install -e .``.

>>> main(["profile", "events.csv", "--html", "profile.html"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import ast
import ipaddress
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import DEFAULT_DATA
from workbench.errors import ConfigError, DataWarning, WorkbenchError, first_line
from workbench.notebooks import NAMED_DATA, checkout_dir, default_jobs, list_notebooks

if TYPE_CHECKING:
    from workbench.notebooks import NotebookResult
    from workbench.report.render import IndexEntry

#: Where ``workbench report`` stages its pages, inside ``--out`` (see :func:`workbench.notebooks.scratch_folder`).
STAGING_PREFIX = ".workbench-staging-"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("report", help="run the notebooks headless and write HTML reports")
    report.add_argument(
        "--data",
        action="append",
        default=None,
        help=f"{' | '.join(NAMED_DATA)} | a CSV/Parquet path (default: {NAMED_DATA[0]}); repeat it for several "
        "data sets, each written into its own subfolder of --out",
    )
    _table_flags(report, "--data files")
    report.add_argument("--out", default="reports", help="output folder (default: reports/)")
    report.add_argument("--only", default=None, help="comma-separated notebook names, e.g. 01_profile,03_als")
    report.add_argument(
        "--jobs", type=int, default=default_jobs(), help="notebooks run at once (default: the cores, here %(default)s)"
    )

    profile = commands.add_parser("profile", help="profile an interaction file and print a summary")
    profile.add_argument("path", help="interactions CSV or Parquet")
    _table_flags(profile, "the file")
    profile.add_argument("--html", default=None, help="also write the profile as an HTML report here")

    benchmark = commands.add_parser("benchmark", help="run scripts in benchmarks/ (all of them by default)")
    benchmark.add_argument("names", nargs="*", help="script names to run, e.g. evaluate_speed ml100k")
    benchmark.add_argument("--list", action="store_true", help="list the scripts and stop")

    serve = commands.add_parser("serve", help="serve recommendations over HTTP from a saved model")
    serve.add_argument("model_dir", help="a model directory written by save()")
    serve.add_argument("--items", default=None, help="item table (CSV or Parquet) with name/title and price")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--cache", default=None, help="memory (default) or redis://HOST:PORT")
    serve.add_argument("--cache-ttl", type=float, default=60.0, help="seconds a cached answer lives (default: 60)")
    serve.add_argument(
        "--admin-token",
        default=None,
        help="token POST /admin/reload needs (Authorization: Bearer TOKEN); default: $WORKBENCH_ADMIN_TOKEN, "
        "which keeps it out of the process list. Required unless --host is loopback",
    )
    serve.add_argument("--docs", action="store_true", help="serve /docs, /redoc and /openapi.json (off by default)")
    return parser


def _table_flags(command: argparse.ArgumentParser, what: str) -> None:
    """``--users``, ``--items`` and ``--column``, shared by ``profile`` and ``report``."""
    command.add_argument("--users", default=None, help=f"user table (CSV or Parquet) of {what}")
    command.add_argument("--items", default=None, help=f"item table (CSV or Parquet) of {what}")
    command.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="YOURS=CANONICAL",
        help="map a column name to a canonical one, e.g. --column product_id=item_id (repeatable)",
    )


@dataclass(frozen=True)
class _DataSet:
    """One ``--data`` of a report run."""

    #: how the index names it: a named data set, or the path as given
    label: str
    #: what the notebooks load: the name, or the file's absolute path
    name: str
    #: the folder its pages go into, and the same relative to --out ("" or "ml-100k/")
    folder: Path
    prefix: str
    #: users / items (absolute paths) and columns of a file; empty for a named data set
    options: dict[str, Any]


def _is_named(data: str) -> bool:
    from workbench.data.loaders import synthetic_size

    return not Path(data).is_file() and (data in NAMED_DATA or synthetic_size(data) is not None)


def _data_sets(args: argparse.Namespace, out: Path) -> list[_DataSet]:
    """The ``--data`` of the run, checked: a bad file, flag or synthetic size fails here, in one line, before
    any notebook runs (named data sets are not loaded). Paths are the caller's: relative to the current folder."""
    from workbench.data.loaders import read_interactions

    given = args.data or [DEFAULT_DATA]
    twice = [data for data in dict.fromkeys(given) if given.count(data) > 1]
    if twice:
        raise ConfigError(f"--data {twice[0]} is given twice")
    columns = _column_mapping(args.column)
    tables = {table: getattr(args, table) for table in ("users", "items") if getattr(args, table)}
    files = [data for data in given if not _is_named(data)]
    if (tables or columns) and not files:
        flags = " and ".join([*(f"--{table}" for table in tables), *(["--column"] if columns else [])])
        raise ConfigError(
            f"{flags} describe your own interaction file, and --data names only built-in data sets "
            f"({', '.join(given)}); pass --data PATH"
        )
    options = {table: str(Path(path).resolve()) for table, path in tables.items()}
    options.update({"columns": columns} if columns else {})
    several = len(given) > 1
    folders: set[str] = set()
    sets = []
    for data in given:
        if data in files:
            if not Path(data).exists() and not Path(data).suffix:
                raise ConfigError(
                    f"--data {data!r} is neither a file nor a data set the workbench knows "
                    f"({', '.join(NAMED_DATA)}, synthetic-SIZE)"
                )
            read_interactions(data, columns=columns, users=args.users, items=args.items)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", data if data not in files else Path(data).stem).strip("-.") or "data"
        folder = slug
        while folder in folders:
            folder = f"{slug}-{len(folders) + 1}"
        folders.add(folder)
        sets.append(
            _DataSet(
                label=data,
                name=str(Path(data).resolve()) if data in files else data,
                folder=out / folder if several else out,
                prefix=f"{folder}/" if several else "",
                options=options if data in files else {},
            )
        )
    return sets


def _report(args: argparse.Namespace) -> int:
    """Run the notebooks into a staging folder inside ``--out`` and move their pages into place at the end, so
    that a killed run leaves the last complete set (the next run removes what it staged)."""
    from workbench.notebooks import scratch_folder

    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    notebooks = list_notebooks(args.only)
    out = Path(args.out)
    sets = _data_sets(args, out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with scratch_folder(out, prefix=STAGING_PREFIX) as staging:
            return _report_into(staging, out, sets, notebooks, args.jobs)
    except KeyboardInterrupt:
        raise WorkbenchError(f"interrupted; nothing new was written into {out}") from None


def _report_into(staging: Path, out: Path, sets: list[_DataSet], notebooks: list[Path], slots: int) -> int:
    """Run every notebook on every data set into ``staging``, then publish: pages moved into ``out``, the index
    last."""
    from tqdm.auto import tqdm

    from workbench.notebooks import NotebookJob, data_description, run_notebooks
    from workbench.report.render import write_index

    planned = [
        (
            NotebookJob(
                path,
                data=data.name,
                report_dir=staging / data.prefix,
                options=data.options or None,
                label=f"{data.prefix}{path.stem}",
            ),
            data,
        )
        for data in sets
        for path in notebooks
    ]
    jobs = [job for job, _ in planned]
    for job in jobs:
        job.report_dir.mkdir(parents=True, exist_ok=True)
    width = max(len(job.name) for job in jobs)
    with tqdm(total=len(jobs), desc="notebooks", unit="nb") as bar:

        def done(result: NotebookResult) -> None:
            failed = f"  failed: {result.error}" if result.error else ""
            bar.write(f"{result.name:{width}s} {result.seconds:6.1f} s{failed}")
            bar.update()

        results = run_notebooks(
            jobs,
            jobs=slots,
            on_stage=lambda name, stage: bar.set_postfix_str(f"{name}: {stage}"),
            on_done=done,
        )
    for job, data in planned:  # a page left from an earlier run must not stand for a notebook that fails now
        data.folder.mkdir(parents=True, exist_ok=True)
        for suffix in (".html", ".json"):
            staged, final = job.report_dir / f"{job.path.stem}{suffix}", data.folder / f"{job.path.stem}{suffix}"
            if staged.exists():
                staged.replace(final)
            else:
                final.unlink(missing_ok=True)
    entries = [_index_entry(result, data) for result, (_, data) in zip(results, planned, strict=True)]
    notes = {data.label: data_description(data.name, data.options) for data in sets}
    index = write_index(staging, entries, data_notes=notes).replace(out / "index.html")
    failed = [entry for entry in entries if entry.error]
    print(f"wrote {len(entries) - len(failed)} of {len(entries)} report(s); open {index}")
    for entry in failed:
        print(f"failed: {entry.data}: {entry.title}: {entry.error}", file=sys.stderr)
    return 1 if failed else 0


def _index_entry(result: NotebookResult, data: _DataSet) -> IndexEntry:
    """The index line of one notebook run: its page's summary, or what went wrong in one line."""
    from workbench.notebooks import read_summary
    from workbench.report.render import IndexEntry

    stem = result.job.path.stem
    page = data.folder / f"{stem}.html"
    error = result.error
    if not error:
        try:
            return replace(
                read_summary(data.folder / f"{stem}.json", href=f"{data.prefix}{stem}.html"), data=data.label
            )
        except WorkbenchError as exc:
            error = "ran to the end but wrote no page" if not page.exists() else first_line(exc)
    return IndexEntry(f"{data.prefix}{stem}.html" if page.exists() else "", stem, data=data.label, error=error)


def _column_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["product_id=item_id"]`` as ``{"product_id": "item_id"}``; a pair without '=' is a ConfigError."""
    from workbench.errors import ConfigError

    bad = [pair for pair in pairs if pair.count("=") != 1 or not all(pair.split("="))]
    if bad:
        raise ConfigError(f"--column takes YOURS=CANONICAL, e.g. --column product_id=item_id; got {bad[0]!r}")
    return dict(pair.split("=") for pair in pairs)


def _profile(args: argparse.Namespace) -> int:
    from workbench.data import read_interactions
    from workbench.data.profile import profile
    from workbench.views.profile import ProfileView

    ds = read_interactions(args.path, columns=_column_mapping(args.column), users=args.users, items=args.items)
    result = profile(ds)
    print(f"Profile of {args.path}")
    print(result.summary.to_string(index=False))
    print(f"\nWarnings ({len(result.warnings)}):" if result.warnings else "\nNo warnings.")
    for message in result.warnings:
        print(f"  - {message}")
    for heading, table in (("Top items", result.top_items.head(10)), ("Funnel", result.funnel)):
        if len(table):
            print(f"\n{heading}:\n{table.to_string(index=False)}")
    if args.html:
        written = ProfileView(result).report(f"Profile: {Path(args.path).name}").write(args.html)
        print(f"\nwrote {written}")
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    folder = checkout_dir("benchmarks")
    scripts = {script.stem: script for script in sorted(folder.glob("*.py")) if not script.stem.startswith("_")}
    if not scripts:
        raise ConfigError(f"no benchmark scripts found in {folder} (they ship with the repository checkout)")
    if args.list:
        for name, script in scripts.items():
            summary = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
            print(f"{name:24s} {summary.splitlines()[0] if summary else ''}")
        return 0
    unknown = [name for name in args.names if name not in scripts]
    if unknown:
        raise ConfigError(f"unknown benchmark '{unknown[0]}'; available: {', '.join(scripts)}")
    for script in [scripts[name] for name in args.names] or scripts.values():
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=folder.parent).returncode != 0:
            raise WorkbenchError(f"benchmark {script.name} failed (see its output above)")
    return 0


def _loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (localhost, 127.x.x.x, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from workbench.serve import create_app, make_cache
    except ImportError as exc:
        raise ConfigError(
            f"serve needs the serve extra ({exc}): run make setup-all (or pip install -e '.[serve]')"
        ) from None
    token = args.admin_token or os.environ.get("WORKBENCH_ADMIN_TOKEN") or None
    if token is None and not _loopback(args.host):
        raise ConfigError(
            f"--host {args.host} is reachable from other machines: set an admin token for /admin/reload "
            "(WORKBENCH_ADMIN_TOKEN or --admin-token), or bind to 127.0.0.1"
        )
    cache = make_cache(args.cache, ttl=args.cache_ttl)
    app = create_app(args.model_dir, items=args.items, cache=cache, admin_token=token, docs=args.docs)
    health = app.state.serving.current.health()
    reload = "needs the admin token" if token else "open to local clients: no admin token"
    print(
        f"serving {health['model_class']} from {args.model_dir} on http://{args.host}:{args.port} "
        f"(/admin/reload {reload})",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _doubts_in_one_line(show: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` printing a DataWarning (doubted input) as one line, ``warning: ...``, on
    stderr, and handing other warnings to ``show``."""

    def show_warning(message: Warning | str, category: type[Warning], *rest: Any, **options: Any) -> None:
        if issubclass(category, DataWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            show(message, category, *rest, **options)

    return show_warning


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit code (2 on a user error)."""
    args = _parser().parse_args(argv)
    command = {"report": _report, "profile": _profile, "benchmark": _benchmark, "serve": _serve}[args.command]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _doubts_in_one_line(warnings.showwarning)
            return command(args)
    except (WorkbenchError, OSError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
