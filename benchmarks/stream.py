"""The live loop on a real RabbitMQ: events per second through it, publish-to-changed-answer latency,
and events lost or applied twice when the consumer is killed (SIGKILL) and restarted.

MovieLens-100K: ALS (defaults, seed 0) and DecayedPopularity fitted on the first 80% of time; the
rest is the live traffic. A rabbitmq-server of the script's own runs on 127.0.0.1 (one Erlang
scheduler), in a temporary folder.

1. Throughput: 10,000 events queued, then consumed in batches of 500 by `LiveLoop` in process
   (partial_fit of both models, drift, checkpoint to disk; no server). Baseline: the same batches
   from `replay` (no broker), through a fresh loop.
2. Freshness: `workbench serve OUT/current/als` and the consumer (`python -m workbench.analysis.live`,
   batches of 500 or 0.2 s, reload by POST /admin/reload) run as processes while background events
   flow at 200/s; each probe publishes a purchase of a user's current top item and polls
   GET /api/recommendations every 5 ms until the answer changes (the item is now seen).
3. Kills: 5,000 events queued; the consumer process is SIGKILLed twice mid-run (a random moment
   after 1,000 and 2,500 applied events) and restarted; its journal of applied message ids (cut back
   on restart to the last checkpoint) is compared with what was published.

    python benchmarks/stream.py [--out DIR] [--probes N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from _common import free_port, write_result

from workbench.analysis.live import JOURNAL, LiveLoop, fit_initial
from workbench.data import load_dataset
from workbench.data.split import temporal_split
from workbench.data.stream import Publisher, broker_stream, local_rabbitmq, replay

RESULTS = Path(__file__).parent / "results"
BATCH = 500


def consumer(out: Path, url: str, queue: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "workbench.analysis.live", str(out), "--url", url, "--queue", queue, *extra]


def throughput(url: str, train, rest, folder: Path) -> dict:
    events = rest.interactions.iloc[:10_000]
    with Publisher(url, "throughput", confirm=False) as publisher:
        publisher.replay(events)
    loop = LiveLoop(folder / "throughput", **dict(zip(("als", "popularity"), fit_initial(train), strict=True)))
    stream = broker_stream(url, "throughput", batch_size=BATCH, idle_timeout=2.0, id_kinds=loop.id_kinds)
    started = time.perf_counter()
    for batch in stream:
        loop.apply(batch)
        finished = time.perf_counter()
    stream.commit()
    stream.close()
    table = loop.table()
    base = LiveLoop(folder / "baseline", **dict(zip(("als", "popularity"), fit_initial(train), strict=True)))
    base_started = time.perf_counter()
    for batch in replay(events.assign(message_id=[f"b{n}" for n in range(len(events))]), batch_size=BATCH):
        base.apply(batch)
    base_seconds = time.perf_counter() - base_started
    seconds = finished - started
    return {
        "events": int(stream.n_events),
        "batches": len(table),
        "seconds": round(seconds, 3),
        "events_per_second": round(stream.n_events / seconds, 1),
        "baseline_replay_events_per_second": round(len(events) / base_seconds, 1),
        "ratio_to_replay": round((stream.n_events / seconds) / (len(events) / base_seconds), 3),
        "per_batch_ms_median": {
            name: round(float(table[f"{name}_ms"].median()), 1) for name in ("apply", "save", "reload")
        },
    }


def freshness(url: str, train, rest, folder: Path, n_probes: int) -> dict:
    out = folder / "fresh"
    loop = LiveLoop(out, **dict(zip(("als", "popularity"), fit_initial(train), strict=True)))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", str(loop.model_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with Publisher(url, "fresh"):
        pass  # declare the queue before the consumer looks for it
    window = ["--batch-size", str(BATCH), "--window", "0.2s", "--reload-url", f"http://127.0.0.1:{port}/admin/reload"]
    process = subprocess.Popen(consumer(out, url, "fresh", *window), stdout=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    for _ in range(300):
        try:
            client.get("/health").raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    background_users = set(rest.interactions["user_id"].iloc[:20_000])
    probe_users = [u for u in train.interactions["user_id"].unique() if u not in background_users][:n_probes]
    clock = int(rest.interactions["timestamp"].max())
    stop = threading.Event()

    def background() -> None:
        with Publisher(url, "fresh", confirm=False) as publisher:
            for n, row in enumerate(rest.interactions.iloc[:20_000].itertuples(index=False)):
                if stop.is_set():
                    return
                time.sleep(max(0.0, n / 200 - (time.monotonic() - began)))
                publisher.send(
                    {"user_id": row.user_id, "item_id": row.item_id, "timestamp": clock}, message_id=f"bg{n}"
                )

    began = time.monotonic()
    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    while (out / "current").resolve().name == "state-000000" and time.monotonic() - began < 120:
        time.sleep(0.05)  # the consumer is up and applying background events
    latencies, timeouts = [], 0
    with Publisher(url, "fresh", confirm=False) as probe:
        for n, user in enumerate(probe_users):
            before = [
                r["product_id"]
                for r in client.get("/api/recommendations", params={"user_id": user}).json()["recommendations"]
            ]
            sent = time.perf_counter()
            probe.send(
                {"user_id": int(user), "item_id": before[0], "event": "purchase", "timestamp": clock},
                message_id=f"p{n}",
            )
            if process.poll() is not None:
                raise SystemExit(f"error: the consumer stopped (exit {process.returncode})")
            while time.perf_counter() - sent < 10:
                now = [
                    r["product_id"]
                    for r in client.get("/api/recommendations", params={"user_id": user}).json()["recommendations"]
                ]
                if now != before:
                    latencies.append(time.perf_counter() - sent)
                    break
                time.sleep(0.005)
            else:
                timeouts += 1
            time.sleep(0.1)
    stop.set()
    thread.join()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    server.terminate()
    server.wait(timeout=30)
    ms = np.array(latencies) * 1000
    return {
        "probes": len(probe_users),
        "changed": len(latencies),
        "timeouts_10s": timeouts,
        "latency_ms_p50": round(float(np.percentile(ms, 50)), 1),
        "latency_ms_p99": round(float(np.percentile(ms, 99)), 1),
        "latency_ms_max": round(float(ms.max()), 1),
        "background_events_per_second": 200,
        "batch": f"{BATCH} events or 0.2 s after the first",
    }


def kills(url: str, train, rest, folder: Path) -> dict:
    out = folder / "killed"
    LiveLoop(out, **dict(zip(("als", "popularity"), fit_initial(train), strict=True)))
    with Publisher(url, "killed", confirm=True) as publisher:
        ids = publisher.replay(rest, limit=5_000)
    command = consumer(out, url, "killed", "--batch-size", str(BATCH), "--window", "0.5s", "--idle-timeout", "3")
    journal, killed_at, rng = out / JOURNAL, [], np.random.default_rng(0)
    for threshold in (1_000, 2_500):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while len(journal.read_bytes().splitlines()) < threshold and process.poll() is None:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.1))  # anywhere in the next batch: applying, saving, acknowledging
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at.append(len(journal.read_bytes().splitlines()))
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    applied = journal.read_text().split()
    return {
        "published": len(ids),
        "kills": 2,
        "journal_lines_when_killed": killed_at,
        "applied": len(applied),
        "lost": len(set(ids) - set(applied)),
        "duplicated": len(applied) - len(set(applied)),
        "redelivered_and_skipped_by_id": counts["skipped"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--probes", type=int, default=100)
    args = parser.parse_args(argv)
    ds = load_dataset("ml-100k")
    train, rest = temporal_split(ds, test_fraction=0.2)
    with tempfile.TemporaryDirectory() as tmp, local_rabbitmq(Path(tmp) / "rabbitmq") as broker:
        folder = Path(tmp)
        result = {
            "benchmark": "stream",
            "data": "MovieLens-100K: models fitted on the first 80% of time, the rest published as live events",
            "broker": "rabbitmq-server (Debian), classic durable queue, persistent messages, one Erlang scheduler",
            "machine": {"cores": os.cpu_count(), "load_average_1m_before": round(os.getloadavg()[0], 2)},
            "throughput": throughput(broker.url, train, rest, folder),
            "freshness": freshness(broker.url, train, rest, folder, args.probes),
            "kill_and_restart": kills(broker.url, train, rest, folder),
        }
    result["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    write_result(args.out, "stream.json", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
