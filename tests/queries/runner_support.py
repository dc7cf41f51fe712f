"""Helpers of the query layer's tests: the tiny warehouse's organisations, runners whose
back-off pauses are recorded."""

from __future__ import annotations

import json

from flask import Flask

from config import load_settings
from queries.runner import Runner, init_app

ORGANISATIONS = [(1, "Alpha Surgery"), (2, "Beta Practice")]
FAST_RETRIES = {"ACCURX_RETRY_BASE_SECONDS": "0.2", "ACCURX_RETRY_BUDGET_SECONDS": "60",
                "ACCURX_OUTAGE_COOLDOWN_SECONDS": "0"}


def cached_runner(overrides: dict, sleeps: list | None = None) -> Runner:
    """A Runner with a per-process cache (as one worker has), back-off pauses recorded
    in `sleeps` instead of slept."""
    runner = init_app(Flask(__name__), load_settings({**FAST_RETRIES, **overrides}, environ={}))
    if sleeps is not None:
        runner._sleep = sleeps.append
    return runner


def query_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]


def assert_backoff(sleeps: list[float], base: float = 0.2) -> None:
    """Exponential back-off with jitter: the n-th pause is in [0.5, 1] x base x 2^n."""
    for n, pause in enumerate(sleeps):
        assert 0.5 * base * 2**n <= pause <= base * 2**n, sleeps
