"""`/healthz` (the process answers) and `/readyz` (the warehouse answers, and how old its data is).

Orchestrators restart on a failing `/healthz` and stop routing on a failing `/readyz`,
so `/healthz` never touches the warehouse: a warehouse outage must not restart workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import flask

log = logging.getLogger(__name__)

ReadinessProbe = Callable[[], dict[str, Any]]


def install(server: flask.Flask, readiness_probe: ReadinessProbe) -> None:
    """Register both endpoints. `readiness_probe` returns facts about the warehouse
    (e.g. backend, latest export date, data age in days) and raises when it is unreachable."""

    @server.route("/healthz")
    def healthz():
        return flask.jsonify(status="ok")

    @server.route("/readyz")
    def readyz():
        started = time.perf_counter()
        try:
            facts = readiness_probe()
        except Exception as exc:  # the probe reports any failure as "not ready"
            log.warning("readiness probe failed: %s", type(exc).__name__)
            return flask.jsonify(status="unavailable", error=str(exc)[:300]), 503
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        return flask.jsonify(status="ready", probe_ms=elapsed_ms, **facts)
