"""queries/runner.py: caching by build identity, errors, logging, readiness, stale copies.

These tests use a tiny DuckDB file made here (two presentation views' worth of rows),
so they run without the demo warehouse (except the last, which drives a tab).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time

import duckdb
import pytest
from flask import Flask

from components.common import stale_notice
from config import load_settings
from queries.backends import Backend
from queries.errors import Staleness, WarehouseError
from queries.request_state import request_deadline, request_staleness
from queries.runner import Runner, init_app
from queries.sqlfile import QueryRef


@pytest.fixture
def cached_runner(warehouse) -> Runner:
    server = Flask(__name__)
    return init_app(server, load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))


# ---------------------------------------------------------------- running, caching, errors
def test_results_are_bound_normalised_and_cached(cached_runner, caplog):
    caplog.set_level(logging.INFO, logger="accurx.queries")
    frame = cached_runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert frame["organisation_name"].tolist() == ["Beta Practice"]
    assert str(frame["first_export_date"].dtype).startswith("datetime64")
    again = cached_runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert again.equals(frame)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]
    assert [line["cache"] for line in lines] == ["miss", "hit"]
    assert all({"question", "query", "warehouse", "ms", "cache", "rows", "retries"} <= set(line) for line in lines)
    assert "Beta" not in caplog.text and '"organisation_id"' not in caplog.text


def test_injection_attempt_is_just_a_value(cached_runner):
    with pytest.raises(WarehouseError):
        cached_runner.run("organisations", "organisation_by_id", {"organisation_id": "1 or 1=1"})


def test_rebuilt_file_is_never_served_from_cache(cached_runner, warehouse, make_tiny_warehouse):
    before = cached_runner.run("organisations", "all_organisations")
    assert len(before) == 2
    make_tiny_warehouse(warehouse, [(1, "Alpha Surgery"), (2, "Beta Practice"), (3, "Gamma")])
    after = cached_runner.run("organisations", "all_organisations")
    assert after["organisation_name"].tolist() == ["Alpha Surgery", "Beta Practice", "Gamma"]


def test_missing_warehouse_is_a_readable_error(tmp_path):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(tmp_path / "none.duckdb")}, environ={}))
    with pytest.raises(WarehouseError, match="has not been built yet"):
        runner.run("organisations", "all_organisations")


def test_missing_view_is_a_readable_error(warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    with pytest.raises(WarehouseError, match="does not have a view"):
        runner.run("access", "export_dates")


def test_settings_from_environment_and_secrets_kept_out_of_repr():
    settings = load_settings(environ={
        "ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_PASSWORD": "s3cret", "SNOWFLAKE_ACCOUNT": "acme",
        "REDIS_URL": "redis://:pw@localhost:6379/0",
    })
    assert settings.cache_type == "RedisCache"
    assert settings.snowflake_params["account"] == "acme"
    assert "s3cret" not in repr(settings) and "pw@" not in repr(settings)
    assert "s3cret" not in json.dumps(settings.describe())
    default = load_settings(environ={})
    assert default.warehouse == "duckdb" and default.duckdb_path.name == "accurx.duckdb"
    assert default.cache_type == "SimpleCache"



def test_readiness_reports_how_current_the_data_is(warehouse, tmp_path):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    facts = runner.readiness()
    assert facts["warehouse"] == "duckdb" and facts["last_export_date"] == "2026-03-31"
    assert facts["latest_complete_date"] == "2026-03-30"
    assert facts["data_age_days"] == (dt.date.today() - dt.date(2026, 3, 31)).days
    missing = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(tmp_path / "none.duckdb")}, environ={}))
    with pytest.raises(WarehouseError):
        missing.readiness()


def test_readiness_runs_the_statement_it_is_given(warehouse):
    settings = load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={})
    runner = Runner(settings, readiness_query=QueryRef("access", "export_dates"))
    with pytest.raises(WarehouseError) as raised:  # the tiny warehouse has no access views
        runner.readiness()
    assert raised.value.kind == "missing_view"
    assert Runner(settings).readiness()["last_export_date"] == "2026-03-31"


def test_every_backend_speaks_the_backend_protocol(warehouse):
    duck = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    snow = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake"}, environ={}))
    assert isinstance(duck.backend, Backend) and isinstance(snow.backend, Backend)
    assert (duck.backend.name, snow.backend.name) == ("duckdb", "snowflake")


def test_redis_cache_is_shared_between_runners(warehouse, tmp_path, caplog):
    """Two runners (two gunicorn workers) on one Redis: the second answers from the cache."""
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed (make browser-deps installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis = subprocess.Popen([server_binary, "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        overrides = {"ACCURX_DUCKDB_PATH": str(warehouse), "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        caplog.set_level(logging.INFO, logger="accurx.queries")
        first = init_app(Flask("one"), load_settings(overrides, environ={}))
        second = init_app(Flask("two"), load_settings(overrides, environ={}))
        assert first.settings.cache_type == "RedisCache"
        first.run("organisations", "all_organisations")
        frame = second.run("organisations", "all_organisations")
        assert len(frame) == 2
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]
        assert [line["cache"] for line in lines] == ["miss", "hit"]
    finally:
        redis.terminate()
        redis.wait(timeout=10)


# ---------------------------------------------------------------- what a tab shows
def test_stale_notice_says_how_old_the_results_are_and_why():
    twelve_minutes_ago = Staleness(time.time() - 12 * 60 - 5, "the warehouse is not answering",
                                   "Snowflake could not be reached; the dashboard will keep trying.",
                                   "unreachable")
    notice = stale_notice(twelve_minutes_ago)
    text = "".join(str(getattr(c, "children", c)) for c in notice.children)
    assert text.startswith("Showing results from 12 minutes ago: the warehouse is not answering.")
    assert notice.role == "status"
    assert stale_notice(None) is None


def test_a_tab_keeps_showing_its_last_results_during_an_outage(demo_warehouse, tmp_path):
    """The Access tab's own callback: after the warehouse file disappears it renders the
    same cards from the last good copies, and `request_staleness()` tells it so; a date
    never asked before shows the error; the tab recovers when the file is back."""
    from app import create_app
    from callbacks.access import show_access_cards

    db_path = tmp_path / "accurx.duckdb"
    shutil.copyfile(demo_warehouse.db_path, db_path)
    app = create_app({"ACCURX_WAREHOUSE": "duckdb", "ACCURX_DUCKDB_PATH": str(db_path)})

    def show(date_text=None):
        with app.server.app_context():
            note, cards = show_access_cards(date_text, None)
            return note, cards, request_staleness()

    note, cards, staleness = show()
    assert staleness is None
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        (other_day,) = con.execute(  # an export date the tab has not been asked about
            'select min(date) from "04_PRESENTATION".feature_access_daily').fetchone()
    finally:
        con.close()
    os.replace(db_path, tmp_path / "away.duckdb")
    stale_note, stale_cards, staleness = show()
    assert str(stale_cards[1:]) == str(cards[1:]) and str(stale_note) == str(note)
    assert cards[0] is None and "Showing results from" in str(stale_cards[0])  # stale_notice
    assert staleness is not None and staleness.reason == "the warehouse file is missing"
    _, error, staleness = show(other_day.isoformat())
    assert "state-error" in str(error) and "has not been built yet" in str(error)
    os.replace(tmp_path / "away.duckdb", db_path)
    _, recovered, staleness = show()
    assert staleness is None and str(recovered) == str(cards)


# ---------------------------------------------------------------- one deadline per request
class SlowWarehouse:
    """Stands in for `backend.execute`: every query takes `seconds`, then times out."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, sql, params, question=""):
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        raise WarehouseError("The warehouse took longer than 30 s to answer.", "timeout", cause="Test")


