"""The live loop: broker events in, models updated per micro-batch, the serving process refreshed.

Per batch (from :func:`workbench.data.stream.broker_stream`, or any iterator of ``Batch``):
``ALSRecommender.partial_fit`` and ``DecayedPopularity.partial_fit``; drift of the batch against the
training log (popularity Jensen-Shannon, new-user and new-item shares, alerts as in
:mod:`workbench.analysis.drift`); then a checkpoint: both models and the batch's message ids go into a
new ``state-NNNNNN`` folder and ``OUT/current`` is pointed at it in one rename; then the server is
asked to reload (``POST /admin/reload`` to ``reload_url``: a server started on ``OUT/current/als``
reads the new folder, and its cache keys change with the model). Only then is the batch
acknowledged, when the stream is asked for the next one (at least once).

A restart resumes from ``OUT/current``: the broker delivers the unacknowledged batch again, and the
events of the last applied batch among them are skipped by message id, so none is applied twice.
``OUT/applied.log`` lists the message id of every applied event, cut back on restart to what
``current`` holds. ALS folds users in against fixed item factors: items it has never seen count in
``new_item_share`` (refit when it climbs) and reach users through ``DecayedPopularity`` meanwhile.

>>> loop = LiveLoop("live", als=als, popularity=popularity, reference=train)  # doctest: +SKIP
>>> stream = broker_stream(url, "events", batch_size=500, window="1s", skip_ids=loop.last_ids)  # doctest: +SKIP
>>> for batch in stream:  # doctest: +SKIP
...     loop.apply(batch)

From a shell (the state must exist, or ``--train`` fits it):
``python -m workbench.analysis.live OUT --url amqp://127.0.0.1 --queue events --batch-size 500 --window 1s``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.drift import drift_alerts, jensen_shannon
from workbench.data.dataset import Dataset, id_kind
from workbench.data.split import temporal_split
from workbench.data.stream import Batch, Publisher, broker_stream, check_broker, delete_queue
from workbench.errors import ConfigError, WorkbenchError, first_line
from workbench.models import ALSRecommender, DecayedPopularity, load_model

CURRENT = "current"
CHECKPOINT = "checkpoint.json"
JOURNAL = "applied.log"
REFERENCE = "reference.npy"
#: The environment variable naming the broker notebooks use (a RabbitMQ URL).
BROKER_ENV = "WORKBENCH_BROKER_URL"


class LiveLoop:
    """Models kept up to date batch by batch in ``out_dir`` (see the module docstring).

    A new ``out_dir`` needs fitted ``als`` and ``popularity`` (and ``reference``, the training log, for
    the popularity drift); one holding a state resumes from it and ignores them. ``keep`` states stay
    on disk (the server may be reading the previous one).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        *,
        als: ALSRecommender | None = None,
        popularity: DecayedPopularity | None = None,
        reference: Dataset | None = None,
        reload_url: str | None = None,
        admin_token: str | None = None,
        keep: int = 3,
    ) -> None:
        self.out = Path(out_dir)
        self.reload_url, self.admin_token, self.keep = reload_url, admin_token, max(int(keep), 2)
        self.history: list[dict[str, Any]] = []
        self.reload_error: str | None = None
        current = self.out / CURRENT
        self.resumed = current.exists()
        if self.resumed:
            self.als, self.popularity = load_model(current / "als"), load_model(current / "popularity")
            self.state = json.loads((current / CHECKPOINT).read_text(encoding="utf-8"))
            self.reference = np.load(self.out / REFERENCE, allow_pickle=False)
            with open(self.out / JOURNAL, "ab") as journal:  # drop ids of a batch applied but never checkpointed
                journal.truncate(self.state["journal_bytes"])
            return
        if als is None or popularity is None:
            raise ConfigError(f"{self.out}: no live state to resume; pass fitted als= and popularity= to start one")
        self.als, self.popularity = als, popularity
        self.out.mkdir(parents=True, exist_ok=True)
        codes = als.item_map.codes(reference.interactions[C.ITEM]) if reference is not None else np.empty(0, int)
        self.reference = np.bincount(codes[codes >= 0], minlength=len(als.item_map)).astype(np.float64)
        np.save(self.out / REFERENCE, self.reference, allow_pickle=False)
        (self.out / JOURNAL).write_bytes(b"")
        self.state = {"batches": 0, "events": 0, "journal_bytes": 0, "last_ids": []}
        self._commit([])

    @property
    def last_ids(self) -> list[str]:
        """Message ids of the last applied batch: pass them to the stream as ``skip_ids``."""
        return list(self.state["last_ids"])

    @property
    def id_kinds(self) -> dict[str, str]:
        """How the models' ids are typed (``int`` or ``text``): pass to the stream so "12" finds 12."""
        return {C.USER: id_kind(self.als.user_map.ids), C.ITEM: id_kind(self.als.item_map.ids)}

    @property
    def model_dir(self) -> Path:
        """The ALS model the server should serve: ``OUT/current/als`` (follows every checkpoint)."""
        return self.out / CURRENT / "als"

    def drift(self, log: pd.DataFrame) -> dict[str, float]:
        """Drift of one batch against the training log, before the models see it."""
        items = self.als.item_map.codes(log[C.ITEM])
        known = items >= 0
        users = pd.unique(log[C.USER])
        counts = np.bincount(items[known], minlength=len(self.reference))
        usable = known.any() and self.reference.sum() > 0
        return {
            "popularity_js": float(jensen_shannon(counts, self.reference)[0]) if usable else np.nan,
            "new_user_share": float((self.als.user_map.codes(users) < 0).mean()),
            "new_item_share": float(1.0 - known.mean()),
        }

    def apply(self, batch: Batch) -> dict[str, Any]:
        """Fold ``batch`` into both models, checkpoint, ask the server to reload; returns the batch's row."""
        started = time.perf_counter()
        log = batch.interactions
        row: dict[str, Any] = {"window": self.state["batches"], "start": batch.start, "events": len(log)}
        row.update(self.drift(log))
        data = Dataset.from_frames(log.drop(columns=["message_id"], errors="ignore"))
        self.als.partial_fit(data)
        self.popularity.partial_fit(data)
        applied = time.perf_counter()
        ids = [str(i) for i in log["message_id"] if i is not None] if "message_id" in log else []
        self.state = {**self.state, "batches": self.state["batches"] + 1, "events": self.state["events"] + len(log)}
        self._commit(ids)
        saved = time.perf_counter()
        row["reloaded"] = self._reload()
        row.update(
            apply_ms=1000 * (applied - started),
            save_ms=1000 * (saved - applied),
            reload_ms=1000 * (time.perf_counter() - saved),
        )
        self.history.append(row)
        return row

    def table(self) -> pd.DataFrame:
        """One row per batch applied by this process: events, drift signals, timings."""
        return pd.DataFrame(self.history)

    def alerts(self) -> pd.DataFrame:
        """Drift alerts of the batches so far (``window`` is the batch number), as :func:`drift_alerts`."""
        table = self.table()
        if table.empty:
            return pd.DataFrame(columns=["window", "start", "signal", "value", "threshold", "message"])
        return drift_alerts(table)

    def _commit(self, ids: list[str]) -> None:
        folder = self.out / f"state-{self.state['batches']:06d}"
        shutil.rmtree(folder, ignore_errors=True)  # a half-written state of a killed run
        with open(self.out / JOURNAL, "ab") as journal:
            journal.truncate(self.state["journal_bytes"])
            journal.write("".join(f"{i}\n" for i in ids).encode())
            journal.flush()
            os.fsync(journal.fileno())
            self.state["journal_bytes"] = journal.tell()
        self.state["last_ids"] = ids
        self.als.save(folder / "als")
        self.popularity.save(folder / "popularity")
        (folder / CHECKPOINT).write_text(json.dumps(self.state), encoding="utf-8")
        link = self.out / f".{CURRENT}-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(folder.name)
        os.replace(link, self.out / CURRENT)  # the commit point: one rename
        for old in sorted(self.out.glob("state-*"))[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def _reload(self) -> bool:
        if self.reload_url is None:
            return False
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        request = urllib.request.Request(self.reload_url, data=b"", method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            self.reload_error = None
            return True
        except (urllib.error.URLError, OSError) as exc:
            self.reload_error = f"reload at {self.reload_url} failed: {first_line(str(exc), type(exc).__name__)}"
            return False


def fit_initial(train: Dataset, *, seed: int = 0, half_life: str = "7D") -> tuple[ALSRecommender, DecayedPopularity]:
    """ALS (defaults) and DecayedPopularity fitted on ``train``: a live loop's starting point."""
    return ALSRecommender(seed=seed).fit(train), DecayedPopularity(half_life=half_life).fit(train)


def broker_url() -> str:
    """The broker the notebooks use: ``$WORKBENCH_BROKER_URL``, else RabbitMQ's default on 127.0.0.1."""
    return os.environ.get(BROKER_ENV) or "amqp://guest:guest@127.0.0.1:5672/%2F"


def live_note(url: str | None = None) -> str | None:
    """Why the live loop cannot run here (one sentence), or None when a broker answers at ``url``."""
    url = url or broker_url()
    try:
        check_broker(url)
    except WorkbenchError as exc:
        return (
            f"No RabbitMQ broker answers ({first_line(exc)}), so the live loop is not run here: "
            f"start rabbitmq-server or set {BROKER_ENV}, then run this again."
        )
    return None


def live_replay(
    ds: Dataset,
    *,
    url: str | None = None,
    limit: int = 2000,
    batch_size: int = 250,
    start_fraction: float = 0.8,
    seed: int = 0,
) -> pd.DataFrame:
    """The live loop on a real broker: fit on the first ``start_fraction`` of time, publish the next
    ``limit`` events to a fresh queue at ``url``, consume them in batches of ``batch_size``.

    One row per batch (events, drift signals, timings); the queue is deleted afterwards.
    BrokerError (one line) when no broker answers.

    >>> live_replay(load_dataset("ml-100k"), limit=1000).head()  # doctest: +SKIP
    """
    url = url or broker_url()
    train, rest = temporal_split(ds, test_fraction=1.0 - start_fraction)
    als, popularity = fit_initial(train, seed=seed)
    queue = f"workbench-live-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        loop = LiveLoop(folder, als=als, popularity=popularity, reference=train)
        try:
            with Publisher(url, queue) as publisher:
                publisher.replay(rest, limit=limit)
            stream = broker_stream(url, queue, batch_size=batch_size, idle_timeout=1.0, id_kinds=loop.id_kinds)
            try:
                for batch in stream:
                    loop.apply(batch)
                stream.commit()
            finally:
                stream.close()
        finally:
            delete_queue(url, queue)
    return loop.table()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Consume a queue into the live state in OUT until idle or stopped (SIGTERM / Ctrl-C stop cleanly)."""
    parser = argparse.ArgumentParser(prog="python -m workbench.analysis.live", description=main.__doc__)
    parser.add_argument("out", help="the live state folder (OUT/current/als is what a server serves)")
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F", help="RabbitMQ URL")
    parser.add_argument("--queue", default="events")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--window", default="1s", help="close a batch this long after its first event")
    parser.add_argument("--idle-timeout", type=float, default=None, help="stop after this many idle seconds")
    parser.add_argument("--reload-url", default=None, help="e.g. http://127.0.0.1:8000/admin/reload")
    parser.add_argument("--train", default=None, help="a dataset to fit the starting models on when OUT is new")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    stream = None
    try:
        if args.train and not (Path(args.out) / CURRENT).exists():
            from workbench.data import load_dataset

            train = load_dataset(args.train)
            als, popularity = fit_initial(train)
            loop = LiveLoop(args.out, als=als, popularity=popularity, reference=train)
        else:
            loop = LiveLoop(args.out)
        loop.reload_url, loop.admin_token = args.reload_url, os.environ.get("WORKBENCH_ADMIN_TOKEN")
        stream = broker_stream(
            args.url,
            args.queue,
            batch_size=args.batch_size,
            window=args.window,
            id_kinds=loop.id_kinds,
            skip_ids=loop.last_ids,
            idle_timeout=args.idle_timeout,
        )
        for batch in stream:
            row = loop.apply(batch)
            print(f"batch {row['window']}: {row['events']} events, {row['apply_ms']:.0f} ms", flush=True)
        stream.commit()
    except KeyboardInterrupt:
        pass  # the batch in hand is not acknowledged: the broker delivers it again
    except WorkbenchError as exc:
        if args.debug:
            raise
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return 2
    finally:
        if stream is not None:
            stream.close()
    counts = {"events": stream.n_events, "dead": stream.n_dead, "skipped": stream.n_skipped} if stream else {}
    print(json.dumps({**counts, "dead_reasons": dict(stream.dead_reasons) if stream else {}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
