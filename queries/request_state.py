"""What the queries of one Flask request (one Dash callback) have met so far.

Kept on `flask.g`, so it is per request and per worker thread: the stale copies served
(for the page's "Showing results from 12 minutes ago" notice), whether any query
failed (the response cache stores only answers from the current build), and the
request's one deadline for all its queries (ACCURX_REQUEST_BUDGET_SECONDS), so that a
page of seven queries cannot hold a worker for seven times the retry budget. Outside
an application context nothing is recorded, every answer counts as current and there
is no deadline.
"""

from __future__ import annotations

import time

import flask

from queries.errors import Staleness, oldest

_STALE_G_KEY = "accurx_stale_results"
_FAILED_G_KEY = "accurx_warehouse_failed"
_DEADLINE_G_KEY = "accurx_request_deadline"


def request_deadline(budget_seconds: float) -> float | None:
    """The `time.monotonic()` after which the current request starts no more warehouse
    work: `budget_seconds` after the first call in this request (None outside an
    application context, or when `budget_seconds` is 0)."""
    if not budget_seconds or not flask.has_app_context():
        return None
    return flask.g.setdefault(_DEADLINE_G_KEY, time.monotonic() + budget_seconds)


def request_staleness() -> Staleness | None:
    """The oldest stale result served in the current Flask request (one Dash callback),
    or None. Outside an application context: None."""
    if not flask.has_app_context():
        return None
    return oldest(flask.g.get(_STALE_G_KEY, []))


def remember_stale(staleness: Staleness) -> None:
    if flask.has_app_context():
        flask.g.setdefault(_STALE_G_KEY, []).append(staleness)


def remember_failure() -> None:
    if flask.has_app_context():
        flask.g.setdefault(_FAILED_G_KEY, True)


def request_answers_are_current() -> bool:
    """True when every query of the current Flask request was answered from the current
    build: none failed and none was a stale copy (so what the request rendered may be
    reused for the same request on the same build)."""
    if not flask.has_app_context():
        return True
    return not flask.g.get(_FAILED_G_KEY) and not flask.g.get(_STALE_G_KEY)
