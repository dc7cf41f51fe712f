"""The Snowflake target, proven as far as it can be without a Snowflake account.

Three groups, each saying what it proves (see `warehouse.snowflake_check`):

- Compile check: the project compiles for `--target snowflake` with dummy credentials,
  and every compiled statement parses with sqlglot's Snowflake dialect, quotes every
  digit-leading schema and uses no DuckDB-only construct. Proves syntax, not semantics.
- fakesnow parity: the demo raw data, loaded into a local fakesnow server, built there
  with dbt-snowflake, gives every presentation view the same rows as the DuckDB build.
  The build is the session's `fakesnow_warehouse` (tests/conftest.py), shared with
  tests/serving/test_snowflake_app.py so CI builds it once.
  A smoke test, not proof: fakesnow executes on DuckDB and accepts DuckDB-only syntax
  that Snowflake rejects, lacks some Snowflake functions (the harness adds them, see
  SNOWFLAKE_FUNCTION_SHIMS) and cannot run dbt unit tests (they run on DuckDB).
- Production SQL (`warehouse/snowflake/*.sql`): every statement parses with sqlglot's
  Snowflake dialect; the ones sqlglot only keeps as an opaque command are listed in
  OPAQUE_STATEMENT_KINDS; the dashboard role is read-only on "04_PRESENTATION"; every
  column holding names or e-mail addresses is masked.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from snowflake.connector.errors import ProgrammingError
from sqlglot import exp

from warehouse.snowflake_check import (
    DATABASE,
    PRESENTATION_VIEWS,
    SNOWFLAKE_FUNCTION_SHIMS,
    check_compiled_dir,
    check_compiled_sql,
    compare_presentation_views,
    compile_for_snowflake,
    compile_masking_statements,
    compiled_sql_files,
    fakesnow_with_shims,
    presentation_views_on_fakesnow,
)

pytestmark = pytest.mark.snowflake

PROJECT_DIR = Path(__file__).resolve().parents[2] / "warehouse"
SNOWFLAKE_SQL_DIR = PROJECT_DIR / "snowflake"
SETUP_FILES = ("01_setup.sql", "02_masking.sql", "03_dashboard_user.sql")
# Statement kinds sqlglot 30 does not model: it tokenises them and keeps them as an
# opaque exp.Command, so only their tokens are checked. Checked by hand against
# Snowflake's documentation instead; a statement of any other kind must parse fully.
OPAQUE_STATEMENT_KINDS = (
    "CREATE ROLE",
    "CREATE USER",
    "CREATE MASKING POLICY",
    "GRANT ROLE",
    "GRANT OWNERSHIP",
    "GRANT SELECT ON ALL",
    "GRANT SELECT ON FUTURE",
    "GRANT APPLY ON MASKING POLICY",
    "ALTER VIEW",
    "ALTER TABLE",
)
DASHBOARD_ROLE = "ACCURX_DASHBOARD_READER"
# The presentation views' columns known to differ on Snowflake by design, with why.
BY_DESIGN_DIFFERENCES = {
    # snowflake__raw_load_lineage: Snowflake's ingested raw tables carry no load lineage.
    "quarantine": ("source_file", "source_row"),
}
# Column names that carry a user's name or e-mail address wherever they appear, and
# the raw-payload columns of relations built from USER rows.
PII_COLUMNS = {"email", "first_name", "last_name"}
RAW_PAYLOAD_COLUMNS = {"payload_text", "raw_record", "csv_line"}
USER_DERIVED_RELATION = re.compile(r"user|quarantine|load_rejects", re.IGNORECASE)
MASKING_ATTACHMENT = re.compile(
    r'ALTER\s+(?P<kind>VIEW|TABLE)\s+ACCURX\."(?P<schema>\w+)"\.(?P<relation>\w+)\s+'
    r"MODIFY\s+COLUMN\s+(?P<column>\w+)\s+SET\s+MASKING\s+POLICY\s+(?P<policy>[\w.]+)"
    r"(?:\s+USING\s*\((?P<using>[^)]*)\))?(?P<force>\s+FORCE)?$",
    re.IGNORECASE,
)


def setup_statements(file_name: str) -> list[exp.Expression]:
    sql = (SNOWFLAKE_SQL_DIR / file_name).read_text()
    return [
        statement
        for statement in sqlglot.parse(sql, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        if statement is not None
    ]


def statement_text(statement: exp.Expression) -> str:
    """One-line SQL of a statement, without the comments sqlglot attaches to it."""
    statement = statement.copy()
    for node in statement.walk():
        node.comments = None
    return " ".join(statement.sql("snowflake").split())


# --- compile check ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_dir(tmp_path_factory) -> Path:
    return compile_for_snowflake(tmp_path_factory.mktemp("snowflake-compile"))


def test_compile_covers_every_presentation_view(compiled_dir):
    compiled = {path.stem for path in compiled_sql_files(compiled_dir)}
    assert set(PRESENTATION_VIEWS) <= compiled
    assert len(compiled_sql_files(compiled_dir)) > len(PRESENTATION_VIEWS)


def test_every_compiled_statement_is_snowflake_sql(compiled_dir):
    problems = check_compiled_dir(compiled_dir)
    assert not problems, "\n".join(
        f"{path}:\n" + "\n".join(f"  {p}" for p in found) for path, found in problems.items()
    )


def compiled_model(compiled_dir, name: str) -> str:
    (path,) = compiled_dir.rglob(f"{name}.sql")
    return path.read_text()


def test_cortex_models_call_forecast_twice_per_training_set(compiled_dir):
    weekly = compiled_model(compiled_dir, "fct_usage_forecast_weekly_cortex")
    calls = re.findall(
        r"usage_forecast_cortex_(\d)!forecast\(\s*forecasting_periods => (\d+),\s*"
        r"config_object => \{'prediction_interval': ([\d.]+)\}",
        weekly,
    )
    assert sorted(calls) == [("0", "12", "0.8"), ("0", "12", "0.95")]
    backtest = compiled_model(compiled_dir, "fct_usage_forecast_backtest_cortex")
    calls = re.findall(
        r"usage_forecast_cortex_(\d)!forecast\(\s*forecasting_periods => (\d+),\s*"
        r"config_object => \{'prediction_interval': ([\d.]+)\}",
        backtest,
    )
    assert sorted(calls) == sorted(
        (str(k), "4", interval) for k in range(1, 9) for interval in ("0.8", "0.95")
    )
    assert '"03_MODEL".usage_forecast_cortex_0!forecast' in weekly


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select * from ACCURX.03_MODEL.dim_users", "does not parse"),
        ("select a from t where x = 03_MODEL", "digit-leading name 03_MODEL"),
        ("select payload::json from t", "cast to JSON"),
        ("select json_extract_string(p, '$.a') from t", "DuckDB JSON function"),
        ("select x from t, unnest(y)", "unnest"),
        ("select strftime(d, '%Y') from t", "DuckDB date function"),
        ("select string_agg(x, ',') from t", "DuckDB aggregate"),
        ("select try_cast(count(*) as varchar) from t", "TRY_CAST of a non-text"),
        ("select date_trunc('week', d) from t", "WEEK_START"),
    ],
)
def test_compiled_sql_check_catches(sql, expected):
    assert any(expected in problem for problem in check_compiled_sql(sql))


def test_compiled_sql_check_accepts_snowflake_idioms():
    sql = """
        select try_cast(to_varchar(p:"organisationId") as bigint), f.value:"Name"::varchar,
               '03_MODEL' as note, listagg(x, ', ') within group (order by x)
        from ACCURX."03_MODEL".t, lateral flatten(input => try_parse_json(t.p)) f
        qualify row_number() over (partition by 1 order by 1) = 1  -- date_trunc('week', d)
    """
    assert check_compiled_sql(sql) == []


# --- fakesnow parity ------------------------------------------------------------------


@pytest.fixture(scope="module")
def view_comparisons(fakesnow_warehouse, demo_warehouse):
    return compare_presentation_views(
        demo_warehouse.db_path, fakesnow_warehouse.server, ignore=BY_DESIGN_DIFFERENCES
    )


def test_dbt_build_passes_on_fakesnow(fakesnow_warehouse):
    """Seeds, models and data tests; unit tests run on DuckDB only (see build_on_fakesnow)."""
    assert fakesnow_warehouse.dbt_failure is None, fakesnow_warehouse.dbt_failure


def test_fakesnow_gets_the_raw_rows_of_the_duckdb_warehouse(fakesnow_warehouse, demo_warehouse):
    loaded = fakesnow_warehouse.rows_loaded
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        for table, rows in loaded.items():
            (expected,) = con.execute(f'select count(*) from "01_RAW"."{table}"').fetchone()
            assert rows == expected, table
    finally:
        con.close()


def test_fakesnow_build_has_every_presentation_view(fakesnow_warehouse):
    assert set(PRESENTATION_VIEWS) <= presentation_views_on_fakesnow(fakesnow_warehouse.server)


@pytest.mark.parametrize("view", PRESENTATION_VIEWS)
def test_presentation_view_equals_duckdb_build(view, view_comparisons):
    """Same columns and rows (order-insensitive; see normalise_value for the tolerance)."""
    comparison = view_comparisons[view]
    assert comparison.equal, comparison.describe()


@pytest.mark.parametrize(("view", "columns"), BY_DESIGN_DIFFERENCES.items())
def test_columns_known_to_differ_are_null_on_snowflake(view, columns, fakesnow_warehouse):
    condition = " or ".join(f"{column} is not null" for column in columns)
    con = fakesnow_warehouse.server.connect()
    try:
        (non_null,) = (
            con.cursor()
            .execute(f'select count(*) from ACCURX."04_PRESENTATION".{view} where {condition}')
            .fetchone()
        )
    finally:
        con.close()
    assert non_null == 0


def test_fakesnow_parity_runtime_is_reasonable(fakesnow_warehouse):
    """Server start, raw load and dbt build stay well inside a CI budget (measured ~2 min)."""
    assert fakesnow_warehouse.seconds < 300


@pytest.mark.parametrize("name", SNOWFLAKE_FUNCTION_SHIMS)
def test_each_shim_adds_a_function_fakesnow_lacks(name):
    """When fakesnow learns one of these, its shim must go (the harness never overrides)."""
    from fakesnow.instance import FakeSnow

    cursor = FakeSnow().connect(DATABASE).cursor()
    with pytest.raises(ProgrammingError, match="does not exist"):
        cursor.execute(f"select {name}(to_variant(x)) from (select 'a' as x)")


def test_shims_follow_snowflake_semantics():
    """Snowflake's documented results: AS_<type> is NULL for a VARIANT of another type."""
    cursor = fakesnow_with_shims().connect(DATABASE).cursor()
    cursor.execute(
        """
        select is_object(try_parse_json(object_text)), is_object(to_variant(plain)),
               as_varchar(to_variant(plain)), as_varchar(try_parse_json(object_text)),
               as_integer(try_parse_json(number_text)), as_integer(to_variant(number_text)),
               as_date(to_variant(date_text)), as_timestamp_ntz(to_variant(date_text)),
               try_to_timestamp_ntz(timestamp_text), try_to_timestamp_ntz(plain)
        from (select '{"a": 1}' as object_text, 'x' as plain, '12' as number_text,
                     '2026-07-04' as date_text, '2026-07-04 10:11:12.123456' as timestamp_text)
        """
    )
    assert cursor.fetchone() == (
        True, False, "x", None, 12, None, None, None,
        dt.datetime(2026, 7, 4, 10, 11, 12, 123456), None,
    )  # fmt: skip


