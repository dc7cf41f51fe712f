"""queries/cache.py: a cache that is down never breaks a query; the one single-flight."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest

from config import load_settings
from queries.cache import SafeCache, SingleFlight
from queries.runner import Runner


def test_a_cache_outage_does_not_break_queries(warehouse):
    class BrokenCache:
        def get(self, key):
            raise ConnectionError("redis down")

        def set(self, key, value):
            raise ConnectionError("redis down")

    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}), BrokenCache())
    assert len(runner.run("organisations", "all_organisations")) == 2


class Store:
    """A flask-caching stand-in: a dict, or a cache whose every call raises."""

    def __init__(self, broken: bool = False):
        self.values: dict = {}
        self.broken = broken

    def _check(self):
        if self.broken:
            raise ConnectionError("redis down")

    def get(self, key):
        self._check()
        return self.values.get(key)

    def set(self, key, value, timeout=None):
        self._check()
        self.values[key] = value

    def add(self, key, value, timeout=None):
        self._check()
        if key in self.values:
            return False
        self.values[key] = value
        return True

    def delete(self, key):
        self._check()
        self.values.pop(key, None)


def test_safe_cache_passes_calls_through_to_a_working_store():
    cache = SafeCache(Store())
    assert cache.enabled and cache.get("k") is None
    cache.set("k", 1)
    assert cache.get("k") == 1
    assert cache.add("k", 2, timeout=5) is False and cache.get("k") == 1
    cache.delete("k")
    assert cache.add("k", 3, timeout=5) is True and cache.get("k") == 3


def test_safe_cache_answers_as_if_empty_when_the_store_is_down(caplog):
    caplog.set_level(logging.WARNING, logger="accurx.warehouse")
    cache = SafeCache(Store(broken=True))
    assert cache.get("k") is None
    cache.set("k", 1)
    cache.delete("k")
    assert cache.add("k", 1, timeout=5) is True  # the caller goes ahead
    events = [json.loads(r.getMessage())["event"] for r in caplog.records]
    assert events == ["cache_get_failed", "cache_set_failed", "cache_delete_failed", "cache_add_failed"]
    assert "redis down" not in caplog.text


def test_no_cache_is_a_cache_that_never_holds_anything():
    cache = SafeCache(None)
    assert not cache.enabled
    cache.set("k", 1)
    assert cache.get("k") is None and cache.add("k", 1, timeout=5) is True


def test_single_flight_lets_one_caller_in_per_key_and_forgets_idle_keys():
    flights = SingleFlight()
    inside, peak, lock = [0], [0], threading.Lock()

    def work():
        flights.acquire("same")
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.02)
        with lock:
            inside[0] -= 1
        flights.release("same")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert peak[0] == 1
    assert len(flights) == 0  # no lock left behind


def test_single_flight_waiter_gives_up_after_its_timeout_and_other_keys_are_free():
    flights = SingleFlight()
    assert flights.acquire("a", timeout=1)
    started = time.monotonic()
    got = []
    waiter = threading.Thread(target=lambda: got.append(flights.acquire("a", timeout=0.1)))
    waiter.start()
    waiter.join(timeout=5)
    assert got == [False] and time.monotonic() - started < 2
    assert flights.acquire("b", timeout=0)  # another key is not held up
    flights.release("b")
    flights.release("a")
    assert len(flights) == 0


def test_waiters_take_the_outcome_the_holder_left_and_a_newcomer_starts_afresh():
    flights = SingleFlight()
    assert flights.acquire("k")
    seen = []

    def waiter():
        flights.acquire("k")
        seen.append(flights.outcome("k"))
        flights.release("k", seen[-1])

    waiters = [threading.Thread(target=waiter) for _ in range(3)]
    for thread in waiters:
        thread.start()
    time.sleep(0.1)  # all three are waiting
    failure = RuntimeError("the warehouse timed out")
    flights.release("k", failure)
    for thread in waiters:
        thread.join(timeout=5)
    assert seen == [failure] * 3
    assert flights.acquire("k", timeout=1) and flights.outcome("k") is None  # nobody waited
    flights.release("k")


def test_the_runner_and_the_response_cache_share_one_single_flight():
    from serving import response_cache

    assert response_cache.SingleFlight is SingleFlight


@pytest.fixture
def silent_redis():
    """A TCP server on loopback that accepts connections and never answers (a Redis
    behind a network that drops packets): yields its URL and the connections accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def timed_run(runner: Runner, limit: float = 15) -> float:
    """Seconds one query took; fails (instead of hanging) when it takes over `limit`."""
    done: list[float] = []

    def run():
        started = time.monotonic()
        runner.run("organisations", "all_organisations")
        done.append(time.monotonic() - started)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=limit)
    assert done, f"the query was still waiting for Redis after {limit} s"
    return done[0]


def test_a_redis_that_never_answers_costs_one_short_timeout_then_is_left_alone(warehouse, silent_redis,
                                                                               caplog):
    from flask import Flask

    from queries.runner import init_app

    caplog.set_level(logging.WARNING, logger="accurx.warehouse")
    url, accepted = silent_redis
    runner = init_app(Flask(__name__), load_settings(
        {"ACCURX_DUCKDB_PATH": str(warehouse), "REDIS_URL": url, "ACCURX_OUTAGE_COOLDOWN_SECONDS": "30"},
        environ={}))
    assert runner.settings.cache_type == "RedisCache"
    assert timed_run(runner) < 3  # one Redis read timed out (0.5 s), then the warehouse answered
    assert accepted, "the runner never reached the silent server"
    connections = len(accepted)
    assert timed_run(runner) < 0.5  # during the cool-down Redis is not tried at all
    assert len(accepted) == connections
    failures = [json.loads(r.getMessage()) for r in caplog.records]
    assert failures and failures[0]["skipped_seconds"] == 30
