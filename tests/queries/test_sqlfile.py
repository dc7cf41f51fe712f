"""queries/sqlfile.py: named statements, placeholders, binding; every .sql file reads only
contract views and parses as Snowflake SQL."""

from __future__ import annotations

import re

import pytest

from config import load_settings
from queries.runner import Runner
from queries.sqlfile import QUERIES_DIR, load_statements, parse_sql_file

# The presentation views of METRICS.md sections 3 and 5: the only objects the app may read.
CONTRACT_VIEWS = {
    "feature_access_daily", "latest_complete_date", "org_feature_daily", "org_feature_weekly",
    "usage_user_daily", "org_feature_usage_weekly", "unpaid_usage_events",
    "unpaid_usage_weekly", "feature_entitlement_changes", "feature_retention_cohorts",
    "data_quality", "quarantine", "organisations", "unpaid_reasons",
    "usage_forecast_weekly", "usage_forecast_accuracy", "churn_risk", "churn_risk_backtest",
    # Not in METRICS.md but presentation views under a dbt model contract all the same
    # (warehouse/models/presentation): small tables the app reads at 3,000 customers.
    "org_feature_latest_day", "org_feature_usage_daily", "option_usage_weekly",
}



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


def test_schema_placeholder_is_quoted_per_backend(warehouse):
    duck = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    snow = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake"}, environ={}))
    assert 'from "04_PRESENTATION".organisations' in duck.sql_for("organisations", "all_organisations").sql
    assert 'from ACCURX."04_PRESENTATION".organisations' in snow.sql_for("organisations", "all_organisations").sql


def test_identical_requests_send_byte_identical_sql(warehouse):
    runner = Runner(load_settings({"ACCURX_DUCKDB_PATH": str(warehouse)}, environ={}))
    first = runner.sql_for("organisations", "organisation_by_id").sql
    second = runner.sql_for("organisations", "organisation_by_id").sql
    assert first == second and "?" in first and ":organisation_id" not in first


@pytest.mark.snowflake
@pytest.mark.parametrize("question", sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
def test_every_statement_parses_as_snowflake_sql(question):
    sqlglot = pytest.importorskip("sqlglot")
    runner = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake"}, environ={}))
    for name in load_statements(question):
        sql = runner.sql_for(question, name).sql
        assert 'ACCURX."04_PRESENTATION".' in sql
        sqlglot.parse_one(sql, read="snowflake")