def test_fakesnow_answers_masking_attachments_without_running_them(masking_statements):
    """A post-hook attaching a masking policy must not break the fakesnow build."""
    cursor = fakesnow_with_shims().connect(DATABASE).cursor()
    for match in masking_attachments(masking_statements):
        cursor.execute(f'{match.group(0)}\n/* {{"app": "dbt"}} */')
        assert cursor.fetchall() == [("Statement executed successfully.",)]


# --- production SQL -----------------------------------------------------------------


@pytest.mark.parametrize("file_name", SETUP_FILES)
def test_setup_sql_parses_as_snowflake(file_name):
    statements = setup_statements(file_name)
    assert statements
    opaque = [statement_text(s) for s in statements if isinstance(s, exp.Command)]
    unlisted = [text for text in opaque if not text.upper().startswith(OPAQUE_STATEMENT_KINDS)]
    assert not unlisted, f"not modelled by sqlglot and not in OPAQUE_STATEMENT_KINDS: {unlisted}"


def test_setup_creates_the_database_schemas_and_warehouses():
    created = {
        (s.args["kind"].upper(), s.this.sql("snowflake"))
        for s in setup_statements("01_setup.sql")
        if isinstance(s, exp.Create)
    }
    assert ("DATABASE", "ACCURX") in created
    for schema in ("01_RAW", "02_CLEAN", "03_MODEL", "04_PRESENTATION"):
        assert ("SCHEMA", f'ACCURX."{schema}"') in created
    assert {kind for kind, _ in created if kind == "WAREHOUSE"} == {"WAREHOUSE"}
    assert len([name for kind, name in created if kind == "WAREHOUSE"]) == 2


