"""One structured log line per Dash callback request, on the `accurx.callbacks` logger.

A line is JSON::

    {"event": "callback", "question": "usage", "callback": "show_leaderboard",
     "page": "tab:usage", "trigger": ["{\"param\":\"feature\",...}.value"], "ms": 41.2,
     "queries": 3, "cache_hits": 2, "cache_misses": 1, "stale": 0, "rows": 52,
     "warehouse_ms": 12.5, "retries": 0, "warehouse_errors": 0, "status": 200, "outcome": "ok",
     "response_cache": "miss"}

- `question` is the callbacks module (one module per question, plus `navigation`,
  `filters` and `common` for the shared ones), `callback` the function, `page` the
  page the request came from (the tab key or `customer`, never an id or a filter).
- The query counters come from the runner's own per-query log lines (`accurx.queries`,
  JSON with `"event": "query"`, ms, cache hit/miss/stale/error, rows, retries) emitted
  while this request ran: a logging handler collects them into the request's
  `flask.g`. Like those lines, they exist only when the `accurx` loggers log at INFO
  (failures are logged at WARNING, so they are always counted).
- `outcome`: `ok`, `no_update` (the callback raised PreventUpdate: 204), `stale` (some
  answer was the last good copy, served during an outage), `warehouse_error` (a query
  failed; the page shows the error in words), `rejected` (4xx: bad request, signed
  out, not allowed) or `error` (5xx).
- `response_cache`: `hit` (the rendered response was reused, serving/response_cache.py:
  no query ran), `shared` (an identical request's unstored render, waited for), `miss`,
  `skip` (no build identity or no cache) or `off`.

No input values, no user, no SQL, no parameters: nothing personal or secret.

`LogLineFormatter` is the app's log format (app.py): one line per record, whatever the
record quotes. Control characters (a newline or an ANSI escape sent in a URL
parameter, such as `/auth/callback?error=`) are written as escapes, so a request
cannot forge or hide a line; a traceback becomes one line too.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import parse_qs, urlparse

import dash
import flask
from werkzeug.exceptions import HTTPException

log = logging.getLogger("accurx.callbacks")
QUERY_LOGGER = "accurx.queries"
CALLBACK_PATH = "/_dash-update-component"
_G_QUERIES = "accurx_queries"
_G_STARTED = "accurx_callback_started"
_G_CALLBACK = "accurx_callback"
_TAB_KEY = re.compile(r"^[a-z][a-z-]{0,30}$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def escape_controls(text: str) -> str:
    """`text` with each control character written as its Python escape (\\n, \\x1b)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class LogLineFormatter(logging.Formatter):
    """A log record as one line: control characters escaped (see the module docstring)."""

    def __init__(self, fmt: str = LOG_FORMAT):
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class _RequestQueryCollector(logging.Handler):
    """Appends the runner's per-query facts to the current request's list, if it has one."""

    def emit(self, record: logging.LogRecord) -> None:
        if not flask.has_request_context():
            return
        bucket = flask.g.get(_G_QUERIES)
        if bucket is None:
            return
        try:
            facts = json.loads(record.getMessage())
        except (TypeError, ValueError):
            return
        if isinstance(facts, dict) and facts.get("event", "query") == "query" and "query" in facts:
            bucket.append(facts)


def _install_collector() -> None:
    logger = logging.getLogger(QUERY_LOGGER)
    if not any(isinstance(h, _RequestQueryCollector) for h in logger.handlers):
        logger.addHandler(_RequestQueryCollector())


def page_of(referrer: str | None) -> str:
    """'tab:usage', 'customer', 'home' or 'other' from the page's URL (no ids, no filters)."""
    if not referrer:
        return "other"
    url = urlparse(referrer)
    if url.path.startswith("/customer/"):
        return "customer"
    if url.path in ("", "/"):
        tab = (parse_qs(url.query).get("tab") or [""])[0]
        return f"tab:{tab}" if _TAB_KEY.match(tab) else "home"
    return "other"


def _outcome(status: int, counters: dict) -> str:
    if status >= 500:
        return "error"
    if status >= 400:
        return "rejected"
    if status == 204:
        return "no_update"
    if counters["warehouse_errors"]:
        return "warehouse_error"
    return "stale" if counters["stale"] else "ok"


def summary(queries: list[dict]) -> dict:
    """Counters over the runner's per-query facts of one request."""
    def count(outcome: str) -> int:
        return sum(1 for q in queries if q.get("cache") == outcome)

    return {
        "queries": len(queries),
        "cache_hits": count("hit"),
        "cache_misses": count("miss"),
        "stale": count("stale"),
        "rows": sum(int(q.get("rows") or 0) for q in queries),
        "warehouse_ms": round(sum(float(q.get("ms") or 0) for q in queries), 1),
        "retries": sum(int(q.get("retries") or 0) for q in queries),
        "warehouse_errors": count("error"),
    }


def install(app: dash.Dash) -> None:
    """Time every callback request of `app` and log its line."""
    _install_collector()
    server = app.server

    def callback_of(body) -> tuple[str, str]:
        output = body.get("output") if isinstance(body, dict) else None
        entry = app.callback_map.get(output) if isinstance(output, str) else None
        func = getattr((entry or {}).get("callback"), "__wrapped__", None)
        if func is None:
            return "unknown", "unknown"
        return func.__module__.rsplit(".", 1)[-1], func.__name__

    @server.before_request
    def start_callback_timer():
        if flask.request.path != CALLBACK_PATH:
            return
        flask.g.setdefault(_G_QUERIES, [])
        flask.g.setdefault(_G_STARTED, time.perf_counter())
        try:
            body = flask.request.get_json(silent=True)
        except HTTPException:  # too large: dash_requests answers 413
            body = None
        changed = body.get("changedPropIds") if isinstance(body, dict) else None
        flask.g.setdefault(_G_CALLBACK, (
            *callback_of(body),
            [str(p)[:120] for p in changed[:3]] if isinstance(changed, list) else [],
        ))

    @server.after_request
    def log_callback(response: flask.Response) -> flask.Response:
        started = flask.g.get(_G_STARTED)
        if started is None:
            return response
        question, name, trigger = flask.g.get(_G_CALLBACK) or ("unknown", "unknown", [])
        counters = summary(flask.g.get(_G_QUERIES) or [])
        line = {
            "event": "callback",
            "question": question,
            "callback": name,
            "page": page_of(flask.request.referrer),
            "trigger": trigger,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            **counters,
            "status": response.status_code,
            "outcome": _outcome(response.status_code, counters),
            "response_cache": flask.g.get("accurx_response_cache", ("off",))[0],
        }
        log.log(logging.WARNING if response.status_code >= 500 else logging.INFO, json.dumps(line))
        return response
