"""Fixtures of the query layer's tests: a tiny warehouse file and the runner's log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from runner_support import ORGANISATIONS, query_lines


@pytest.fixture
def warehouse(tmp_path, make_tiny_warehouse) -> Path:
    """A DuckDB file with the presentation views the runner's tests read (two organisations)."""
    return make_tiny_warehouse(tmp_path / "accurx.duckdb", ORGANISATIONS)


@pytest.fixture
def query_log(caplog):
    """A function returning the `accurx.queries` lines logged so far, as dicts."""
    caplog.set_level(logging.INFO, logger="accurx")
    return lambda: query_lines(caplog)
