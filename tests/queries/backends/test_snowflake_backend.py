"""queries/backends/snowflake.py: the runner against a fakesnow server, and each fault
through a stand-in for `snowflake.connector.connect` that answers from a small DuckDB
file and raises the connector's own error classes with the errno and SQLSTATE
Snowflake really sends (390100/28000 for a refused password, 250001 for a server that
cannot be reached, 604/57014 for a statement timeout, ...)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from runner_support import FAST_RETRIES, assert_backoff, cached_runner, query_lines
from snowflake.connector import errors as sf

from config import load_settings
from queries.errors import WarehouseError, staleness_of
from queries.runner import Runner
from queries.sqlfile import QueryRef


@pytest.fixture(scope="module")
def fakesnow_port(tmp_path_factory):
    executable = Path(sys.executable).with_name("fakesnow")
    if not executable.exists() and not shutil.which("fakesnow"):
        pytest.skip("fakesnow is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("fakesnow") / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(executable), "-s", "-p", str(port)], stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"fakesnow server did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.snowflake
def test_runner_against_fakesnow(fakesnow_port):
    import snowflake.connector

    connection = {"account": "fakesnow", "user": "dashboard", "password": "unused", "host": "127.0.0.1",
                      "port": fakesnow_port, "protocol": "http"}
    con = snowflake.connector.connect(**connection)
    cur = con.cursor()
    cur.execute("create database if not exists ACCURX")
    cur.execute('create schema if not exists ACCURX."04_PRESENTATION"')
    cur.execute('create table ACCURX."04_PRESENTATION".organisations (organisation_id int, '
                "organisation_name varchar, region varchar, first_export_date date, last_export_date date)")
    cur.execute("insert into ACCURX.\"04_PRESENTATION\".organisations values "
                "(1, 'Alpha Surgery', null, '2026-01-01', '2026-03-01'), "
                "(2, 'Beta Practice', 'London', '2026-01-02', '2026-03-02')")
    con.close()

    settings = load_settings({
        "ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "fakesnow", "SNOWFLAKE_USER": "dashboard",
        "SNOWFLAKE_PASSWORD": "unused", "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": str(fakesnow_port), "SNOWFLAKE_PROTOCOL": "http",
    }, environ={})
    runner = Runner(settings)
    one = runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert one["organisation_name"].tolist() == ["Beta Practice"]
    assert list(one.columns) == ["organisation_id", "organisation_name", "region",
                                 "first_export_date", "last_export_date"]
    assert str(one["last_export_date"].dtype).startswith("datetime64")
    assert runner.backend.identity().startswith("snowflake:")
    with pytest.raises(WarehouseError, match="does not have a view"):
        runner.run("access", "export_dates")


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


def test_the_build_identity_is_the_answer_of_the_statement_the_runner_names(fake_snowflake):
    settings = load_settings(snowflake_settings(), environ={})
    named = QueryRef("organisations", "data_extent")
    runner = Runner(settings, identity_query=named)
    identity = runner.backend.identity()
    sql, params = fake_snowflake.executed[-1]
    assert sql == runner.sql_for(*named).sql and params == []
    assert identity.startswith("snowflake:") and "2026, 3, 31" in identity
    assert json.loads(fake_snowflake.sign_ins[-1]["session_parameters"]["QUERY_TAG"])["question"] == (
        "organisations")
    default = Runner(settings)
    default.backend.identity()
    assert fake_snowflake.executed[-1][0] == default.sql_for("organisations", "build_identity").sql


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