def test_dashboard_role_reads_only_presentation_views():
    grants = [
        statement_text(s)
        for file_name in SETUP_FILES
        for s in setup_statements(file_name)
        if statement_text(s).upper().startswith("GRANT")
        and re.search(rf"\bTO\s+ROLE\s+{DASHBOARD_ROLE}\b", statement_text(s), re.IGNORECASE)
    ]
    assert grants
    allowed = (
        "GRANT USAGE ON DATABASE ACCURX ",
        'GRANT USAGE ON SCHEMA ACCURX."04_PRESENTATION" ',
        'GRANT SELECT ON ALL VIEWS IN SCHEMA ACCURX."04_PRESENTATION" ',
        'GRANT SELECT ON FUTURE VIEWS IN SCHEMA ACCURX."04_PRESENTATION" ',
        "GRANT USAGE ON WAREHOUSE ACCURX_DASHBOARD_WH ",
    )
    assert all(grant.upper().startswith(allowed) for grant in grants), grants
    assert any("FUTURE VIEWS" in grant.upper() for grant in grants)


def test_dashboard_user_uses_a_key_pair_and_no_password():
    text = (SNOWFLAKE_SQL_DIR / "03_dashboard_user.sql").read_text()
    code = " ".join(statement_text(s) for s in setup_statements("03_dashboard_user.sql")).upper()
    assert "PASSWORD" not in code
    assert "TYPE = SERVICE" in code
    assert "RSA_PUBLIC_KEY = '<RSA PUBLIC KEY" in code, "the key must stay a placeholder here"
    assert f"DEFAULT_ROLE = {DASHBOARD_ROLE}" in code
    assert "DEFAULT_WAREHOUSE = ACCURX_DASHBOARD_WH" in code
    assert "BEGIN PUBLIC KEY-----\n" not in text


