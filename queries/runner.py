"""The one module that talks to the warehouse: loads named SQL, binds, caches, retries, logs.

Rules for every query module (`queries/<question>.py` + `queries/<question>.sql`):

1. All SQL lives in `queries/<question>.sql` as named statements::

       -- name: options_on_date
       -- grain: one row per (feature, selected_option) enabled on :as_of_date
       -- params: as_of_date (date)
       select feature, selected_option, org_count
       from {presentation}.feature_access_daily
       where date = :as_of_date

   The `-- name:` line starts a statement; the comment lines right after it must
   state the grain and the parameters (the loader refuses a statement without a
   `-- grain:` line). A trailing `;` is optional.
2. The only placeholder is `{presentation}`: the configured, quoted presentation
   schema (`"04_PRESENTATION"` on DuckDB, `ACCURX."04_PRESENTATION"` on Snowflake).
   View and column names are written in the SQL, never taken from input. Read only
   the 04_PRESENTATION views listed in METRICS.md section 3, with explicit columns.
3. Every value is a bound parameter: `:name` (translated here to positional `?`, so
   the text sent is byte-identical for identical requests, which lets Snowflake answer
   a repeated query from its result cache) or plain `?` with a sequence. Pass
   `datetime.date` for dates, not strings. No string formatting.
4. `queries/<question>.py` exposes one small, typed function per statement that calls
   `run_query("<question>", "<name>", {...})` and returns a pandas DataFrame, with a
   docstring saying what is returned and that it raises `WarehouseError`. Shaping
   for display belongs in components, not here.
5. `run_query` raises only `WarehouseError`, whose `str()` is a sentence a user can
   read (warehouse not built, unreachable, sign-in refused, view missing, timeout,
   query failed) and whose `kind` says which. Callbacks catch it and render
   `components.common.error_state(str(err))` on their own tab; nothing else in the
   app needs to know which warehouse is behind it.

Results come back with lower-case column names, dates as pandas datetimes and
numbers as int/float whatever the backend. They are memoised with flask-caching
(per process, or in Redis shared by every worker) under a key made of query name +
SQL text + parameters + the warehouse's build identity (DuckDB: the file's inode,
mtime and size; Snowflake: the latest export date, re-read every
ACCURX_BUILD_CHECK_SECONDS), so a rebuilt warehouse is never served from the cache.

Faults. Transient failures (network, 5xx, session expiry, timeout, a DuckDB file
locked by a rebuild) are retried with jittered exponential back-off, at most
ACCURX_QUERY_ATTEMPTS tries and no retry started after ACCURX_RETRY_BUDGET_SECONDS;
permanent ones (sign-in refused, SQL compilation error, missing view) are not. Each
result is also kept as a "last good" copy keyed WITHOUT the build identity (for
ACCURX_STALE_MAX_AGE_SECONDS). When the warehouse is slow, down, locked, missing or
refuses the sign-in, `run_query` returns that copy instead of raising: the frame
carries a `Staleness` (in `frame.attrs["stale"]`, and gathered per request in
`request_staleness()`), so a callback shows "Showing results from 12 minutes ago:
the warehouse is not answering" with one line::

    return [stale_notice(request_staleness()), chart]   # components.common.stale_notice

After the warehouse was unreachable or refused the sign-in, a worker serves stale
copies without trying it for ACCURX_OUTAGE_COOLDOWN_SECONDS, then tries again: the
app recovers by itself, no restart.

Snowflake sessions carry QUERY_TAG `{"app":"accurx-dashboard","question":"<question>"}`
for cost attribution. The tag is a login session parameter, so idle sessions are pooled
per tag (see SnowflakeBackend for why not `ALTER SESSION`).

Each query logs one JSON line on the `accurx.queries` logger: question, query name,
warehouse, duration, cache hit/miss/stale/error, rows, retries and, on failure, the
failure kind, exception class, errno and SQLSTATE. Never parameter values, error
messages (which can quote values), secrets or personal data.

`run_query` needs a Flask application context (every Dash callback has one; in tests
use `with app.server.app_context():`). `Runner(settings)` works without Flask.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from config import Settings

log = logging.getLogger("accurx.queries")
# Connection events (not queries): kept off `accurx.queries`, whose lines are one per query.
events = logging.getLogger("accurx.warehouse")

QUERIES_DIR = Path(__file__).resolve().parent
PRESENTATION_TOKEN = "{presentation}"
EXTENSION_KEY = "accurx_runner"
QUERY_TAG_APP = "accurx-dashboard"
STALE_ATTR = "stale"
LAST_GOOD_PREFIX = "last-good:"
MAX_BACKOFF_SECONDS = 2.0

_NAME_LINE = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_STALE_G_KEY = "accurx_stale_results"
_FAILED_G_KEY = "accurx_warehouse_failed"
Params = Mapping[str, Any] | Sequence[Any] | None
T = TypeVar("T")


# ---------------------------------------------------------------- failures and staleness
@dataclass(frozen=True)
class FailureKind:
    """How the runner treats one kind of warehouse failure."""

    name: str
    transient: bool  # retried with back-off
    serves_stale: bool  # a "last good" copy may stand in for the answer
    reason: str  # the short phrase a stale notice shows


FAILURE_KINDS = {
    kind.name: kind
    for kind in (
        FailureKind("timeout", True, True, "the warehouse is taking too long to answer"),
        FailureKind("unreachable", True, True, "the warehouse is not answering"),
        FailureKind("busy", True, True, "the warehouse is being rebuilt"),
        FailureKind("not_built", False, True, "the warehouse file is missing"),
        FailureKind("auth", False, True, "the warehouse refused the dashboard's sign-in"),
        FailureKind("config", False, False, "the warehouse connection is not set up"),
        FailureKind("missing_view", False, False, "the warehouse lacks a view this page needs"),
        FailureKind("query_failed", False, False, "the warehouse could not answer this question"),
    )
}
# Kinds that say the warehouse as a whole is out of reach (not just this query).
OUTAGE_KINDS = ("unreachable", "auth")


class WarehouseError(Exception):
    """The warehouse could not answer. `str(err)` is a sentence fit for the page.

    `kind` is a key of FAILURE_KINDS; `facts` are safe to log (exception class, errno,
    SQLSTATE): never an error message, which can quote a parameter value."""

    def __init__(self, message: str, kind: str = "query_failed", **facts: Any):
        super().__init__(message)
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}")
        self.kind = kind
        self.facts = facts

    @property
    def transient(self) -> bool:
        return FAILURE_KINDS[self.kind].transient and not self.facts.get("circuit")

    @property
    def serves_stale(self) -> bool:
        return FAILURE_KINDS[self.kind].serves_stale

    @property
    def reason(self) -> str:
        return FAILURE_KINDS[self.kind].reason


def _cause_facts(exc: BaseException) -> dict[str, Any]:
    """Loggable facts of an exception: its class, and errno/SQLSTATE when it has them."""
    facts: dict[str, Any] = {"cause": type(exc).__name__}
    errno = getattr(exc, "errno", None)
    if isinstance(errno, int) and errno != -1:
        facts["errno"] = errno
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and re.fullmatch(r"[0-9A-Z]{5}", sqlstate):
        facts["sqlstate"] = sqlstate
    return facts


@dataclass(frozen=True)
class Staleness:
    """A result served from its "last good" copy because the warehouse failed."""

    fetched_at: float  # epoch seconds at which the copy was read from the warehouse
    reason: str  # short phrase: "the warehouse is not answering"
    message: str  # the failure's full sentence (str of the WarehouseError)
    kind: str

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.fetched_at)

    @property
    def stale_since(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.fetched_at, tz=dt.UTC)


def staleness_of(*frames: pd.DataFrame) -> Staleness | None:
    """The oldest Staleness among `frames` (None when every one is fresh)."""
    found = [f.attrs.get(STALE_ATTR) for f in frames if isinstance(f, pd.DataFrame)]
    return _oldest([s for s in found if isinstance(s, Staleness)])


def request_staleness() -> Staleness | None:
    """The oldest stale result served in the current Flask request (one Dash callback),
    or None. Outside an application context: None."""
    import flask

    if not flask.has_app_context():
        return None
    return _oldest(flask.g.get(_STALE_G_KEY, []))


def _oldest(found: list[Staleness]) -> Staleness | None:
    return min(found, key=lambda s: s.fetched_at) if found else None


def _remember_stale(staleness: Staleness) -> None:
    import flask

    if flask.has_app_context():
        flask.g.setdefault(_STALE_G_KEY, []).append(staleness)


def _remember_failure() -> None:
    import flask

    if flask.has_app_context():
        flask.g.setdefault(_FAILED_G_KEY, True)


def request_answers_are_current() -> bool:
    """True when every query of the current Flask request was answered from the current
    build: none failed and none was a stale copy (so what the request rendered may be
    reused for the same request on the same build)."""
    import flask

    if not flask.has_app_context():
        return True
    return not flask.g.get(_FAILED_G_KEY) and not flask.g.get(_STALE_G_KEY)


@dataclass(frozen=True)
class Statement:
    """One named statement of a .sql file, with `{presentation}` still in its text."""

    question: str
    name: str
    sql: str
    param_names: tuple[str, ...]  # in order of appearance; empty for `?` statements
    positional: bool


def _translate_named(sql: str) -> tuple[str, tuple[str, ...], bool]:
    """Replace `:name` by `?` outside quotes and comments; keep `::` casts.

    Returns (sql, names in order, whether the statement uses plain `?`)."""
    out: list[str] = []
    names: list[str] = []
    positional = False
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:
                end = sql.find(ch, end + 2)
            end = n - 1 if end == -1 else end
            out.append(sql[i : end + 1])
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1 :])
            names.append(match.group(0))
            out.append("?")
            i += 1 + len(match.group(0))
        else:
            if ch == "?":
                positional = True
            out.append(ch)
            i += 1
    if names and positional:
        raise ValueError("a statement uses both :name and ? parameters")
    return "".join(out), tuple(names), positional


def parse_sql_file(question: str, text: str) -> dict[str, Statement]:
    """Split a .sql file into its named statements (see the module rules)."""
    statements: dict[str, Statement] = {}
    current: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is None:
            return
        header = []
        body_start = 0
        for body_start, line in enumerate(lines):
            if line.strip().startswith("--") or not line.strip():
                header.append(line.strip())
                continue
            break
        else:
            body_start = len(lines)
        if not any(h.lower().startswith("-- grain:") or h.lower().startswith("--grain:") for h in header):
            raise ValueError(f"queries/{question}.sql: statement {current!r} has no '-- grain:' comment")
        body = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
        if not body:
            raise ValueError(f"queries/{question}.sql: statement {current!r} is empty")
        if current in statements:
            raise ValueError(f"queries/{question}.sql: statement {current!r} defined twice")
        sql, names, positional = _translate_named(body)
        leftover = re.findall(r"\{[A-Za-z_]+\}", sql.replace(PRESENTATION_TOKEN, ""))
        if leftover:
            raise ValueError(f"queries/{question}.sql: {current!r} has unknown placeholders {leftover}")
        statements[current] = Statement(question, current, sql, names, positional)

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            flush()
            current, lines = match.group(1), []
        elif current is not None:
            lines.append(line)
    flush()
    return statements


@functools.cache
def load_statements(question: str) -> dict[str, Statement]:
    """The named statements of queries/<question>.sql (read once per process)."""
    if not re.fullmatch(r"[a-z_]+", question):
        raise ValueError(f"not a question name: {question!r}")
    return parse_sql_file(question, (QUERIES_DIR / f"{question}.sql").read_text(encoding="utf-8"))


def quote_identifier(name: str) -> str:
    """Quote an identifier unless it is a plain one (so ACCURX stays case-insensitive)."""
    if _PLAIN_IDENTIFIER.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _bind(statement: Statement, params: Params) -> list[Any]:
    if statement.positional or not statement.param_names:
        if isinstance(params, Mapping):
            if params and not statement.param_names:
                raise ValueError(f"{statement.name} takes no named parameters")
            return []
        return list(params or [])
    if not isinstance(params, Mapping):
        raise TypeError(f"{statement.name} takes named parameters {statement.param_names}")
    missing = [p for p in statement.param_names if p not in params]
    if missing:
        raise ValueError(f"{statement.name} is missing parameters {missing}")
    return [params[p] for p in statement.param_names]


def _normalise(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Same frame whatever the backend: lower-case names, datetimes, plain numbers.

    A column's type is read from its first non-null value in the rows (plain tuples),
    not from pandas Series: for the few rows most queries return, that was most of the
    time spent here."""
    frame = pd.DataFrame.from_records(rows, columns=[c.lower() for c in columns])
    for index, col in enumerate(frame.columns):
        first = next((row[index] for row in rows if row[index] is not None), None)
        if isinstance(first, (dt.date, dt.datetime)):
            frame[col] = pd.to_datetime(frame[col])
        elif isinstance(first, decimal.Decimal):
            values = frame[col]
            numbers = pd.to_numeric(values)
            whole = all(value % 1 == 0 for value in values if value is not None)
            frame[col] = numbers.astype("Int64") if whole else numbers
    return frame


