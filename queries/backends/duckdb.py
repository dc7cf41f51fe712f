"""The DuckDB backend: one read-only database instance per build of the file, shared,
queried through one cursor per query (up to MAX_CONCURRENT_QUERIES at a time), closed
when idle.

The embedded warehouse is a single DuckDB file that `warehouse load` / `build` replace
with os.replace. This module keeps one read-only connection per file per process (the
catalog load costs more than most dashboard queries) and runs each query on a cursor of
it (`con.cursor()`: another connection to the same database instance, cheap, so queries
of parallel callbacks overlap). It follows a replaced file without aborting queries in
flight on the old build, closes the connection once idle so that a writer in place is
not locked out, and interrupts a query that runs past the statement timeout (its own
cursor only; one watchdog thread per process).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from config import Settings
from queries.errors import WarehouseError, cause_facts
from queries.sqlfile import quote_identifier

# Connection events (not queries): kept off `accurx.queries`, whose lines are one per query.
events = logging.getLogger("accurx.warehouse")

# Queries of one process running at once on one file. A page fires 4-12 callbacks in
# parallel; on a 2-4 core machine more than a few concurrent DuckDB queries only share the
# same cores, and a flood must not start unbounded work. A query beyond the bound waits at
# most the statement timeout for a turn, then fails as a timeout.
MAX_CONCURRENT_QUERIES = 4


class _SharedConnection:
    """One read-only DuckDB connection per warehouse path, per process, for every backend;
    each query runs on its own cursor of it.

    Opening a connection costs tens of milliseconds (catalog load), more than most
    dashboard queries, so it is kept open and reused until the file's build identity
    changes. DuckDB shares one database instance between connections to the same path in
    a process (and keeps answering from it while any of its connections or cursors is
    open, even once the path names a new file), so every backend of the process must go
    through this one object, and the new build can be opened only once the old one is
    closed. Replacing the file (os.replace by `load` and `build`) never disturbs an open
    connection, which keeps reading the old inode until it is closed here.

    A rebuild therefore retires the old connection: queries in flight on it finish (it is
    closed when the last one ends; closing a connection closes its cursors), and a query
    that saw the new build waits for them, at most the statement timeout, before opening
    the new one. `lock` guards the state below and is held only for bookkeeping (and the
    opening of a connection), never while a query runs.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.lock = threading.Condition()  # state only, never held while a query runs
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT_QUERIES)
        self.connection: duckdb.DuckDBPyConnection | None = None
        self.identity: str | None = None
        self.pid: int | None = os.getpid()
        self.running = 0  # queries in flight on `connection`
        self.last_used = 0.0
        self._idle_timer: threading.Timer | None = None

    def after_fork(self) -> None:
        """In a forked child: the parent's connection, locks and counts are not ours (the
        parent's threads that held them do not exist here). Dropped, never closed."""
        self._reset()

    def begin(self, path: Path, identity: Callable[[], str], wait_seconds: float) -> duckdb.DuckDBPyConnection:
        """A cursor on the current build, counted as running until `end`. `identity` reads
        the file's build identity (raising WarehouseError when it is missing). A rebuilt file
        is opened once the queries in flight on the old build have ended, waited for at most
        `wait_seconds` (0: without limit)."""
        deadline = time.monotonic() + wait_seconds if wait_seconds else None
        with self.lock:
            if self.pid != os.getpid():  # forked without the at-fork hook: not ours to use
                self.connection, self.identity, self.running, self.pid = None, None, 0, os.getpid()
            while True:
                try:
                    current = identity()
                except WarehouseError:
                    self._close_when_idle()  # the file is gone: let go of the deleted one
                    raise
                if self.connection is None or self.identity == current:
                    break
                if self.running == 0:
                    self._close()
                    break
                # A rebuild while queries run on the old build: let them finish.
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise _busy_error(wait_seconds)
                self.lock.wait(timeout=remaining)
            if self.connection is None:
                self.connection = duckdb.connect(str(path), read_only=True)
                self.identity = current
                events.info(json.dumps({"event": "duckdb_connected", "build": current}))
            cursor = self.connection.cursor()
            self.running += 1
            return cursor

    def end(self, keep_open_seconds: float) -> None:
        """After a query begun with `begin` (its cursor closed): close the connection now
        if it is retired or must not stay open, or once idle for `keep_open_seconds`, so an
        idle dashboard does not hold the file's lock forever."""
        with self.lock:
            self.running -= 1
            self.last_used = time.monotonic()
            if keep_open_seconds <= 0:
                self._close_when_idle()
            elif self._idle_timer is None or not self._idle_timer.is_alive():
                self._arm(keep_open_seconds)
            self.lock.notify_all()  # a query waiting for a rebuilt file to be opened

    def close(self) -> None:
        """Close the connection now, unless queries are running on it (then it is closed
        when the last one ends, or when the next query finds the file rebuilt)."""
        with self.lock:
            self._close_when_idle()

    def _close_when_idle(self) -> None:
        if self.running == 0:
            self._close()

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection, self.identity = None, None

    def _arm(self, delay: float) -> None:
        self._idle_timer = threading.Timer(delay, self._close_if_idle, args=(delay,))
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _close_if_idle(self, keep_open_seconds: float) -> None:
        with self.lock:
            if self.connection is None or self.pid != os.getpid():
                return
            idle = time.monotonic() - self.last_used
            if self.running == 0 and idle >= keep_open_seconds:
                self._close()
            else:  # a query is running or ran lately: look again once it may be idle
                self._arm(max(keep_open_seconds - idle, 0.05) if self.running == 0 else keep_open_seconds)


def _busy_error(seconds: float) -> WarehouseError:
    return WarehouseError(
        f"The warehouse was busy with other questions for {seconds} s; try again "
        "in a minute or with a shorter period.",
        "timeout", cause="LockWait",
    )


