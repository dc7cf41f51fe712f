"""What the queries of one Flask request (one Dash callback) have met so far.

Kept on `flask.g`, so it is per request and per worker thread: the stale copies served
(for the page's "Showing results from 12 minutes ago" notice) and whether any query
failed (the response cache stores only answers from the current build). Outside an
application context nothing is recorded and every answer counts as current.
"""

from __future__ import annotations

import flask

from queries.errors import Staleness, oldest

_STALE_G_KEY = "accurx_stale_results"
_FAILED_G_KEY = "accurx_warehouse_failed"


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
