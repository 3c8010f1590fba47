"""Replay an interaction log as a stream: micro-batches in timestamp order, by count or by time window.

A replay reads a Dataset (or a CSV / Parquet file) that is already on disk and
hands it out batch by batch, which is what an offline freshness experiment needs.
:func:`broker_stream` hands out the same batches from live JSON events in a
RabbitMQ queue (at least once, invalid events dead-lettered), and
:class:`Publisher` replays a log into a queue at a chosen rate; the loop that
applies them is :mod:`workbench.analysis.live`.

>>> log = pd.DataFrame({"user_id": [1, 2, 1], "item_id": ["a", "b", "c"], "timestamp": [0, 86_400 * 8, 60]})
>>> stream = replay(Dataset.from_frames(log), window="7D")
>>> [len(b) for b in stream], stream.n_out_of_order
([2, 1], 1)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.data.dataset import Dataset
from workbench.data.loaders import read_interactions
from workbench.data.validate import to_seconds
from workbench.errors import ConfigError, DataError, WorkbenchError, first_line
from workbench.guards import positive_int


@dataclass(frozen=True)
class Batch:
    """One micro-batch: its number (0-based), bounds and interactions (canonical columns, time order).

    For time windows ``start`` / ``end`` are the window bounds, ``[start, end)``; for count
    batches they are the timestamps of the batch's first and last event (both included).
    """

    number: int
    start: pd.Timestamp
    end: pd.Timestamp
    interactions: pd.DataFrame

    def __len__(self) -> int:
        return len(self.interactions)


def window_seconds(window: str | int | float | pd.Timedelta) -> int:
    """A window length in whole seconds: ``"7D"``, ``"12h"``, a ``pd.Timedelta`` or a number of seconds."""
    try:
        seconds = pd.Timedelta(window).total_seconds() if isinstance(window, (str, pd.Timedelta)) else float(window)
    except (TypeError, ValueError):
        raise ConfigError(f"window must be like '7D', '12h' or a number of seconds, got {window!r}") from None
    if not np.isfinite(seconds) or seconds < 1:
        raise ConfigError(f"window must be at least one second long, got {window!r}")
    return int(seconds)


def _timestamp(seconds: int | np.integer) -> pd.Timestamp:
    return pd.Timestamp(int(seconds), unit="s")


@dataclass(frozen=True)
class Replay:
    """An iterable of :class:`Batch`; build it with :func:`replay`.

    ``n_out_of_order`` counts input rows whose timestamp is earlier than a row before them
    (they are replayed in timestamp order; ties keep their input order).
    """

    log: pd.DataFrame  # the replayed rows, sorted by time
    seconds: np.ndarray  # their timestamps in int seconds
    bounds: np.ndarray  # batch b is log rows bounds[b]:bounds[b + 1]
    starts: np.ndarray  # window starts in seconds (time windows), or empty for count batches
    width: int  # window length in seconds, 0 for count batches
    n_out_of_order: int

    @property
    def n_events(self) -> int:
        return len(self.log)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __iter__(self) -> Iterator[Batch]:
        for number in range(len(self)):
            lo, hi = self.bounds[number], self.bounds[number + 1]
            if self.width:
                start, end = self.starts[number], self.starts[number] + self.width
            else:
                start, end = self.seconds[lo], self.seconds[hi - 1]
            frame = self.log.iloc[lo:hi].reset_index(drop=True)
            yield Batch(number, _timestamp(start), _timestamp(end), frame)


def _start_seconds(start: str | int | pd.Timestamp) -> int:
    if isinstance(start, (int, np.integer)):
        return int(start)
    try:
        return int(to_seconds(pd.Series([pd.Timestamp(start)]))[0])
    except (TypeError, ValueError):
        raise ConfigError(f"start must be a date or int seconds, got {start!r}") from None


def _as_dataset(source: Dataset | pd.DataFrame | str | os.PathLike) -> Dataset:
    if isinstance(source, Dataset):
        return source
    if isinstance(source, pd.DataFrame):
        return Dataset.from_frames(source)
    if isinstance(source, (str, os.PathLike)):
        return read_interactions(source)
    raise DataError(f"replay expects a Dataset, a DataFrame or a CSV / Parquet path, got {type(source).__name__}")


def replay(
    source: Dataset | pd.DataFrame | str | os.PathLike,
    *,
    batch_size: int | None = None,
    window: str | int | float | pd.Timedelta | None = None,
    start: str | int | pd.Timestamp | None = None,
    skip_empty: bool = False,
) -> Replay:
    """Replay ``source`` in timestamp order, ``batch_size`` events at a time or one ``window`` at a time.

    Windows are ``[start + i * window, start + (i + 1) * window)``; ``start`` defaults to the first
    event, and events before it are not replayed. A window without events is yielded as an empty
    batch unless ``skip_empty``. Unknown or new ids pass through untouched. Timestamps that are
    order numbers, not times (``Dataset.has_order_numbers``), raise DataError: batches are bounded
    by times.

    >>> for batch in replay("events.parquet", window="1D"):  # doctest: +SKIP
    ...     model.partial_fit(batch.interactions)
    """
    if (batch_size is None) == (window is None):
        raise ConfigError("replay needs exactly one of batch_size= (events per batch) or window= (e.g. '7D')")
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size")
    width = 0 if window is None else window_seconds(window)
    ds = _as_dataset(source)
    raw = ds.seconds("replay")
    n_out_of_order = int((raw[1:] < np.maximum.accumulate(raw)[:-1]).sum()) if len(raw) else 0
    order = np.argsort(raw, kind="stable")
    seconds = raw[order]
    first = int(seconds[0]) if len(seconds) else 0
    origin = first if start is None else _start_seconds(start)
    keep = np.searchsorted(seconds, origin, side="left")
    seconds, order = seconds[keep:], order[keep:]
    log = ds.interactions.iloc[order].reset_index(drop=True)

    if batch_size is not None:
        bounds = np.unique(np.r_[np.arange(0, len(log), batch_size), len(log)])
        return Replay(log, seconds, bounds, np.empty(0, np.int64), 0, n_out_of_order)
    index = (seconds - origin) // width
    n_windows = int(index[-1]) + 1 if len(index) else 0
    all_windows = np.arange(n_windows)
    bounds = np.searchsorted(index, np.arange(n_windows + 1), side="left")
    if skip_empty:
        filled = np.flatnonzero(np.diff(bounds) > 0)
        all_windows, bounds = all_windows[filled], np.r_[bounds[filled], len(log)]
    return Replay(log, seconds, bounds, origin + all_windows * width, width, n_out_of_order)


# -- live events from a message broker --------------------------------------------------------------
# A broker source gives the iterator `replay` gives, from events arriving now. The adapter (RabbitMQ
# here) only fetches, acknowledges and dead-letters; batching, validation and de-duplication live in
# BrokerStream, so Redis streams (XREADGROUP / XACK) or Kafka (poll / commit offset + 1) fit the same way.

EVENT_FIELDS = (C.USER, C.ITEM, C.EVENT, C.TIMESTAMP)
#: Seconds without a new event that close a count batch (no window) short of its size.
LINGER = 0.05
#: The header a dead-lettered event carries: one line saying why it was rejected.
REASON_HEADER = "x-workbench-reason"


class BrokerError(WorkbenchError):
    """The broker cannot be reached, went away, or lacks the queue asked for (a one-line message)."""


@dataclass(frozen=True)
class Message:
    """One delivery: its bytes, the broker's position for it (``tag``), the producer's id, and whether
    the broker delivered it before (to a consumer that died before acknowledging it)."""

    body: bytes
    tag: int
    message_id: str | None = None
    redelivered: bool = False


class BrokerAdapter(Protocol):
    """What a :class:`BrokerStream` needs from a broker.

    ``fetch(limit, timeout)`` waits up to ``timeout`` seconds for at most ``limit`` messages;
    ``ack(tag)`` acknowledges every message delivered up to and including ``tag``;
    ``dead_letter(message, reason)`` parks a message with a one-line reason (it is acknowledged
    with its batch); ``close()`` leaves unacknowledged messages to the broker, which delivers them again.
    """

    def fetch(self, limit: int, timeout: float) -> list[Message]: ...

    def ack(self, tag: int) -> None: ...

    def dead_letter(self, message: Message, reason: str) -> None: ...

    def close(self) -> None: ...


def _pika() -> Any:
    try:
        import pika
    except ImportError:
        raise ConfigError("RabbitMQ needs the pika client: run make setup-all (or pip install pika)") from None
    quiet = logging.getLogger("pika")
    if quiet.level == logging.NOTSET:  # pika logs each failed connect with a traceback; our errors say it in one line
        quiet.setLevel(logging.CRITICAL)
    return pika


def _where(url: str) -> str:
    """``url`` without its password, for messages."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def dead_letter_queue(queue: str) -> str:
    """The queue rejected events of ``queue`` go to: ``<queue>.dead``."""
    return f"{queue}.dead"