# ---------------------------------------------------------------- DuckDB
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
                f"The warehouse has not been built yet: there is no file at {self.path}. "
                "Run `make run` (it builds the demo warehouse) or set ACCURX_DUCKDB_PATH.",
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

    def execute(self, sql: str, params: list[Any], question: str = "") -> tuple[list[str], list[tuple]]:
        with self._shared.lock:
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
                    "timeout", **_cause_facts(exc),
                ) from exc
            except duckdb.CatalogException as exc:
                raise WarehouseError(
                    "The warehouse does not have a view this page needs; it may be an older "
                    "build. Rebuild the warehouse.",
                    "missing_view", **_cause_facts(exc),
                ) from exc
            except duckdb.IOException as exc:
                self._shared.close()
                if not self.path.exists():
                    self.identity()
                raise WarehouseError(
                    "The warehouse file is locked or could not be opened (it may be being "
                    "rebuilt); try again in a minute.",
                    "busy", **_cause_facts(exc),
                ) from exc
            except duckdb.Error as exc:
                raise WarehouseError(
                    "The warehouse could not answer this question; the error is in the server log.",
                    "query_failed", **_cause_facts(exc),
                ) from exc
            finally:
                if watch is not None:
                    _WATCHDOG.done(watch)
                if con is not None:
                    self._shared.release(self.keep_open_seconds)


