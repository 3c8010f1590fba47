"""Every notebook runs on small data, computes the right things, passes `marimo check`, has a current twin."""

import ast
import importlib.util
import json
import os
import re
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from supported_api import NOTEBOOK_API

from workbench.data.synthetic import SIZES, make_ecommerce
from workbench.notebooks import data_description, export_twin, list_notebooks, notebooks_dir, twin_path

NOTEBOOKS = list_notebooks()
SMALL = "synthetic-small"


def small_log() -> pd.DataFrame:
    """The synthetic-small interactions, built directly (not through load_dataset)."""
    return make_ecommerce(**SIZES["small"], seed=0).interactions


def run_in_process(name: str, monkeypatch, report_dir: Path | None = None) -> dict:
    monkeypatch.setenv("WORKBENCH_DATA", SMALL)
    if report_dir is None:
        monkeypatch.delenv("WORKBENCH_REPORT_DIR", raising=False)
    else:
        monkeypatch.setenv("WORKBENCH_REPORT_DIR", str(report_dir))
    spec = importlib.util.spec_from_file_location(f"notebook_{name}", notebooks_dir() / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, defs = module.app.run()
    return defs


def unstamped(page: str) -> str:
    """A report page without its "generated <minute> UTC" stamp, so two renderings compare equal
    even when the minute turns between them, and without the line naming its data, which ``publish``
    adds to the view's report (tested in test_profile_notebook_as_script)."""
    page = re.sub(r'</p><p class="data">[^<]*', "", page)
    return re.sub(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "generated <stamp>", page)


def marimo_cell_bodies(path: Path) -> list[str]:
    """Source of each ``@app.cell`` function body without its final return, read with ast."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    bodies = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and any(ast.unparse(d) == "app.cell" for d in node.decorator_list):
            statements = node.body[:-1] if isinstance(node.body[-1], ast.Return) else node.body
            text = "\n".join(lines[statements[0].lineno - 1 : statements[-1].end_lineno]) if statements else ""
            bodies.append(textwrap.dedent(text).strip())
    return bodies


def test_profile_notebook_counts(monkeypatch, tmp_path):
    defs = run_in_process("01_profile", monkeypatch, report_dir=tmp_path)
    log = small_log()
    summary = defs["p"].to_dict()
    assert summary["interactions"] == len(log)
    assert summary["users"] == log["user_id"].nunique()
    assert summary["items"] == log["item_id"].nunique()
    n_pairs = len(log.drop_duplicates(["user_id", "item_id"]))
    assert summary["density"] == pytest.approx(n_pairs / (summary["users"] * summary["items"]))
    assert set(defs["charts"]) and all(hasattr(c, "to_json") for c in defs["charts"].values())
    written = json.loads((tmp_path / "01_profile.json").read_text(encoding="utf-8"))
    assert written["headline"]["interactions"] == len(log)
    assert written["headline"]["warnings"] == len(defs["p"].warnings)
    assert (tmp_path / "01_profile.html").is_file()


def test_profile_notebook_as_script(tmp_path):
    env = {**os.environ, "WORKBENCH_DATA": SMALL, "WORKBENCH_REPORT_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(notebooks_dir() / "01_profile.py")], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    log = small_log()
    headline = json.loads((tmp_path / "01_profile.json").read_text(encoding="utf-8"))["headline"]
    assert (headline["interactions"], headline["users"], headline["items"]) == (
        len(log),
        log["user_id"].nunique(),
        log["item_id"].nunique(),
    )
    html = (tmp_path / "01_profile.html").read_text(encoding="utf-8")
    assert f"{len(log):,}" in html and "<script" not in html
    # the page says which data it was computed on, under its title
    said = f"Data: {SMALL}. {data_description(SMALL)}"
    assert f'<p class="data">{said}</p></header>' in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_import_only_the_supported_api(path):
    imports = [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == "workbench"
    ]
    assert imports
    for node in imports:
        assert node.module in NOTEBOOK_API, f"{path.name} imports from {node.module}"
        unsupported = {alias.name for alias in node.names} - set(importlib.import_module(node.module).__all__)
        assert not unsupported, f"{path.name}: {sorted(unsupported)} not in {node.module}.__all__"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_marimo_check_is_clean(path):
    result = subprocess.run([sys.executable, "-m", "marimo", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupyter_twin_is_current(path, tmp_path):
    committed = twin_path(path)
    assert committed.is_file(), f"run `python -m workbench.notebooks sync` to create {committed}"
    fresh = export_twin(path, tmp_path / committed.name)
    assert fresh.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
        f"{committed.name} is stale: run `python -m workbench.notebooks sync`"
    )
    cells = json.loads(committed.read_text(encoding="utf-8"))["cells"]
    bodies = marimo_cell_bodies(path)
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) <= 1 and len(cells) == len(bodies) + len(parameters)
    markdown = [c for c in cells if c["cell_type"] == "markdown"]
    static = ('mo.md("""', 'mo.md(r"""')  # a literal markdown cell; mo.md(variable) stays code
    assert len(markdown) == sum(b.startswith(static) for b in bodies)
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "import marimo" not in code and "import workbench.twin as mo" in code


#: Runs a notebook (argv[1]) or a twin's first cell (argv[2] == "twin") in a Python that has this venv's
#: packages but not workbench: ``-S`` skips site, so the editable install's .pth file is never read.
WITHOUT_WORKBENCH = """
import importlib.util, json, sys
sys.path.remove('{repo}') if '{repo}' in sys.path else None
sys.path.extend({site_packages!r})
assert importlib.util.find_spec("workbench") is None
if sys.argv[2] == "twin":
    cells = json.loads(open(sys.argv[1], encoding="utf-8").read())["cells"]
    exec("".join(cells[0]["source"]), {{}})
else:
    spec = importlib.util.spec_from_file_location("notebook", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outputs, _ = module.app.run()
    print(json.dumps([getattr(output, "text", str(output)) for output in outputs]))
"""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_without_the_package_the_notebook_and_its_twin_say_what_to_do(path, tmp_path):
    repo = str(notebooks_dir().parent)
    script = WITHOUT_WORKBENCH.format(repo=repo, site_packages=site.getsitepackages())
    run = [sys.executable, "-S", "-c", script]
    marimo = subprocess.run([*run, str(path), "marimo"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert marimo.returncode == 0, marimo.stderr[-2000:]
    (shown,) = json.loads(marimo.stdout.splitlines()[-1])  # one output: the message, and every cell after it stops
    assert "workbench is not installed in this Python" in shown and "make setup" in shown
    twin = subprocess.run(
        [*run, str(twin_path(path)), "twin"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert twin.returncode == 1
    last = twin.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: workbench is not installed in this kernel's Python"), twin.stderr
    assert "make setup" in last
