"""Warehouse faults (queries/runner.py): retries, stale copies, recovery, logs.

Each fault is injected for real where this machine allows it (a missing DuckDB file, a
file locked by a writer in another process, a query interrupted by the statement
timeout) and otherwise with a stand-in for `snowflake.connector.connect` that answers
from a small DuckDB file and raises the connector's own error classes with the errno
and SQLSTATE Snowflake really sends (390100/28000 for a refused password, 250001 for
a server that cannot be reached, 604/57014 for a statement timeout, ...).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from flask import Flask
from snowflake.connector import errors as sf

from components.common import stale_notice
from config import load_settings
from queries.runner import (
    Runner,
    Staleness,
    WarehouseError,
    init_app,
    request_staleness,
    staleness_of,
)

ORGANISATIONS = [(1, "Alpha Surgery"), (2, "Beta Practice")]


@pytest.fixture
def warehouse(tmp_path, make_tiny_warehouse) -> Path:
    return make_tiny_warehouse(tmp_path / "accurx.duckdb", ORGANISATIONS)


FAST_RETRIES = {"ACCURX_RETRY_BASE_SECONDS": "0.2", "ACCURX_RETRY_BUDGET_SECONDS": "60",
                "ACCURX_OUTAGE_COOLDOWN_SECONDS": "0"}


def cached_runner(overrides: dict, sleeps: list | None = None) -> Runner:
    """A Runner with a per-process cache (as one worker has), back-off pauses recorded
    in `sleeps` instead of slept."""
    runner = init_app(Flask(__name__), load_settings({**FAST_RETRIES, **overrides}, environ={}))
    if sleeps is not None:
        runner._sleep = sleeps.append
    return runner


def query_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]


@pytest.fixture
def query_log(caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    return lambda: query_lines(caplog)


def assert_backoff(sleeps: list[float], base: float = 0.2) -> None:
    """Exponential back-off with jitter: the n-th pause is in [0.5, 1] x base x 2^n."""
    for n, pause in enumerate(sleeps):
        assert 0.5 * base * 2**n <= pause <= base * 2**n, sleeps


# ---------------------------------------------------------------- DuckDB: missing file
def test_missing_file_serves_the_last_good_copy_marked_stale_then_recovers(warehouse, query_log):
    sleeps: list[float] = []
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse)}, sleeps)
    fresh = runner.run("organisations", "all_organisations")
    assert staleness_of(fresh) is None

    hidden = warehouse.with_suffix(".away")
    os.replace(warehouse, hidden)
    stale = runner.run("organisations", "all_organisations")
    assert stale.equals(fresh)
    staleness = staleness_of(stale)
    assert staleness.kind == "not_built" and "has not been built yet" in staleness.message
    assert staleness.reason == "the warehouse file is missing"
    assert 0 <= staleness.age_seconds < 60
    assert sleeps == []  # a missing file is not retried: it will not appear in a second

    with pytest.raises(WarehouseError, match="has not been built yet") as raised:
        runner.run("organisations", "organisation_by_id", {"organisation_id": 1})  # never asked
    assert raised.value.kind == "not_built"

    os.replace(hidden, warehouse)
    recovered = runner.run("organisations", "all_organisations")
    assert staleness_of(recovered) is None and recovered.equals(fresh)
    assert [(line["cache"], line["retries"]) for line in query_log()] == [
        ("miss", 0), ("stale", 0), ("error", 0), ("hit", 0)]


# ---------------------------------------------------------------- DuckDB: locked file
def hold_write_lock(path: Path):
    """Another process writing into the warehouse file and keeping it open (as a build
    in place would): the file changes, and readers get DuckDB's lock conflict. Returns
    a function that ends that process."""
    proc = subprocess.Popen(
        [sys.executable, "-c", (
            "import duckdb, sys\n"
            f"con = duckdb.connect({str(path)!r})\n"
            "con.execute('create table building as select 1 as x')\n"
            "con.execute('checkpoint')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"

    def release():
        proc.stdin.close()
        proc.wait(timeout=30)

    return release


# A writer in place can only take the file while no reader holds it: these runners close
# their connection after every query (ACCURX_DUCKDB_KEEP_OPEN_SECONDS=0).
CLOSE_AFTER_EACH_QUERY = {"ACCURX_DUCKDB_KEEP_OPEN_SECONDS": "0"}


def test_locked_file_is_retried_with_backoff_then_served_stale_and_recovers(warehouse, query_log):
    sleeps: list[float] = []
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), **CLOSE_AFTER_EACH_QUERY}, sleeps)
    fresh = runner.run("organisations", "all_organisations")
    release = hold_write_lock(warehouse)
    try:
        stale = runner.run("organisations", "all_organisations")
    finally:
        release()
    assert stale.equals(fresh)
    assert staleness_of(stale).kind == "busy"
    assert staleness_of(stale).reason == "the warehouse is being rebuilt"
    assert len(sleeps) == 2  # three tries
    assert_backoff(sleeps)
    line = query_log()[-1]
    assert (line["cache"], line["retries"], line["error"], line["cause"]) == (
        "stale", 2, "busy", "IOException")

    recovered = runner.run("organisations", "all_organisations")
    assert staleness_of(recovered) is None and recovered.equals(fresh)
    assert query_log()[-1]["cache"] == "miss"  # the file changed: a new build identity


def test_lock_released_between_tries_is_answered_fresh(warehouse, query_log):
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), **CLOSE_AFTER_EACH_QUERY})
    release = hold_write_lock(warehouse)
    runner._sleep = lambda pause: release()  # the build finishes during the first pause
    frame = runner.run("organisations", "all_organisations")
    assert staleness_of(frame) is None and len(frame) == 2
    assert query_log()[-1]["retries"] == 1


# ---------------------------------------------------------------- DuckDB: one connection per build
def test_connection_is_reused_until_the_file_is_rebuilt(warehouse, make_tiny_warehouse):
    """Every runner on a path shares one open connection while the build is unchanged;
    a rebuilt file is answered from a new connection, by every runner, at once."""
    first = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "CACHE_TYPE": "NullCache"})
    second = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "CACHE_TYPE": "NullCache"})
    assert len(first.run("organisations", "all_organisations")) == 2
    opened = first.backend._shared.connection
    assert len(second.run("organisations", "all_organisations")) == 2
    assert first.backend._shared.connection is opened is not None

    make_tiny_warehouse(warehouse, ORGANISATIONS + [(3, "Gamma Health Centre")])
    for runner in (second, first):
        names = runner.run("organisations", "all_organisations")["organisation_name"].tolist()
        assert "Gamma Health Centre" in names and len(names) == 3
    assert first.backend._shared.connection is not opened


def test_idle_connection_is_closed_so_a_writer_in_place_can_proceed(warehouse):
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "CACHE_TYPE": "NullCache",
                            "ACCURX_DUCKDB_KEEP_OPEN_SECONDS": "1"})
    runner.run("organisations", "all_organisations")
    shared = runner.backend._shared
    assert shared.connection is not None
    deadline = time.monotonic() + 20
    while shared.connection is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shared.connection is None
    release = hold_write_lock(warehouse)  # raises if a reader still held the file
    release()
    assert len(runner.run("organisations", "all_organisations")) == 2


# ---------------------------------------------------------------- DuckDB: slow query
class SlowConnection:
    """A real DuckDB connection whose every statement is a long computation, so the
    runner's statement timeout really interrupts it."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, params):
        return self.con.execute("select sum(a.range * b.range) from range(100000000) a, range(100000000) b")

    def interrupt(self):
        self.con.interrupt()

    def close(self):
        self.con.close()


