"""Notebook 09's live-loop section against a real RabbitMQ (a rabbitmq-server of the test's own), and
its plain sentence when no broker answers. Never skipped: .ci/run installs rabbitmq-server."""

from __future__ import annotations

import importlib.util

from test_notebooks import SMALL, notebooks_dir

from workbench.data.stream import local_rabbitmq


def run_09(monkeypatch, broker_url: str) -> tuple[list, dict]:
    monkeypatch.setenv("WORKBENCH_DATA", SMALL)
    monkeypatch.delenv("WORKBENCH_REPORT_DIR", raising=False)
    monkeypatch.setenv("WORKBENCH_BROKER_URL", broker_url)
    spec = importlib.util.spec_from_file_location("notebook_09_live", notebooks_dir() / "09_freshness.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app.run()


def live_output(outputs: list) -> str:
    texts = [str(getattr(output, "text", output)) for output in outputs]
    return next(text for text in texts if "Live loop: events from a broker" in text)


def test_broker_live_section_runs_the_loop_on_a_reachable_broker(monkeypatch, tmp_path):
    with local_rabbitmq(tmp_path / "rabbitmq") as broker:
        outputs, defs = run_09(monkeypatch, broker.url)
    assert defs["live_why"] is None
    shown = live_output(outputs)
    assert "checkpointed before it is acknowledged" in shown and "popularity_js" in shown


def test_broker_live_section_says_plainly_when_no_broker_answers(monkeypatch):
    outputs, defs = run_09(monkeypatch, "amqp://guest:guest@127.0.0.1:1/%2F")
    assert defs["live_why"].startswith("No RabbitMQ broker answers (cannot reach RabbitMQ at amqp://guest:***@")
    assert "No RabbitMQ broker answers" in live_output(outputs) and "popularity_js" not in live_output(outputs)
