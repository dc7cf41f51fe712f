"""queries/runner.py: named SQL, binding, caching by build identity, errors, logging.

These tests use a tiny DuckDB file made here (two presentation views' worth of rows),
so they run without the demo warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from flask import Flask

from config import load_settings
from queries.runner import (
    QUERIES_DIR,
    Runner,
    WarehouseError,
    init_app,
    load_statements,
    parse_sql_file,
)

# The presentation views of METRICS.md section 3: the only objects the app may read.
CONTRACT_VIEWS = {
    "feature_access_daily", "latest_complete_date", "org_feature_daily", "org_feature_weekly",
    "usage_user_daily", "org_feature_usage_weekly", "unpaid_usage_events",
    "unpaid_usage_weekly", "feature_entitlement_changes", "feature_retention_cohorts",
    "data_quality", "quarantine", "organisations", "unpaid_reasons",
}


@pytest.fixture
def small_warehouse(tmp_path, make_tiny_warehouse) -> Path:
    return make_tiny_warehouse(tmp_path / "accurx.duckdb", [(1, "Alpha Surgery"), (2, "Beta Practice")])


@pytest.fixture
def cached_runner(small_warehouse) -> Runner:
    server = Flask(__name__)
    return init_app(server, load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))


# ---------------------------------------------------------------- parsing
def test_named_statements_are_split_translated_and_documented():
    text = """-- preamble is ignored
-- name: first
-- grain: one row per thing
-- params: a (int), b (date)
select x::int, ':not_a_param', "col:umn" -- :comment
from {presentation}.organisations where a = :a and b >= :b and a2 = :a;