class _Watchdog:
    """Interrupts a query that runs past its deadline: one thread per process, woken
    only when a query starts (a threading.Timer per query costs a thread start, about
    as long as a small query)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._watched: dict[int, tuple[float, Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None
        self._next_token = 0

    def watch(self, seconds: float, interrupt: Callable[[], None]) -> int:
        with self._condition:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="accurx-query-watchdog",
                                                daemon=True)
                self._thread.start()
            self._next_token += 1
            self._watched[self._next_token] = (time.monotonic() + seconds, interrupt)
            self._condition.notify()
            return self._next_token

    def done(self, token: int) -> None:
        with self._condition:
            self._watched.pop(token, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for token, (deadline, interrupt) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[token]
                        interrupt()
                deadlines = [deadline for deadline, _ in self._watched.values()]
                self._condition.wait(timeout=max(0.0, min(deadlines) - now) if deadlines else None)


_WATCHDOG = _Watchdog()
_SHARED_CONNECTIONS: dict[str, _SharedConnection] = {}
_SHARED_CONNECTIONS_LOCK = threading.Lock()


def _shared_connection(path: Path) -> _SharedConnection:
    key = os.path.abspath(path)
    with _SHARED_CONNECTIONS_LOCK:
        return _SHARED_CONNECTIONS.setdefault(key, _SharedConnection())


def _after_fork_in_child() -> None:
    # A lock held by one of the parent's threads at the fork would be held forever here.
    global _SHARED_CONNECTIONS_LOCK
    _SHARED_CONNECTIONS_LOCK = threading.Lock()
    for shared in _SHARED_CONNECTIONS.values():
        shared.after_fork()
    _WATCHDOG._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)


class DuckDBBackend:
    """Read-only, one long-lived connection per build of the file, following replacement;
    one cursor per query.

    The warehouse build swaps a new file in with os.replace. The connection (shared by
    every backend on the same path in this process, see _SharedConnection) is reused
    while the file's build identity (inode, mtime, size) is unchanged and re-opened when
    it changes (once the queries in flight on the old build have ended); up to
    MAX_CONCURRENT_QUERIES queries run at once, each on its own cursor. The build identity
    is also read after each query (by the runner); if the file changed meanwhile the query
    is run again on the new file. A file locked by a writer in another process is a
    transient failure ("busy"); a missing file is "not_built".
    """

    name = "duckdb"

    def __init__(self, settings: Settings):
        self.path = settings.duckdb_path
        self.timeout = settings.statement_timeout_seconds
        self.keep_open_seconds = settings.duckdb_keep_open_seconds
        self.presentation = quote_identifier(settings.presentation_schema)
        self._shared = _shared_connection(self.path)
        self._begun = threading.local()  # this thread's query holds a cursor: `end` is due

    def identity(self) -> str:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseError(
                # The file's name only: the page is no place for the server's folders.
                f"The warehouse has not been built yet: its file ({self.path.name}) does not "
                "exist. Run `make run` (it builds the demo warehouse) or set ACCURX_DUCKDB_PATH.",
                "not_built", cause="FileNotFoundError",
            ) from None
        return f"duckdb:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the shared connection to the current build, for one query of this
        thread (counted as running until `execute` ends it). Call within `_turn`."""
        cursor = self._shared.begin(self.path, self.identity, self.timeout)
        self._begun.active = True
        return cursor

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One of the file's MAX_CONCURRENT_QUERIES turns, waited for at most the
        statement timeout: a waiter behind slow queries fails as a timeout."""
        if not self._shared.slots.acquire(timeout=self.timeout or None):
            raise _busy_error(self.timeout)
        slots = self._shared.slots  # the one acquired, even if a fork hook replaced it since
        try:
            yield
        finally:
            slots.release()

    def execute(self, sql: str, params: list[Any], question: str = "") -> tuple[list[str], list[tuple]]:
        """(columns, rows) of `sql` on the current build (`question` is unused here).
        Raises WarehouseError."""
        with self._turn():
            con = None
            watch = None
            self._begun.active = False
            try:
                con = self.connect()
                if self.timeout:
                    watch = _WATCHDOG.watch(self.timeout, con.interrupt)  # this query's cursor only
                cursor = con.execute(sql, params)
                columns = [d[0] for d in cursor.description]
                return columns, cursor.fetchall()
            except duckdb.InterruptException as exc:
                raise WarehouseError(
                    f"The warehouse took longer than {self.timeout} s to answer; try a shorter period.",
                    "timeout", **cause_facts(exc),
                ) from exc
            except duckdb.CatalogException as exc:
                raise WarehouseError(
                    "The warehouse does not have a view this page needs; it may be an older "
                    "build. Rebuild the warehouse.",
                    "missing_view", **cause_facts(exc),
                ) from exc
            except duckdb.IOException as exc:
                self._end(con)
                con = None
                self._shared.close()  # closed now, or when the queries still on it end
                if not self.path.exists():
                    self.identity()
                raise WarehouseError(
                    "The warehouse file is locked or could not be opened (it may be being "
                    "rebuilt); try again in a minute.",
                    "busy", **cause_facts(exc),
                ) from exc
            except duckdb.Error as exc:
                raise WarehouseError(
                    "The warehouse could not answer this question; the error is in the server log.",
                    "query_failed", **cause_facts(exc),
                ) from exc
            finally:
                if watch is not None:
                    _WATCHDOG.done(watch)
                self._end(con)

    def _end(self, con: Any) -> None:
        """Close this thread's query cursor and count it as ended (once)."""
        if not getattr(self._begun, "active", False):
            return
        self._begun.active = False
        try:
            if con is not None:
                con.close()
        finally:
            self._shared.end(self.keep_open_seconds)
