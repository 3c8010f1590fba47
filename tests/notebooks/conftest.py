"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, pages that record every host they ask,
and servers (marimo, JupyterLab) started in their own process group, ended with it.

Playwright's own browser download is never used: the tests drive the ``chromium`` on the PATH (``.ci/run``
installs it with apt). Without it a browser test fails; ``WORKBENCH_SKIP_BROWSER=1`` skips them.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SKIP_ENV = "WORKBENCH_SKIP_BROWSER"
LOCAL = {"127.0.0.1"}


@pytest.fixture
def chromium() -> str:
    """Debian's chromium: missing, the test fails (CI installs it), unless ``WORKBENCH_SKIP_BROWSER=1``."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: browser tests skipped")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium not found on the PATH: install Debian's chromium (apt-get install chromium; .ci/run does), "
            f"or set {SKIP_ENV}=1 to skip the browser tests"
        )
    return path


@dataclass
class BrowserPage:
    """A Chromium page and what it did: the host of every request and websocket, and the errors it raised."""

    page: object
    hosts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss"):
            self.hosts.append(parts.hostname or "")

    def assert_local_and_clean(self) -> None:
        """Every request went to 127.0.0.1 and the page raised no error."""
        assert self.hosts and set(self.hosts) <= LOCAL, f"requests left 127.0.0.1: {sorted(set(self.hosts) - LOCAL)}"
        assert not self.errors, f"errors in the page: {self.errors}"


@pytest.fixture
def browser_page(chromium) -> Iterator[BrowserPage]:
    """A 1400 x 1000 Chromium page recording its hosts and errors; the browser closes at teardown."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            seen = BrowserPage(page)
            page.on("request", lambda request: seen.record(request.url))
            page.on("websocket", lambda ws: seen.record(ws.url))
            page.on("pageerror", lambda error: seen.errors.append(str(error)))
            yield seen
        finally:
            browser.close()


@pytest.fixture
def free_port() -> int:
    """A port of 127.0.0.1 free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_group() -> Iterator[Callable[..., subprocess.Popen]]:
    """``start(command, *, cwd, env, log, port, timeout)``: a server (``python -m <server> ...``) in its own
    process group (the kernels it starts end with it), its output in ``log``, returned once it listens on
    127.0.0.1:``port`` (the test fails with the log's tail when it exits or does not listen within ``timeout``
    seconds); every group is ended at teardown (SIGTERM, SIGKILL after 10 s)."""
    started: list[subprocess.Popen] = []

    def start(
        command: list[str], *, cwd: Path, env: dict[str, str], log: Path, port: int, timeout: float
    ) -> subprocess.Popen:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"{command[2]} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return proc
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"{command[2]} did not listen on 127.0.0.1:{port} within {timeout} s:\n{log.read_text()[-3000:]}")

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
