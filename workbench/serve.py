"""Serve recommendations over HTTP from a saved model: a FastAPI app with a response cache.

``GET /api/recommendations?user_id=U&k=10`` answers with the model's top k,
``GET /health`` describes the loaded model (class and checksum, never its path)
and the cache, ``POST /admin/reload`` re-reads the model directory (``save()``
replaces it atomically); it needs ``Authorization: Bearer <token>`` when an admin
token is set. Responses are cached in memory (LRU with a TTL) or in Redis; cache
keys carry the model version (a hash of the manifest, which holds every file's
checksum), so a reloaded model never serves the previous model's answers. A
stalled Redis never blocks the server: its calls run in threads with a short
timeout behind a circuit breaker. ``/docs`` is off unless ``docs=True``. Needs
the ``serve`` extra.

>>> app = create_app("models/als", items="items.csv")  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cachetools import TTLCache
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

import workbench.models
from workbench import columns as C
from workbench.data import loaders, validate
from workbench.errors import ConfigError, DataError, ModelError, WorkbenchError, first_line
from workbench.guards import positive_int
from workbench.models import storage
from workbench.models.base import Recommender

MAX_K = 100


def model_classes() -> dict[str, type[Recommender]]:
    """Servable classes by name: every saved recommender class of ``workbench.models``."""
    return {name: cls for name, cls in workbench.models.saved_classes().items() if issubclass(cls, Recommender)}


# -- caches -------------------------------------------------------------------------------
class MemoryCache:
    """In-process LRU cache of strings (``cachetools.TTLCache`` behind a lock); entries expire ``ttl`` seconds
    after they are set.

    >>> cache = MemoryCache(ttl=60, max_entries=2)
    >>> cache.set("a", "1"); cache.get("a"), cache.get("b")
    ('1', None)
    """

    def __init__(self, *, ttl: float = 60.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        if ttl <= 0:
            raise ConfigError(f"cache: ttl must be > 0, got {ttl!r}")
        max_entries = positive_int(max_entries, "cache: max_entries")
        self.ttl, self.max_entries = float(ttl), int(max_entries)
        self._entries: TTLCache[str, str] = TTLCache(maxsize=self.max_entries, ttl=self.ttl, timer=clock)
        self._lock = threading.Lock()  # TTLCache is not thread-safe; the server reads it from several threads

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._entries.get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = value

    async def lookup(self, key: str) -> str | None:
        """``get`` for the event loop (memory is fast enough to read in place)."""
        return self.get(key)

    def store(self, key: str, value: str) -> None:
        """``set`` for the event loop."""
        self.set(key, value)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"kind": "memory", "entries": len(self._entries)}


class RedisCache:
    """Shared cache in Redis (``redis://host:port[/db]``); entries expire after ``ttl`` seconds.

    A Redis outage while serving counts as a miss: answers stay correct, only slower. On the
    event loop (``lookup``, ``store``) Redis is called from worker threads, and a lookup waits
    at most ``timeout`` seconds. A circuit breaker skips Redis for ``cooldown`` seconds after
    a failure or timeout, then lets one call probe it; ``stats()`` counts failures and skips.

    >>> cache = RedisCache("redis://127.0.0.1:6379", ttl=60)  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 60.0,
        timeout: float = 0.1,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        import redis

        if ttl <= 0 or timeout <= 0 or cooldown < 0:
            raise ConfigError(
                f"cache: ttl and timeout must be > 0, cooldown >= 0, got {ttl!r}, {timeout!r}, {cooldown!r}"
            )
        self.ttl, self.timeout, self.cooldown, self._clock = float(ttl), float(timeout), float(cooldown), clock
        self._errors = redis.RedisError
        try:  # a worker thread stuck on a stalled Redis is freed after socket_timeout
            self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._client.ping()
        except (redis.RedisError, ValueError) as exc:
            raise ConfigError(f"cache: cannot use Redis at {url} ({exc})") from None
        self._workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="workbench-redis")
        self._lock = threading.Lock()
        self._open_until = 0.0  # the breaker: Redis is skipped until then (0: closed)
        self.failures = self.skipped = 0

    def _admit(self) -> bool:
        """True when a call may go to Redis; once the cooldown is over, one caller probes while the others skip."""
        with self._lock:
            now = self._clock()
            if now < self._open_until:
                self.skipped += 1
                return False
            if self._open_until:
                self._open_until = now + self.cooldown
            return True

    def _outcome(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._open_until = 0.0
            else:
                self.failures += 1
                self._open_until = self._clock() + self.cooldown

    def _get(self, key: str) -> str | None:
        try:
            value = self._client.get(key)
        except self._errors:
            self._outcome(False)
            return None
        self._outcome(True)
        return None if value is None else value.decode("utf-8")

    def _set(self, key: str, value: str) -> None:
        try:
            self._client.set(key, value, px=max(1, round(self.ttl * 1000)))
        except self._errors:
            self._outcome(False)
            return
        self._outcome(True)

    def get(self, key: str) -> str | None:
        """Blocking read (None when missing, failing or skipped by the breaker)."""
        return self._get(key) if self._admit() else None

    def set(self, key: str, value: str) -> None:
        """Blocking write (dropped when failing or skipped by the breaker)."""
        if self._admit():
            self._set(key, value)

    async def lookup(self, key: str) -> str | None:
        """``get`` from a worker thread, waiting at most ``timeout`` seconds; the event loop never blocks."""
        if not self._admit():
            return None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self._workers.submit(self._get, key)), self.timeout)
        except TimeoutError:
            self._outcome(False)
            return None

    def store(self, key: str, value: str) -> None:
        """``set`` from a worker thread, without waiting for it."""
        if self._admit():
            self._workers.submit(self._set, key, value)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            is_open = self._clock() < self._open_until
            return {
                "kind": "redis",
                "breaker": "open" if is_open else "closed",
                "failures": self.failures,
                "skipped": self.skipped,
            }