# ---------------------------------------------------------------- Snowflake
# Login codes (errno) with which Snowflake refuses credentials: snowflake.connector's
# network.CREDENTIAL_REJECTION_GS_CODES (wrong password 390100, JWT invalid 390144,
# 3943xx key-pair token faults) plus user locked/disabled and role not granted.
SNOWFLAKE_AUTH_ERRNOS = frozenset({
    390100, 390101, 390102, 390144, 390189,
    394300, 394301, 394302, 394303, 394304, 394305, 394306,
    251008,  # ER_INVALID_PRIVATE_KEY: the key file is not a key (or the passphrase is wrong)
})  # fmt: skip
# Network faults raised by the connector (ER_FAILED_TO_CONNECT_TO_DB, _CONNECTION_IS_CLOSED,
# _FAILED_TO_REQUEST, _FAILED_TO_SERVER, _CONNECTION_TIMEOUT, _CHUNK_DOWNLOAD_FAILED) and
# session/master token expiry (390112, 390114): reconnect and try again.
SNOWFLAKE_TRANSIENT_ERRNOS = frozenset({250001, 250002, 250003, 250005, 251011, 252010, 390112, 390114})
# Statement cancelled: STATEMENT_TIMEOUT_IN_SECONDS reached (604 and 630), or the client's
# own timeout cancelled it.
SNOWFLAKE_TIMEOUT_ERRNOS = frozenset({604, 630})
SNOWFLAKE_MISSING_OBJECT_ERRNOS = frozenset({2003})


