"""The DuckDB backend: one read-only connection per build of the file, shared, closed when idle.

The embedded warehouse is a single DuckDB file that `warehouse load` / `build` replace
with os.replace. This module keeps one read-only connection per file per process (the
catalog load costs more than most dashboard queries), follows a replaced file, closes
the connection once idle so that a writer in place is not locked out, and interrupts a
query that runs past the statement timeout (one watchdog thread per process).
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


class _SharedConnection:
    """One read-only DuckDB connection per warehouse path, per process, for every backend.

    Opening a connection costs tens of milliseconds (catalog load), more than most
    dashboard queries, so it is kept open and reused until the file's build identity
    changes. DuckDB shares one database instance between connections to the same path in
    a process, so every backend of the process must go through this one object: a stale
    connection held elsewhere would make a fresh one read the replaced file. Replacing
    the file (os.replace by `load` and `build`) never disturbs an open connection, which
    keeps reading the old inode until it is closed here.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()  # queries on one path run one at a time
        self.connection: duckdb.DuckDBPyConnection | None = None
        self.identity: str | None = None
        self.pid: int | None = None
        self.last_used = 0.0
        self._idle_timer: threading.Timer | None = None

    def current(self, path: Path, identity: str) -> duckdb.DuckDBPyConnection:
        """The open connection for `identity` (opened, or re-opened after a rebuild).
        Call with `lock` held."""
        if self.pid != os.getpid():  # forked: the parent's connection is not ours to use
            self.connection, self.identity = None, None
        if self.connection is not None and self.identity != identity:
            self.close()
        if self.connection is None:
            self.connection = duckdb.connect(str(path), read_only=True)
            self.identity, self.pid = identity, os.getpid()
            events.info(json.dumps({"event": "duckdb_connected", "build": identity}))
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection, self.identity = None, None

    def release(self, keep_open_seconds: float) -> None:
        """After a query (lock held): close now, or once idle for `keep_open_seconds`, so
        an idle dashboard does not hold the file's lock forever."""
        self.last_used = time.monotonic()
        if keep_open_seconds <= 0:
            self.close()
        elif self._idle_timer is None or not self._idle_timer.is_alive():
            self._arm(keep_open_seconds)

    def _arm(self, delay: float) -> None:
        self._idle_timer = threading.Timer(delay, self._close_if_idle, args=(delay,))
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _close_if_idle(self, keep_open_seconds: float) -> None:
        with self.lock:
            if self.connection is None or self.pid != os.getpid():
                return
            idle = time.monotonic() - self.last_used
            if idle >= keep_open_seconds:
                self.close()
            else:
                self._arm(keep_open_seconds - idle)


class _Watchdog:
    """Interrupts a query that runs past its deadline: one thread per process, woken
    only when a query starts (a threading.Timer per query costs a thread start, about
    as long as a small query)."""

    def __init__(self) -> None:
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


class DuckDBBackend:
    """Read-only, one long-lived connection per build of the file, following replacement.

    The warehouse build swaps a new file in with os.replace. The connection (shared by
    every backend on the same path in this process, see _SharedConnection) is reused
    while the file's build identity (inode, mtime, size) is unchanged and re-opened when
    it changes; queries on one file run one at a time. The build identity is also read
    after each query; if the file changed meanwhile the query is run again on the new
    file. A file locked by a writer in another process is a transient failure ("busy");
    a missing file is "not_built".
    """

    name = "duckdb"

    def __init__(self, settings: Settings):
        self.path = settings.duckdb_path
        self.timeout = settings.statement_timeout_seconds
        self.keep_open_seconds = settings.duckdb_keep_open_seconds
        self.presentation = quote_identifier(settings.presentation_schema)
        self._shared = _shared_connection(self.path)

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
        """The shared connection to the current build. Call with the shared lock held."""
        try:
            identity = self.identity()
        except WarehouseError:
            self._shared.close()  # the file is gone: let go of the deleted one
            raise
        return self._shared.current(self.path, identity)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the file's lock (its queries run one at a time), waiting at most the
        statement timeout for it: a waiter behind slow queries fails as a timeout."""
        if not self._shared.lock.acquire(timeout=self.timeout or -1):
            raise WarehouseError(
                f"The warehouse was busy with other questions for {self.timeout} s; try again "
                "in a minute or with a shorter period.",
                "timeout", cause="LockWait",
            )
        try:
            yield
        finally:
            self._shared.lock.release()

    def execute(self, sql: str, params: list[Any], question: str = "") -> tuple[list[str], list[tuple]]:
        """(columns, rows) of `sql` on the current build (`question` is unused here).
        Raises WarehouseError."""
        with self._turn():
            con = None
            watch = None
            try:
                con = self.connect()
                if self.timeout:
                    watch = _WATCHDOG.watch(self.timeout, con.interrupt)
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
                self._shared.close()
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
                if con is not None:
                    self._shared.release(self.keep_open_seconds)
