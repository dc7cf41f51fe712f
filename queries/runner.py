"""The one module that runs a question's statement: binds, caches, retries, serves stale, logs.

How a query module uses it is in queries/sqlfile.py (named statements, `{presentation}`,
bound values). `run_query` raises only `WarehouseError` (queries/errors.py), whose
`str()` is a sentence a user can read (warehouse not built, unreachable, sign-in
refused, view missing, timeout, query failed) and whose `kind` says which. Callbacks
catch it and render `components.common.error_state(str(err))` on their own tab;
nothing else in the app needs to know which warehouse (queries/backends/) is behind it.

Results come back with lower-case column names, dates as pandas datetimes and
numbers as int/float whatever the backend. They are memoised in the app's cache
(queries/cache.py: per process, or in Redis shared by every worker) under a key made
of query name + SQL text + parameters + the warehouse's build identity (DuckDB: the
file's inode, mtime and size; Snowflake: the answer of the identity statement, re-read
every ACCURX_BUILD_CHECK_SECONDS), so a rebuilt warehouse is never served from the cache.

Faults. Transient failures (network, 5xx, session expiry, timeout, a DuckDB file
locked by a rebuild) are retried with jittered exponential back-off, at most
ACCURX_QUERY_ATTEMPTS tries and no retry started after ACCURX_RETRY_BUDGET_SECONDS;
permanent ones (sign-in refused, SQL compilation error, missing view) are not. Each
result is also kept as a "last good" copy keyed WITHOUT the build identity (for
ACCURX_STALE_MAX_AGE_SECONDS), in the shared cache (for every worker) and in the
worker's own budget of LAST_GOOD_MAX_ENTRIES copies that a flood of requests cannot
empty (queries/cache.py LastGoodCopies). When the warehouse is slow, down, locked, missing or
refuses the sign-in, `run_query` returns that copy instead of raising: the frame
carries a `Staleness` (in `frame.attrs["stale"]`, and gathered per request in
`queries.request_state.request_staleness()`), so a callback shows "Showing results
from 12 minutes ago: the warehouse is not answering" with one line::

    return [stale_notice(request_staleness()), chart]   # components.common.stale_notice

After the warehouse was unreachable or refused the sign-in, a worker serves stale
copies without trying it for ACCURX_OUTAGE_COOLDOWN_SECONDS, then tries again: the
app recovers by itself, no restart.

Snowflake sessions carry QUERY_TAG `{"app":"accurx-dashboard","question":"<question>"}`
for cost attribution (queries/backends/snowflake.py).

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
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import flask
import pandas as pd

from config import Settings
from queries.backends import make_backend
from queries.cache import LastGoodCopies, SafeCache, SingleFlight
from queries.errors import OUTAGE_KINDS, STALE_ATTR, Staleness, WarehouseError
from queries.request_state import remember_failure, remember_stale, request_deadline
from queries.sqlfile import Params, QueryRef, Statement, bind, load_statements

log = logging.getLogger("accurx.queries")

EXTENSION_KEY = "accurx_runner"
LAST_GOOD_PREFIX = "last-good:"
# Last good copies each worker keeps of its own (queries/cache.py LastGoodCopies): a
# page's results are a few kB to a few hundred kB.
LAST_GOOD_MAX_ENTRIES = 256
MAX_BACKOFF_SECONDS = 2.0
# The statements the runner itself asks (queries/organisations.sql): the one whose
# answer changes with every build (for a warehouse that cannot say so itself), and the
# extent of the data the readiness probe reports.
BUILD_IDENTITY = QueryRef("organisations", "build_identity")
DATA_EXTENT = QueryRef("organisations", "data_extent")
T = TypeVar("T")


def normalise(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
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


class _Attempts:
    """The tries of one `Runner.run`: transient failures are retried with exponential
    back-off (jittered, at most MAX_BACKOFF_SECONDS), within settings.query_attempts
    tries in all and with no retry started after settings.retry_budget_seconds, nor any
    try after the request's deadline (queries.request_state.request_deadline)."""

    def __init__(self, runner: Runner):
        self.runner = runner
        self.retries = 0
        self.started = time.monotonic()
        self.deadline = request_deadline(runner.settings.request_budget_seconds)

    def remaining(self) -> float | None:
        """Seconds left before the request's deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def budget_spent(self) -> WarehouseError:
        return WarehouseError(
            "The warehouse took too long to answer this page's questions; try again in a "
            "minute or with a shorter period.",
            "timeout", cause="RequestBudget", budget_s=self.runner.settings.request_budget_seconds,
        )

    def call(self, action: Callable[[], T], *, is_query: bool = True) -> T:
        """`action()`, tried again after transient failures. `is_query`: a success says
        the warehouse answers a query in time (it ends a run of timeouts)."""
        settings = self.runner.settings
        while True:
            self.runner._refuse_during_outage()
            if self.remaining() == 0:
                raise self.budget_spent()
            try:
                result = action()
            except WarehouseError as exc:
                delay = min(MAX_BACKOFF_SECONDS, settings.retry_base_seconds * 2**self.retries)
                delay *= self.runner._random.uniform(0.5, 1.0)
                remaining = self.remaining()
                if (
                    exc.transient
                    and self.retries + 1 < settings.query_attempts
                    and time.monotonic() - self.started + delay <= settings.retry_budget_seconds
                    and (remaining is None or delay < remaining)
                ):
                    self.runner._sleep(delay)
                    self.retries += 1
                    continue
                self.runner._note_failure(exc)
                raise
            self.runner._note_success(is_query)
            return result


class Runner:
    """Runs named statements against one configured warehouse, with an optional cache.

    `identity_query` names the statement that identifies a build where the warehouse
    cannot say so itself (Snowflake); `readiness_query` the one-row statement with
    `last_export_date` and `latest_complete_date` that `readiness()` reports."""

    def __init__(self, settings: Settings, cache=None, *, identity_query: QueryRef = BUILD_IDENTITY,
                 readiness_query: QueryRef = DATA_EXTENT):
        self.settings = settings
        self.cache = SafeCache(cache, settings.outage_cooldown_seconds)
        # Last good copies kept apart from the shared cache (which a flood can empty).
        self.last_good = LastGoodCopies(LAST_GOOD_MAX_ENTRIES, settings.stale_max_age_seconds)
        self.backend = make_backend(settings, identity_query)
        self.readiness_query = readiness_query
        self._flights = SingleFlight()
        self._outage: tuple[float, WarehouseError] | None = None
        self._timeouts_in_a_row = 0
        self._outage_lock = threading.Lock()
        self._sleep: Callable[[float], None] = time.sleep
        self._random = random.Random()

    def sql_for(self, question: str, name: str) -> Statement:
        """The statement with the configured schema in place (raises KeyError if unknown)."""
        return load_statements(question)[name].for_schema(self.backend.presentation)

    def run(self, question: str, name: str, params: Params = None, *, allow_stale: bool = True) -> pd.DataFrame:
        """Rows of statement `name` of queries/<question>.sql as a DataFrame.

        When the warehouse is slow, down or refuses the sign-in and a "last good" copy
        of this result exists (and `allow_stale`), that copy is returned with a
        Staleness in `frame.attrs["stale"]`. Raises WarehouseError otherwise."""
        statement = self.sql_for(question, name)
        values = bind(statement, params)
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
                last_good = (self.last_good.get(request_key)
                             or self.cache.get(LAST_GOOD_PREFIX + request_key))
            if last_good is None:
                remember_failure()
                self._log(statement, started, "error", None, attempts.retries, exc)
                raise
            fetched_at, frame = last_good
            staleness = Staleness(fetched_at, exc.reason, str(exc), exc.kind)
            frame = frame.copy()
            frame.attrs[STALE_ATTR] = staleness
            remember_stale(staleness)
            self._log(statement, started, "stale", len(frame), attempts.retries, exc,
                      stale_age_s=round(staleness.age_seconds))
            return frame
        self._log(statement, started, outcome, len(frame), attempts.retries)
        return frame.copy()

    def _fresh(self, statement: Statement, values: list[Any], request_key: str,
               attempts: _Attempts) -> tuple[pd.DataFrame, str]:
        """(frame, "hit" or "miss") for the current build. Raises WarehouseError."""
        identity = attempts.call(self.backend.identity, is_query=False)
        key = hashlib.sha256(f"{request_key}\0{identity}".encode()).hexdigest()
        frame = self.cache.get(key)
        if frame is not None:
            return frame, "hit"
        # Single flight: parallel callbacks asking the same question wait for the
        # first one's answer instead of all querying the warehouse, and take its failure
        # (so its stale copy or error) when it had none, rather than asking again.
        if not self._flights.acquire(key, attempts.remaining()):
            raise attempts.budget_spent()
        failure: WarehouseError | None = None
        try:
            frame = self.cache.get(key)
            if frame is not None:
                return frame, "hit"
            shared = self._flights.outcome(key)
            if isinstance(shared, WarehouseError):
                failure = WarehouseError(str(shared), shared.kind, **{**shared.facts, "flight": "shared"})
                raise failure
            try:
                frame = attempts.call(lambda: self._execute_current(statement, values, identity))
            except WarehouseError as exc:
                if exc.facts.get("cause") != "RequestBudget":  # this request's own deadline
                    failure = exc
                raise
            self.cache.set(key, frame)
            if self.settings.stale_max_age_seconds:
                self.last_good.put(request_key, frame)
                self.cache.set(LAST_GOOD_PREFIX + request_key, (time.time(), frame),
                               timeout=self.settings.stale_max_age_seconds)
        finally:
            self._flights.release(key, failure)
        return frame, "miss"

    def readiness(self) -> dict[str, Any]:
        """Facts for a readiness probe (serving/health.py): the backend, that it answered,
        and how current its data is (latest export date, its age in days). Never a stale
        copy. Raises WarehouseError when the warehouse cannot answer."""
        extent = self.run(*self.readiness_query, allow_stale=False)
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
        return normalise(columns, rows)

    # -- outage cool-down: after "unreachable" or "auth", or after
    #    settings.outage_after_timeouts queries in a row timed out: stale copies for a while
    def _refuse_during_outage(self) -> None:
        with self._outage_lock:
            outage = self._outage
        if outage is not None and time.monotonic() < outage[0]:
            failure = outage[1]
            raise WarehouseError(str(failure), failure.kind, circuit="open",
                                 **{k: v for k, v in failure.facts.items() if k != "circuit"})

    def _note_failure(self, exc: WarehouseError) -> None:
        settings = self.settings
        if exc.facts.get("circuit") or not settings.outage_cooldown_seconds:
            return
        with self._outage_lock:
            if exc.kind == "timeout":
                self._timeouts_in_a_row += 1
                if not 0 < settings.outage_after_timeouts <= self._timeouts_in_a_row:
                    return
            elif exc.kind not in OUTAGE_KINDS:
                return
            self._outage = (time.monotonic() + settings.outage_cooldown_seconds, exc)

    def _note_success(self, is_query: bool = True) -> None:
        if self._outage is not None or (is_query and self._timeouts_in_a_row):
            with self._outage_lock:
                self._outage = None
                if is_query:
                    self._timeouts_in_a_row = 0

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


def init_app(server, settings: Settings) -> Runner:
    """Attach a Runner (and its flask-caching Cache) to a Flask server."""
    from flask_caching import Cache

    cache = Cache(server, config=settings.flask_cache_config())
    runner = Runner(settings, cache)
    server.extensions[EXTENSION_KEY] = runner
    return runner


def current_runner() -> Runner:
    """The Runner of the Flask app handling the current request."""
    return flask.current_app.extensions[EXTENSION_KEY]


def run_query(question: str, name: str, params: Params = None) -> pd.DataFrame:
    """Run statement `name` of queries/<question>.sql on the current app's warehouse.

    Returns a stale "last good" copy (see the module docstring) when the warehouse is
    out of reach and one exists; raises WarehouseError (user-readable) otherwise."""
    return current_runner().run(question, name, params)