def snowflake_failure(exc: BaseException, timeout: int) -> WarehouseError:
    """The WarehouseError for an exception of snowflake-connector-python.

    Decided by exception class, errno and SQLSTATE, never by message text."""
    from snowflake.connector import errors as sf

    facts = _cause_facts(exc)
    errno, sqlstate = facts.get("errno"), facts.get("sqlstate")
    http_transient = (
        sf.InternalServerError, sf.ServiceUnavailableError, sf.GatewayTimeoutError,
        sf.BadGatewayError, sf.OtherHTTPRetryableError, sf.RequestTimeoutError,
        sf.TooManyRequests, sf.RequestExceedMaxRetryError,
    )  # fmt: skip
    if errno in SNOWFLAKE_AUTH_ERRNOS or sqlstate == "28000" or isinstance(exc, sf.ForbiddenError):
        return WarehouseError(
            "Snowflake refused the dashboard's sign-in (user, key pair or role); an "
            "administrator needs to check its connection settings.",
            "auth", **facts,
        )
    if errno in SNOWFLAKE_TIMEOUT_ERRNOS or sqlstate == "57014":
        return WarehouseError(
            f"Snowflake took longer than {timeout} s to answer; try a shorter period.",
            "timeout", **facts,
        )
    if (
        errno in SNOWFLAKE_TRANSIENT_ERRNOS
        or isinstance(exc, http_transient)
        or (sqlstate or "").startswith("08")
        or isinstance(exc, (OSError, ConnectionError))
    ):
        return WarehouseError(
            "Snowflake could not be reached; the dashboard will keep trying.",
            "unreachable", **facts,
        )
    if errno in SNOWFLAKE_MISSING_OBJECT_ERRNOS or sqlstate == "42S02":
        return WarehouseError(
            "Snowflake does not have a view this page needs (or this role cannot read "
            "it); the warehouse may be an older build.",
            "missing_view", **facts,
        )
    return WarehouseError(
        "Snowflake could not answer this question; the error is in the server log.",
        "query_failed", **facts,
    )


