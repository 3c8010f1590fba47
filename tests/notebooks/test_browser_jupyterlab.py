"""The Jupyter twins of 03_als and 07_audit (charts, tables, callouts, stats), each opened in JupyterLab in a
real browser (Debian's Chromium, driven by Playwright) and run as a user would (Run > Run All Cells) on
synthetic-small: every cell runs, no output shows a traceback, no rich output is blank, the charts render
through JupyterLab's own Vega renderer, the tables as pandas, and the page asks nothing of any host but 127.0.0.1.

JupyterLab runs on a temporary copy of the twin with its own config, settings, workspaces and runtime dirs, the
news feed, the update check and the announcements plugin off. Browser, page and server fixtures are in conftest.py:
``WORKBENCH_SKIP_BROWSER=1`` skips it; without ``chromium`` on the PATH it fails.
"""

import json
import os
import re
import secrets
import shutil
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from workbench.notebooks import notebooks_dir

SMALL = "synthetic-small"
TWINS = ["03_als.ipynb", "07_audit.ipynb"]
#: Seconds allowed for JupyterLab to start and for the whole notebook to run.
TIMEOUT = 90


def code_cells(twin: str) -> int:
    """The number of code cells of ``twin``."""
    cells = json.loads((notebooks_dir() / "jupyter" / twin).read_text())["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


PROMPT = re.compile(r"^\[\d+\]:$")


@pytest.fixture(params=TWINS)
def jupyter_lab(request, tmp_path, free_port, server_group):
    """``jupyter lab`` on 127.0.0.1 serving a copy of one twin, offline; yields the twin's name and URL."""
    twin = request.param
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(notebooks_dir() / "jupyter" / twin, root / twin)
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    # the announcements plugin asks to fetch Jupyter news on first opening: off
    disabled = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(disabled))
    port = free_port
    token = secrets.token_hex(16)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "WORKBENCH_DATA": SMALL,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),  # the kernelspec runs "python": this venv's
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    for key in ("WORKBENCH_REPORT_DIR", "WORKBENCH_MODEL_CACHE", "WORKBENCH_DATA_OPTIONS"):
        env.pop(key, None)  # the twin publishes nothing and fits every model it shows
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1"]
    command += [
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    server_group(command, cwd=root, env=env, log=log, port=port, timeout=TIMEOUT)  # its kernels end with it
    return twin, f"http://127.0.0.1:{port}/lab/tree/{twin}?token={token}"


#: Per output area of the notebook: its cell's index, mimetype, text and whether it holds a picture.
OUTPUTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')).map(el => ({
  cell: Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).indexOf(el.closest('.jp-Cell')),
  mime: el.getAttribute('data-mime-type') || '',
  text: el.textContent.trim(),
  picture: el.querySelector('svg, canvas, img') !== null,
  table: el.querySelector('table') !== null,
  vega: el.querySelector('.vega-embed') !== null,
  chart: el.querySelector('.vega-embed svg, .vega-embed canvas') !== null,
}))"""
#: Per cell, for a failure's report: class, prompt, source (textContent: cells off screen have no innerText).
CELLS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => [c.className,
  (c.querySelector('.jp-InputPrompt') || {}).textContent, (c.querySelector('.jp-InputArea-editor') || {}).textContent])"""


def test_browser_jupyterlab_twin_runs_all_offline(browser_page, jupyter_lab, tmp_path):
    twin, url = jupyter_lab
    page = browser_page.page
    page.set_default_timeout(TIMEOUT * 1000)
    expect.set_options(timeout=TIMEOUT * 1000)
    try:
        opened = time.monotonic()
        page.goto(url)

        # The notebook opens with its kernel started and idle.
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        expect(notebook).to_be_visible()
        cells = notebook.locator(".jp-CodeCell")
        kernel_status = page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle")
        expect(kernel_status).to_be_visible()  # the session connected to a started kernel, not only a placeholder
        print(f"\n{twin} in JupyterLab: kernel idle {time.monotonic() - opened:.1f} s after opening")

        # Run > Run All Cells, then wait until every code cell has an execution count and the kernel is idle.
        started = time.monotonic()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        page.wait_for_function(
            """() => {
              const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))
                .filter(c => c.querySelector('.jp-InputArea-editor').textContent.trim() !== '');
              return cells.length > 0 && cells.every(
                c => /^\\[\\d+\\]:$/.test(c.querySelector('.jp-InputPrompt').textContent.trim()));
            }""",
            timeout=TIMEOUT * 1000,
        )
        expect(kernel_status).to_be_visible()
        prompts = [text.strip() for text in cells.locator(".jp-InputPrompt").all_text_contents()]
        print(f"code cells in the page: {len(prompts)}: {prompts}")  # Run All may leave an empty cell at the end
        ran = [text for text in prompts if PROMPT.match(text)]
        assert len(ran) == code_cells(twin), prompts
        print(f"run all: {len(ran)} code cells in {time.monotonic() - started:.1f} s")

        # Vega charts draw asynchronously after the cell finishes.
        charts = notebook.locator(".vega-embed").locator("svg, canvas")
        expect(charts.first).to_be_attached()
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.jp-Notebook .vega-embed'))
              .every(v => v.querySelector('svg, canvas') !== null)"""
        )
        page.screenshot(path=tmp_path / "jupyterlab-run-all.png")
        charts.first.scroll_into_view_if_needed()  # the notebook scrolls inside its panel, not the page
        expect(charts.first).to_be_visible()
        box = charts.first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, f"the chart is drawn tiny: {box}"
        page.screenshot(path=tmp_path / "jupyterlab-chart.png")
        outputs = page.evaluate(OUTPUTS_JS)
    except Exception:
        print(page.evaluate(CELLS_JS))
        page.screenshot(path=tmp_path / "failure.png")  # what the user saw
        raise

    shown = "\n".join(f"cell {o['cell']} {o['mime']}: {o['text'][:200]!r}" for o in outputs)
    tracebacks = [o for o in outputs if "Traceback" in o["text"] or o["mime"] == "application/vnd.jupyter.error"]
    assert not tracebacks, f"errors in the outputs:\n{shown}"
    stderr = [o for o in outputs if o["mime"] == "application/vnd.jupyter.stderr"]
    assert not stderr, f"stderr shown (pink) in the outputs:\n{shown}"
    blank = [o for o in outputs if not o["text"] and not o["picture"]]
    assert not blank, f"blank outputs in cells {[o['cell'] for o in blank]}:\n{shown}"
    charts = [o["cell"] for o in outputs if o["chart"]]
    assert charts and charts == [o["cell"] for o in outputs if o["vega"]], f"Vega charts not drawn:\n{shown}"
    tables = [o["cell"] for o in outputs if o["table"]]
    assert tables, f"no table rendered:\n{shown}"
    print(
        f"{len(outputs)} outputs, Vega charts in cells {charts}, tables in cells {tables}, hosts {sorted(set(browser_page.hosts))}"
    )
    browser_page.assert_local_and_clean()
