"""Live events through a real RabbitMQ (a rabbitmq-server of the test's own on 127.0.0.1): batches by
count and window, ids as written, dead letters with reasons, at-least-once with a consumer killed by
SIGKILL mid-run (nothing lost, nothing applied twice), a broker gone mid-run, a missing queue, and the
served model refreshed by the loop. Never skipped: .ci/run installs rabbitmq-server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pika
import pytest

from workbench.analysis.live import JOURNAL, LiveLoop, fit_initial, main
from workbench.data import Dataset
from workbench.data.split import temporal_split
from workbench.data.stream import (
    REASON_HEADER,
    BrokerError,
    BrokerStream,
    Publisher,
    broker_stream,
    dead_letter_queue,
    local_rabbitmq,
)
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with local_rabbitmq(tmp_path_factory.mktemp("rabbitmq")) as running:
        yield running


@pytest.fixture(scope="module")
def shop() -> tuple[Dataset, Dataset]:
    return temporal_split(make_ecommerce(300, 200, 6000, seed=0), test_fraction=0.3)


def waiting(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def dead_letters(url: str, queue: str) -> list[tuple[bytes, str]]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel, out = connection.channel(), []
    while (got := channel.basic_get(dead_letter_queue(queue), auto_ack=True))[0] is not None:
        out.append((got[2], got[1].headers[REASON_HEADER]))
    connection.close()
    return out


def event(user, item, timestamp=1_700_000_000, kind="view") -> dict:
    return {"user_id": user, "item_id": item, "event": kind, "timestamp": timestamp}


def test_broker_batches_by_count_keep_ids_as_written_and_acknowledge(broker):
    with Publisher(broker.url, "count") as publisher:
        for n in range(25):
            publisher.send(event(f"u{n % 4}", n, 1_700_000_000 + n))
    stream = broker_stream(broker.url, "count", batch_size=10, idle_timeout=1.0)
    batches = list(stream)
    stream.close()
    assert [len(b) for b in batches] == [10, 10, 5]
    frame = batches[0].interactions
    assert frame["user_id"].tolist()[:2] == ["u0", "u1"] and frame["item_id"].tolist()[:2] == [0, 1]
    assert list(frame.columns[:4]) == ["user_id", "item_id", "timestamp", "event"]
    assert batches[0].end - batches[0].start == pd.Timedelta(seconds=9)  # first and last event of the batch
    assert stream.n_events == 25 and waiting(broker.url, "count") == 0  # all acknowledged


def test_broker_window_closes_a_batch_on_time(broker):
    with Publisher(broker.url, "window") as publisher:
        for n in range(3):
            publisher.send(event(1, n))
        stream = broker_stream(broker.url, "window", batch_size=100, window="0.3s", idle_timeout=2.0)
        batches = iter(stream)
        first = next(batches)
        publisher.send(event(1, 99))
        second = next(batches)
    stream.close()
    assert len(first) == 3 and second.interactions["item_id"].tolist() == [99]


def test_broker_dead_letters_invalid_events_with_a_reason_and_counts_them(broker):
    bad = [
        b"{not json",
        b"[1, 2]",
        json.dumps({"user_id": 1, "timestamp": 0}).encode(),
        json.dumps(event(1, 2, kind="like")).encode(),
        json.dumps(event(1.5, 2)).encode(),
        json.dumps(event("abc", 2)).encode(),  # the stream's user ids are ints
        json.dumps(event(1, None)).encode(),
        json.dumps(event(1, 2, timestamp="yesterday-ish")).encode(),
    ]
    with Publisher(broker.url, "dirty") as publisher:
        publisher.send(event("7", 3))
        for body in bad:
            publisher.send(body)
        publisher.send(event(8, "4"))
    stream = broker_stream(
        broker.url, "dirty", batch_size=50, idle_timeout=1.0, id_kinds={"user_id": "int", "item_id": "int"}
    )
    good = [b.interactions for b in stream]
    stream.close()
    assert [(f["user_id"].tolist(), f["item_id"].tolist()) for f in good] == [([7, 8], [3, 4])]
    assert stream.n_dead == len(bad) == sum(stream.dead_reasons.values())
    assert stream.dead_reasons["wrong id type"] == 3 and stream.dead_reasons["malformed JSON"] == 1
    parked = dead_letters(broker.url, "dirty")
    assert [body for body, _ in parked] == bad
    reasons = dict(parked)
    assert reasons[bad[3]] == "unknown event type 'like' (expected view, cart, purchase)"
    assert reasons[bad[5]] == "user_id 'abc' is not an integer, as this stream's user_ids are"
    assert all("\n" not in reason for _, reason in parked)
    assert waiting(broker.url, "dirty") == 0


def test_broker_redelivers_a_batch_that_was_not_acknowledged(broker):
    with Publisher(broker.url, "again") as publisher:
        ids = [publisher.send(event(1, n)) for n in range(6)]
    first = broker_stream(broker.url, "again", batch_size=6, idle_timeout=1.0)
    taken = next(iter(first))
    first.close()  # died before asking for the next batch: nothing acknowledged
    second = broker_stream(broker.url, "again", batch_size=6, idle_timeout=1.0, skip_ids=ids[:2])
    again = list(second)
    second.close()
    assert taken.interactions["message_id"].tolist() == ids
    assert again[0].interactions["message_id"].tolist() == ids[2:] and second.n_skipped == 2


def test_broker_loop_resumes_without_applying_the_last_batch_twice(broker, shop, tmp_path):
    train, test = shop
    als, popularity = fit_initial(train)
    loop = LiveLoop(tmp_path / "live", als=als, popularity=popularity, reference=train)
    with Publisher(broker.url, "resume") as publisher:
        ids = publisher.replay(test, limit=300)
    stream = broker_stream(broker.url, "resume", batch_size=100, idle_timeout=1.0, id_kinds=loop.id_kinds)
    row = loop.apply(next(iter(stream)))
    stream.close()  # applied and checkpointed, never acknowledged
    assert row["events"] == 100 and 0 <= row["popularity_js"] <= 1 and row["reloaded"] is False
    resumed = LiveLoop(tmp_path / "live")
    assert resumed.resumed and resumed.last_ids == ids[:100]
    stream = broker_stream(broker.url, "resume", batch_size=100, idle_timeout=1.0, skip_ids=resumed.last_ids)
    for batch in stream:
        resumed.apply(batch)
    stream.close()
    applied = (tmp_path / "live" / JOURNAL).read_text().split()
    assert stream.n_skipped == 100 and applied == ids
    assert len(resumed.table()) == 2 and set(resumed.alerts().columns) >= {"signal", "message"}


def test_broker_consumer_killed_mid_run_loses_nothing_and_applies_nothing_twice(broker, shop, tmp_path):
    train, test = shop
    als, popularity = fit_initial(train)
    out = tmp_path / "live"
    LiveLoop(out, als=als, popularity=popularity, reference=train)
    with Publisher(broker.url, "killed") as publisher:
        ids = publisher.replay(test, limit=1500)
        publisher.send(b"{oops")
    command = [sys.executable, "-m", "workbench.analysis.live", str(out), "--url", broker.url, "--queue", "killed"]
    command += ["--batch-size", "100", "--window", "0.5s", "--idle-timeout", "2"]
    journal = out / JOURNAL
    consumer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 120
    while len(journal.read_bytes().splitlines()) < 300 and consumer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    consumer.send_signal(signal.SIGKILL)
    consumer.wait()
    assert consumer.returncode == -signal.SIGKILL, consumer.stderr.read().decode()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    applied = journal.read_text().split()
    assert sorted(applied) == sorted(ids)  # none lost, none twice
    assert len(set(applied)) == len(applied) == 1500
    assert counts["dead"] == 1 and waiting(broker.url, "killed") == 0


def test_broker_loop_refreshes_the_served_model(broker, shop, tmp_path):
    fastapi = pytest.importorskip("fastapi")  # noqa: F841  (the serve extra)
    from workbench.serve import create_app

    train, _ = shop
    als, popularity = fit_initial(train)
    loop = LiveLoop(tmp_path / "live", als=als, popularity=popularity, reference=train)
    app = create_app(loop.model_dir)
    before = app.state.serving.current
    user = str(train.interactions["user_id"].iloc[0])
    top = before.model.recommend([user], k=1)["item_id"].iloc[0]
    with Publisher(broker.url, "served") as publisher:
        publisher.send(event(user, top, kind="purchase"))
    stream = broker_stream(broker.url, "served", batch_size=10, idle_timeout=1.0, id_kinds=loop.id_kinds)
    for batch in stream:
        loop.apply(batch)
    stream.close()
    after = app.state.serving.reload()  # what POST /admin/reload does (LiveLoop(reload_url=...) calls it)
    assert after.version != before.version
    assert after.model.recommend([user], k=1)["item_id"].iloc[0] != top  # bought: no longer recommended


def test_broker_missing_queue_and_gone_broker_are_one_line_errors(broker, shop, tmp_path, capsys):
    with pytest.raises(BrokerError, match=r"^queue 'nowhere' does not exist at amqp://guest:\*\*\*@"):
        broker_stream(broker.url, "nowhere", batch_size=10)
    with pytest.raises(ConfigError, match="no live state"):
        LiveLoop(tmp_path / "empty")
    with pytest.raises(ConfigError, match="batch_size"):
        BrokerStream(None, batch_size=None, window=None)  # type: ignore[arg-type]

    with local_rabbitmq(tmp_path / "short-lived") as doomed:
        with Publisher(doomed.url, "q") as publisher:
            publisher.send(event(1, 1))
        stream = broker_stream(doomed.url, "q", batch_size=10, idle_timeout=5.0)
        batches = iter(stream)
        assert len(next(batches)) == 1
        doomed.stop()
        with pytest.raises(BrokerError, match=r"^lost RabbitMQ at .*: unacknowledged events will be delivered again$"):
            next(batches)
        stream.close()
        url = doomed.url
    als, popularity = fit_initial(shop[0])
    LiveLoop(tmp_path / "state", als=als, popularity=popularity)
    assert main([str(tmp_path / "state"), "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach RabbitMQ at") and err.count("\n") == 1 and "Traceback" not in err


def test_broker_live_replay_for_the_notebook_and_a_plain_note_without_broker(broker, shop):
    from workbench.analysis import live_note, live_replay

    assert live_note(broker.url) is None
    note = live_note("amqp://guest:guest@127.0.0.1:1/%2F")
    assert note.startswith("No RabbitMQ broker answers (cannot reach RabbitMQ at") and "\n" not in note
    table = live_replay(make_ecommerce(300, 200, 6000, seed=0), url=broker.url, limit=300, batch_size=100)
    assert table["events"].tolist() == [100, 100, 100]
    assert {"popularity_js", "new_user_share", "new_item_share", "apply_ms"} <= set(table.columns)


def test_broker_batch_mixing_typed_and_untyped_events_is_applied(broker):
    with Publisher(broker.url, "mixed") as publisher:
        publisher.send({"user_id": 1, "item_id": 2, "timestamp": 1_700_000_000, "rating": 4})
        publisher.send(event(1, 3, timestamp="2024-01-01T00:00:00", kind="purchase"))
    stream = broker_stream(broker.url, "mixed", batch_size=10, idle_timeout=1.0)
    (batch,) = list(stream)
    stream.close()
    frame = batch.interactions
    assert frame["event"].tolist() == ["view", "purchase"] and frame["rating"].tolist() == [4.0, 1.0]
    assert frame["timestamp"].tolist() == [1_700_000_000, 1_704_067_200]
    Dataset.from_frames(frame)  # valid as a log