def slow_runner(warehouse, monkeypatch, seconds: float, **overrides: str) -> tuple[Runner, SlowWarehouse]:
    settings = {"ACCURX_DUCKDB_PATH": str(warehouse), "ACCURX_RETRY_BASE_SECONDS": "0.05",
                "ACCURX_RETRY_BUDGET_SECONDS": "60", "ACCURX_OUTAGE_COOLDOWN_SECONDS": "0", **overrides}
    runner = init_app(Flask(__name__), load_settings(settings, environ={}))
    slow = SlowWarehouse(seconds)
    monkeypatch.setattr(runner.backend, "execute", slow)
    return runner, slow


def test_the_queries_of_one_request_share_one_deadline(warehouse, monkeypatch):
    runner, slow = slow_runner(warehouse, monkeypatch, 0.3, ACCURX_QUERY_ATTEMPTS="10",
                               ACCURX_REQUEST_BUDGET_SECONDS="1")
    with Flask(__name__).app_context():
        with pytest.raises(WarehouseError):
            runner.run("organisations", "all_organisations")
        first_calls = slow.calls
        # Ten attempts of 0.3 s do not fit in the 1 s budget: stopped at the deadline.
        # (No wall-clock assert: this machine is shared; the call count is the behaviour.)
        assert 1 <= first_calls < 10
        # The first query gives up when the next back-off would not fit before the
        # deadline; once the deadline has passed, the request's next query tries nothing.
        time.sleep(max(0.0, request_deadline(1) - time.monotonic()))
        with pytest.raises(WarehouseError) as raised:
            runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
        assert raised.value.kind == "timeout" and raised.value.facts["cause"] == "RequestBudget"
        assert slow.calls == first_calls  # the second query did not reach the warehouse
    with Flask(__name__).app_context():  # the next request has a deadline of its own
        with pytest.raises(WarehouseError) as raised:
            runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
        assert raised.value.facts["cause"] == "Test" and slow.calls > first_calls