class SnowflakeConnectionPool:
    """Idle Snowflake connections, kept per query tag (the tag is fixed at login).

    `acquire(tag)` reuses the most recently used idle connection of that tag or signs
    in a new one; `release` returns it; `discard` closes a broken one. At most
    `max_idle` idle connections are kept in all (the least recently used is closed),
    and one idle longer than `max_idle_seconds` is closed rather than reused, well
    before Snowflake expires an idle session (4 hours).
    """

    def __init__(self, connect: Callable[[str], Any], max_idle: int, max_idle_seconds: float):
        self._connect = connect
        self.max_idle = max_idle
        self.max_idle_seconds = max_idle_seconds
        self._idle: dict[str, list[tuple[float, Any]]] = {}
        self._lock = threading.Lock()

    def acquire(self, tag: str):
        now = time.monotonic()
        expired = []
        found = None
        with self._lock:
            stack = self._idle.get(tag, [])
            while stack:
                last_used, con = stack.pop()
                if now - last_used < self.max_idle_seconds:
                    found = con
                    break
                expired.append(con)
        for con in expired:
            self.discard(con)
        return found if found is not None else self._connect(tag)

    def release(self, tag: str, con) -> None:
        evicted = []
        with self._lock:
            self._idle.setdefault(tag, []).append((time.monotonic(), con))
            while self.idle_count_unlocked() > self.max_idle:
                oldest_tag = min(
                    (t for t, stack in self._idle.items() if stack),
                    key=lambda t: self._idle[t][0][0],
                )
                evicted.append(self._idle[oldest_tag].pop(0)[1])
        for old in evicted:
            self.discard(old)

    def idle_count_unlocked(self) -> int:
        return sum(len(stack) for stack in self._idle.values())

    def idle_count(self) -> int:
        with self._lock:
            return self.idle_count_unlocked()

    @staticmethod
    def discard(con) -> None:
        try:
            con.close()
        except Exception as exc:  # noqa: BLE001  (already broken: nothing more to release)
            events.debug(json.dumps({"event": "snowflake_close_failed", "cause": type(exc).__name__}))

    def close_all(self) -> None:
        with self._lock:
            idle = [con for stack in self._idle.values() for _, con in stack]
            self._idle.clear()
        for con in idle:
            self.discard(con)


