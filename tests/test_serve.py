"""Serving: answers equal the model's own, ids round-trip, fallback, errors, cache, reload, Redis, real server."""

import hashlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient

from workbench.cli import main
from workbench.data import Dataset
from workbench.data.synthetic import make_ecommerce
from workbench.errors import ConfigError, DataError, ModelError
from workbench.models import (
    ALSRecommender,
    ClusterColdStart,
    ContentRecommender,
    PopularityRecommender,
    storage,
)
from workbench.serve import (
    MemoryCache,
    RedisCache,
    create_app,
    make_cache,
    model_classes,
)

URL = "/api/recommendations"


def _log(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": rng.integers(100, 160, 1500),
            "item_id": (rng.zipf(1.5, 1500) % 40) + 1000,
        }
    )


@pytest.fixture(scope="module")
def train() -> Dataset:
    return Dataset.from_frames(_log())


@pytest.fixture(scope="module")
def als(train) -> ALSRecommender:
    return ALSRecommender(factors=8, iterations=3, seed=0).fit(train)


@pytest.fixture
def model_dir(als, tmp_path) -> Path:
    return als.save(tmp_path / "als")


@pytest.fixture
def items_csv(train, tmp_path) -> Path:
    """Item table as text (ids zero-padded, some prices missing), covering all but one model item."""
    ids = np.sort(train.interactions["item_id"].unique())[1:]
    frame = pd.DataFrame(
        {
            "item_id": [f"0{i}" for i in ids],
            "title": [f"Movie {i}" for i in ids],
            "price": [("" if i % 3 == 0 else f"{i / 100:.2f}") for i in ids],
        }
    )
    path = tmp_path / "items.csv"
    frame.to_csv(path, index=False)
    return path


def _checksum(model_dir: Path) -> str:
    return hashlib.sha256((model_dir / storage.MANIFEST).read_bytes()).hexdigest()[:16]


def _get(client: TestClient, user_id: str, k: int = 5) -> dict:
    response = client.get(URL, params={"user_id": user_id, "k": k})
    assert response.status_code == 200, response.text
    return response.json()


def test_known_user_gets_the_models_recommendations(als, model_dir, items_csv):
    client = TestClient(create_app(model_dir, items=items_csv))
    body = _get(client, "123", k=7)
    expected = als.recommend([123], k=7)
    assert body["user_id"] == "123" and body["fallback"] is False and body["cached"] is False
    assert [r["product_id"] for r in body["recommendations"]] == expected["item_id"].tolist()
    assert np.allclose([r["score"] for r in body["recommendations"]], expected["score"])
    assert all(type(r["product_id"]) is int for r in body["recommendations"])
    smallest = int(als.item_map.ids.min())
    for rec in body["recommendations"]:
        item = rec["product_id"]
        assert rec["name"] == (None if item == smallest else f"Movie {item}")
        assert rec["price"] == (None if item == smallest or item % 3 == 0 else pytest.approx(item / 100))


def test_unknown_user_gets_popular_items_flagged_as_fallback(train, model_dir):
    client = TestClient(create_app(model_dir))
    counts = train.interactions["item_id"].value_counts()
    for user in ("999999", "not-a-number", "00abc"):
        body = _get(client, user, k=5)
        assert body["fallback"] is True and body["user_id"] == user
        recs = body["recommendations"]
        assert [r["score"] for r in recs] == sorted((r["score"] for r in recs), reverse=True)
        assert sorted(counts[[r["product_id"] for r in recs]].tolist(), reverse=True) == counts.iloc[:5].tolist()
        assert all(r["name"] is None and r["price"] is None for r in recs)


def test_string_ids_round_trip(tmp_path):
    log = _log().assign(
        user_id=lambda f: "u" + f["user_id"].astype(str), item_id=lambda f: "p" + f["item_id"].astype(str)
    )
    model = PopularityRecommender().fit(Dataset.from_frames(log))
    client = TestClient(create_app(model.save(tmp_path / "pop")))
    body = _get(client, "u123", k=4)
    assert body["fallback"] is False
    assert [r["product_id"] for r in body["recommendations"]] == model.recommend(["u123"], k=4)["item_id"].tolist()
    assert _get(client, "123", k=4)["fallback"] is True


