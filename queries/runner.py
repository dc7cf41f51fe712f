"""The one module that talks to the warehouse: loads named SQL, binds, caches, logs.

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
   the text sent is byte-identical for identical requests) or plain `?` with a
   sequence. Pass `datetime.date` for dates, not strings. No string formatting.
4. `queries/<question>.py` exposes one small, typed function per statement that calls
   `run_query("<question>", "<name>", {...})` and returns a pandas DataFrame, with a
   docstring saying what is returned and that it raises `WarehouseError`. Shaping
   for display belongs in components, not here.
5. `run_query` raises only `WarehouseError`, whose `str()` is a sentence a user can
   read (warehouse not built, unreachable, view missing, timeout, query failed).
   Callbacks catch it and render `components.common.error_state(str(err))` on their
   own tab; nothing else in the app needs to know which warehouse is behind it.

Results come back with lower-case column names, dates as pandas datetimes and
numbers as int/float whatever the backend. They are memoised with flask-caching
under a key made of query name + SQL text + parameters + the warehouse's build
identity (DuckDB: the file's inode, mtime and size; Snowflake: the latest export
date, re-read every ACCURX_BUILD_CHECK_SECONDS), so a rebuilt warehouse is never
served from a stale cache. Each query logs one line on the `accurx.queries` logger:
query name, duration, cache hit/miss, row count — never parameter values.

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
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from config import Settings

log = logging.getLogger("accurx.queries")

QUERIES_DIR = Path(__file__).resolve().parent
PRESENTATION_TOKEN = "{presentation}"
EXTENSION_KEY = "accurx_runner"

_NAME_LINE = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
Params = Mapping[str, Any] | Sequence[Any] | None


class WarehouseError(Exception):
    """The warehouse could not answer. `str(err)` is a sentence fit for the page."""


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
    """Same frame whatever the backend: lower-case names, datetimes, plain numbers."""
    frame = pd.DataFrame.from_records(rows, columns=[c.lower() for c in columns])
    for col in frame.columns:
        if frame[col].dtype != object or frame[col].empty:
            continue
        sample = frame[col].dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, (dt.date, dt.datetime)):
            frame[col] = pd.to_datetime(frame[col])
        elif isinstance(first, decimal.Decimal):
            numbers = pd.to_numeric(frame[col])
            frame[col] = numbers.astype("Int64") if (sample % 1 == 0).all() else numbers
    return frame


class DuckDBBackend:
    """Read-only, one short-lived connection per query, following file replacement.

    The warehouse build swaps a new file in with os.replace. DuckDB shares one
    database instance between connections to the same path in a process, so a
    connection opened while another is still open would keep reading the old file:
    queries in a process therefore run one at a time and close their connection
    before the next opens. The build identity is read before and after each query; if
    the file changed meanwhile the query is run again on the new file.
    """

    name = "duckdb"

    def __init__(self, settings: Settings):
        self.path = settings.duckdb_path
        self.timeout = settings.statement_timeout_seconds
        self.presentation = quote_identifier(settings.presentation_schema)
        self._lock = threading.Lock()

    def identity(self) -> str:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseError(
                f"The warehouse has not been built yet: there is no file at {self.path}. "
                "Run `make run` (it builds the demo warehouse) or set ACCURX_DUCKDB_PATH."
            ) from None
        return f"duckdb:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"

    def execute(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        with self._lock:
            con = None
            timer = None
            try:
                con = duckdb.connect(str(self.path), read_only=True)
                if self.timeout:
                    timer = threading.Timer(self.timeout, con.interrupt)
                    timer.daemon = True
                    timer.start()
                cursor = con.execute(sql, params)
                columns = [d[0] for d in cursor.description]
                return columns, cursor.fetchall()
            except duckdb.InterruptException:
                raise WarehouseError(
                    f"The warehouse took longer than {self.timeout} s to answer; try a shorter period."
                ) from None
            except duckdb.CatalogException as exc:
                raise WarehouseError(
                    "The warehouse does not have a view this page needs; it may be an older "
                    "build. Rebuild the warehouse."
                ) from exc
            except duckdb.IOException as exc:
                if not self.path.exists():
                    self.identity()
                raise WarehouseError(
                    "The warehouse file could not be opened (it may be being rebuilt); "
                    "try again in a minute."
                ) from exc
            except duckdb.Error as exc:
                raise WarehouseError("The warehouse could not answer this question; the error is in the server log.") from exc
            finally:
                if timer is not None:
                    timer.cancel()
                if con is not None:
                    con.close()


class SnowflakeBackend:
    """snowflake-connector-python with qmark binding; one connection per thread.

    The connection comes from a named connection in connections.toml
    (SNOWFLAKE_CONNECTION_NAME) or from SNOWFLAKE_* variables. A failed query drops
    the thread's connection so the next one reconnects. The build identity is the
    latest export date in `organisations`, re-read at most every
    ACCURX_BUILD_CHECK_SECONDS (cache entries also expire after CACHE_DEFAULT_TIMEOUT).
    """

    name = "snowflake"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.timeout = settings.statement_timeout_seconds
        self.presentation = (
            f"{quote_identifier(settings.database)}.{quote_identifier(settings.presentation_schema)}"
        )
        self._local = threading.local()
        self._identity: tuple[float, str] | None = None
        self._identity_lock = threading.Lock()

    def _connection(self):
        con = getattr(self._local, "connection", None)
        if con is not None:
            return con
        import snowflake.connector

        kwargs: dict[str, Any] = dict(self.settings.snowflake_params)
        if "port" in kwargs:
            kwargs["port"] = int(kwargs["port"])
        if self.settings.snowflake_connection_name:
            kwargs["connection_name"] = self.settings.snowflake_connection_name
        kwargs.update(
            paramstyle="qmark",
            login_timeout=max(self.timeout, 10),
            network_timeout=max(self.timeout * 2, 30),
            session_parameters={
                "STATEMENT_TIMEOUT_IN_SECONDS": self.timeout,
                "QUERY_TAG": "accurx-dashboard",
            },
        )
        try:
            con = snowflake.connector.connect(**kwargs)
        except Exception as exc:
            log.warning(json.dumps({"event": "snowflake_connect_failed", "error": type(exc).__name__}))
            raise WarehouseError(
                "Snowflake could not be reached or refused the sign-in; check the connection "
                "settings (the error is in the server log)."
            ) from exc
        self._local.connection = con
        return con

    def _drop_connection(self) -> None:
        con = getattr(self._local, "connection", None)
        self._local.connection = None
        if con is not None:
            try:
                con.close()
            except Exception as exc:  # noqa: BLE001  (already broken: nothing more to release)
                log.debug("closing a failed Snowflake connection: %s", type(exc).__name__)

    def execute(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        con = self._connection()
        try:
            with con.cursor() as cursor:
                cursor.execute(sql, params)
                columns = [d[0] for d in cursor.description]
                return columns, cursor.fetchall()
        except Exception as exc:
            self._drop_connection()
            message = str(exc).lower()
            if "timeout" in message or "cancel" in message:
                raise WarehouseError(
                    f"Snowflake took longer than {self.timeout} s to answer; try a shorter period."
                ) from exc
            if "does not exist" in message or "not authorized" in message:
                raise WarehouseError(
                    "Snowflake does not have a view this page needs (or this role cannot read "
                    "it); the warehouse may be an older build."
                ) from exc
            raise WarehouseError(
                "Snowflake could not answer this question; the error is in the server log."
            ) from exc

    def identity(self) -> str:
        now = time.monotonic()
        with self._identity_lock:
            if self._identity and now - self._identity[0] < self.settings.build_check_seconds:
                return self._identity[1]
        statement = load_statements("organisations")["build_identity"]
        _, rows = self.execute(statement.sql.replace(PRESENTATION_TOKEN, self.presentation), [])
        identity = f"snowflake:{rows[0] if rows else None}"
        with self._identity_lock:
            self._identity = (now, identity)
        return identity


class Runner:
    """Runs named statements against one configured warehouse, with an optional cache."""

    def __init__(self, settings: Settings, cache=None):
        self.settings = settings
        self.cache = cache
        self.backend = DuckDBBackend(settings) if settings.warehouse == "duckdb" else SnowflakeBackend(settings)
        self._key_locks = [threading.Lock() for _ in range(32)]

    def sql_for(self, question: str, name: str) -> Statement:
        """The statement with the configured schema in place (raises KeyError if unknown)."""
        statement = load_statements(question)[name]
        return Statement(
            question, name, statement.sql.replace(PRESENTATION_TOKEN, self.backend.presentation),
            statement.param_names, statement.positional,
        )

    def run(self, question: str, name: str, params: Params = None) -> pd.DataFrame:
        """Rows of statement `name` of queries/<question>.sql as a DataFrame.

        Raises WarehouseError when the warehouse is missing, unreachable or fails."""
        statement = self.sql_for(question, name)
        values = _bind(statement, params)
        started = time.perf_counter()
        query_name = f"{question}.{name}"
        try:
            identity = self.backend.identity()
            key = hashlib.sha256(
                "\0".join([query_name, statement.sql, repr(values), identity]).encode()
            ).hexdigest()
            frame = self._cache_get(key)
            hit = frame is not None
            if not hit:
                # Single flight: parallel callbacks asking the same question wait for the
                # first one's answer instead of all querying the warehouse.
                with self._key_locks[int(key[:8], 16) % len(self._key_locks)]:
                    frame = self._cache_get(key)
                    hit = frame is not None
                    if not hit:
                        frame = self._execute_current(statement.sql, values, identity)
                        self._cache_set(key, frame)
        except WarehouseError as exc:
            log.warning(json.dumps({
                "query": query_name, "warehouse": self.backend.name,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "error": type(exc.__cause__ or exc).__name__,
            }))
            if exc.__cause__ is not None:
                log.debug("query %s failed", query_name, exc_info=exc.__cause__)
            raise
        log.info(json.dumps({
            "query": query_name, "warehouse": self.backend.name,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "cache": "hit" if hit else "miss", "rows": len(frame),
        }))
        return frame.copy()

    def readiness(self) -> dict[str, Any]:
        """Facts for a readiness probe (serving/health.py): the backend and how current its
        data is. Raises WarehouseError when the warehouse cannot answer."""
        extent = self.run("organisations", "data_extent")
        last = extent["last_export_date"].iloc[0] if len(extent) else None
        complete = extent["latest_complete_date"].iloc[0] if len(extent) else None
        last_day = None if last is None or pd.isna(last) else pd.Timestamp(last).date()
        return {
            "warehouse": self.backend.name,
            "last_export_date": last_day.isoformat() if last_day else None,
            "latest_complete_date": None if complete is None or pd.isna(complete)
            else pd.Timestamp(complete).date().isoformat(),
            "data_age_days": (dt.date.today() - last_day).days if last_day else None,
        }

    def _execute_current(self, sql: str, values: list[Any], identity: str) -> pd.DataFrame:
        """Execute; if the warehouse was rebuilt meanwhile, execute again on the new build
        (the answer is cached under the identity read before the first attempt)."""
        columns, rows = self.backend.execute(sql, values)
        if self.backend.identity() != identity:
            columns, rows = self.backend.execute(sql, values)
        return _normalise(columns, rows)

    def _cache_get(self, key: str):
        if self.cache is None:
            return None
        try:
            return self.cache.get(key)
        except Exception as exc:  # noqa: BLE001  (a cache outage slows the app, never breaks it)
            log.warning(json.dumps({"event": "cache_get_failed", "error": type(exc).__name__}))
            return None

    def _cache_set(self, key: str, frame: pd.DataFrame) -> None:
        if self.cache is None:
            return
        try:
            self.cache.set(key, frame)
        except Exception as exc:  # noqa: BLE001  (as in _cache_get)
            log.warning(json.dumps({"event": "cache_set_failed", "error": type(exc).__name__}))


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

    Raises WarehouseError (user-readable) on any warehouse failure."""
    return current_runner().run(question, name, params)