def test_masking_policy_bodies_parse_as_snowflake_expressions():
    policies = [
        statement_text(s)
        for s in setup_statements("02_masking.sql")
        if statement_text(s).upper().startswith("CREATE MASKING POLICY")
    ]
    assert len(policies) == 2
    for policy in policies:
        body = re.search(r"->\s*(.*?)\s*(COMMENT\s*=.*)?$", policy, re.DOTALL).group(1)
        expression = sqlglot.parse_one(body, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
        assert isinstance(expression, exp.Case)
        assert "ACCURX_PII_READER" in body


def built_columns(db_path: Path) -> set[tuple[str, str, str]]:
    """(schema, relation, column), upper-case, of the built DuckDB warehouse's dbt layers."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('02_CLEAN', '03_MODEL', '04_PRESENTATION')"
        ).fetchall()
    finally:
        con.close()
    return {(s.upper(), t.upper(), c.upper()) for s, t, c in rows}


@pytest.fixture(scope="module")
def masking_statements(tmp_path_factory) -> list[str]:
    """The statements the snowflake build's masking post-hooks run, compiled."""
    return compile_masking_statements(tmp_path_factory.mktemp("masking-compile"))


def masking_attachments(statements: list[str]) -> list[re.Match]:
    matches = [MASKING_ATTACHMENT.match(statement) for statement in statements]
    assert all(matches), f"not a masking attachment: {statements}"
    return matches


def test_masking_post_hook_runs_for_every_model():
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    hooks = project["models"]["accurx"]["+post-hook"]
    assert any("attach_masking_policies()" in hook for hook in hooks)


def test_masking_statements_are_snowflake_sql_for_each_listed_column(masking_statements):
    """Compiled post-hook SQL: one ALTER per listed column, schema quoted, the policy in
    ACCURX.GOVERNANCE, the conditional policy USING the row's source table, FORCE."""
    listed = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]["masked_columns"]
    attachments = masking_attachments(masking_statements)
    assert len(attachments) == sum(len(columns) for columns in listed.values())
    for statement in masking_statements:
        parsed = sqlglot.parse_one(statement, read="snowflake")
        assert parsed is not None
        assert check_compiled_sql(statement) == [], statement
    by_relation = {(m["relation"].lower(), m["column"].upper()): m for m in attachments}
    for model, columns in listed.items():
        for item in columns:
            match = by_relation[(model, item["column"])]
            assert match["policy"].upper() == f"ACCURX.GOVERNANCE.{item['policy']}"
            assert match["force"]
            using = [c.strip().upper() for c in (match["using"] or "").split(",") if c.strip()]
            assert using == [c.upper() for c in item.get("using", [])]
    quarantine = by_relation[("quarantine", "RAW_RECORD")]
    assert (quarantine["kind"].upper(), quarantine["schema"]) == ("VIEW", "04_PRESENTATION")
    assert quarantine["policy"].upper().endswith("PII_RAW_RECORD_MASK")
    assert "SOURCE_TABLE" in quarantine["using"].upper()


