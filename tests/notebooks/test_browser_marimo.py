"""notebooks/03_als.py in ``marimo edit``, opened in a real browser (Debian's Chromium, driven by Playwright) and
used as a user would: the controls are there on opening, without "run all"; Train fits the models; a longer list
(k) re-scores them without training again; another data set changes the numbers shown; and the page asks nothing
of any host but 127.0.0.1.

Playwright's own browser download is never used: the test drives the ``chromium`` on the PATH (``.ci/run``
installs it with apt; the fixtures are in conftest.py). Without it the test fails; ``WORKBENCH_SKIP_BROWSER=1``
skips the browser tests.
"""

import os
import re
import sys
import time

import pytest
from playwright.sync_api import expect

from workbench.notebooks import notebooks_dir

SMALL = "synthetic-small"
#: The second data set the test picks: real data, other counts, a fit of a few seconds.
OTHER = "ml-100k"
#: Seconds allowed for marimo to start, a cell to run, a model to train.
TIMEOUT = 45
SUMMARY = re.compile(r"^\S+: [\d,]+ interactions, [\d,]+ users, [\d,]+ items\.$")


@pytest.fixture
def marimo_edit(tmp_path, free_port, server_group):
    """``marimo edit notebooks/03_als.py`` on 127.0.0.1 (headless, no token) on synthetic-small; its URL."""
    notebook = notebooks_dir() / "03_als.py"
    env = {**os.environ, "WORKBENCH_DATA": SMALL}
    env.pop("WORKBENCH_REPORT_DIR", None)  # the notebook publishes nothing
    env.pop("WORKBENCH_MODEL_CACHE", None)  # and fits every model it shows
    log = tmp_path / "marimo.log"
    command = [sys.executable, "-m", "marimo", "edit", "--headless", "--no-token", "--skip-update-check"]
    command += ["--host", "127.0.0.1", "--port", str(free_port), str(notebook)]
    server_group(command, cwd=notebook.parent.parent, env=env, log=log, port=free_port, timeout=TIMEOUT)
    return f"http://127.0.0.1:{free_port}/"


def test_browser_marimo_03_als_controls_train_and_data_switch(browser_page, marimo_edit, tmp_path):
    page = browser_page.page
    page.set_default_timeout(TIMEOUT * 1000)
    expect.set_options(timeout=TIMEOUT * 1000)  # marimo starting its kernel, a model training
    opened = time.monotonic()
    page.goto(marimo_edit)

    # Controls and the data summary show on opening: nobody pressed "run all".
    dataset = page.locator('select[data-testid="marimo-plugin-dropdown"]')
    expect(dataset).to_be_visible()
    expect(dataset).to_have_value(SMALL)
    train = page.get_by_role("button", name="Train models")
    expect(train).to_be_visible()
    expect(page.get_by_text("k (list length)", exact=True)).to_be_visible()
    expect(page.get_by_text("Press Train models to fit popularity and ALS.")).to_be_visible()
    summary = page.get_by_text(SUMMARY)
    expect(summary).to_contain_text(f"{SMALL}:")
    small_summary = summary.inner_text()
    print(f"03_als in marimo edit: controls and data summary {time.monotonic() - opened:.1f} s after opening")
    page.screenshot(path=tmp_path / "1-opened.png")

    # Train: the scores table appears, numbers written for reading.
    pressed = time.monotonic()
    train.click()
    scores = page.locator("table", has_text="hit_rate")
    expect(scores).to_be_visible()
    now = time.monotonic()
    print(f"first table (scores) {now - opened:.1f} s after opening, {now - pressed:.1f} s after pressing Train")
    expect(page.get_by_text(re.compile(r"^Trained on [\d,]+ interactions"))).to_be_visible()
    small_scores = scores.inner_text()
    assert "als" in small_scores and "popularity" in small_scores
    assert not re.search(r"\d\.\d{6,}", small_scores), f"raw floats in the scores table: {small_scores}"
    scores.scroll_into_view_if_needed()  # marimo scrolls inside its own container, not the page
    page.screenshot(path=tmp_path / "2-trained.png")

    # k only changes the lists scored: one step up re-scores the trained models, no button, no "Press Train".
    expect(page.get_by_text(re.compile(r"top 10\.$"))).to_be_visible()
    slider = page.get_by_role("slider").first  # k, the first slider of the controls
    slider.focus()
    slider.press("ArrowRight")
    expect(page.get_by_text(re.compile(r"top 15\.$"))).to_be_visible()
    expect(page.get_by_text("Press Train models to fit popularity and ALS.")).to_have_count(0)
    expect(scores).not_to_have_text(small_scores)  # the table is a cell of its own: it may update a moment later
    small_scores = scores.inner_text()

    # Another data set: its summary shows at once, training waits for the button again.
    dataset.select_option(OTHER)
    expect(summary).to_contain_text(f"{OTHER}:")
    assert summary.inner_text() != small_summary
    expect(page.get_by_text("Press Train models to fit popularity and ALS.")).to_be_visible()
    train.click()
    expect(page.get_by_text(re.compile(r"^Trained on [\d,]+ interactions"))).to_be_visible()
    expect(scores).to_be_visible()
    expect(scores).not_to_have_text(small_scores)  # the numbers of the other data set
    scores.scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "3-other-data.png")
    browser_page.assert_local_and_clean()