Cache = MemoryCache | RedisCache


def make_cache(spec: str | None = None, *, ttl: float = 60.0) -> Cache:
    """``None`` or ``"memory"``: an in-process LRU; ``"redis://HOST:PORT"``: Redis."""
    if spec is None or spec == "memory":
        return MemoryCache(ttl=ttl)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(spec, ttl=ttl)
    raise ConfigError(f"--cache must be 'memory' or a redis://HOST:PORT url, got {spec!r}")


# -- model and item table -----------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A numpy scalar as the JSON-safe Python value."""
    return value.item() if isinstance(value, np.generic) else value


def item_details(path: str | Path, item_ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Names and prices (object arrays, None where unknown) aligned to ``item_ids``.

    The table is CSV or Parquet with ``item_id`` and ``name`` or ``title``, and ``price`` when present.
    """
    frame = loaders.read_table(path, "items", keep_text=(C.ITEM,))
    table = validate.validate_side_table(frame, C.ITEM, "items")
    name_column = next((c for c in ("name", "title") if c in table.columns), None)
    if name_column is None and "price" not in table.columns:
        raise DataError(
            f"items: {path} has none of the columns name, title, price (columns are {list(table.columns)[:12]})"
        )
    index, sample = table.index, [_plain(v) for v in table.index[:1]]
    if pd.api.types.is_integer_dtype(item_ids.dtype):  # CSV ids arrive as text: "0042" is item 42
        index = pd.Index(pd.to_numeric(index.astype(str), errors="coerce"))
    else:
        index = index.astype(str)
    usable = index.notna() & ~index.duplicated()
    table, index = table[usable], index[usable]
    position = index.get_indexer(item_ids)
    if not (position >= 0).any():
        raise DataError(
            f"items: none of the item ids in {path} is an item of the model "
            f"(the table has {sample}, the model e.g. {_plain(item_ids[0])!r})"
        )
    found = position >= 0
    names = np.full(len(item_ids), None, dtype=object)
    prices = np.full(len(item_ids), None, dtype=object)
    if name_column is not None:
        column = table[name_column].to_numpy(dtype=object)[position[found]]
        names[found] = [None if pd.isna(v) else str(v) for v in column]
    if "price" in table.columns:
        column = validate.check_numeric(table, "price", "items").to_numpy(dtype=np.float64, na_value=np.nan)
        prices[found] = [None if np.isnan(v) else float(v) for v in column[position[found]]]
    return names, prices


@dataclass(frozen=True)
class Served:
    """One loaded model with everything a request needs."""

    model: Recommender
    model_dir: Path
    version: str
    loaded_at: str
    names: np.ndarray
    prices: np.ndarray

    def health(self) -> dict[str, Any]:
        """The model's class and checksum (``model_version``: sha256 of its manifest), never its path."""
        return {
            "status": "ok",
            "model_class": type(self.model).__name__,
            "model_version": self.version,
            "n_users": len(self.model.user_map),
            "n_items": len(self.model.item_map),
            "loaded_at": self.loaded_at,
        }


def load_served(model_dir: str | Path, items: str | Path | None = None) -> Served:
    """Load a model directory written by ``save()`` (and an optional item table); ModelError if unusable."""
    path = Path(model_dir)
    class_name = storage.saved_class(path)
    classes = model_classes()
    cls = classes.get(class_name)
    if cls is None:
        raise ModelError(f"{path}: holds a {class_name!r} model; servable: {', '.join(sorted(classes))}")
    model = cls.load(path)
    version = hashlib.sha256((path / storage.MANIFEST).read_bytes()).hexdigest()[:16]
    n_items = len(model.item_map)
    names, prices = (
        item_details(items, model.item_map.ids)
        if items is not None
        else (np.full(n_items, None, dtype=object), np.full(n_items, None, dtype=object))
    )
    loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
    return Served(model, path, version, loaded_at, names, prices)


class ServingState:
    """The served model (swapped whole on reload), the item table path and the response cache."""

    def __init__(self, model_dir: str | Path, *, items: str | Path | None, cache: Cache):
        self.items, self.cache = items, cache
        self.current = load_served(model_dir, items)

    def reload(self, model_dir: str | Path | None = None) -> Served:
        """Load ``model_dir`` (default: the current directory again); on error the old model keeps serving."""
        self.current = load_served(model_dir or self.current.model_dir, self.items)
        return self.current

    def health(self) -> dict[str, Any]:
        return {**self.current.health(), "cache": self.cache.stats()}

    async def recommendations(self, user_id: str, k: int) -> dict[str, Any]:
        """The response body for one user (``cached`` tells whether it came from the cache)."""
        served = self.current
        key = f"workbench:{served.version}:{k}:{user_id}"
        hit = await self.cache.lookup(key)
        if hit is not None:
            return {**json.loads(hit), "cached": True}
        recs = served.model.recommend([user_id], k=k)  # "12" is user 12 of a model of int ids
        codes = served.model.item_map.codes(recs[C.ITEM])
        body = {
            "user_id": user_id,
            "recommendations": [
                {"product_id": _plain(item), "score": float(score), "name": name, "price": price, "fallback": flag}
                for item, score, name, price, flag in zip(
                    recs[C.ITEM].tolist(),
                    recs[C.SCORE].tolist(),
                    served.names[codes],
                    served.prices[codes],
                    recs[C.FALLBACK].tolist(),
                    strict=False,
                )
            ],
            "fallback": bool(recs[C.FALLBACK].any()),
        }
        self.cache.store(key, json.dumps(body))
        return {**body, "cached": False}


# -- the app --------------------------------------------------------------------------------
def _authorized(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (compared in constant time)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def create_app(
    model_dir: str | Path,
    *,
    items: str | Path | None = None,
    cache: Cache | None = None,
    admin_token: str | None = None,
    docs: bool = False,
) -> FastAPI:
    """The FastAPI app serving ``model_dir``; the model is loaded once, here (ModelError if unusable).

    ``app.state.serving`` is the :class:`ServingState`; ``app.state.serving.reload(dir)`` swaps models.
    With ``admin_token``, ``POST /admin/reload`` needs ``Authorization: Bearer <admin_token>``;
    without, it is open (bind to loopback only). ``docs`` serves ``/docs``, ``/redoc`` and ``/openapi.json``.

    >>> client = fastapi.testclient.TestClient(create_app("models/als"))  # doctest: +SKIP
    >>> client.get("/api/recommendations", params={"user_id": "12", "k": 5}).json()  # doctest: +SKIP
    """
    if admin_token is not None and not admin_token.strip():
        raise ConfigError("admin token: must not be empty")
    state = ServingState(model_dir, items=items, cache=cache or MemoryCache())
    pages = {} if docs else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="workbench recommendations", **pages)
    app.state.serving = state

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = " ".join(str(part) for part in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, status_code=422)

    # ~1 ms of numpy per request: run on the event loop (a thread hop costs more than it saves);
    # only Redis calls leave it. Scale out with processes (uvicorn --workers), not threads.
    @app.get("/api/recommendations")
    async def recommendations(
        user_id: str = Query(..., min_length=1, max_length=200), k: int = Query(10, ge=1, le=MAX_K)
    ) -> JSONResponse:
        return JSONResponse(await state.recommendations(user_id, k))

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse(state.health())

    @app.post("/admin/reload")
    def reload(request: Request) -> JSONResponse:
        if admin_token is not None and not _authorized(request.headers.get("authorization"), admin_token):
            error = {"error": "reload needs the admin token: send Authorization: Bearer <token>"}
            return JSONResponse(error, 401, headers={"WWW-Authenticate": "Bearer"})
        try:
            return JSONResponse(state.reload().health())
        except Exception as exc:  # any failure (a malformed directory too) is an answer; the old model serves on
            reason = first_line(exc) if isinstance(exc, WorkbenchError | OSError) else f"{type(exc).__name__}: {exc}"
            folder = Path(state.current.model_dir)
            for spelling in {str(folder.resolve()), str(folder)}:  # the folder's name, never where it lives
                reason = reason.replace(spelling, folder.name)
            return JSONResponse(
                {"error": f"reload failed, still serving the previous model: {first_line(reason)}"}, 500
            )

    return app
