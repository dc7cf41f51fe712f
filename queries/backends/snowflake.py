"""The Snowflake backend: error classification, a pool of signed-in sessions, key-pair sign-in.

Failures are classified by the connector's exception class, errno and SQLSTATE (never
by message text) into the kinds of queries/errors.py. Sessions are pooled per
QUERY_TAG, which is fixed at login (see SnowflakeBackend for why). The build identity
is the answer of a statement named by the caller, re-read at most every
ACCURX_BUILD_CHECK_SECONDS.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from config import Settings
from queries.errors import WarehouseError, cause_facts
from queries.sqlfile import QueryRef, load_statements, quote_identifier

# Connection events (not queries): kept off `accurx.queries`, whose lines are one per query.
events = logging.getLogger("accurx.warehouse")
QUERY_TAG_APP = "accurx-dashboard"


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

    facts = cause_facts(exc)
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
    build identity is the answer of `identity_query` (a statement whose text never
    changes, so Snowflake answers it from its result cache until a rebuild changes the
    data), re-read at most every ACCURX_BUILD_CHECK_SECONDS.
    """

    name = "snowflake"

    def __init__(self, settings: Settings, identity_query: QueryRef):
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
        self.identity_query = identity_query
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
                "config", **cause_facts(exc),
            )
            events.warning(json.dumps({"event": "snowflake_sign_in_failed", "kind": "config",
                                       **failure.facts}))
            raise failure from exc
        events.info(json.dumps({"event": "snowflake_signed_in", "tag": tag,
                                "ms": round((time.perf_counter() - started) * 1000, 1)}))
        return con

    def execute(self, sql: str, params: list[Any], question: str) -> tuple[list[str], list[tuple]]:
        """(columns, rows) of `sql` on a session tagged with `question`. Raises WarehouseError."""
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
                "query_failed", **cause_facts(exc),
            ) from exc
        self.pool.release(tag, con)
        return columns, rows

    def identity(self) -> str:
        """The build: `snowflake:` and the answer of `identity_query`. Raises WarehouseError."""
        now = time.monotonic()
        with self._identity_lock:
            if self._identity and now - self._identity[0] < self.settings.build_check_seconds:
                return self._identity[1]
        question, name = self.identity_query
        statement = load_statements(question)[name].for_schema(self.presentation)
        _, rows = self.execute(statement.sql, [], question)
        identity = f"snowflake:{rows[0] if rows else None}"
        with self._identity_lock:
            self._identity = (now, identity)
        return identity
