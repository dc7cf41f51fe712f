"""Warm after every build: the default view of every page rendered into the response cache.

When a build goes live (the worker starts, or it notices a new build identity on a
request), a background thread opens every page the app factory lists (each tab's
default URL, then every customer's page) the way a browser does
(serving/page_requests.py: the same `/_dash-update-component` requests, through the
app's own request path, sign-in, checks and response cache included), so the
response cache (serving/response_cache.py) holds exactly what the first person in the
meeting asks for.

Bounded: it stops after ACCURX_WARM_UP_SECONDS (config.py; 0 turns it off), or when a
bounded cache is FULL_SHARE full (so that it never evicts what it warmed first), and
sends one request at a time. It gives way to the people using the site, who would otherwise
compete with it for the CPU (a cold server's users waited seconds while every worker
warmed): before each of its requests it waits until this process has served no request
of anyone else's for QUIET_SECONDS (a WSGI counter of requests in flight, `Traffic`), and
its thread runs at the lowest CPU priority (nice 19, Linux threads have their own), so
the other workers' users come first too. It never blocks anything: the build swap is a
file replace the warmer does not touch, and a user asking for a page being warmed
waits for that render through the response cache's single flight instead of rendering
it twice. With a cache shared by the workers (the file cache gunicorn.conf.py gives
several workers, or Redis) one worker warms a build: the others find its marker
(`warm-up:<build>`, an add, atomic in Redis, as response_cache.py's rendering markers)
and skip it. With a per-process cache each worker warms its own.

Its requests are served as a viewer who may not see personal data (the default view of
everyone): with sign-in on, they carry an in-process WSGI environ marker that no client
can send (serving/auth.py lets it through; a header could be forged, an environ object
cannot). One log line on `accurx.warm_up` per build: pages, requests, seconds, whether it
finished or ran out of time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import dash
import flask
import flask.testing

from queries.errors import WarehouseError
from queries.runner import EXTENSION_KEY
from serving.page_requests import PageVisit

log = logging.getLogger("accurx.warm_up")

MARKER_PREFIX = "warm-up:"
# The WSGI environ key of the warmer's own requests (never set from a client's request).
ENVIRON_KEY = "accurx.warm_up"
_TOKEN = object()
_FILE_PATHS = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
# How long this process must have served nobody else before the warmer sends a request,
# and how often it looks again while people are being served.
QUIET_SECONDS = 0.25
_POLL_SECONDS = 0.05
# A bounded cache (cachelib's SimpleCache per process, or its FileSystemCache shared by the
# workers) evicts, once full, the entries that expire first (or the oldest files): the tab
# views the warm-up stored first. Where the pages outnumber the room (3,000 customers in a
# per-process cache), the warm-up stops when the cache is this full rather than push out
# what it warmed first (Redis has no such bound here).
FULL_SHARE = 0.8


def is_warm_up_request() -> bool:
    """True while serving one of the warmer's in-process requests."""
    return flask.has_request_context() and flask.request.environ.get(ENVIRON_KEY) is _TOKEN


class Traffic:
    """WSGI middleware counting the requests in flight that are not the warmer's own, and
    when the last of them ended (`quiet_for`)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self._lock = threading.Lock()
        self.in_flight = 0
        self._last_end = float("-inf")

    def __call__(self, environ, start_response):
        if environ.get(ENVIRON_KEY) is _TOKEN:
            return self.wsgi_app(environ, start_response)
        with self._lock:
            self.in_flight += 1
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1
                self._last_end = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last request ended; 0 while one is in flight."""
        with self._lock:
            return 0.0 if self.in_flight else time.monotonic() - self._last_end


