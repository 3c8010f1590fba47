"""The ``workbench`` command: render reports, profile a file, run benchmarks, serve a model.

Notebooks and benchmarks are found in the repository checkout next to the
package source (``notebooks/``, ``benchmarks/``), so install with ``pip install -e .``.

>>> main(["profile", "events.csv", "--html", "profile.html"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.errors import ConfigError, WorkbenchError, first_line
from workbench.notebooks import NAMED_DATA, checkout_dir, default_jobs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("report", help="run the notebooks headless and write HTML reports")
    report.add_argument("--data", default=NAMED_DATA[0], help=f"{' | '.join(NAMED_DATA)} | a CSV/Parquet path")
    report.add_argument("--out", default="reports", help="output folder (default: reports/)")
    report.add_argument("--only", default=None, help="comma-separated notebook names, e.g. 01_profile,03_als")
    report.add_argument(
        "--jobs", type=int, default=default_jobs(), help="notebooks run at once (default: the cores, here %(default)s)"
    )

    profile = commands.add_parser("profile", help="profile an interaction file and print a summary")
    profile.add_argument("path", help="interactions CSV or Parquet")
    profile.add_argument("--users", default=None, help="user table (CSV or Parquet)")
    profile.add_argument("--items", default=None, help="item table (CSV or Parquet)")
    profile.add_argument("--html", default=None, help="also write the profile as an HTML report here")
    profile.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="YOURS=CANONICAL",
        help="map a column name to a canonical one, e.g. --column product_id=item_id (repeatable)",
    )

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
    return parser


def _report(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from workbench.data.loaders import load_dataset, synthetic_size
    from workbench.notebooks import list_notebooks, read_summary, run_notebooks
    from workbench.report.render import write_index

    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    notebooks = list_notebooks(args.only)
    # A bad file or synthetic size fails here, in one line, before any notebook runs (synthetic data is not built).
    if args.data not in NAMED_DATA and synthetic_size(args.data) is None:
        load_dataset(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(notebooks), desc="notebooks", unit="nb") as bar:

        def done(name: str, seconds: float) -> None:
            bar.write(f"{name:16s} {seconds:6.1f} s")
            bar.update()

        run_notebooks(
            notebooks,
            data=args.data,
            report_dir=out,
            jobs=args.jobs,
            on_stage=lambda name, stage: bar.set_postfix_str(f"{name}: {stage}"),
            on_done=done,
        )
    entries = [read_summary(out / f"{path.stem}.json") for path in notebooks]
    index = write_index(out, entries)
    print(f"wrote {len(entries)} report(s); open {index}")
    return 0


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
    scripts = {script.stem: script for script in sorted(folder.glob("*.py"))}
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


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from workbench.serve import create_app, make_cache
    except ImportError as exc:
        raise ConfigError(
            f"serve needs the serve extra ({exc}): run make setup-all (or pip install -e '.[serve]')"
        ) from None
    app = create_app(args.model_dir, items=args.items, cache=make_cache(args.cache, ttl=args.cache_ttl))
    health = app.state.serving.current.health()
    print(f"serving {health['model_class']} from {args.model_dir} on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit code (2 on a user error)."""
    args = _parser().parse_args(argv)
    command = {"report": _report, "profile": _profile, "benchmark": _benchmark, "serve": _serve}[args.command]
    try:
        return command(args)
    except (WorkbenchError, OSError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