def test_timeout_is_retried_then_reported_in_words(warehouse, monkeypatch, query_log):
    sleeps: list[float] = []
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "ACCURX_STATEMENT_TIMEOUT_SECONDS": "1"},
                           sleeps)
    real_connect = runner.backend.connect
    monkeypatch.setattr(runner.backend, "connect", lambda: SlowConnection(real_connect()))
    started = time.monotonic()
    with pytest.raises(WarehouseError, match="took longer than 1 s") as raised:
        runner.run("organisations", "all_organisations")
    assert raised.value.kind == "timeout"
    assert 3 <= time.monotonic() - started < 20  # three tries of ~1 s, each interrupted
    assert len(sleeps) == 2
    line = query_log()[-1]
    assert (line["cache"], line["retries"], line["error"]) == ("error", 2, "timeout")


def test_retry_budget_bounds_the_time_a_request_waits(warehouse, monkeypatch):
    """No retry starts after ACCURX_RETRY_BUDGET_SECONDS: a timed-out query that used the
    budget up is not run again (the request must end before gunicorn's timeout)."""
    sleeps: list[float] = []
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "ACCURX_STATEMENT_TIMEOUT_SECONDS": "1",
                            "ACCURX_RETRY_BUDGET_SECONDS": "0.5"}, sleeps)
    real_connect = runner.backend.connect
    monkeypatch.setattr(runner.backend, "connect", lambda: SlowConnection(real_connect()))
    with pytest.raises(WarehouseError, match="took longer"):
        runner.run("organisations", "all_organisations")
    assert sleeps == []


