"""Several workers, one cache: with REDIS_URL the runner's flask-caching cache is a
RedisCache that every gunicorn worker shares; without it each process has its own.

A real `redis-server` is started on a free loopback port (and stopped after). "Two
workers" are two apps made by `create_app`, as two gunicorn workers would each make
one; each runs the app's own query module (queries/organisations.py).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app import create_app
from queries import organisations
from queries.errors import staleness_of
from queries.runner import EXTENSION_KEY, LAST_GOOD_PREFIX
from warehouse.snowflake_check import free_port

KEY_PREFIX = "accurx:q:"


@contextlib.contextmanager
def running_redis(work_dir: Path) -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.fail("redis-server is needed (`make browser-deps` installs it)")
    port = free_port()
    work_dir.mkdir(parents=True, exist_ok=True)
    with open(work_dir / "redis.log", "wb") as log:
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(work_dir)], stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {(work_dir / 'redis.log').read_text()[-2000:]}")
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_client(redis_url) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def warehouse(tmp_path, make_tiny_warehouse) -> Path:
    return make_tiny_warehouse(tmp_path / "accurx.duckdb", [(1, "Alpha Surgery"), (2, "Beta Practice")])


def worker(warehouse: Path, **settings: str):
    """One app as one gunicorn worker makes it."""
    return create_app({"ACCURX_WAREHOUSE": "duckdb", "ACCURX_DUCKDB_PATH": str(warehouse), **settings})


def all_organisations(app):
    with app.server.app_context():
        return organisations.all_organisations()


@pytest.fixture
def cache_outcomes(caplog):
    caplog.set_level(logging.INFO, logger="accurx")

    def outcomes() -> list[str]:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]
        caplog.clear()
        return [line["cache"] for line in lines]

    return outcomes


def test_a_result_one_worker_fetched_is_a_cache_hit_in_another(warehouse, redis_url, redis_client,
                                                              cache_outcomes):
    one, two = worker(warehouse, REDIS_URL=redis_url), worker(warehouse, REDIS_URL=redis_url)
    assert one.server.extensions[EXTENSION_KEY].settings.cache_type == "RedisCache"
    first = all_organisations(one)
    second = all_organisations(two)
    assert cache_outcomes() == ["miss", "hit"]
    assert second.equals(first) and second["organisation_name"].tolist() == ["Alpha Surgery", "Beta Practice"]
    assert redis_client.keys(f"{KEY_PREFIX}*"), "nothing was written to Redis"


def test_a_rebuilt_warehouse_is_a_miss_then_shared_again(warehouse, redis_url, redis_client, cache_outcomes,
        make_tiny_warehouse):
    one, two = worker(warehouse, REDIS_URL=redis_url), worker(warehouse, REDIS_URL=redis_url)
    all_organisations(one)
    all_organisations(two)
    make_tiny_warehouse(warehouse, [(1, "Alpha Surgery"), (2, "Beta Practice"),
                                    (3, "Gamma Health Centre")])  # new build identity
    rebuilt = all_organisations(two)
    assert len(rebuilt) == 3
    assert all_organisations(one).equals(rebuilt)
    assert cache_outcomes() == ["miss", "hit", "miss", "hit"]


def test_without_redis_each_worker_keeps_its_own_cache(warehouse, cache_outcomes):
    one, two = worker(warehouse, REDIS_URL=""), worker(warehouse, REDIS_URL="")
    assert one.server.extensions[EXTENSION_KEY].settings.cache_type == "SimpleCache"
    all_organisations(one)
    all_organisations(two)
    all_organisations(two)
    assert cache_outcomes() == ["miss", "miss", "hit"]


def test_a_last_good_copy_one_worker_wrote_is_served_by_another_during_an_outage(
        warehouse, redis_url, redis_client, cache_outcomes):
    one, two = worker(warehouse, REDIS_URL=redis_url), worker(warehouse, REDIS_URL=redis_url)
    fresh = all_organisations(one)
    os.replace(warehouse, warehouse.with_suffix(".away"))
    stale = all_organisations(two)
    assert stale.equals(fresh)
    assert staleness_of(stale).reason == "the warehouse file is missing"
    assert cache_outcomes() == ["miss", "stale"]


def test_results_and_last_good_copies_expire_as_configured(warehouse, redis_url, redis_client):
    app = worker(warehouse, REDIS_URL=redis_url, CACHE_DEFAULT_TIMEOUT="600",
                 ACCURX_STALE_MAX_AGE_SECONDS="7200")
    all_organisations(app)
    ttls = {key.decode(): redis_client.ttl(key) for key in redis_client.keys(f"{KEY_PREFIX}*")}
    last_good = [ttl for key, ttl in ttls.items() if key.startswith(KEY_PREFIX + LAST_GOOD_PREFIX)]
    current = [ttl for key, ttl in ttls.items() if not key.startswith(KEY_PREFIX + LAST_GOOD_PREFIX)]
    assert len(last_good) == 1 and 7000 < last_good[0] <= 7200
    assert len(current) == 1 and 500 < current[0] <= 600


def test_a_redis_outage_slows_the_app_but_never_breaks_it(warehouse, tmp_path, cache_outcomes):
    with running_redis(tmp_path / "short-lived-redis") as url:
        app = worker(warehouse, REDIS_URL=url)
        all_organisations(app)
        all_organisations(app)
    # Redis is gone: every query goes to the warehouse, and still answers.
    assert len(all_organisations(app)) == 2
    assert cache_outcomes() == ["miss", "hit", "miss"]


def test_workers_sharing_redis_render_a_request_once(warehouse, redis_url, redis_client, monkeypatch,
                                                     caplog):
    """The same callback request reaches two workers at once: the second waits for the
    first's render (its "rendering" marker in Redis) and sends the stored body."""
    import threading

    from serving_support import build_callback_body, callback_key

    caplog.set_level(logging.INFO, logger="accurx")
    one, two = worker(warehouse, REDIS_URL=redis_url), worker(warehouse, REDIS_URL=redis_url)
    backend = one.server.extensions[EXTENSION_KEY].backend
    real_execute = backend.execute

    def slow_execute(*args, **kwargs):
        time.sleep(0.5)
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(backend, "execute", slow_execute)
    body = build_callback_body(one, callback_key(one, "list_customer_choices"), ["Alpha", None])
    answers: dict[str, bytes] = {}

    def ask(name, app):
        response = app.server.test_client().post("/_dash-update-component", json=body,
                                                  headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        answers[name] = response.get_data()

    first = threading.Thread(target=ask, args=("one", one))
    first.start()
    time.sleep(0.2)  # worker one is rendering (its queries take 0.5 s each)
    ask("two", two)
    first.join(timeout=30)
    assert answers["one"] == answers["two"] and b"Alpha Surgery" in gzip.decompress(answers["two"])
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.callbacks"]
    assert sorted(line["response_cache"] for line in lines) == ["hit", "miss"]
    assert not redis_client.keys("*response-rendering*"), "the marker outlived the render"