def test_timeouts_in_a_row_count_as_an_outage(warehouse, monkeypatch):
    runner, slow = slow_runner(warehouse, monkeypatch, 0, ACCURX_QUERY_ATTEMPTS="1",
                               ACCURX_OUTAGE_COOLDOWN_SECONDS="30", ACCURX_OUTAGE_AFTER_TIMEOUTS="2")
    for organisation_id in (1, 2):
        with pytest.raises(WarehouseError):
            runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id})
    assert slow.calls == 2
    with pytest.raises(WarehouseError) as raised:
        runner.run("organisations", "organisation_by_id", {"organisation_id": 3})
    assert raised.value.kind == "timeout" and raised.value.facts["circuit"] == "open"
    assert slow.calls == 2  # left alone during the cool-down


def test_a_query_that_answers_ends_a_run_of_timeouts(warehouse, monkeypatch):
    runner, slow = slow_runner(warehouse, monkeypatch, 0, ACCURX_QUERY_ATTEMPTS="1",
                               ACCURX_OUTAGE_COOLDOWN_SECONDS="30", ACCURX_OUTAGE_AFTER_TIMEOUTS="2")
    with pytest.raises(WarehouseError):
        runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
    monkeypatch.undo()
    assert len(runner.run("organisations", "all_organisations")) == 2
    monkeypatch.setattr(runner.backend, "execute", slow)
    with pytest.raises(WarehouseError) as raised:
        runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert "circuit" not in raised.value.facts and slow.calls == 2
    with pytest.raises(WarehouseError) as raised:  # the second timeout in a row
        runner.run("organisations", "organisation_by_id", {"organisation_id": 3})
    assert slow.calls == 3


def test_requests_waiting_for_the_same_query_take_its_failure_instead_of_asking_again(
        warehouse, monkeypatch, query_log):
    runner, slow = slow_runner(warehouse, monkeypatch, 0.5, ACCURX_QUERY_ATTEMPTS="1")
    errors: list[WarehouseError] = []
    start = threading.Barrier(4)

    def user():
        start.wait()
        try:
            runner.run("organisations", "all_organisations")
        except WarehouseError as exc:
            errors.append(exc)

    users = [threading.Thread(target=user) for _ in range(4)]
    for thread in users:
        thread.start()
    for thread in users:
        thread.join(timeout=30)
    assert len(errors) == 4 and {e.kind for e in errors} == {"timeout"}
    assert slow.calls == 1
    assert sorted(line.get("flight", "-") for line in query_log()) == ["-", "shared", "shared", "shared"]