@pytest.mark.parametrize("spelling", [int, str], ids=["int_ids", "text_ids"])
@pytest.mark.parametrize(
    "make", [PopularityRecommender, lambda: ALSRecommender(factors=8, iterations=3, seed=0)], ids=["popularity", "als"]
)
def test_user_1_is_known_to_models_of_int_and_text_ids(tmp_path, make, spelling):
    log = _log().assign(user_id=lambda f: (f["user_id"] - 99).map(spelling))  # users 1..60
    model = make().fit(Dataset.from_frames(log))
    assert model.user_map.ids.dtype == (np.int64 if spelling is int else "str")
    client = TestClient(create_app(model.save(tmp_path / "model")))
    body = _get(client, "1", k=5)
    expected = model.recommend([spelling(1)], k=5)
    assert body["user_id"] == "1" and body["fallback"] is False
    assert [r["product_id"] for r in body["recommendations"]] == expected["item_id"].tolist()
    assert np.allclose([r["score"] for r in body["recommendations"]], expected["score"])
    assert _get(client, "01", k=5)["fallback"] is True  # "01" is not how 1 is written: another id


@pytest.mark.parametrize(
    "params, needle",
    [
        ({"user_id": "1", "k": 0}, "k"),
        ({"user_id": "1", "k": 101}, "k"),
        ({"user_id": "1", "k": "ten"}, "k"),
        ({"k": 5}, "user_id"),
        ({"user_id": "", "k": 5}, "user_id"),
    ],
)
def test_bad_parameters_get_a_json_error(model_dir, params, needle):
    response = TestClient(create_app(model_dir)).get(URL, params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert needle in error and "\n" not in error


def test_k_bounds_are_inclusive(model_dir, als):
    client = TestClient(create_app(model_dir))
    assert len(_get(client, "123", k=1)["recommendations"]) == 1
    n_unseen = len(als.item_map) - als._seen[als.user_map.codes([123])[0]].nnz
    assert len(_get(client, "123", k=100)["recommendations"]) == min(100, n_unseen)


def test_health_describes_the_model(model_dir, train):
    body = TestClient(create_app(model_dir)).get("/health").json()
    assert body["status"] == "ok" and body["model_class"] == "ALSRecommender"
    assert (body["n_users"], body["n_items"]) == (train.n_users, train.n_items)
    assert pd.Timestamp(body["loaded_at"]).tzinfo is not None


def test_second_request_is_cached_with_the_same_answer(model_dir):
    client = TestClient(create_app(model_dir))
    first, second = _get(client, "123"), _get(client, "123")
    assert (first["cached"], second["cached"]) == (False, True)
    assert {**first, "cached": True} == second
    assert _get(client, "123", k=6)["cached"] is False  # k is part of the key
    assert _get(client, "124")["cached"] is False


def test_memory_cache_expires_and_evicts_least_recently_used():
    now = [0.0]
    cache = MemoryCache(ttl=10, max_entries=2, clock=lambda: now[0])
    cache.set("a", "1")
    cache.set("b", "2")
    assert cache.get("a") == "1"  # a is now the most recently used
    cache.set("c", "3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("1", None, "3")
    now[0] = 9.9
    assert cache.get("a") == "1"
    assert cache.stats() == {"kind": "memory", "entries": 2}
    now[0] = 10.0
    assert cache.stats() == {"kind": "memory", "entries": 0}  # expired entries are not counted
    assert cache.get("a") is None and cache.get("c") is None
    cache.set("d", "4")
    now[0] = 15.0
    cache.set("e", "5")
    cache.set("f", "6")  # full: the least recently used live entry (d) goes
    assert (cache.get("d"), cache.get("e"), cache.get("f")) == (None, "5", "6")


def test_cache_ttl_applies_to_responses(model_dir):
    now = [0.0]
    client = TestClient(create_app(model_dir, cache=MemoryCache(ttl=5, clock=lambda: now[0])))
    assert _get(client, "123")["cached"] is False
    assert _get(client, "123")["cached"] is True
    now[0] = 6.0
    assert _get(client, "123")["cached"] is False


def test_reload_endpoint_serves_the_new_model_and_skips_old_cache(model_dir, train):
    client = TestClient(create_app(model_dir))
    before = client.get("/health").json()
    old = _get(client, "123")
    assert _get(client, "123")["cached"] is True
    popular = PopularityRecommender().fit(train)
    popular.save(model_dir)  # save() replaces the directory atomically
    after = client.post("/admin/reload").json()
    assert after["model_class"] == "PopularityRecommender" and after["model_version"] != before["model_version"]
    new = _get(client, "123")
    assert new["cached"] is False
    assert [r["product_id"] for r in new["recommendations"]] == popular.recommend([123], k=5)["item_id"].tolist()
    assert new["recommendations"] != old["recommendations"]


def test_reload_on_app_state_takes_another_directory(model_dir, train, tmp_path):
    app = create_app(model_dir)
    client = TestClient(app)
    _get(client, "123")
    other = ALSRecommender(factors=8, iterations=3, seed=1).fit(train).save(tmp_path / "other")
    app.state.serving.reload(other)
    body = _get(client, "123")
    assert body["cached"] is False and client.get("/health").json()["model_version"] == _checksum(other)


def test_failed_reload_keeps_serving_the_previous_model(model_dir):
    client = TestClient(create_app(model_dir))
    version = client.get("/health").json()["model_version"]
    with open(model_dir / storage.ARRAYS, "ab") as handle:
        handle.write(b"junk")
    response = client.post("/admin/reload")
    assert response.status_code == 500 and "checksum" in response.json()["error"]
    assert client.get("/health").json()["model_version"] == version
    assert _get(client, "123")["fallback"] is False


def test_bad_model_directories_raise_model_error(tmp_path, train):
    with pytest.raises(ModelError, match="no model directory"):
        create_app(tmp_path / "nothing")
    storage.write_model(tmp_path / "foreign", "SomethingElse", 1, {}, {}, {})
    with pytest.raises(ModelError, match="SomethingElse"):
        create_app(tmp_path / "foreign")


def test_cli_serve_with_a_bad_directory_exits_2(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no model directory" in err and err.count("\n") == 1


def test_item_table_must_match_the_model(model_dir, tmp_path):
    path = tmp_path / "items.csv"
    pd.DataFrame({"item_id": ["x1", "x2"], "name": ["a", "b"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="none of the item ids"):
        create_app(model_dir, items=path)
    pd.DataFrame({"item_id": ["1000"], "colour": ["red"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="name, title, price"):
        create_app(model_dir, items=path)
    with pytest.raises(DataError, match="not found"):
        create_app(model_dir, items=tmp_path / "missing.csv")


def test_make_cache_rejects_unknown_specs():
    assert isinstance(make_cache(None), MemoryCache)
    with pytest.raises(ConfigError, match="--cache"):
        make_cache("memcached://localhost")


def test_every_saved_model_class_is_servable(tmp_path):
    assert {"ALSRecommender", "PopularityRecommender", "ClusterColdStart", "ContentRecommender"} <= set(model_classes())
    ds = make_ecommerce(200, 80, 3000, seed=0)
    items = tmp_path / "items.parquet"
    ds.items.reset_index().to_parquet(items)
    warm = ds.interactions["user_id"].iloc[0]
    for model in (
        PopularityRecommender(),
        ALSRecommender(factors=8, iterations=3, seed=0),
        ClusterColdStart(n_clusters=3, seed=0),
        ContentRecommender(),
    ):
        model.fit(ds)
        client = TestClient(create_app(model.save(tmp_path / type(model).__name__), items=items))
        body = _get(client, warm, k=5)
        expected = model.recommend([warm], k=5)
        assert [r["product_id"] for r in body["recommendations"]] == expected["item_id"].tolist()
        assert [r["name"] for r in body["recommendations"]] == ds.items.loc[expected["item_id"], "name"].tolist()
        assert [r["price"] for r in body["recommendations"]] == ds.items.loc[expected["item_id"], "price"].tolist()
        assert client.get("/health").json()["model_class"] == type(model).__name__


# -- Redis ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise TimeoutError("server did not come up in time")


@pytest.fixture
def redis_url(redis_server) -> str:
    return redis_server[0]


@pytest.fixture
def redis_server():
    """A redis-server of this test alone: (url, process)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def ready() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True

        _wait_until(ready, 10)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.send_signal(signal.SIGCONT)  # a test may have stopped it
        process.terminate()
        process.wait(timeout=10)


def test_redis_cache_is_shared_between_servers_and_expires(model_dir, redis_url):
    first = TestClient(create_app(model_dir, cache=RedisCache(redis_url, ttl=0.5)))
    second = TestClient(create_app(model_dir, cache=RedisCache(redis_url, ttl=0.5)))
    answer = _get(first, "123")
    assert answer["cached"] is False
    assert _get(second, "123") == {**answer, "cached": True}
    time.sleep(0.7)
    assert _get(second, "123")["cached"] is False


def test_redis_keys_carry_the_model_version(model_dir, train, redis_url):
    client = TestClient(create_app(model_dir, cache=make_cache(redis_url, ttl=60)))
    _get(client, "123")
    PopularityRecommender().fit(train).save(model_dir)
    client.post("/admin/reload")
    assert _get(client, "123")["cached"] is False


def test_redis_outage_while_serving_is_a_cache_miss(model_dir, redis_url):
    client = TestClient(create_app(model_dir, cache=RedisCache(redis_url, ttl=60)))
    _get(client, "123")
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    import redis

    redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)
    body = _get(client, "123")
    assert body["cached"] is False and body["fallback"] is False


def test_unreachable_redis_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot use Redis"):
        make_cache(f"redis://127.0.0.1:{_free_port()}")


# -- the real server --------------------------------------------------------------------------
def test_real_server_answers_over_http(model_dir, items_csv, als):
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "serve",
            str(model_dir),
            "--items",
            str(items_csv),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5.0) as client:
            _wait_until(lambda: client.get("/health").status_code == 200, 60)
            bodies = [client.get(URL, params={"user_id": "123", "k": 3}).json() for _ in range(3)]
            bad = client.get(URL, params={"user_id": "123", "k": 0})
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert [b["cached"] for b in bodies] == [False, True, True]
    assert [r["product_id"] for r in bodies[0]["recommendations"]] == als.recommend([123], k=3)["item_id"].tolist()
    assert bad.status_code == 422 and "k" in bad.json()["error"]
    assert f"on http://127.0.0.1:{port}" in out.decode(), err.decode()


# -- hardening (issue 23) ---------------------------------------------------------------------
@contextmanager
def _live(app):
    """``app`` served by uvicorn in a thread on a free port: yields its base url."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_until(lambda: server.started, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_stopped_redis_never_freezes_the_server(model_dir, als, redis_server):
    """SIGSTOP, not a dead Redis: connections open but never answer. Before, every request blocked
    the event loop for its Redis timeouts (/health took 20 s); a liveness bound, not a benchmark."""
    url, process = redis_server
    users = list(range(100, 124))
    with _live(create_app(model_dir, cache=RedisCache(url, ttl=60))) as base, httpx.Client(base_url=base) as client:
        assert client.get(URL, params={"user_id": "123", "k": 5}).json()["cached"] is False
        assert client.get(URL, params={"user_id": "123", "k": 5}).json()["cached"] is True
        process.send_signal(signal.SIGSTOP)
        try:

            def ask(user: int) -> dict:
                with httpx.Client(base_url=base, timeout=10.0) as own:
                    return own.get(URL, params={"user_id": str(user), "k": 5}).json()

            start = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                bodies = list(pool.map(ask, users))
            took = time.monotonic() - start
            health_start = time.monotonic()
            health = client.get("/health", timeout=10.0).json()
            health_took = time.monotonic() - health_start
        finally:
            process.send_signal(signal.SIGCONT)
    expected = als.recommend(users, k=5).groupby("user_id")["item_id"].apply(list)
    assert [[r["product_id"] for r in b["recommendations"]] for b in bodies] == expected.loc[users].tolist()
    assert not any(b["fallback"] for b in bodies)
    assert took < 5.0, f"{len(users)} requests took {took:.1f} s with Redis stopped"
    assert health_took < 1.0, f"/health took {health_took:.2f} s with Redis stopped"
    assert health["cache"]["kind"] == "redis" and health["cache"]["breaker"] == "open"
    assert health["cache"]["failures"] >= 1 and health["cache"]["skipped"] >= len(users) - 8


def test_redis_breaker_skips_after_a_failure_then_probes(redis_server):
    url, process = redis_server
    now = [0.0]
    cache = RedisCache(url, ttl=60, cooldown=5, clock=lambda: now[0])
    cache.set("a", "1")
    assert cache.get("a") == "1"
    process.send_signal(signal.SIGSTOP)
    try:
        assert cache.get("a") is None  # times out: a miss, and the breaker opens
        assert cache.stats() == {"kind": "redis", "breaker": "open", "failures": 1, "skipped": 0}
        assert cache.get("a") is None and cache.set("b", "2") is None  # skipped: Redis is not asked
        assert cache.stats() == {"kind": "redis", "breaker": "open", "failures": 1, "skipped": 2}
    finally:
        process.send_signal(signal.SIGCONT)
    now[0] = 4.9
    assert cache.get("a") is None and cache.stats()["skipped"] == 3
    now[0] = 5.0
    assert cache.get("a") == "1"  # one call probes Redis again, and it answers
    assert cache.stats()["breaker"] == "closed"


def test_health_shows_a_checksum_and_no_path(model_dir):
    response = TestClient(create_app(model_dir)).get("/health")
    body = response.json()
    assert body["model_class"] == "ALSRecommender" and body["model_version"] == _checksum(model_dir)
    assert "model_dir" not in body and str(model_dir.parent) not in response.text
    assert body["cache"] == {"kind": "memory", "entries": 0}


def test_api_docs_are_off_unless_asked_for(model_dir):
    closed, open_ = TestClient(create_app(model_dir)), TestClient(create_app(model_dir, docs=True))
    for page in ("/docs", "/redoc", "/openapi.json"):
        assert closed.get(page).status_code == 404
        assert open_.get(page).status_code == 200


def test_reload_needs_the_admin_token_when_one_is_set(model_dir):
    client = TestClient(create_app(model_dir, admin_token="s3cret"))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}, {"X-Token": "s3cret"}):
        response = client.post("/admin/reload", headers=headers)
        assert response.status_code == 401 and "admin token" in response.json()["error"]
    response = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200 and response.json()["model_class"] == "ALSRecommender"
    with pytest.raises(ConfigError, match="admin token"):
        create_app(model_dir, admin_token=" ")


@pytest.fixture
def no_uvicorn(monkeypatch):
    """Calls of uvicorn.run, recorded instead of serving."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("WORKBENCH_ADMIN_TOKEN", raising=False)
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_cli_refuses_other_interfaces_without_a_token(model_dir, no_uvicorn, capsys, host):
    assert main(["serve", str(model_dir), "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --host") and "WORKBENCH_ADMIN_TOKEN" in err and err.count("\n") == 1
    assert no_uvicorn == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_cli_serves_loopback_without_a_token_and_reload_stays_open(model_dir, no_uvicorn, host):
    assert main(["serve", str(model_dir), "--host", host]) == 0
    ((app, kwargs),) = no_uvicorn
    assert kwargs["host"] == host and TestClient(app).post("/admin/reload").status_code == 200


def test_cli_takes_the_token_from_the_environment_or_the_flag(model_dir, no_uvicorn, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ADMIN_TOKEN", "from-env")
    assert main(["serve", str(model_dir), "--host", "0.0.0.0", "--docs"]) == 0
    monkeypatch.delenv("WORKBENCH_ADMIN_TOKEN")
    assert main(["serve", str(model_dir), "--host", "0.0.0.0", "--admin-token", "from-flag"]) == 0
    for (app, _), token in zip(no_uvicorn, ("from-env", "from-flag"), strict=True):
        client = TestClient(app)
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert TestClient(no_uvicorn[0][0]).get("/docs").status_code == 200
    assert TestClient(no_uvicorn[1][0]).get("/docs").status_code == 404


def _break_manifest(how: str):
    def apply(model_dir: Path) -> None:
        path = model_dir / storage.MANIFEST
        if how == "gone":
            shutil.rmtree(model_dir)
            return
        if how == "truncated":
            path.write_text(path.read_text()[:40])
            return
        manifest = json.loads(path.read_text())
        manifest.update({"class": ["ALSRecommender"]} if how == "class_list" else {"sha256": "not-a-mapping"})
        path.write_text(json.dumps(manifest))

    return apply


@pytest.mark.parametrize("how", ["class_list", "sha256_string", "truncated", "gone"])
def test_reload_of_a_malformed_directory_is_a_json_error_and_the_old_model_serves_on(model_dir, how):
    client = TestClient(create_app(model_dir), raise_server_exceptions=False)
    version = client.get("/health").json()["model_version"]
    _break_manifest(how)(model_dir)
    response = client.post("/admin/reload")
    assert response.status_code >= 400 and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error.startswith("reload failed, still serving the previous model") and "\n" not in error
    assert str(model_dir.parent) not in error and str(model_dir.resolve().parent) not in error  # the name, not the path
    assert "Traceback" not in response.text
    assert client.get("/health").json()["model_version"] == version
    assert _get(client, "123")["fallback"] is False