class SnowflakeBackend:
    """snowflake-connector-python with qmark binding and a small pool of sessions.

    Sign-in: the named connection of connections.toml (SNOWFLAKE_CONNECTION_NAME;
    the connector finds the file in its default location or $SNOWFLAKE_HOME) and/or
    SNOWFLAKE_* variables, which override it; key-pair authentication with
    SNOWFLAKE_PRIVATE_KEY_FILE (+ SNOWFLAKE_PRIVATE_KEY_FILE_PWD). The role is always
    SNOWFLAKE_ROLE (default ACCURX_DASHBOARD_READER, read-only), whatever the file says.

    Session parameters set at login: STATEMENT_TIMEOUT_IN_SECONDS, and QUERY_TAG
    `{"app":"accurx-dashboard","question":"<question>"}`. Setting the tag at login
    rather than with `ALTER SESSION SET QUERY_TAG` before each query means: no extra
    round trip per query, and a tag can never be left over from another question on a
    reused session (an ALTER that failed or was skipped would bill one question's
    queries to another). The cost is a few more idle sessions, which cost nothing in
    Snowflake (compute is billed per warehouse, not per session): the pool keeps
    idle sessions per tag, at most ACCURX_SNOWFLAKE_POOL_SIZE per worker. A
    short-lived connection per query was rejected: a key-pair sign-in costs a round
    trip or two (~0.3-1 s), more than most of these queries.

    A connection that failed below SQL level (network, session) is closed, so the next
    query signs in afresh; one whose query failed (timeout, SQL error) is reused. The
    build identity is the latest export date in `organisations`, re-read at most every
    ACCURX_BUILD_CHECK_SECONDS; its query text never changes, so Snowflake answers it
    from its result cache until a rebuild changes the data.
    """

    name = "snowflake"

    def __init__(self, settings: Settings):
        # Imported now, at app start (~1-7 s), not inside the first query's time budget.
        import snowflake.connector  # noqa: F401

        self.settings = settings
        self.timeout = settings.statement_timeout_seconds
        self.presentation = (
            f"{quote_identifier(settings.database)}.{quote_identifier(settings.presentation_schema)}"
        )
        self.pool = SnowflakeConnectionPool(
            self._sign_in, settings.snowflake_pool_size, settings.snowflake_idle_seconds
        )
        self._identity: tuple[float, str] | None = None
        self._identity_lock = threading.Lock()

    @staticmethod
    def query_tag(question: str) -> str:
        """The QUERY_TAG of a question's sessions: compact JSON, constant per question."""
        return json.dumps({"app": QUERY_TAG_APP, "question": question}, separators=(",", ":"))

    def connection_arguments(self, tag: str) -> dict[str, Any]:
        """Keyword arguments for snowflake.connector.connect (may hold secrets: never log)."""
        settings = self.settings
        if not settings.snowflake_connection_name and not settings.snowflake_params.get("account"):
            raise WarehouseError(
                "The dashboard's Snowflake connection is not set up: set "
                "SNOWFLAKE_CONNECTION_NAME (connections.toml) or SNOWFLAKE_ACCOUNT and "
                "SNOWFLAKE_USER.",
                "config", cause="MissingSetting",
            )
        kwargs: dict[str, Any] = dict(settings.snowflake_params)
        if "port" in kwargs:
            kwargs["port"] = int(kwargs["port"])
        if settings.snowflake_connection_name:
            kwargs["connection_name"] = settings.snowflake_connection_name
        kwargs.update(
            role=settings.snowflake_role,
            database=settings.database,
            paramstyle="qmark",
            login_timeout=settings.snowflake_login_timeout_seconds,
            network_timeout=self.timeout + 15 if self.timeout else None,
            session_parameters={
                "QUERY_TAG": tag,
                "STATEMENT_TIMEOUT_IN_SECONDS": self.timeout,
            },
        )
        return kwargs

    def _sign_in(self, tag: str):
        kwargs = self.connection_arguments(tag)
        key_file = kwargs.get("private_key_file")
        if key_file and not os.access(os.path.expanduser(key_file), os.R_OK):
            raise WarehouseError(
                "The dashboard's Snowflake connection is not set up: the file named by "
                "SNOWFLAKE_PRIVATE_KEY_FILE cannot be read.",
                "config", cause="PrivateKeyFileUnreadable",
            )
        import snowflake.connector
        from snowflake.connector import errors as sf

        started = time.perf_counter()
        try:
            con = snowflake.connector.connect(**kwargs)
        except sf.Error as exc:
            failure = snowflake_failure(exc, self.timeout)
            if failure.kind == "query_failed":
                # Refused before any query: a setting the connector could not use
                # (an unknown connection name, a missing account, ...).
                failure = WarehouseError(
                    "The dashboard's Snowflake connection is not set up correctly; the "
                    "error code is in the server log.",
                    "config", **failure.facts,
                )
            events.warning(json.dumps({"event": "snowflake_sign_in_failed", "kind": failure.kind,
                                       **failure.facts}))
            raise failure from exc
        except (OSError, ValueError, TypeError) as exc:
            failure = WarehouseError(
                "The dashboard's Snowflake connection is not set up correctly; the error "
                "code is in the server log.",
                "config", **_cause_facts(exc),
            )
            events.warning(json.dumps({"event": "snowflake_sign_in_failed", "kind": "config",
                                       **failure.facts}))
            raise failure from exc
        events.info(json.dumps({"event": "snowflake_signed_in", "tag": tag,
                                "ms": round((time.perf_counter() - started) * 1000, 1)}))
        return con

    def execute(self, sql: str, params: list[Any], question: str = "organisations") -> tuple[list[str], list[tuple]]:
        from snowflake.connector import errors as sf

        tag = self.query_tag(question)
        con = self.pool.acquire(tag)
        try:
            with con.cursor() as cursor:
                # The session's STATEMENT_TIMEOUT_IN_SECONDS stops the warehouse; the
                # client-side timeout is a backstop that cancels a query the server
                # did not stop (e.g. a hung network).
                cursor.execute(sql, params, timeout=self.timeout + 5 if self.timeout else None)
                columns = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
        except Exception as exc:
            if not isinstance(exc, sf.ProgrammingError):
                self.pool.discard(con)
            else:
                self.pool.release(tag, con)
            if isinstance(exc, (sf.Error, OSError, ConnectionError)):
                raise snowflake_failure(exc, self.timeout) from exc
            raise WarehouseError(
                "Snowflake could not answer this question; the error is in the server log.",
                "query_failed", **_cause_facts(exc),
            ) from exc
        self.pool.release(tag, con)
        return columns, rows

    def identity(self) -> str:
        now = time.monotonic()
        with self._identity_lock:
            if self._identity and now - self._identity[0] < self.settings.build_check_seconds:
                return self._identity[1]
        statement = load_statements("organisations")["build_identity"]
        _, rows = self.execute(statement.sql.replace(PRESENTATION_TOKEN, self.presentation), [],
                               "organisations")
        identity = f"snowflake:{rows[0] if rows else None}"
        with self._identity_lock:
            self._identity = (now, identity)
        return identity


