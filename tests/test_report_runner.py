"""`workbench report` killed with SIGKILL mid-run: no notebook process survives, --out keeps the last complete
set, and the next run removes what the killed one left (its staging folder in --out, its scratch folder)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc to find processes")

#: A notebook: publishes its page at once in mode "old"; in mode "new" the first publishes, the others start a
#: process of their own, say so and sleep, so that the run is killed with some pages staged and some not.
FAKE = """import os, subprocess, sys, time
from pathlib import Path
from workbench.notebooks import publish
from workbench.report import Report

mode, stem = os.environ["FAKE_MODE"], Path(__file__).stem
if mode == "new" and stem != "01_fast":
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(os.environ["FAKE_SIGNS"], stem).touch()
    time.sleep(60)
publish(Report(f"{stem} {mode}"), stem, {"users": 3})
"""
STEMS = ("01_fast", "02_slow", "03_slow")
#: Runs ``workbench report`` with the fake checkout's notebooks: ``python -c RUN FOLDER ARGS...``.
RUN = """import sys
from pathlib import Path
import workbench.notebooks
workbench.notebooks.notebooks_dir = lambda: Path(sys.argv[1])
from workbench.cli import main
sys.exit(main(sys.argv[2:]))
"""


def survivors(token: str) -> list[int]:
    """Live (not zombie) processes whose environment holds ``token``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if token.encode() in (proc / "environ").read_bytes() and ") Z " not in (proc / "stat").read_text():
                found.append(int(proc.name))
        except OSError:
            continue  # ended meanwhile, or not ours
    return found


def pages(folder: Path) -> list[Path]:
    """The pages of 01_fast in ``folder``, staged or not."""
    return list(folder.rglob("01_fast.html"))


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_killed_report_leaves_no_process_and_the_last_complete_set(tmp_path):
    folder = tmp_path / "checkout" / "notebooks"
    folder.mkdir(parents=True)
    for stem in STEMS:
        (folder / f"{stem}.py").write_text(FAKE, encoding="utf-8")
    signs, scratch, out = tmp_path / "signs", tmp_path / "tmp", tmp_path / "reports"
    signs.mkdir()
    scratch.mkdir()
    token = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(TMPDIR=str(scratch), FAKE_SIGNS=str(signs), KILL_TEST=token)
    argv = [sys.executable, "-c", RUN, str(folder), "report", "--data", "synthetic-small", "--out", str(out)]
    argv += ["--jobs", "3"]

    def report(mode: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, env={**env, "FAKE_MODE": mode}, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    first = report("old")
    assert first.returncode == 0, first.stderr[-2000:]
    old = contents(out)
    assert sorted(old) == sorted(
        [f"{stem}{suffix}" for stem in STEMS for suffix in (".html", ".json")] + ["index.html"]
    )

    new = {**env, "FAKE_MODE": "new"}
    killed = subprocess.Popen(argv, env=new, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (len(list(signs.iterdir())) == 2 and any(b"01_fast new" in page.read_bytes() for page in pages(out))):
        assert killed.poll() is None and time.monotonic() < deadline, killed.stderr.read().decode()[-2000:]
        time.sleep(0.1)
    assert len(survivors(token)) >= 5  # the report, its forkserver, the group leader, two notebooks and their sleeps
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    deadline = time.monotonic() + 3
    while survivors(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert survivors(token) == []
    assert {k: v for k, v in contents(out).items() if not k.startswith(".workbench-staging-")} == old
    assert list(out.glob(".workbench-staging-*")) and list(scratch.glob("workbench-report-*"))  # left by the kill

    third = report("old")
    assert third.returncode == 0, third.stderr[-2000:]
    assert sorted(contents(out)) == sorted(old)  # the stale staging folder is gone
    assert list(scratch.glob("workbench-report-*")) == []  # and so is the stale scratch folder (not multiprocessing's)