def test_masking_attachments_name_existing_columns(demo_warehouse, masking_statements):
    columns = built_columns(demo_warehouse.db_path)
    attachments = masking_attachments(masking_statements)
    assert attachments
    for match in attachments:
        key = (match["schema"].upper(), match["relation"].upper(), match["column"].upper())
        assert key in columns, f"var masked_columns masks {key}, which the models do not build"
        for using in (match["using"] or "").split(","):
            if using.strip():
                assert (key[0], key[1], using.strip().upper()) in columns


def test_every_name_and_email_column_is_masked(demo_warehouse, masking_statements):
    masked = {
        (m["schema"].upper(), m["relation"].upper(), m["column"].upper())
        for m in masking_attachments(masking_statements)
    }
    needing_a_mask = {
        (schema, relation, column)
        for schema, relation, column in built_columns(demo_warehouse.db_path)
        if column.lower() in PII_COLUMNS
        or (column.lower() in RAW_PAYLOAD_COLUMNS and USER_DERIVED_RELATION.search(relation))
    }
    assert needing_a_mask, "the models no longer expose user attributes: revisit var masked_columns"
    assert needing_a_mask <= masked, f"unmasked: {sorted(needing_a_mask - masked)}"


def test_snowflake_redaction_patterns_mean_what_duckdbs_do(compiled_dir):
    """The quarantine's redaction on Snowflake: its string literals (where a backslash is
    an escape) must decode to the patterns that redact on DuckDB. Applied here with
    DuckDB's regex engine to text in both spellings; Snowflake's own POSIX engine is
    not available without an account. (The Snowflake patterns hold no backslash, so a
    value with an escaped quote is redacted only up to it there: not tested.)"""
    (compiled,) = [
        path for path in compiled_sql_files(compiled_dir) if path.stem == "fct_quarantine"
    ]
    calls = [
        node
        for node in sqlglot.parse_one(compiled.read_text(), read="snowflake").find_all(
            exp.RegexpReplace
        )
    ]
    assert len(calls) == 2
    text = (
        '{"userId":7,"email":"ann@example.org","firstName":"Jo Ann","role":"GP"},'
        '"{""lastName"":""Lee, Jr"",""applicationUserId"":""a-1"",""status"":""Active""}"'
    )
    con = duckdb.connect()
    for call in reversed(calls):  # the inner call (JSON spelling) runs first
        pattern, replacement = call.expression.this, call.args["replacement"].this
        text = con.execute(
            "select regexp_replace(?, ?, ?, 'g')", [text, pattern, replacement]
        ).fetchall()[0][0]
    assert text == (
        '{"userId":7,"email":"***REDACTED***","firstName":"***REDACTED***","role":"GP"},'
        '"{""lastName"":""***REDACTED***"",""applicationUserId"":""***REDACTED***"",""status"":""Active""}"'
    )
