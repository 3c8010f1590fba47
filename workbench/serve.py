"""Serve recommendations over HTTP from a saved model: a FastAPI app with a response cache.

``GET /api/recommendations?user_id=U&k=10`` answers with the model's top k,
``GET /health`` describes the loaded model, ``POST /admin/reload`` re-reads the
model directory (``save()`` replaces it atomically). Responses are cached in
memory (LRU with a TTL) or in Redis; cache keys carry the model version (a
hash of the manifest, which holds every file's checksum), so a reloaded model
never serves the previous model's answers. Needs the ``serve`` extra.

>>> app = create_app("models/als", items="items.csv")  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
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
    """In-process LRU cache of strings; entries expire ``ttl`` seconds after they are set.

    >>> cache = MemoryCache(ttl=60, max_entries=2)
    >>> cache.set("a", "1"); cache.get("a"), cache.get("b")
    ('1', None)
    """

    def __init__(self, *, ttl: float = 60.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        if ttl <= 0:
            raise ConfigError(f"cache: ttl must be > 0, got {ttl!r}")
        max_entries = positive_int(max_entries, "cache: max_entries")
        self.ttl, self.max_entries, self._clock = float(ttl), int(max_entries), clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class RedisCache:
    """Shared cache in Redis (``redis://host:port[/db]``); entries expire after ``ttl`` seconds.

    A Redis outage while serving counts as a miss: answers stay correct, only slower.

    >>> cache = RedisCache("redis://127.0.0.1:6379", ttl=60)  # doctest: +SKIP
    """

    def __init__(self, url: str, *, ttl: float = 60.0):
        import redis

        if ttl <= 0:
            raise ConfigError(f"cache: ttl must be > 0, got {ttl!r}")
        self.ttl, self._errors = float(ttl), redis.RedisError
        try:
            self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
            self._client.ping()
        except (redis.RedisError, ValueError) as exc:
            raise ConfigError(f"cache: cannot use Redis at {url} ({exc})") from None

    def get(self, key: str) -> str | None:
        try:
            value = self._client.get(key)
        except self._errors:
            return None
        return None if value is None else value.decode("utf-8")

    def set(self, key: str, value: str) -> None:
        with contextlib.suppress(self._errors):
            self._client.set(key, value, px=max(1, round(self.ttl * 1000)))


def make_cache(spec: str | None = None, *, ttl: float = 60.0) -> MemoryCache | RedisCache:
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
        return {
            "status": "ok",
            "model_class": type(self.model).__name__,
            "model_dir": str(self.model_dir),
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

    def __init__(self, model_dir: str | Path, *, items: str | Path | None, cache: MemoryCache | RedisCache):
        self.items, self.cache = items, cache
        self.current = load_served(model_dir, items)

    def reload(self, model_dir: str | Path | None = None) -> Served:
        """Load ``model_dir`` (default: the current directory again); on error the old model keeps serving."""
        self.current = load_served(model_dir or self.current.model_dir, self.items)
        return self.current

    def recommendations(self, user_id: str, k: int) -> dict[str, Any]:
        """The response body for one user (``cached`` tells whether it came from the cache)."""
        served = self.current
        key = f"workbench:{served.version}:{k}:{user_id}"
        hit = self.cache.get(key)
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
        self.cache.set(key, json.dumps(body))
        return {**body, "cached": False}


# -- the app --------------------------------------------------------------------------------
def create_app(
    model_dir: str | Path, *, items: str | Path | None = None, cache: MemoryCache | RedisCache | None = None
) -> FastAPI:
    """The FastAPI app serving ``model_dir``; the model is loaded once, here (ModelError if unusable).

    ``app.state.serving`` is the :class:`ServingState`; ``app.state.serving.reload(dir)`` swaps models.

    >>> client = fastapi.testclient.TestClient(create_app("models/als"))  # doctest: +SKIP
    >>> client.get("/api/recommendations", params={"user_id": "12", "k": 5}).json()  # doctest: +SKIP
    """
    state = ServingState(model_dir, items=items, cache=cache or MemoryCache())
    app = FastAPI(title="workbench recommendations")
    app.state.serving = state

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = " ".join(str(part) for part in first.get("loc", ()))
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, status_code=422)

    # ~1 ms of numpy per request: run on the event loop (a thread hop costs more than it saves);
    # scale out with processes (uvicorn --workers), not threads.
    @app.get("/api/recommendations")
    async def recommendations(
        user_id: str = Query(..., min_length=1, max_length=200), k: int = Query(10, ge=1, le=MAX_K)
    ) -> JSONResponse:
        return JSONResponse(state.recommendations(user_id, k))

    @app.get("/health")
    def health() -> JSONResponse:
        return JSONResponse(state.current.health())

    @app.post("/admin/reload")
    def reload() -> JSONResponse:
        try:
            return JSONResponse(state.reload().health())
        except (WorkbenchError, OSError) as exc:
            return JSONResponse({"error": f"reload failed, still serving the previous model: {first_line(exc)}"}, 500)

    return app
