"""`/healthz` (the process answers) and `/readyz` (the warehouse answers, and how old its data is).

Orchestrators restart on a failing `/healthz` and stop routing on a failing `/readyz`,
so `/healthz` never touches the warehouse: a warehouse outage must not restart workers.
Both are public (no sign-in) and say nothing a stranger could use: no paths, no
connection details, no error text (the reason is in the server log).

`/readyz` answers 503 when the warehouse cannot answer, and also when its data is
older than `ACCURX_READY_MAX_DATA_AGE_DAYS` if that is set (unset by default: a late
load should show old numbers with their date, not take the dashboard away).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import flask

log = logging.getLogger("accurx.health")

ReadinessProbe = Callable[[], dict[str, Any]]


def install(server: flask.Flask, readiness_probe: ReadinessProbe,
            max_data_age_days: int | None = None) -> None:
    """Register both endpoints. `readiness_probe` returns facts about the warehouse
    (backend, latest export date, `data_age_days`) and raises when it is unreachable."""

    @server.route("/healthz")
    def healthz():
        return flask.jsonify(status="ok")

    @server.route("/readyz")
    def readyz():
        started = time.perf_counter()
        try:
            facts = readiness_probe()
        except Exception as exc:  # noqa: BLE001  (any failure of the probe means "not ready")
            log.warning("readiness probe failed: %s: %s", type(exc).__name__, exc)
            return flask.jsonify(status="unavailable", reason="the warehouse did not answer"), 503
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        age = facts.get("data_age_days")
        if max_data_age_days is not None and (age is None or age > max_data_age_days):
            return flask.jsonify(status="stale", probe_ms=elapsed_ms,
                                 max_data_age_days=max_data_age_days, **facts), 503
        return flask.jsonify(status="ready", probe_ms=elapsed_ms, **facts)