def _lowest_cpu_priority() -> None:
    """Lower the calling thread's CPU priority to nice 19 (allowed without privileges);
    where threads cannot be reniced (not Linux), the warmer still gives way in-process."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


class Warmer:
    """Warms `app` once per build identity (see the module docstring). `pages()` lists
    the URLs to open (path with optional query string), called inside an app context."""

    def __init__(self, app: dash.Dash, pages: Callable[[], list[str]], budget_seconds: float,
                 traffic: Traffic | None = None):
        self.app = app
        self.pages = pages
        self.budget_seconds = budget_seconds
        self.traffic = traffic
        self._lock = threading.Lock()
        self._warmed: str | None = None  # the last build this process started warming
        self.thread: threading.Thread | None = None
        self.last_report: dict | None = None

    @property
    def runner(self):
        return self.app.server.extensions[EXTENSION_KEY]

    def notice(self) -> threading.Thread | None:
        """Start warming in the background if the build changed since the last warm-up
        of this process (and no other worker took it); the thread, or None."""
        try:
            build = self.runner.backend.identity()
        except WarehouseError:
            return None  # not built, or out of reach: the next request notices again
        with self._lock:
            if build == self._warmed:
                return None
            self._warmed = build
            self.thread = threading.Thread(target=self.warm, args=(build,),
                                           name="accurx-warm-up", daemon=True)
            self.thread.start()
            return self.thread

    def warm(self, build: str) -> dict:
        """Open every page on `build` within the budget; the report (also logged)."""
        report = {"event": "warm_up", "build": build, "pages": 0, "requests": 0,
                  "errors": 0, "outcome": "finished"}
        runner = self.runner
        # One worker per shared cache; the marker outlives the budget, so a slow warmer
        # is not joined by another one.
        if not runner.cache.add(MARKER_PREFIX + build, 1, timeout=int(self.budget_seconds * 2) + 1):
            report["outcome"] = "another worker warms this build"
            return self._done(report, time.monotonic())
        started = time.monotonic()
        deadline = started + self.budget_seconds
        if threading.current_thread() is self.thread:
            _lowest_cpu_priority()
        client = _GivingWayClient(self.app.server, self, deadline)
        client.environ_base[ENVIRON_KEY] = _TOKEN
        try:
            with self.app.server.app_context():
                pages = self.pages()
        except WarehouseError as exc:
            report.update(outcome="no pages", error=exc.kind)
            return self._done(report, started)
        for url in pages:
            if time.monotonic() >= deadline:
                report["outcome"] = "out of time"
                break
            if runner.backend.identity() != build:
                report["outcome"] = "superseded by a newer build"
                break
            if runner.cache.fill() >= FULL_SHARE:
                report["outcome"] = "cache full"
                break
            parts = urlsplit(url)
            statuses = PageVisit(client).open(parts.path, f"?{parts.query}" if parts.query else "")
            report["pages"] += 1
            report["requests"] += len(statuses)
            report["errors"] += sum(status >= 500 for status in statuses)
        report["of_pages"] = len(pages)
        return self._done(report, started)

    def give_way(self, deadline: float) -> None:
        """Wait (at most until `deadline`) until nobody else has been served for
        QUIET_SECONDS."""
        if self.traffic is None:
            return
        while (quiet := self.traffic.quiet_for()) < QUIET_SECONDS and time.monotonic() < deadline:
            time.sleep(max(_POLL_SECONDS, QUIET_SECONDS - quiet) if quiet else _POLL_SECONDS)

    def _done(self, report: dict, started: float) -> dict:
        report["seconds"] = round(time.monotonic() - started, 2)
        self.last_report = report
        log.info(json.dumps(report))
        return report


class _GivingWayClient(flask.testing.FlaskClient):
    """The warmer's in-process client: each request first gives way to other people's."""

    def __init__(self, server: flask.Flask, warmer: Warmer, deadline: float):
        super().__init__(server, server.response_class, use_cookies=True)
        self._warmer = warmer
        self._deadline = deadline

    def open(self, *args, **kwargs):
        self._warmer.give_way(self._deadline)
        return super().open(*args, **kwargs)


def install(app: dash.Dash, pages: Callable[[], list[str]], budget_seconds: float) -> Warmer | None:
    """Warm `app` in the background whenever a request finds a new build (the first
    request served included: the app factory sends one in-process). Call before the app
    serves anything. None when `budget_seconds` is 0 or nothing is cached."""
    server = app.server
    if not budget_seconds or server.config["ACCURX_SETTINGS"].cache_type == "NullCache":
        return None
    server.wsgi_app = traffic = Traffic(server.wsgi_app)
    warmer = Warmer(app, pages, budget_seconds, traffic)
    server.extensions["accurx_warmer"] = warmer

    @server.before_request
    def notice_new_build():
        # Pages, callbacks and health probes (a probe notices a rebuild with nobody on
        # the site); not the page's scripts and stylesheets.
        path = flask.request.path
        if not path.startswith(_FILE_PATHS) and not is_warm_up_request():
            warmer.notice()

    return warmer
