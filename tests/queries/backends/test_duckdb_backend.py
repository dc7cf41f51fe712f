"""queries/backends/duckdb.py, driven through the runner: one shared read-only connection
per build, closed when idle; a missing file, a file locked by a writer in another
process and a query interrupted by the statement timeout, each injected for real."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from runner_support import ORGANISATIONS, assert_backoff, cached_runner

from config import load_settings
from queries.backends.duckdb import MAX_CONCURRENT_QUERIES, DuckDBBackend
from queries.errors import WarehouseError, staleness_of
from queries.runner import Runner


def test_keep_open_zero_leaves_no_connection_open(warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse),
                                   "ACCURX_DUCKDB_KEEP_OPEN_SECONDS": "0"}, environ={}))
    runner.run("organisations", "all_organisations")
    # A writer in this process can open the file only if no read-only connection is open.
    con = duckdb.connect(str(warehouse))
    con.close()


def test_by_default_the_read_only_connection_stays_open_between_queries(warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    runner.run("organisations", "all_organisations")
    with pytest.raises(duckdb.ConnectionException):
        duckdb.connect(str(warehouse))  # read-write, while the reader is open
    runner.backend._shared.close()
    duckdb.connect(str(warehouse)).close()


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


def closed_and_writable(shared, warehouse) -> None:
    """Wait (at most 20 s) for the idle close; then a writer can lock the file."""
    deadline = time.monotonic() + 20
    while shared.connection is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert shared.connection is None
    release = hold_write_lock(warehouse)  # raises if a reader still held the file
    release()


def test_idle_connection_is_closed_so_a_writer_in_place_can_proceed(warehouse):
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "CACHE_TYPE": "NullCache",
                            "ACCURX_DUCKDB_KEEP_OPEN_SECONDS": "1"})
    runner.run("organisations", "all_organisations")
    shared = runner.backend._shared
    assert shared.connection is not None
    closed_and_writable(shared, warehouse)
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


def test_a_query_beyond_the_bound_waits_at_most_the_statement_timeout(warehouse):
    """At most MAX_CONCURRENT_QUERIES queries of a process run at once on one file: one
    more, queued behind them, gives up after the statement timeout (a timeout, served
    stale if it can) instead of waiting for every query ahead of it."""
    held = [Held(backend_for(warehouse, timeout=120)) for _ in range(MAX_CONCURRENT_QUERIES)]
    for query in held:
        query.start(COUNT_ORGANISATIONS)
        assert query.entered.wait(60), "a held query never started"
    runner = cached_runner({"ACCURX_DUCKDB_PATH": str(warehouse), "ACCURX_STATEMENT_TIMEOUT_SECONDS": "1",
                            "ACCURX_QUERY_ATTEMPTS": "1"})
    raised: list[WarehouseError] = []

    def ask():
        try:
            runner.run("organisations", "all_organisations")
        except WarehouseError as exc:
            raised.append(exc)

    started = time.monotonic()
    waiter = threading.Thread(target=ask, daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    waited = time.monotonic() - started
    assert raised, "the query was still waiting for a turn after 10 s"
    assert raised[0].kind == "timeout" and raised[0].facts["cause"] == "LockWait"
    assert 0.9 <= waited < 3
    for query in held:  # the queries that held every turn were not disturbed
        assert query.finish() == [(len(ORGANISATIONS), HELD)]
    assert len(runner.run("organisations", "all_organisations")) == 2  # the turns are free again


# ---------------------------------------------------------------- DuckDB: concurrent queries
COUNT_ORGANISATIONS = 'select (select count(*) from "04_PRESENTATION".organisations) as n, {hold}() as held'
NAMES = 'select organisation_name from "04_PRESENTATION".organisations order by organisation_id'
# Long enough never to end by itself within a test: ended by an interrupt.
CROSS_JOIN = "select sum(a.range * b.range) from range(100000000) a, range(100000000) b"
HELD = 7


def backend_for(path: Path, timeout: float, keep_open: float = 30) -> DuckDBBackend:
    return DuckDBBackend(load_settings({"ACCURX_DUCKDB_PATH": str(path),
                                        "ACCURX_STATEMENT_TIMEOUT_SECONDS": str(timeout),
                                        "ACCURX_DUCKDB_KEEP_OPEN_SECONDS": str(keep_open)}, environ={}))


class Held:
    """A query run by `backend` in its own thread, on the backend's own cursor, that stays
    in flight (inside a Python function DuckDB calls) until `finish`: `entered` is set
    once DuckDB is running it. Its SQL names the function `{hold}`."""

    _names = itertools.count()

    def __init__(self, backend: DuckDBBackend):
        self.backend = backend
        self.entered, self.release = threading.Event(), threading.Event()
        self.result: list | WarehouseError | None = None
        self.name = f"hold_{next(self._names)}"
        real_connect = backend.connect

        def connect():
            cursor = real_connect()
            cursor.create_function(self.name, self._hold, [], "BIGINT", side_effects=True)
            return cursor

        backend.connect = connect

    def _hold(self) -> int:
        self.entered.set()
        self.release.wait(60)
        return HELD

    def start(self, sql: str) -> Held:
        def run():
            try:
                self.result = self.backend.execute(sql.format(hold=self.name), [])[1]
            except WarehouseError as exc:
                self.result = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def finish(self):
        self.release.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        return self.result


class Running:
    """A real long computation (CROSS_JOIN) run by `backend` in its own thread: `started`
    is set just before DuckDB is asked; `interrupt` ends it through its own cursor."""

    def __init__(self, backend: DuckDBBackend):
        self.started, self.done = threading.Event(), threading.Event()
        self.cursor = None
        self.result: Any = None
        real_connect = backend.connect

        def connect():
            self.cursor = real_connect()
            return Announced(self.cursor, self.started)

        backend.connect = connect

        def run():
            try:
                self.result = backend.execute(CROSS_JOIN, [])
            except WarehouseError as exc:
                self.result = exc
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()


class Announced:
    """A cursor that sets `started` when asked to run its statement."""

    def __init__(self, cursor, started):
        self.cursor, self.started = cursor, started

    def execute(self, sql, params):
        self.started.set()
        return self.cursor.execute(sql, params)

    def interrupt(self):
        self.cursor.interrupt()

    def close(self):
        self.cursor.close()


def test_a_fast_query_completes_while_a_slow_one_is_still_running(warehouse):
    """Queries on one file overlap: a small question is answered while a long computation
    of another thread (same process, same file) is still running, and the long one is
    still in flight afterwards (it ends only when interrupted)."""
    slow = Running(backend_for(warehouse, timeout=300))
    assert slow.started.wait(60)
    fast = backend_for(warehouse, timeout=300)
    columns, rows = fast.execute(NAMES, [])
    assert (columns, rows) == (["organisation_name"], [(name,) for _, name in ORGANISATIONS])
    assert not slow.done.is_set()  # the slow query was running all along
    assert fast._shared.running == 1
    slow.cursor.interrupt()
    assert slow.done.wait(60)
    assert isinstance(slow.result, WarehouseError) and slow.result.kind == "timeout"
    assert fast._shared.running == 0


def test_the_statement_timeout_interrupts_only_the_query_that_ran_over(warehouse):
    """The watchdog interrupts the cursor of the query past its deadline: a query of
    another thread, in flight on the same connection all the while, is answered."""
    patient = Held(backend_for(warehouse, timeout=300)).start(COUNT_ORGANISATIONS)
    assert patient.entered.wait(60)
    hasty = backend_for(warehouse, timeout=1)
    with pytest.raises(WarehouseError, match="took longer than 1 s") as raised:
        hasty.execute(CROSS_JOIN, [])
    assert raised.value.kind == "timeout" and raised.value.facts["cause"] == "InterruptException"
    assert patient.thread.is_alive()  # still in flight after the other query's interrupt
    assert patient.finish() == [(len(ORGANISATIONS), HELD)]
    assert hasty._shared.connection is not None  # the shared connection was left alone
    assert hasty.execute(NAMES, [])[1] == [(name,) for _, name in ORGANISATIONS]


def test_a_rebuild_lets_queries_in_flight_finish_on_the_old_build(warehouse, make_tiny_warehouse):
    """The file is replaced (os.replace, as `warehouse build` does) while a query runs on
    the old build: that query is answered from the old build, not aborted; a query asked
    meanwhile reads the new build (it waits for the old one to be let go), and so does
    the next."""
    before = Held(backend_for(warehouse, timeout=300)).start(COUNT_ORGANISATIONS)
    assert before.entered.wait(60)
    old_connection = before.backend._shared.connection
    make_tiny_warehouse(warehouse, ORGANISATIONS + [(3, "Gamma Health Centre")])

    meanwhile: list = []
    asking = backend_for(warehouse, timeout=300)
    looked = threading.Event()
    real_identity = asking.identity

    def identity():
        try:
            return real_identity()
        finally:
            looked.set()

    asking.identity = identity
    asker = threading.Thread(daemon=True, target=lambda: meanwhile.append(asking.execute(NAMES, [])[1]))
    asker.start()
    assert looked.wait(60)  # the asker has seen the new build, under the shared lock ...
    with asking._shared.lock:  # ... and let go of it: it waits for the old build's query
        assert asker.is_alive() and before.thread.is_alive()
    assert before.finish() == [(2, HELD)]  # the old build's answer, in full
    asker.join(timeout=60)
    assert meanwhile == [[(name,) for _, name in ORGANISATIONS] + [("Gamma Health Centre",)]]
    after = backend_for(warehouse, timeout=300)
    assert after.execute(NAMES, [])[1][-1] == ("Gamma Health Centre",)
    shared = after._shared
    assert shared.connection is not old_connection and shared.identity == after.identity()
    with pytest.raises(duckdb.ConnectionException):  # the old build's connection was closed
        old_connection.execute("select 1")


def test_the_idle_close_waits_for_the_query_running(warehouse):
    """The connection is closed once idle for ACCURX_DUCKDB_KEEP_OPEN_SECONDS, never
    under a query in flight: the idle check that comes due while a query runs leaves it
    open, and the connection is closed once that query has ended and the delay passed."""
    backend = backend_for(warehouse, timeout=300, keep_open=1)
    backend.execute(NAMES, [])  # arms the idle check, due in 1 s
    shared = backend._shared
    first_check = shared._idle_timer
    running = Held(backend_for(warehouse, timeout=300, keep_open=1)).start(COUNT_ORGANISATIONS)
    assert running.entered.wait(60)
    first_check.join(timeout=60)  # the idle check ran while the query was in flight
    assert not first_check.is_alive() and running.thread.is_alive()
    assert shared.connection is not None
    assert shared._idle_timer is not first_check  # and looks again later
    assert running.finish() == [(len(ORGANISATIONS), HELD)]
    closed_and_writable(shared, warehouse)



FORK = """
import json, os, sys
from config import load_settings
from queries.backends.duckdb import DuckDBBackend