def test_timeout_after_a_rebuild_serves_the_last_good_copy(warehouse, monkeypatch, make_tiny_warehouse):
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "ACCURX_STATEMENT_TIMEOUT_SECONDS": "1",
                            "ACCURX_QUERY_ATTEMPTS": "1"})
    fresh = runner.run("organisations", "all_organisations")
    make_tiny_warehouse(warehouse, ORGANISATIONS)  # a new build: the cached answer no longer applies
    real_connect = runner.backend.connect
    monkeypatch.setattr(runner.backend, "connect", lambda: SlowConnection(real_connect()))
    stale = runner.run("organisations", "all_organisations")
    assert stale.equals(fresh)
    assert staleness_of(stale).reason == "the warehouse is taking too long to answer"


# ---------------------------------------------------------------- DuckDB: permanent faults
def test_missing_view_is_neither_retried_nor_served_stale(warehouse, query_log):
    sleeps: list[float] = []
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse)}, sleeps)
    with pytest.raises(WarehouseError, match="does not have a view") as raised:
        runner.run("access", "export_dates")
    assert raised.value.kind == "missing_view" and not raised.value.transient
    assert sleeps == []
    assert query_log()[-1]["error"] == "missing_view"


# ---------------------------------------------------------------- Snowflake: a stand-in connector
class FakeSnowflake:
    """Stands in for `snowflake.connector.connect`: sessions answer from a DuckDB file
    (so results are real rows) and faults are the connector's own exceptions.

    `sign_in_faults` / `query_faults`: exceptions raised, one per sign-in / query, in
    order, before answering normally again. `sign_ins` keeps every connect()'s keyword
    arguments; `executed` every (sql, params) received; `closed` the sessions closed."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.sign_ins: list[dict] = []
        self.executed: list[tuple[str, list]] = []
        self.sign_in_faults: list[Exception] = []
        self.query_faults: list[Exception] = []
        self.closed: list[FakeSession] = []

    def connect(self, **kwargs):
        self.sign_ins.append(kwargs)
        if self.sign_in_faults:
            raise self.sign_in_faults.pop(0)
        return FakeSession(self, kwargs)


class FakeSession:
    def __init__(self, fake: FakeSnowflake, kwargs: dict):
        self.fake = fake
        self.kwargs = kwargs

    def cursor(self):
        return FakeCursor(self)

    def close(self, retry: bool = True):
        self.fake.closed.append(self)


class FakeCursor:
    def __init__(self, session: FakeSession):
        self.session = session
        self.description = None
        self._rows: list[tuple] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql: str, params=None, timeout=None):
        fake = self.session.fake
        fake.executed.append((sql, list(params or [])))
        if fake.query_faults:
            raise fake.query_faults.pop(0)
        con = duckdb.connect(str(fake.db_path), read_only=True)
        try:
            cursor = con.execute(sql.replace('ACCURX."04_PRESENTATION"', '"04_PRESENTATION"'), params)
            self.description = [(d[0].upper(),) for d in cursor.description]
            self._rows = cursor.fetchall()
        finally:
            con.close()
        return self

    def fetchall(self):
        return self._rows


SECRET_PASSPHRASE = "pass-7Hq!zZ-do-not-log"


def snowflake_settings(**extra: str) -> dict[str, str]:
    return {"ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "acme-prod",
            "SNOWFLAKE_USER": "ACCURX_DASHBOARD_SVC", **FAST_RETRIES, **extra}


@pytest.fixture
def fake_snowflake(warehouse, monkeypatch, tmp_path) -> FakeSnowflake:
    import snowflake.connector

    fake = FakeSnowflake(warehouse)
    monkeypatch.setattr(snowflake.connector, "connect", fake.connect)
    return fake


@pytest.fixture
def key_file(tmp_path) -> Path:
    path = tmp_path / "rsa_key.p8"
    path.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nnot a real key\n-----END ENCRYPTED PRIVATE KEY-----\n")
    path.chmod(0o600)
    return path


def snowflake_runner(sleeps: list | None = None, **extra: str) -> Runner:
    return cached_runner(snowflake_settings(**extra), sleeps)


# The connector's errors as Snowflake raises them (errno, SQLSTATE, message shape).
def refused_password():
    return sf.DatabaseError(msg="Failed to connect to DB: acme-prod.snowflakecomputing.com:443. "
                                "Incorrect username or password was specified.",
                            errno=390100, sqlstate="28000")


def refused_key_pair():
    return sf.DatabaseError(msg="Failed to connect to DB: acme-prod.snowflakecomputing.com:443. "
                                "JWT token is invalid.", errno=390144, sqlstate="28000")


def unreachable():
    return sf.OperationalError(msg="Could not connect to Snowflake backend after 2 attempt(s).Aborting",
                               errno=250001)


def request_failed():
    return sf.OperationalError(msg="Failed to execute request: HTTPSConnectionPool(...): Read timed out.",
                               errno=250003)


def statement_timeout():
    return sf.ProgrammingError(msg="Statement reached its statement or warehouse timeout of 30 "
                                   "second(s) and was canceled.", errno=604, sqlstate="57014")


def session_expired():
    return sf.DatabaseError(msg="Session no longer exists.  New login required to access the service.",
                            errno=390112, sqlstate="08001")


def compilation_error():
    return sf.ProgrammingError(msg="SQL compilation error:\nsyntax error line 1 at position 0 "
                                   "unexpected 'selec'.", errno=1003, sqlstate="42000")


def missing_view():
    return sf.ProgrammingError(msg="SQL compilation error:\nObject 'ACCURX.\"04_PRESENTATION\".X' "
                                   "does not exist or not authorized.", errno=2003, sqlstate="42S02")


TRANSIENT = {
    "unreachable (250001)": (unreachable, "unreachable", "could not be reached"),
    "request failed (250003)": (request_failed, "unreachable", "could not be reached"),
    "HTTP 503": (sf.ServiceUnavailableError, "unreachable", "could not be reached"),
    "HTTP 504": (sf.GatewayTimeoutError, "unreachable", "could not be reached"),
    "session expired (390112)": (session_expired, "unreachable", "could not be reached"),
    "statement timeout (604)": (statement_timeout, "timeout", "took longer than 30 s"),
}
PERMANENT = {
    "password refused (390100)": (refused_password, "auth", "refused the dashboard's sign-in"),
    "key pair refused (390144)": (refused_key_pair, "auth", "refused the dashboard's sign-in"),
    "compilation error (1003)": (compilation_error, "query_failed", "could not answer this question"),
    "missing view (2003)": (missing_view, "missing_view", "does not have a view"),
}


@pytest.mark.parametrize("fault", TRANSIENT, ids=list(TRANSIENT))
def test_transient_snowflake_fault_during_a_query_is_retried(fault, fake_snowflake, query_log):
    make_error, kind, message = TRANSIENT[fault]
    sleeps: list[float] = []
    runner = snowflake_runner(sleeps)
    fake_snowflake.query_faults = [make_error()]
    frame = runner.run("organisations", "all_organisations")
    assert len(frame) == 2 and staleness_of(frame) is None
    assert len(sleeps) == 1
    assert_backoff(sleeps)
    assert query_log()[-1]["retries"] == 1

    fake_snowflake.query_faults = [make_error() for _ in range(3)]
    with pytest.raises(WarehouseError, match=message) as raised:
        runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
    assert raised.value.kind == kind and raised.value.transient
    line = query_log()[-1]
    assert (line["cache"], line["retries"], line["error"]) == ("error", 2, kind)


@pytest.mark.parametrize("fault", PERMANENT, ids=list(PERMANENT))
def test_permanent_snowflake_fault_is_not_retried(fault, fake_snowflake, query_log):
    make_error, kind, message = PERMANENT[fault]
    sleeps: list[float] = []
    runner = snowflake_runner(sleeps)
    if kind == "auth":
        fake_snowflake.sign_in_faults = [make_error()]
    else:
        runner.backend.identity()  # signs in; the query itself fails
        fake_snowflake.query_faults = [make_error()]
    executed_before = len(fake_snowflake.executed)
    with pytest.raises(WarehouseError, match=message) as raised:
        runner.run("organisations", "all_organisations")
    assert raised.value.kind == kind and not raised.value.transient
    assert sleeps == []
    assert len(fake_snowflake.executed) - executed_before <= 1
    line = query_log()[-1]
    expected = make_error()
    assert (line["error"], line["errno"], line["sqlstate"]) == (kind, expected.errno, expected.sqlstate)


def test_network_failure_at_sign_in_is_retried_three_times_then_served_stale(fake_snowflake, query_log):
    sleeps: list[float] = []
    runner = snowflake_runner(sleeps)
    fresh = runner.run("organisations", "all_organisations")
    runner.backend._identity = None  # the build identity is due to be re-read
    runner.backend.pool.close_all()  # the warehouse went away: sessions are gone
    fake_snowflake.sign_in_faults = [unreachable() for _ in range(3)]
    sign_ins_before = len(fake_snowflake.sign_ins)

    stale = runner.run("organisations", "all_organisations")
    assert len(fake_snowflake.sign_ins) - sign_ins_before == 3
    assert len(sleeps) == 2
    assert_backoff(sleeps)
    assert stale.equals(fresh)
    staleness = staleness_of(stale)
    assert (staleness.kind, staleness.reason) == ("unreachable", "the warehouse is not answering")
    line = query_log()[-1]
    assert (line["cache"], line["retries"], line["error"], line["errno"]) == ("stale", 2, "unreachable", 250001)

    recovered = runner.run("organisations", "all_organisations")  # the warehouse is back
    assert staleness_of(recovered) is None and recovered.equals(fresh)


def test_refused_sign_in_serves_stale_copies_and_is_tried_once(fake_snowflake):
    runner = snowflake_runner([])
    fresh = runner.run("organisations", "all_organisations")
    runner.backend._identity = None
    runner.backend.pool.close_all()
    fake_snowflake.sign_in_faults = [refused_key_pair()]
    sign_ins_before = len(fake_snowflake.sign_ins)
    stale = runner.run("organisations", "all_organisations")
    assert len(fake_snowflake.sign_ins) - sign_ins_before == 1
    assert stale.equals(fresh)
    assert staleness_of(stale).reason == "the warehouse refused the dashboard's sign-in"


def test_compilation_error_never_serves_a_stale_copy(fake_snowflake):
    runner = snowflake_runner([])
    runner.run("organisations", "all_organisations")
    runner.backend._identity = None
    fake_snowflake.query_faults = [compilation_error()]
    with pytest.raises(WarehouseError, match="could not answer this question"):
        runner.run("organisations", "all_organisations")


def test_a_broken_session_is_closed_and_the_retry_signs_in_again(fake_snowflake):
    runner = snowflake_runner([])
    runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
    assert len(fake_snowflake.sign_ins) == 1
    fake_snowflake.query_faults = [request_failed()]
    frame = runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert frame["organisation_name"].tolist() == ["Beta Practice"]
    assert len(fake_snowflake.closed) == 1 and len(fake_snowflake.sign_ins) == 2


def test_a_timed_out_query_keeps_its_session(fake_snowflake):
    runner = snowflake_runner([])
    runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
    fake_snowflake.query_faults = [statement_timeout()]
    runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert fake_snowflake.closed == [] and len(fake_snowflake.sign_ins) == 1


def test_after_an_outage_the_warehouse_is_left_alone_for_the_cooldown_then_tried_again(fake_snowflake):
    runner = snowflake_runner([], ACCURX_OUTAGE_COOLDOWN_SECONDS="0.5", ACCURX_QUERY_ATTEMPTS="1")
    fake_snowflake.sign_in_faults = [unreachable()]
    with pytest.raises(WarehouseError, match="could not be reached"):
        runner.run("organisations", "all_organisations")
    with pytest.raises(WarehouseError, match="could not be reached") as raised:
        runner.run("organisations", "all_organisations")
    assert raised.value.facts["circuit"] == "open"
    assert len(fake_snowflake.sign_ins) == 1  # the second request did not try
    time.sleep(0.6)
    assert len(runner.run("organisations", "all_organisations")) == 2  # recovered by itself
    assert len(fake_snowflake.sign_ins) == 2


# ---------------------------------------------------------------- Snowflake: how it signs in
def test_sign_in_uses_the_key_pair_read_only_role_timeout_and_a_query_tag_per_question(fake_snowflake, key_file):
    runner = snowflake_runner(
        [], SNOWFLAKE_PRIVATE_KEY_FILE=str(key_file), SNOWFLAKE_PRIVATE_KEY_FILE_PWD=SECRET_PASSPHRASE,
        SNOWFLAKE_WAREHOUSE="ACCURX_DASHBOARD_WH", ACCURX_STATEMENT_TIMEOUT_SECONDS="25")
    runner.run("organisations", "all_organisations")
    runner.run("organisations", "organisation_by_id", {"organisation_id": 1})
    runner.backend.execute('select 1 as one from ACCURX."04_PRESENTATION".latest_complete_date', [], "access")
    kwargs = fake_snowflake.sign_ins[0]
    assert kwargs["private_key_file"] == str(key_file)
    assert kwargs["private_key_file_pwd"] == SECRET_PASSPHRASE
    assert "password" not in kwargs
    assert (kwargs["account"], kwargs["user"]) == ("acme-prod", "ACCURX_DASHBOARD_SVC")
    assert (kwargs["role"], kwargs["warehouse"], kwargs["database"]) == (
        "ACCURX_DASHBOARD_READER", "ACCURX_DASHBOARD_WH", "ACCURX")
    assert kwargs["paramstyle"] == "qmark"
    assert kwargs["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] == 25
    tags = [json.loads(k["session_parameters"]["QUERY_TAG"]) for k in fake_snowflake.sign_ins]
    # One session per question, reused by its queries (two organisations queries: one sign-in).
    assert tags == [{"app": "accurx-dashboard", "question": "organisations"},
                    {"app": "accurx-dashboard", "question": "access"}]
    assert runner.backend.pool.idle_count() == 2


def test_role_can_be_overridden_and_a_named_connection_is_passed_to_the_connector(fake_snowflake):
    runner = cached_runner({"ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_CONNECTION_NAME": "accurx_prod",
                            "SNOWFLAKE_ROLE": "ACCURX_DASHBOARD_READER_EU", **FAST_RETRIES})
    runner.run("organisations", "all_organisations")
    kwargs = fake_snowflake.sign_ins[0]
    assert kwargs["connection_name"] == "accurx_prod" and kwargs["role"] == "ACCURX_DASHBOARD_READER_EU"
    assert "account" not in kwargs  # it comes from connections.toml


def test_the_pool_keeps_a_bounded_number_of_idle_sessions(fake_snowflake):
    runner = snowflake_runner([], ACCURX_SNOWFLAKE_POOL_SIZE="2")
    for question in ("access", "usage", "churn", "unpaid"):
        runner.backend.execute('select 1 from ACCURX."04_PRESENTATION".latest_complete_date', [], question)
    assert runner.backend.pool.idle_count() == 2
    assert len(fake_snowflake.closed) == 2  # the least recently used were signed out


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "set SNOWFLAKE_CONNECTION_NAME"),
    ({"SNOWFLAKE_ACCOUNT": "acme-prod", "SNOWFLAKE_PRIVATE_KEY_FILE": "/nonexistent/rsa_key.p8"},
     "SNOWFLAKE_PRIVATE_KEY_FILE cannot be read"),
])
def test_missing_connection_settings_are_explained(settings, message, fake_snowflake):
    runner = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake", **settings}, environ={}))
    with pytest.raises(WarehouseError, match=message) as raised:
        runner.run("organisations", "all_organisations")
    assert raised.value.kind == "config" and fake_snowflake.sign_ins == []


def test_an_unknown_connection_name_is_a_configuration_error(monkeypatch):
    import snowflake.connector

    def connect(**kwargs):
        raise sf.Error(f"Invalid connection_name '{kwargs['connection_name']}', known ones are []")

    monkeypatch.setattr(snowflake.connector, "connect", connect)
    runner = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_CONNECTION_NAME": "nope"},
                                  environ={}))
    with pytest.raises(WarehouseError, match="not set up correctly") as raised:
        runner.run("organisations", "all_organisations")
    assert raised.value.kind == "config" and not raised.value.serves_stale


def test_identical_requests_send_byte_identical_sql(fake_snowflake):
    """Same request, same bytes (and the value only as a bound parameter): Snowflake's
    result cache can answer a repeated query without running the warehouse."""
    first, second = Runner(load_settings(snowflake_settings(), environ={})), \
        Runner(load_settings(snowflake_settings(), environ={}))
    for runner, organisation_id in ((first, 2), (first, 2), (second, 2), (first, 1)):
        runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id})
    sent = [(sql, params) for sql, params in fake_snowflake.executed if "organisation_id = ?" in sql]
    assert len(sent) == 4
    assert len({sql.encode() for sql, _ in sent}) == 1
    assert [params for _, params in sent] == [[2], [2], [2], [1]]
    assert "2" not in sent[0][0].split("where")[-1]
    identity = [sql for sql, _ in fake_snowflake.executed if "organisation_id = ?" not in sql]
    assert len({sql.encode() for sql in identity}) == 1


# ---------------------------------------------------------------- logs
def test_query_logs_hold_no_parameter_values_messages_or_secrets(fake_snowflake, key_file, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    organisation_id = 918273645
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_FILE_PWD", SECRET_PASSPHRASE)
    runner = cached_runner({**snowflake_settings(SNOWFLAKE_PRIVATE_KEY_FILE=str(key_file)),
                            "SNOWFLAKE_PRIVATE_KEY_FILE_PWD": os.environ["SNOWFLAKE_PRIVATE_KEY_FILE_PWD"]},
                           [])
    runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id})
    # Snowflake quotes a value it could not convert in its message: it must not reach the log.
    fake_snowflake.query_faults = [sf.ProgrammingError(
        msg=f"Numeric value '{organisation_id}x' is not recognized; passphrase {SECRET_PASSPHRASE}",
        errno=100038, sqlstate="22018")]
    with pytest.raises(WarehouseError):
        runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id + 1})
    runner.backend._identity = None
    runner.backend.pool.close_all()
    fake_snowflake.sign_in_faults = [refused_key_pair(), refused_key_pair()]
    stale = runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id})
    assert staleness_of(stale) is not None
    with pytest.raises(WarehouseError):
        runner.run("organisations", "organisation_by_id", {"organisation_id": organisation_id + 2})

    lines = query_lines(caplog)
    assert [line["cache"] for line in lines] == ["miss", "error", "stale", "error"]
    for line in lines:
        assert {"question", "query", "ms", "cache", "rows", "retries"} <= set(line)
    everything = caplog.text + json.dumps([r.__dict__.get("args") for r in caplog.records], default=str)
    assert str(organisation_id) not in everything
    assert SECRET_PASSPHRASE not in everything
    assert SECRET_PASSPHRASE not in repr(runner.settings) + json.dumps(runner.settings.describe())
    assert runner.settings.describe()["auth"] == "key pair"


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