-- name: second
-- grain: one row
select ? as p
"""
    statements = parse_sql_file("demo", text)
    assert list(statements) == ["first", "second"]
    first = statements["first"]
    assert first.param_names == ("a", "b", "a")
    assert "x::int" in first.sql and "':not_a_param'" in first.sql and '"col:umn"' in first.sql
    assert first.sql.count("?") == 3 and not first.sql.rstrip().endswith(";")
    assert "-- grain" not in first.sql
    assert statements["second"].positional


def test_a_statement_without_grain_comment_is_refused():
    with pytest.raises(ValueError, match="grain"):
        parse_sql_file("demo", "-- name: bare\nselect 1\n")


def test_unknown_placeholder_is_refused():
    with pytest.raises(ValueError, match="placeholder"):
        parse_sql_file("demo", "-- name: x\n-- grain: one\nselect * from {schema}.t\n")


@pytest.mark.parametrize("sql_file", sorted(QUERIES_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_every_sql_file_reads_only_contract_views(sql_file):
    statements = load_statements(sql_file.stem)
    assert statements, f"{sql_file.name} has no named statement"
    for statement in statements.values():
        views = set(re.findall(r"\{presentation\}\.([a-z_]+)", statement.sql))
        assert views, f"{statement.name} reads no presentation view"
        assert views <= CONTRACT_VIEWS, f"{statement.name} reads {views - CONTRACT_VIEWS}"
        assert "select *" not in statement.sql.lower(), f"{statement.name} selects *"


def test_schema_placeholder_is_quoted_per_backend(small_warehouse):
    duck = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))
    snow = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake"}, environ={}))
    assert 'from "04_PRESENTATION".organisations' in duck.sql_for("organisations", "all_organisations").sql
    assert 'from ACCURX."04_PRESENTATION".organisations' in snow.sql_for("organisations", "all_organisations").sql


def test_identical_requests_send_byte_identical_sql(small_warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))
    first = runner.sql_for("organisations", "organisation_by_id").sql
    second = runner.sql_for("organisations", "organisation_by_id").sql
    assert first == second and "?" in first and ":organisation_id" not in first


# ---------------------------------------------------------------- running, caching, errors
def test_results_are_bound_normalised_and_cached(cached_runner, caplog):
    caplog.set_level(logging.INFO, logger="accurx.queries")
    frame = cached_runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert frame["organisation_name"].tolist() == ["Beta Practice"]
    assert str(frame["first_export_date"].dtype).startswith("datetime64")
    again = cached_runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert again.equals(frame)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]
    assert [line["cache"] for line in lines] == ["miss", "hit"]
    assert all({"question", "query", "warehouse", "ms", "cache", "rows", "retries"} <= set(line) for line in lines)
    assert "Beta" not in caplog.text and '"organisation_id"' not in caplog.text


def test_injection_attempt_is_just_a_value(cached_runner):
    with pytest.raises(WarehouseError):
        cached_runner.run("organisations", "organisation_by_id", {"organisation_id": "1 or 1=1"})


def test_rebuilt_file_is_never_served_from_cache(cached_runner, small_warehouse, make_tiny_warehouse):
    before = cached_runner.run("organisations", "all_organisations")
    assert len(before) == 2
    make_tiny_warehouse(small_warehouse, [(1, "Alpha Surgery"), (2, "Beta Practice"), (3, "Gamma")])
    after = cached_runner.run("organisations", "all_organisations")
    assert after["organisation_name"].tolist() == ["Alpha Surgery", "Beta Practice", "Gamma"]


def test_missing_warehouse_is_a_readable_error(tmp_path):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(tmp_path / "none.duckdb")}, environ={}))
    with pytest.raises(WarehouseError, match="has not been built yet"):
        runner.run("organisations", "all_organisations")


def test_missing_view_is_a_readable_error(small_warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))
    with pytest.raises(WarehouseError, match="does not have a view"):
        runner.run("access", "export_dates")


def test_keep_open_zero_leaves_no_connection_open(small_warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse),
                                   "ACCURX_DUCKDB_KEEP_OPEN_SECONDS": "0"}, environ={}))
    runner.run("organisations", "all_organisations")
    # A writer in this process can open the file only if no read-only connection is open.
    con = duckdb.connect(str(small_warehouse))
    con.close()


def test_by_default_the_read_only_connection_stays_open_between_queries(small_warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))
    runner.run("organisations", "all_organisations")
    with pytest.raises(duckdb.ConnectionException):
        duckdb.connect(str(small_warehouse))  # read-write, while the reader is open
    runner.backend._shared.close()
    duckdb.connect(str(small_warehouse)).close()


def test_a_cache_outage_does_not_break_queries(small_warehouse):
    class BrokenCache:
        def get(self, key):
            raise ConnectionError("redis down")

        def set(self, key, value):
            raise ConnectionError("redis down")

    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}), BrokenCache())
    assert len(runner.run("organisations", "all_organisations")) == 2


def test_settings_from_environment_and_secrets_kept_out_of_repr():
    settings = load_settings(environ={
        "ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_PASSWORD": "s3cret", "SNOWFLAKE_ACCOUNT": "acme",
        "REDIS_URL": "redis://:pw@localhost:6379/0",
    })
    assert settings.cache_type == "RedisCache"
    assert settings.snowflake_params["account"] == "acme"
    assert "s3cret" not in repr(settings) and "pw@" not in repr(settings)
    assert "s3cret" not in json.dumps(settings.describe())
    default = load_settings(environ={})
    assert default.warehouse == "duckdb" and default.duckdb_path.name == "accurx.duckdb"
    assert default.cache_type == "SimpleCache"



def test_readiness_reports_how_current_the_data_is(small_warehouse, tmp_path):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(small_warehouse)}, environ={}))
    facts = runner.readiness()
    assert facts["warehouse"] == "duckdb" and facts["last_export_date"] == "2026-03-31"
    assert facts["latest_complete_date"] == "2026-03-30"
    assert facts["data_age_days"] == (dt.date.today() - dt.date(2026, 3, 31)).days
    missing = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(tmp_path / "none.duckdb")}, environ={}))
    with pytest.raises(WarehouseError):
        missing.readiness()


def test_redis_cache_is_shared_between_runners(small_warehouse, tmp_path, caplog):
    """Two runners (two gunicorn workers) on one Redis: the second answers from the cache."""
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed (make browser-deps installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis = subprocess.Popen([server_binary, "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        overrides = {"ACCURX_DUCKDB_PATH": str(small_warehouse), "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        caplog.set_level(logging.INFO, logger="accurx.queries")
        first = init_app(Flask("one"), load_settings(overrides, environ={}))
        second = init_app(Flask("two"), load_settings(overrides, environ={}))
        assert first.settings.cache_type == "RedisCache"
        first.run("organisations", "all_organisations")
        frame = second.run("organisations", "all_organisations")
        assert len(frame) == 2
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.queries"]
        assert [line["cache"] for line in lines] == ["miss", "hit"]
    finally:
        redis.terminate()
        redis.wait(timeout=10)