def declare_queue(channel: Any, queue: str) -> None:
    """Declare durable ``queue`` and its dead-letter queue; events the broker itself rejects (a consumer's
    nack) land there too, through the queue's ``x-dead-letter-exchange`` arguments."""
    dead = dead_letter_queue(queue)
    channel.queue_declare(dead, durable=True)
    channel.queue_declare(
        queue, durable=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": dead}
    )


class RabbitMQ:
    """A classic RabbitMQ queue through pika's ``BlockingConnection``.

    ``prefetch`` (basic_qos) caps the unacknowledged messages in flight: keep it at least the batch
    size. The queue itself is the resume position: whatever was not acknowledged is delivered again
    (flagged redelivered) to the next consumer, so nothing is stored client side. (A RabbitMQ *stream*
    keeps its log instead and a consumer resumes from an offset it stores: an adapter for it would
    keep that offset beside the model.) A queue that does not exist is a one-line BrokerError unless
    ``declare``.

    >>> source = RabbitMQ("amqp://guest:guest@127.0.0.1:5672/%2F", "events")  # doctest: +SKIP
    """

    def __init__(self, url: str, queue: str, *, prefetch: int = 1000, declare: bool = False) -> None:
        pika = _pika()
        self.queue, self.url = queue, url
        self._errors = (pika.exceptions.AMQPError, OSError)
        try:
            self._connection = pika.BlockingConnection(pika.URLParameters(url))
        except self._errors as exc:
            raise BrokerError(f"cannot reach RabbitMQ at {_where(url)}: {_reason(exc)}") from None
        try:
            channel = self._connection.channel()
            if declare:
                declare_queue(channel, queue)
            else:
                channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            self._connection.close()
            if exc.reply_code == 404:
                raise BrokerError(f"queue {queue!r} does not exist at {_where(url)}: publish to it first") from None
            raise BrokerError(f"queue {queue!r} at {_where(url)}: {exc.reply_text}") from None
        channel.basic_qos(prefetch_count=positive_int(prefetch, "prefetch"))
        channel.confirm_delivery()  # a dead letter is on the broker before its original is acknowledged
        self._channel = channel
        self._buffer: deque[Message] = deque()
        channel.basic_consume(queue, self._on_message)

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self._buffer.append(Message(body, method.delivery_tag, properties.message_id, method.redelivered))

    def _lost(self, exc: BaseException) -> BrokerError:
        return BrokerError(
            f"lost RabbitMQ at {_where(self.url)} ({_reason(exc)}): unacknowledged events will be delivered again"
        )

    def fetch(self, limit: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        try:
            self._connection.process_data_events(time_limit=0)  # what has arrived, without waiting
            while len(self._buffer) < limit and (left := deadline - time.monotonic()) > 0:
                self._connection.process_data_events(time_limit=left)
        except self._errors as exc:
            raise self._lost(exc) from None
        return [self._buffer.popleft() for _ in range(min(limit, len(self._buffer)))]

    def ack(self, tag: int) -> None:
        try:
            self._channel.basic_ack(delivery_tag=tag, multiple=True)
        except self._errors as exc:
            raise self._lost(exc) from None

    def dead_letter(self, message: Message, reason: str) -> None:
        pika = _pika()
        properties = pika.BasicProperties(
            message_id=message.message_id, delivery_mode=2, headers={REASON_HEADER: reason, "x-queue": self.queue}
        )
        try:
            self._channel.basic_publish("", dead_letter_queue(self.queue), message.body, properties)
        except self._errors as exc:
            raise self._lost(exc) from None

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._connection.close()


def _reason(exc: BaseException) -> str:
    text = first_line(exc, "") if str(exc) else ""
    return text or type(exc).__name__


class EventError(ValueError):
    """Why an event was rejected: ``kind`` names the problem (for counts), the message says it in one line."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _event_id(value: Any, column: str, kind: str | None) -> int | str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise EventError("wrong id type", f"{column} must be a string or an integer, got {json.dumps(value)}")
    if kind == "int" and isinstance(value, str):
        if not re.fullmatch(r"\s*-?\d+\s*", value):
            raise EventError("wrong id type", f"{column} {value!r} is not an integer, as this stream's {column}s are")
        return int(value)
    if kind == "text" and isinstance(value, int):
        return str(value)
    if isinstance(value, str) and not value.strip():
        raise EventError("wrong id type", f"{column} is empty")
    return value


def parse_event(body: bytes | str, id_kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """One event from its JSON, or :class:`EventError` (a ValueError) saying in one line what is wrong.

    ``user_id`` and ``item_id`` keep the type written (string or integer) unless ``id_kinds`` says
    the stream's ids are ``"int"`` (then "12" is 12 and "abc" is rejected) or ``"text"`` (12 is "12").
    ``timestamp`` is seconds since 1970 or an ISO date; ``event`` (optional) one of view, cart, purchase.

    >>> parse_event(b'{"user_id": 1, "item_id": "a", "event": "cart", "timestamp": 60}')
    {'user_id': 1, 'item_id': 'a', 'timestamp': 60, 'event': 'cart'}
    >>> parse_event(b'{"user_id": 1, "item_id": "a", "event": "like", "timestamp": 60}')
    Traceback (most recent call last):
    workbench.data.stream.EventError: unknown event type 'like' (expected view, cart, purchase)
    """
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError("malformed JSON", f"malformed JSON: {first_line(exc)}") from None
    if not isinstance(event, dict):
        raise EventError("not an object", f"an event must be a JSON object, got {type(event).__name__}")
    missing = [name for name in (C.USER, C.ITEM, C.TIMESTAMP) if name not in event]
    if missing:
        raise EventError("missing field", f"missing {', '.join(missing)}")
    kinds = id_kinds or {}
    row = {column: _event_id(event[column], column, kinds.get(column)) for column in (C.USER, C.ITEM)}
    stamp = event[C.TIMESTAMP]
    if isinstance(stamp, str):
        try:
            stamp = int(pd.Timestamp(stamp).timestamp())
        except ValueError:
            raise EventError("bad timestamp", f"timestamp {stamp!r} is not a date") from None
    elif isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not np.isfinite(stamp):
        raise EventError(
            "bad timestamp", f"timestamp must be seconds since 1970 or an ISO date, got {json.dumps(stamp)}"
        )
    row[C.TIMESTAMP] = int(stamp)
    if event.get(C.EVENT) is not None:
        if event[C.EVENT] not in C.EVENT_TYPES:
            raise EventError(
                "unknown event type", f"unknown event type {event[C.EVENT]!r} (expected {', '.join(C.EVENT_TYPES)})"
            )
        row[C.EVENT] = event[C.EVENT]
    if event.get(C.RATING) is not None:
        if isinstance(event[C.RATING], bool) or not isinstance(event[C.RATING], (int, float)):
            raise EventError("bad rating", f"rating must be a number, got {json.dumps(event[C.RATING])}")
        row[C.RATING] = float(event[C.RATING])
    return row


class BrokerStream:
    """Live events as micro-batches: iterate it like a :class:`Replay`; build it with :func:`broker_stream`.

    A batch closes at ``batch_size`` events or ``window`` seconds (wall clock) after its first event,
    whichever comes first. Delivery is at least once: a batch is acknowledged (up to its last delivery
    tag) when the next one is asked for, that is after the loop body applied it, or by :meth:`commit`;
    a consumer that dies before that gets the batch again. Events whose ``message_id`` is in
    ``skip_ids`` (the last batch a checkpoint says was applied) are acknowledged, not handed out again,
    and counted in ``n_skipped``. Invalid events go to the dead-letter queue with a one-line reason
    (``n_dead``; ``dead_reasons`` counts them by kind). Iteration stops after ``idle_timeout`` seconds without events
    (``None``: never). Interactions carry the canonical columns plus ``message_id``; in a batch mixing
    events with and without a type (or rating), the untyped ones are views (the unrated ones strength 1).
    """

    def __init__(
        self,
        adapter: BrokerAdapter,
        *,
        batch_size: int | None = None,
        window: str | int | float | pd.Timedelta | None = None,
        id_kinds: dict[str, str] | None = None,
        skip_ids: Iterable[str] = (),
        idle_timeout: float | None = None,
    ) -> None:
        if batch_size is None and window is None:
            raise ConfigError("a broker stream needs batch_size= (events per batch), window= (e.g. '2s') or both")
        self.adapter = adapter
        self.batch_size = positive_int(batch_size, "batch_size") if batch_size is not None else 10_000
        self.window = pd.Timedelta(window).total_seconds() if isinstance(window, str) else window
        if self.window is not None and not self.window > 0:
            raise ConfigError(f"window must be a positive duration, got {window!r}")
        self.id_kinds, self.skip_ids, self.idle_timeout = id_kinds, set(skip_ids), idle_timeout
        self.n_events = self.n_dead = self.n_skipped = self.n_batches = 0
        self.dead_reasons: Counter[str] = Counter()
        self._pending: int | None = None  # the last delivery tag of a batch handed out, not yet acknowledged

    def commit(self) -> None:
        """Acknowledge everything handed out so far (the loop applied it)."""
        if self._pending is not None:
            self.adapter.ack(self._pending)
            self._pending = None

    def close(self) -> None:
        """Disconnect without acknowledging the batch in hand: the broker delivers it again."""
        self.adapter.close()

    def _collect(self) -> list[Message] | None:
        """The messages of one batch, or None after ``idle_timeout`` seconds of silence.

        Without a window, a batch also closes when no event came for ``LINGER`` seconds: it takes
        what is there rather than wait for a full batch.
        """
        idle_until = None if self.idle_timeout is None else time.monotonic() + self.idle_timeout
        messages: list[Message] = []
        while not messages:
            step = 1.0 if idle_until is None else min(1.0, idle_until - time.monotonic())
            if step <= 0:
                return None
            messages = self.adapter.fetch(1, step)  # a window opens with its first event
        closes = time.monotonic() + (self.window or 0.0)
        while len(messages) < self.batch_size:
            wait = closes - time.monotonic() if self.window is not None else LINGER
            if wait <= 0:
                break
            more = self.adapter.fetch(self.batch_size - len(messages), wait)
            if not more and self.window is None:
                break
            messages += more
        return messages

    def __iter__(self) -> Iterator[Batch]:
        while True:
            self.commit()
            messages = self._collect()
            if messages is None:
                return
            rows, ids = [], []
            for message in messages:
                if message.message_id is not None and message.message_id in self.skip_ids:
                    self.n_skipped += 1
                    continue
                try:
                    rows.append(parse_event(message.body, self.id_kinds))
                except EventError as exc:
                    self.adapter.dead_letter(message, first_line(exc))
                    self.n_dead += 1
                    self.dead_reasons[exc.kind] += 1
                    continue
                ids.append(message.message_id)
            self._pending = messages[-1].tag
            if not rows:
                continue  # only dead letters or duplicates: acknowledged at the top of the loop
            frame = pd.DataFrame(rows)
            frame["message_id"] = ids
            if C.EVENT in frame:  # beside typed events, an event without a type is a view
                frame[C.EVENT] = frame[C.EVENT].fillna("view")
            if C.RATING in frame:  # beside rated events, one without a rating has strength 1
                frame[C.RATING] = frame[C.RATING].fillna(1.0)
            seconds = frame[C.TIMESTAMP].to_numpy()
            self.n_events += len(frame)
            yield Batch(self.n_batches, _timestamp(seconds.min()), _timestamp(seconds.max()), frame)
            self.n_batches += 1


def broker_stream(
    url: str,
    queue: str,
    *,
    batch_size: int | None = None,
    window: str | int | float | pd.Timedelta | None = None,
    id_kinds: dict[str, str] | None = None,
    skip_ids: Iterable[str] = (),
    idle_timeout: float | None = None,
    prefetch: int | None = None,
) -> BrokerStream:
    """Micro-batches of the JSON events of a RabbitMQ ``queue`` (see :class:`BrokerStream`).

    >>> for batch in broker_stream("amqp://127.0.0.1", "events", batch_size=500, window="1s"):  # doctest: +SKIP
    ...     model.partial_fit(batch.interactions)  # acknowledged when the next batch is asked for
    """
    size = batch_size or 10_000
    adapter = RabbitMQ(url, queue, prefetch=prefetch or max(2 * size, 100))
    return BrokerStream(
        adapter, batch_size=batch_size, window=window, id_kinds=id_kinds, skip_ids=skip_ids, idle_timeout=idle_timeout
    )


def check_broker(url: str) -> None:
    """Connect to ``url`` and leave: BrokerError (one line) when nothing answers there."""
    pika = _pika()
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerError(f"cannot reach RabbitMQ at {_where(url)}: {_reason(exc)}") from None


def delete_queue(url: str, queue: str) -> None:
    """Delete ``queue`` and its dead-letter queue (a missing one is fine; an unreachable broker too)."""
    pika = _pika()
    with contextlib.suppress(pika.exceptions.AMQPError, OSError):
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        channel.queue_delete(queue)
        channel.queue_delete(dead_letter_queue(queue))
        connection.close()


class Publisher:
    """Publish JSON events to a RabbitMQ queue (declared with its dead-letter queue if missing).

    Messages are persistent and carry a ``message_id`` (the consumer de-duplicates on it); with
    ``confirm`` each publish waits for the broker's confirmation.

    >>> with Publisher("amqp://127.0.0.1", "events") as publisher:  # doctest: +SKIP
    ...     publisher.replay("ml-100k", rate=500, limit=10_000)
    """

    def __init__(self, url: str, queue: str, *, confirm: bool = True) -> None:
        pika = _pika()
        self.queue, self.url, self.n_sent = queue, url, 0
        try:
            self._connection = pika.BlockingConnection(pika.URLParameters(url))
            self._channel = self._connection.channel()
            declare_queue(self._channel, queue)
            if confirm:
                self._channel.confirm_delivery()
        except (pika.exceptions.AMQPError, OSError) as exc:
            raise BrokerError(f"cannot publish to {queue!r} at {_where(url)}: {_reason(exc)}") from None
        self._errors = (pika.exceptions.AMQPError, OSError)
        self._properties = pika.BasicProperties

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._connection.close()

    def send(self, event: dict | bytes | str, *, message_id: str | None = None) -> str:
        """Publish one event (a dict is written as JSON; bytes and str go as they are); returns its id."""
        body = json.dumps(event, default=_plain).encode() if isinstance(event, dict) else event
        message_id = message_id if message_id is not None else f"m{self.n_sent}"
        properties = self._properties(
            message_id=message_id, delivery_mode=2, content_type="application/json", timestamp=int(time.time())
        )
        try:
            self._channel.basic_publish("", self.queue, body, properties)
        except self._errors as exc:
            raise BrokerError(f"lost RabbitMQ at {_where(self.url)} while publishing: {_reason(exc)}") from None
        self.n_sent += 1
        return message_id

    def replay(
        self,
        source: Dataset | pd.DataFrame | str | os.PathLike,
        *,
        rate: float | None = None,
        limit: int | None = None,
        id_prefix: str = "e",
    ) -> list[str]:
        """Publish a log's events in time order, ``rate`` per second (None: as fast as possible).

        ``source``: a Dataset, a DataFrame, a CSV / Parquet path or a dataset name such as ``ml-100k``
        or ``complete-journey``. Ids go as written; returns the message ids (``<id_prefix><row>``).
        """
        if isinstance(source, str) and not os.path.exists(source):
            from workbench.data.loaders import load_dataset

            source = load_dataset(source)
        log = replay(source, batch_size=1_000_000).log
        if limit is not None:
            log = log.iloc[: positive_int(limit, "limit")]
        columns = [c for c in (C.USER, C.ITEM, C.EVENT, C.TIMESTAMP, C.RATING) if c in log.columns]
        frame = log[columns].copy()
        frame[C.TIMESTAMP] = to_seconds(frame[C.TIMESTAMP])
        ids, started = [], time.monotonic()
        for number, row in enumerate(frame.itertuples(index=False)):
            if rate is not None and (ahead := number / rate - (time.monotonic() - started)) > 0:
                time.sleep(ahead)
            ids.append(self.send(dict(zip(columns, row, strict=True)), message_id=f"{id_prefix}{number}"))
        return ids


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers for JSON."""
    return value.item() if isinstance(value, np.generic) else str(value)


# -- a throwaway broker for tests, demos and benchmarks ---------------------------------------------
RABBITMQ_BIN = ("/usr/lib/rabbitmq/bin", "/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin")


@dataclass
class LocalBroker:
    """A ``rabbitmq-server`` of our own on 127.0.0.1: ``url`` to connect, ``stop()`` to end it."""

    url: str
    process: subprocess.Popen
    epmd_port: int

    def stop(self) -> None:
        """End the server (and its epmd); safe to call twice."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        epmd = shutil.which("epmd")
        if epmd:
            subprocess.run([epmd, "-port", str(self.epmd_port), "-kill"], capture_output=True, timeout=10)


def _start_rabbitmq(server: str, folder: Path, timeout: float) -> LocalBroker | None:
    """One start of ``rabbitmq-server`` on ports free a moment ago; the broker once it takes connections, None
    when it stopped first (another process can take a port in between: the caller tries new ones)."""
    port, dist, epmd = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "HOME": str(folder),  # the Erlang cookie lives here
        "RABBITMQ_NODENAME": f"workbench{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_PORT": str(epmd),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+S 1:1",  # one scheduler: a polite neighbour on a shared machine
    }
    with open(folder / "server.out", "wb") as out:
        process = subprocess.Popen([server], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    broker = LocalBroker(f"amqp://guest:guest@127.0.0.1:{port}/%2F", process, epmd)
    pika = _pika()
    deadline = time.monotonic() + timeout
    while True:
        try:
            pika.BlockingConnection(pika.URLParameters(broker.url)).close()
            return broker
        except (pika.exceptions.AMQPError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                broker.stop()
                return None
            time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Starts of a local rabbitmq-server tried, each on new ports, before giving up.
START_ATTEMPTS = 3


@contextlib.contextmanager
def local_rabbitmq(folder: str | os.PathLike, *, timeout: float = 60.0) -> Iterator[LocalBroker]:
    """Start ``rabbitmq-server`` with its data, logs and ports (AMQP, distribution, epmd) its own, wait
    until it takes connections, stop it on exit. BrokerError when it is not installed or does not start.

    >>> with local_rabbitmq(tmp_path) as broker:  # doctest: +SKIP
    ...     Publisher(broker.url, "events").send({"user_id": 1, "item_id": 2, "timestamp": 0})
    """
    search = os.pathsep.join([*RABBITMQ_BIN, os.environ.get("PATH", "")])
    server = shutil.which("rabbitmq-server", path=search)
    if server is None:
        raise BrokerError(
            "rabbitmq-server is not installed: apt-get install rabbitmq-server (or brew install rabbitmq)"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "enabled_plugins").write_text("[].\n")
    for attempt in range(1, START_ATTEMPTS + 1):
        broker = _start_rabbitmq(server, folder, timeout)
        if broker is not None:
            break
        if attempt == START_ATTEMPTS:
            tail = (folder / "server.out").read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise BrokerError(f"rabbitmq-server did not start ({tail[0]}); logs in {folder}")
    try:
        yield broker
    finally:
        broker.stop()