backend = DuckDBBackend(load_settings({"ACCURX_DUCKDB_PATH": sys.argv[1]}, environ={}))
sql = 'select organisation_name from "04_PRESENTATION".organisations order by organisation_id'
parent_rows = backend.execute(sql, [])[1]
parent_connection = backend._shared.connection
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    seen = backend._shared.connection
    rows = backend.execute(sql, [])[1]
    os.write(write, json.dumps({"saw_connection": seen is not None, "rows": rows,
                                "own": backend._shared.connection is not parent_connection}).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    child = json.loads(pipe.read())
os.waitpid(pid, 0)
print(json.dumps({"child": child, "parent_rows": parent_rows,
                  "parent_kept": backend._shared.connection is parent_connection,
                  "parent_after": backend.execute(sql, [])[1]}))
"""


def test_a_forked_process_opens_its_own_connection_and_leaves_the_parents_alone(warehouse):
    """A forked child (a worker forked from a process that had queried) does not use its
    parent's connection: it opens its own, and the parent's stays open and usable. In a
    fresh interpreter: a child forked from pytest would inherit every earlier test's
    DuckDB instances and threads, which DuckDB does not survive (it is not fork-safe;
    gunicorn's master never queries, so its workers start without any)."""
    out = subprocess.run([sys.executable, "-c", FORK, str(warehouse)], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parents[3], check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    names = [[name] for _, name in ORGANISATIONS]
    assert report == {"child": {"saw_connection": False, "own": True, "rows": names},
                      "parent_rows": names, "parent_kept": True, "parent_after": names}