# ---------------------------------------------------------------- the runner
class _Attempts:
    """The tries of one `Runner.run`: transient failures are retried with exponential
    back-off (jittered, at most MAX_BACKOFF_SECONDS), within settings.query_attempts
    tries in all and with no retry started after settings.retry_budget_seconds."""

    def __init__(self, runner: Runner):
        self.runner = runner
        self.retries = 0
        self.started = time.monotonic()

    def call(self, action: Callable[[], T]) -> T:
        settings = self.runner.settings
        while True:
            self.runner._refuse_during_outage()
            try:
                result = action()
            except WarehouseError as exc:
                delay = min(MAX_BACKOFF_SECONDS, settings.retry_base_seconds * 2**self.retries)
                delay *= self.runner._random.uniform(0.5, 1.0)
                if (
                    exc.transient
                    and self.retries + 1 < settings.query_attempts
                    and time.monotonic() - self.started + delay <= settings.retry_budget_seconds
                ):
                    self.runner._sleep(delay)
                    self.retries += 1
                    continue
                self.runner._note_failure(exc)
                raise
            self.runner._note_success()
            return result


class Runner:
    """Runs named statements against one configured warehouse, with an optional cache."""

    def __init__(self, settings: Settings, cache=None):
        self.settings = settings
        self.cache = cache
        self.backend = DuckDBBackend(settings) if settings.warehouse == "duckdb" else SnowflakeBackend(settings)
        self._key_locks = [threading.Lock() for _ in range(32)]
        self._outage: tuple[float, WarehouseError] | None = None
        self._outage_lock = threading.Lock()
        self._sleep: Callable[[float], None] = time.sleep
        self._random = random.Random()

    def sql_for(self, question: str, name: str) -> Statement:
        """The statement with the configured schema in place (raises KeyError if unknown)."""
        statement = load_statements(question)[name]
        return Statement(
            question, name, statement.sql.replace(PRESENTATION_TOKEN, self.backend.presentation),
            statement.param_names, statement.positional,
        )

    def run(self, question: str, name: str, params: Params = None, *, allow_stale: bool = True) -> pd.DataFrame:
        """Rows of statement `name` of queries/<question>.sql as a DataFrame.

        When the warehouse is slow, down or refuses the sign-in and a "last good" copy
        of this result exists (and `allow_stale`), that copy is returned with a
        Staleness in `frame.attrs["stale"]`. Raises WarehouseError otherwise."""
        statement = self.sql_for(question, name)
        values = _bind(statement, params)
        request_key = hashlib.sha256(
            "\0".join([f"{question}.{name}", statement.sql, repr(values)]).encode()
        ).hexdigest()
        attempts = _Attempts(self)
        started = time.perf_counter()
        try:
            frame, outcome = self._fresh(statement, values, request_key, attempts)
        except WarehouseError as exc:
            last_good = None
            if allow_stale and exc.serves_stale and self.settings.stale_max_age_seconds:
                last_good = self.cache_get(LAST_GOOD_PREFIX + request_key)
            if last_good is None:
                _remember_failure()
                self._log(statement, started, "error", None, attempts.retries, exc)
                raise
            fetched_at, frame = last_good
            staleness = Staleness(fetched_at, exc.reason, str(exc), exc.kind)
            frame = frame.copy()
            frame.attrs[STALE_ATTR] = staleness
            _remember_stale(staleness)
            self._log(statement, started, "stale", len(frame), attempts.retries, exc,
                      stale_age_s=round(staleness.age_seconds))
            return frame
        self._log(statement, started, outcome, len(frame), attempts.retries)
        return frame.copy()

    def _fresh(self, statement: Statement, values: list[Any], request_key: str,
               attempts: _Attempts) -> tuple[pd.DataFrame, str]:
        """(frame, "hit" or "miss") for the current build. Raises WarehouseError."""
        identity = attempts.call(self.backend.identity)
        key = hashlib.sha256(f"{request_key}\0{identity}".encode()).hexdigest()
        frame = self.cache_get(key)
        if frame is not None:
            return frame, "hit"
        # Single flight: parallel callbacks asking the same question wait for the
        # first one's answer instead of all querying the warehouse.
        with self._key_locks[int(key[:8], 16) % len(self._key_locks)]:
            frame = self.cache_get(key)
            if frame is not None:
                return frame, "hit"
            frame = attempts.call(lambda: self._execute_current(statement, values, identity))
            self.cache_set(key, frame)
            if self.settings.stale_max_age_seconds:
                self.cache_set(LAST_GOOD_PREFIX + request_key, (time.time(), frame),
                                timeout=self.settings.stale_max_age_seconds)
        return frame, "miss"

    def readiness(self) -> dict[str, Any]:
        """Facts for a readiness probe (serving/health.py): the backend, that it answered,
        and how current its data is (latest export date, its age in days). Never a stale
        copy. Raises WarehouseError when the warehouse cannot answer."""
        extent = self.run("organisations", "data_extent", allow_stale=False)
        last = extent["last_export_date"].iloc[0] if len(extent) else None
        complete = extent["latest_complete_date"].iloc[0] if len(extent) else None
        last_day = None if last is None or pd.isna(last) else pd.Timestamp(last).date()
        return {
            "warehouse": self.backend.name,
            "reachable": True,
            "last_export_date": last_day.isoformat() if last_day else None,
            "latest_complete_date": None if complete is None or pd.isna(complete)
            else pd.Timestamp(complete).date().isoformat(),
            "data_age_days": (dt.date.today() - last_day).days if last_day else None,
        }

    def _execute_current(self, statement: Statement, values: list[Any], identity: str) -> pd.DataFrame:
        """Execute; if the warehouse was rebuilt meanwhile, execute again on the new build
        (the answer is cached under the identity read before the first attempt)."""
        columns, rows = self.backend.execute(statement.sql, values, statement.question)
        if self.backend.identity() != identity:
            columns, rows = self.backend.execute(statement.sql, values, statement.question)
        return _normalise(columns, rows)

    # -- outage cool-down: after "unreachable" or "auth", stale copies for a while
    def _refuse_during_outage(self) -> None:
        with self._outage_lock:
            outage = self._outage
        if outage is not None and time.monotonic() < outage[0]:
            failure = outage[1]
            raise WarehouseError(str(failure), failure.kind, circuit="open",
                                 **{k: v for k, v in failure.facts.items() if k != "circuit"})

    def _note_failure(self, exc: WarehouseError) -> None:
        if exc.kind in OUTAGE_KINDS and not exc.facts.get("circuit") and self.settings.outage_cooldown_seconds:
            with self._outage_lock:
                self._outage = (time.monotonic() + self.settings.outage_cooldown_seconds, exc)

    def _note_success(self) -> None:
        if self._outage is not None:
            with self._outage_lock:
                self._outage = None

    def _log(self, statement: Statement, started: float, outcome: str, rows: int | None,
             retries: int, error: WarehouseError | None = None, **extra: Any) -> None:
        line: dict[str, Any] = {
            "event": "query", "question": statement.question, "query": statement.name,
            "warehouse": self.backend.name,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "cache": outcome, "rows": rows, "retries": retries,
        }
        if error is not None:
            line["error"] = error.kind
            line.update(error.facts)
        line.update(extra)
        (log.info if error is None else log.warning)(json.dumps(line))

    def cache_get(self, key: str):
        """The value stored under `key` in this runner's cache (None when absent, when
        there is no cache, or when the cache is down: an outage only costs speed)."""
        if self.cache is None:
            return None
        try:
            return self.cache.get(key)
        except Exception as exc:  # noqa: BLE001  (a cache outage slows the app, never breaks it)
            events.warning(json.dumps({"event": "cache_get_failed", "cause": type(exc).__name__}))
            return None

    def cache_add(self, key: str, value: Any, timeout: int) -> bool:
        """Store `value` under `key` only if nothing is there (atomic in Redis): True when
        stored, and also when there is no working cache (the caller goes ahead)."""
        if self.cache is None:
            return True
        try:
            return bool(self.cache.add(key, value, timeout=timeout))
        except Exception as exc:  # noqa: BLE001  (as in cache_get)
            events.warning(json.dumps({"event": "cache_add_failed", "cause": type(exc).__name__}))
            return True

    def cache_delete(self, key: str) -> None:
        if self.cache is None:
            return
        try:
            self.cache.delete(key)
        except Exception as exc:  # noqa: BLE001  (as in cache_get)
            events.warning(json.dumps({"event": "cache_delete_failed", "cause": type(exc).__name__}))

    def cache_set(self, key: str, value: Any, timeout: int | None = None) -> None:
        """Store `value` under `key` (a cache that is down is logged and skipped)."""
        if self.cache is None:
            return
        try:
            if timeout is None:
                self.cache.set(key, value)
            else:
                self.cache.set(key, value, timeout=timeout)
        except Exception as exc:  # noqa: BLE001  (as in cache_get)
            events.warning(json.dumps({"event": "cache_set_failed", "cause": type(exc).__name__}))


def init_app(server, settings: Settings) -> Runner:
    """Attach a Runner (and its flask-caching Cache) to a Flask server."""
    from flask_caching import Cache

    cache = Cache(server, config=settings.flask_cache_config())
    runner = Runner(settings, cache)
    server.extensions[EXTENSION_KEY] = runner
    return runner


def current_runner() -> Runner:
    """The Runner of the Flask app handling the current request."""
    import flask

    return flask.current_app.extensions[EXTENSION_KEY]


def run_query(question: str, name: str, params: Params = None) -> pd.DataFrame:
    """Run statement `name` of queries/<question>.sql on the current app's warehouse.

    Returns a stale "last good" copy (see the module docstring) when the warehouse is
    out of reach and one exists; raises WarehouseError (user-readable) otherwise."""
    return current_runner().run(question, name, params)
