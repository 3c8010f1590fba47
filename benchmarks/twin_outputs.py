"""What JupyterLab shows of the executed Jupyter twins: every rich output checked, none blank.

Executes each twin of ``notebooks/jupyter/`` (or ``--twins DIR``, e.g. the twins of an older commit) in a fresh
kernel on ``--data`` (default synthetic-small), with ``workbench.notebooks.execute_twin``, and sorts every rich
output (display data and results) with ``workbench.notebooks.output_problem``: a marimo element
(``<marimo-slider>``, ``<marimo-table>``, ...: blank in JupyterLab), a script from the network (an Altair chart
loading vega from a CDN), a mimetype JupyterLab does not draw (Altair 6's ``vnd.vegalite.v6.json``), or blank.
Also counts ``TqdmWarning`` in the cells' text output and cells that raised. Writes
``<DIR>/twin_outputs.json`` under ``--label`` (default ``current``), keeping the other labels already there, so
that a run on old twins (``--label before``) and one on the current twins sit side by side.

    .venv/bin/python benchmarks/twin_outputs.py [--twins DIR] [--data synthetic-small] [--only 03_als,07_audit]
        [--label current] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from workbench.notebooks import execute_twin, notebooks_dir, output_problem

RESULTS = Path(__file__).parent / "results"


def inspect(notebook) -> dict:
    """Counts of one executed twin's outputs: rich ones, each problem, TqdmWarning lines, errors."""
    problems: Counter[str] = Counter()
    rich = tqdm_warnings = 0
    errors = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind in ("display_data", "execute_result"):
                rich += 1
                problem = output_problem(output)
                if problem:
                    problems[problem] += 1
            elif kind == "stream":
                tqdm_warnings += "TqdmWarning" in output.get("text", "")
            elif kind == "error":
                errors.append(f"{output.get('ename')}: {output.get('evalue', '')}"[:200])
    return {"rich_outputs": rich, "problems": dict(problems), "tqdm_warnings": tqdm_warnings, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", type=Path, default=notebooks_dir() / "jupyter")
    parser.add_argument("--data", default="synthetic-small")
    parser.add_argument("--only", default="", help="comma-separated twin stems")
    parser.add_argument("--label", default="current")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    paths = sorted(args.twins.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        paths = [path for path in paths if path.stem in wanted]
    twins = {}
    for path in paths:
        start = time.perf_counter()
        notebook = execute_twin(path, data=args.data, allow_errors=True)
        twins[path.stem] = {**inspect(notebook), "seconds": round(time.perf_counter() - start, 1)}
        found = twins[path.stem]
        print(
            f"{path.stem}: {found['rich_outputs']} rich outputs, problems {found['problems']}, "
            f"{found['tqdm_warnings']} TqdmWarning, {len(found['errors'])} errors, {found['seconds']} s"
        )
    total_problems: Counter[str] = Counter()
    for found in twins.values():
        total_problems.update(found["problems"])
    summary = {
        "twins_dir": str(args.twins),
        "data": args.data,
        "rich_outputs": sum(found["rich_outputs"] for found in twins.values()),
        "problems": dict(total_problems),
        "marimo_or_blank": total_problems["marimo element"] + total_problems["blank"],
        "bad_outputs": sum(total_problems.values()),
        "twins_with_tqdm_warning": sum(found["tqdm_warnings"] > 0 for found in twins.values()),
        "twins_with_errors": sum(bool(found["errors"]) for found in twins.values()),
        "python": platform.python_version(),
        "twins": twins,
    }
    print(
        f"{args.label}: {summary['bad_outputs']} of {summary['rich_outputs']} rich outputs do not render offline "
        f"({summary['problems']}); TqdmWarning in {summary['twins_with_tqdm_warning']} twins"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "twin_outputs.json"
    results = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    results[args.label] = summary
    target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
