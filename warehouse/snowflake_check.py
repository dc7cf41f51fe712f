"""Checks of the warehouse against the Snowflake dialect, without a Snowflake account.

The module's rule: neither check below proves that Snowflake runs the project; each
catches a different class of mistake early, and says which one.

1. Compile check (`compile_for_snowflake`, `check_compiled_sql`): `dbt compile --target
   snowflake` with dummy credentials, then every compiled statement must parse with
   sqlglot's snowflake dialect, name no digit-leading schema unquoted and contain none of
   `DUCKDB_ONLY_CONSTRUCTS`. Catches syntax Snowflake cannot read; misses semantics.
2. fakesnow parity (`running_fakesnow`, `load_raw_into_fakesnow`, `build_on_fakesnow`,
   `compare_presentation_views`): a local fakesnow server (Snowflake's HTTP protocol in
   front of DuckDB) gets the same raw rows as the embedded warehouse, dbt-snowflake builds
   the project there, and every presentation view is compared with the DuckDB build.
   fakesnow transpiles Snowflake SQL to DuckDB and also accepts DuckDB-only syntax, so
   this is a smoke test of the `snowflake__` macros and dbt-snowflake's materialisations,
   not of Snowflake's own semantics.

Command line:
    python -m warehouse.snowflake_check compile
    python -m warehouse.snowflake_check parity RAW_DIR --db DUCKDB_FILE
    python -m warehouse.snowflake_check serve --port N [--db-path DIR]   (used by the above)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import decimal
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from warehouse.build import failure_summary
from warehouse.load import LINEAGE_COLUMNS, RAW_SCHEMA, TABLE_COLUMNS, quote_ident
from warehouse.load import load as load_raw_files

PROJECT_DIR = Path(__file__).resolve().parent
DATABASE = "ACCURX"
PRESENTATION_SCHEMA = "04_PRESENTATION"
LAYER_SCHEMAS = (RAW_SCHEMA, "02_CLEAN", "03_MODEL", PRESENTATION_SCHEMA)
# METRICS.md sections 3 and 5: the views the dashboard reads.
PRESENTATION_VIEWS = (
    "feature_access_daily", "latest_complete_date", "org_feature_daily", "org_feature_weekly",
    "usage_user_daily", "org_feature_usage_weekly", "unpaid_usage_events", "unpaid_usage_weekly",
    "feature_entitlement_changes", "feature_retention_cohorts", "data_quality", "quarantine",
    "organisations", "unpaid_reasons", "churn_risk", "churn_risk_backtest",
)  # fmt: skip

# Checked on the compiled SQL with string literals and comments removed. Each is DuckDB
# (or Postgres) syntax that Snowflake rejects or reads differently.
DUCKDB_ONLY_CONSTRUCTS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "cast to JSON/STRUCT/MAP or unsigned/huge int type": (
            r"(::|\bas)\s*(json|struct|map|hugeint|uhugeint|ubigint|uinteger|usmallint|utinyint)\b"
        ),
        "DuckDB JSON function (Snowflake: PARSE_JSON, GET, :path, FLATTEN)": (
            r"\b(json_extract|json_extract_string|json_transform|json_valid|json_type|json_keys"
            r"|json_array_length|json_object|json_group_array|json_group_object|json_structure"
            r"|json_contains|json_merge_patch|from_json)\s*\("
        ),
        "DuckDB struct/list function": (
            r"\b(struct_\w+|list_\w+|array_length|array_extract|array_transform|array_filter)\s*\("
        ),
        "unnest / with ordinality / generate_series / range() (Snowflake: LATERAL FLATTEN)": (
            r"\bunnest\s*\(|\bwith\s+ordinality\b|\bgenerate_series\s*\(|\brange\s*\("
        ),
        "DuckDB date function (Snowflake: TO_CHAR, TRY_TO_*, DATEDIFF, DAYOFWEEKISO)": (
            r"\b(strftime|strptime|try_strptime|date_diff|epoch_ms|isodow|current_localtimestamp)\s*\("
        ),
        "DuckDB aggregate (Snowflake: LISTAGG, BOOLOR_AGG, BOOLAND_AGG)": (
            r"\b(string_agg|bool_or|bool_and|list)\s*\("
        ),
        "regexp_matches / regexp_full_match (Snowflake: REGEXP_LIKE)": (
            r"\b(regexp_matches|regexp_full_match)\s*\("
        ),
    }.items()
}
# Expressions that are text in Snowflake: TRY_CAST accepts nothing else.
TEXT_TYPES = {exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR,
              exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR}  # fmt: skip
TEXT_FUNCTIONS = (exp.ToChar, exp.Trim, exp.Lower, exp.Upper, exp.Concat, exp.DPipe,
                  exp.Substring, exp.Replace, exp.RegexpReplace, exp.Initcap)  # fmt: skip
TEXT_ANONYMOUS_FUNCTIONS = {"as_varchar", "to_varchar", "ltrim", "rtrim", "split_part"}
DIGIT_LEADING_BARE_NAME = re.compile(r'(?<!["\w])\d+_\w+')
STRING_OR_COMMENT = re.compile(r"'(?:[^'\\]|\\.|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class SnowflakeCheckError(Exception):
    """A step of a check could not run; the message carries the tool's output."""


# --- 1. Compile check ---------------------------------------------------------------


def dbt_command(project_dir: Path, *args: str) -> list[str]:
    """`dbt ARGS --target snowflake` for the project in `project_dir`, with this interpreter."""
    return [
        sys.executable, "-c", "from dbt.cli.main import cli; cli()", "--no-use-colors", *args,
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target", "snowflake",
    ]  # fmt: skip


def dbt_environment(**overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        "ACCURX_DBT_TARGET": "snowflake",
        **overrides,
    }


def run_dbt(
    args: list[str], env: dict[str, str], timeout: int, project_dir: Path = PROJECT_DIR
) -> subprocess.CompletedProcess:
    """Run dbt; raise SnowflakeCheckError when it fails.

    The message starts with one line per failed node (from run_results.json, when `args`
    name a --target-path), then the end of dbt's output.
    """
    proc = subprocess.run(
        dbt_command(project_dir, *args),
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        summary = []
        if "--target-path" in args:
            target_path = Path(args[args.index("--target-path") + 1])
            summary = failure_summary(target_path / "run_results.json")
        raise SnowflakeCheckError(
            f"dbt {args[0]} --target snowflake exited {proc.returncode}\n"
            + "".join(f"{line}\n" for line in summary)
            + f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-2000:]}"
        )
    return proc


def compile_for_snowflake(
    work_dir: Path, project_dir: Path = PROJECT_DIR, timeout: int = 600
) -> Path:
    """Compile every model, test and hook for the snowflake target; return the compiled dir.

    No connection is made (`--no-populate-cache --no-introspect`, dummy credentials), so
    this runs anywhere. Artifacts go to `work_dir`, never to the project's own target/.
    Raises SnowflakeCheckError when dbt fails.
    """
    target_path = work_dir / "target"
    env = dbt_environment(
        SNOWFLAKE_ACCOUNT="compile-check-no-account", SNOWFLAKE_USER="compile-check",
        SNOWFLAKE_CONNECT_RETRIES="0",
    )  # fmt: skip
    run_dbt(
        ["compile", "--no-populate-cache", "--no-introspect",
         "--target-path", str(target_path), "--log-path", str(work_dir / "logs")],
        env, timeout, project_dir,
    )  # fmt: skip
    return target_path / "compiled"


# The masking post-hooks' statements of every model listed in var masked_columns, rendered
# for each model's relation as the hook renders them for `this` (warehouse/macros/
# masking_policies.sql). Hooks run only during a build, so `compile` never writes them.
MASKING_STATEMENTS_INLINE = """
{%- for name in var('masked_columns') -%}
{%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
    | selectattr('name', 'equalto', name) | first -%}
{%- set relation = api.Relation.create(database=node.database, schema=node.schema,
    identifier=node.alias, quote_policy={'database': false, 'schema': true, 'identifier': false}) -%}
{%- for statement in masking_policy_statements(relation, name, node.config.materialized) %}
{{ statement }};
{%- endfor -%}
{%- endfor -%}
"""


def compile_masking_statements(
    work_dir: Path, project_dir: Path = PROJECT_DIR, timeout: int = 600
) -> list[str]:
    """The ALTER ... SET MASKING POLICY statements the snowflake build's post-hooks run.

    Compiled like `compile_for_snowflake` (no connection). Raises SnowflakeCheckError.
    """
    env = dbt_environment(
        SNOWFLAKE_ACCOUNT="compile-check-no-account", SNOWFLAKE_USER="compile-check",
        SNOWFLAKE_CONNECT_RETRIES="0",
    )  # fmt: skip
    proc = run_dbt(
        ["--quiet", "compile", "--no-populate-cache", "--no-introspect",
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
         "--inline", MASKING_STATEMENTS_INLINE],
        env, timeout, project_dir,
    )  # fmt: skip
    return [line.strip().rstrip(";") for line in proc.stdout.splitlines() if line.strip()]


def compiled_sql_files(compiled_dir: Path) -> list[Path]:
    return sorted(compiled_dir.rglob("*.sql"))


def without_strings_and_comments(sql: str) -> str:
    """The SQL text with string literals emptied and comments removed (no parsing needed)."""
    return STRING_OR_COMMENT.sub(lambda m: "''" if m.group(0).startswith("'") else " ", sql)


def code_without_literals(sql: str) -> str:
    """The SQL's tokens with string literals emptied and comments dropped, space-separated."""
    parts = []
    for token in sqlglot.tokenize(sql, read="snowflake"):
        if token.token_type == TokenType.STRING:
            parts.append("''")
        elif token.token_type == TokenType.IDENTIFIER:
            parts.append(f'"{token.text}"')
        else:
            parts.append(token.text)
    return " ".join(parts)


def is_text_expression(node: exp.Expression) -> bool:
    """Whether `node` is text in Snowflake as far as the SQL alone shows.

    Columns count as text: their type is not visible here (the raw columns are text).
    """
    if isinstance(node, (exp.Column, exp.Null)):
        return True
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.this in TEXT_TYPES
    if isinstance(node, TEXT_FUNCTIONS):
        return True
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in TEXT_ANONYMOUS_FUNCTIONS
    if isinstance(node, exp.Paren):
        return is_text_expression(node.this)
    if isinstance(node, exp.Coalesce):
        return all(is_text_expression(arg) for arg in [node.this, *node.expressions])
    return False


def check_compiled_sql(sql: str) -> list[str]:
    """Problems of one compiled file for Snowflake; empty when none was found.

    Checks: parses with sqlglot's snowflake dialect (error level RAISE); no bare
    digit-leading name (an unquoted "03_MODEL"); none of DUCKDB_ONLY_CONSTRUCTS; TRY_CAST
    only of text; no date_trunc('week') (its result depends on the session's WEEK_START).
    """
    problems = [
        f'digit-leading name {name} is not quoted (Snowflake needs "{name}")'
        for name in sorted(set(DIGIT_LEADING_BARE_NAME.findall(without_strings_and_comments(sql))))
    ]
    try:
        statements = sqlglot.parse(sql, read="snowflake", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as error:
        message = ANSI_ESCAPE.sub("", " ".join(str(error).split()))
        return [*problems, f"does not parse as Snowflake SQL: {message[:300]}"]
    code = code_without_literals(sql)
    for description, pattern in DUCKDB_ONLY_CONSTRUCTS.items():
        for match in sorted({m.group(0) for m in pattern.finditer(code)}):
            problems.append(f"{description}: {match!r}")
    for statement in statements:
        if statement is None:
            continue
        for node in statement.find_all(exp.TryCast):
            if not is_text_expression(node.this):
                problems.append(
                    f"TRY_CAST of a non-text expression (Snowflake accepts only text): "
                    f"{node.sql('snowflake')[:120]}"
                )
        for node in statement.find_all(exp.DateTrunc, exp.TimestampTrunc):
            unit = node.args.get("unit")
            if unit is not None and unit.name.upper().startswith("WEEK"):
                problems.append(
                    "date_trunc('week') depends on the session's WEEK_START; use "
                    "dayofweekiso (iso_week_start macro)"
                )
    return problems


def check_compiled_dir(compiled_dir: Path) -> dict[str, list[str]]:
    """Problems per compiled file (relative path), only files with problems."""
    found = {}
    for path in compiled_sql_files(compiled_dir):
        problems = check_compiled_sql(path.read_text())
        if problems:
            found[str(path.relative_to(compiled_dir))] = problems
    return found


# --- 2. fakesnow parity -------------------------------------------------------------


@dataclass(frozen=True)
class FakesnowServer:
    host: str
    port: int

    def connect(self, database: str | None = DATABASE):
        """A snowflake-connector-python connection to this server (qmark parameters)."""
        import snowflake.connector

        return snowflake.connector.connect(
            account="fakesnow", user="fake", password="snow", host=self.host, port=self.port,
            protocol="http", database=database, paramstyle="qmark", network_timeout=120,
            session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        )  # fmt: skip

    def dbt_environment(self, private_key_path: Path, threads: int) -> dict[str, str]:
        """Environment for the project's snowflake target, pointed at this server.

        The profile authenticates with a key pair; fakesnow accepts any key, so a
        throwaway one is used (`write_throwaway_private_key`).
        """
        return dbt_environment(
            SNOWFLAKE_ACCOUNT="fakesnow", SNOWFLAKE_USER="fake", SNOWFLAKE_DATABASE=DATABASE,
            SNOWFLAKE_HOST=self.host, SNOWFLAKE_PORT=str(self.port), SNOWFLAKE_PROTOCOL="http",
            SNOWFLAKE_CONNECT_RETRIES="0", SNOWFLAKE_PRIVATE_KEY_PATH=str(private_key_path),
            SNOWFLAKE_PRIVATE_KEY_PASSPHRASE="", ACCURX_DBT_THREADS=str(threads),
        )  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


# Snowflake functions fakesnow 0.12 lacks (it passes them to DuckDB unchanged), as DuckDB
# macros with Snowflake's documented behaviour for the values they get here: fakesnow
# represents a VARIANT as DuckDB JSON, and TO_VARIANT of text as a JSON string. The AS_
# functions return NULL when the VARIANT holds another type; JSON has no date or
# timestamp type, so AS_DATE / AS_TIMESTAMP_NTZ of anything fakesnow can hold is NULL.
# TRY_TO_TIMESTAMP_NTZ(text) is fakesnow's own rewrite for literals, kept for columns.
SNOWFLAKE_FUNCTION_SHIMS = {
    "is_object": "(v) as json_type(v) = 'OBJECT'",
    "as_varchar": "(v) as case when json_type(v) = 'VARCHAR' then v ->> '$' end",
    "as_integer": (
        "(v) as case when json_type(v) in ('BIGINT', 'UBIGINT') then cast(v ->> '$' as bigint) end"
    ),
    "as_date": "(v) as cast(null as date)",
    "as_timestamp_ntz": "(v) as cast(null as timestamp)",
    "try_to_timestamp_ntz": "(text_value) as try_cast(text_value as timestamp)",
}


# Governance statements fakesnow cannot parse, answered with success and not run: a model
# post-hook attaching a masking policy (warehouse/snowflake/02_masking.sql) must not
# break the smoke build. Matched from the statement's start, case-insensitively.
FAKESNOW_NOP_STATEMENTS = (r"\s*alter\s+(view|table)\s[\s\S]*\sset\s+masking\s+policy\s",)


def fakesnow_with_shims(db_path: Path | None = None):
    """A fakesnow instance holding database ACCURX with SNOWFLAKE_FUNCTION_SHIMS added.

    Statements matching FAKESNOW_NOP_STATEMENTS succeed without running. With `db_path`
    the database is the file `<db_path>/ACCURX.db`.
    """
    from fakesnow.instance import FakeSnow

    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
    fake_snow = FakeSnow(
        db_path=str(db_path) if db_path is not None else None,
        nop_regexes=list(FAKESNOW_NOP_STATEMENTS),
    )
    fake_snow.connect(DATABASE).close()
    for name, definition in SNOWFLAKE_FUNCTION_SHIMS.items():
        fake_snow.duck_conn.execute(f"create or replace macro {DATABASE}.main.{name}{definition}")
    return fake_snow


def serve(port: int, host: str = "127.0.0.1", db_path: Path | None = None) -> None:
    """Run a fakesnow server in this process until interrupted (`fakesnow_with_shims`).

    `fakesnow -s` keeps everything in memory and ignores `-d`; its only persistence is the
    login session parameter FAKESNOW_DB_PATH, which dbt-snowflake cannot send (its profile
    passes only QUERY_TAG and S3_STAGE_VPCE_DNS_NAME as session parameters). So the
    server's shared instance, which every session without that parameter uses, is
    replaced here; with `db_path` it leaves `<db_path>/ACCURX.db` for inspection.
    """
    import fakesnow.server
    import uvicorn

    fakesnow.server.shared_fs = fakesnow_with_shims(db_path)
    uvicorn.run(fakesnow.server.app, host=host, port=port, log_level="warning")


@contextlib.contextmanager
def running_fakesnow(
    log_path: Path, db_path: Path | None = None, startup_timeout: float = 60.0
) -> Iterator[FakesnowServer]:
    """Start `serve` in a child process, yield its address, stop it on exit.

    Raises SnowflakeCheckError (with the server's log) when it does not start.
    """
    host, port = "127.0.0.1", free_port()
    command = [sys.executable, "-m", "warehouse.snowflake_check", "serve", "--port", str(port)]
    if db_path is not None:
        command += ["--db-path", str(db_path)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=PROJECT_DIR.parent, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise SnowflakeCheckError(
                    f"fakesnow server exited {proc.returncode}:\n{log_path.read_text()[-4000:]}"
                )
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise SnowflakeCheckError(
                    f"fakesnow server not listening after {startup_timeout:.0f}s:\n"
                    f"{log_path.read_text()[-4000:]}"
                )
            time.sleep(0.2)
        yield FakesnowServer(host, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_throwaway_private_key(path: Path) -> Path:
    """An unencrypted RSA private key (PKCS#8 PEM) for the profile's key-pair login."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


# An internal stage the raw CSVs travel through (PUT, then COPY INTO).
LOAD_STAGE = "FAKESNOW_RAW_LOAD"


def raw_table_name(table: str) -> str:
    return f"{DATABASE}.{quote_ident(RAW_SCHEMA)}.{quote_ident(table)}"


def load_raw_into_fakesnow(raw_dir: Path, server: FakesnowServer, work_dir: Path) -> dict[str, int]:
    """Load `raw_dir` into ACCURX."01_RAW" on the server, exactly as the embedded load does.

    The project's own loader (`warehouse.load.load`) reads the CSVs into a private DuckDB
    file, so the rows, the all-text columns and the lineage columns are the embedded
    warehouse's; each table then travels as CSV through PUT to an internal stage and COPY
    INTO (write_pandas would not quote the digit-leading schema, and row inserts cost
    ~2.5 ms a row in fakesnow). Returns rows per table.
    """
    staging = work_dir / "raw_for_fakesnow.duckdb"
    load_raw_files(raw_dir, staging)
    lineage = [name for name, _ in LINEAGE_COLUMNS]
    loaded = {}
    con = duckdb.connect(str(staging), read_only=True)
    sf = server.connect()
    try:
        cur = sf.cursor()
        # As 01_setup.sql does in production. The profile's session schema is "03_MODEL":
        # fakesnow's login creates a missing session schema unquoted, which fails.
        for schema in LAYER_SCHEMAS:
            cur.execute(f"create schema if not exists {DATABASE}.{quote_ident(schema)}")
        stage = f"@{DATABASE}.{quote_ident(RAW_SCHEMA)}.{LOAD_STAGE}"
        cur.execute(f"create or replace stage {stage[1:]}")
        for table, columns in TABLE_COLUMNS.items():
            definitions = [f"{quote_ident(c)} varchar" for c in columns]
            definitions += [f"{name} {kind}" for name, kind in LINEAGE_COLUMNS]
            cur.execute(
                f"create or replace table {raw_table_name(table)} ({', '.join(definitions)})"
            )
            csv_path = work_dir / f"{table.lower()}.csv"
            select_list = ", ".join([quote_ident(c) for c in columns] + lineage)
            con.execute(
                f"copy (select {select_list} from {quote_ident(RAW_SCHEMA)}.{quote_ident(table)} "
                f"order by _FILE_ID, _SOURCE_ROW) to '{csv_path}' (header, force_quote *)"
            )
            folder = f"{stage}/{table.lower()}/"
            cur.execute(f"put 'file://{csv_path}' {folder} auto_compress = false overwrite = true")
            cur.execute(
                f"copy into {raw_table_name(table)} from {folder} "
                "file_format = (type = csv skip_header = 1 field_optionally_enclosed_by = '\"' "
                "escape_unenclosed_field = none)"
            )
            (loaded[table],) = cur.execute(
                f"select count(*) from {raw_table_name(table)}"
            ).fetchone()
            (expected,) = con.execute(
                f"select count(*) from {quote_ident(RAW_SCHEMA)}.{quote_ident(table)}"
            ).fetchone()
            if loaded[table] != expected:
                raise SnowflakeCheckError(
                    f"{table}: {loaded[table]} rows reached fakesnow, {expected} were loaded locally"
                )
    finally:
        sf.close()
        con.close()
    return loaded


def build_on_fakesnow(
    server: FakesnowServer,
    work_dir: Path,
    project_dir: Path = PROJECT_DIR,
    threads: int = 4,
    timeout: int = 900,
) -> subprocess.CompletedProcess:
    """`dbt build --target snowflake` against the server: seeds, models and data tests.

    Unit tests are left out: dbt-snowflake runs them through a temporary table in the
    model's schema, which fakesnow rejects ("TEMPORARY table names can only use the temp
    catalog"); they run on the DuckDB build. Raises SnowflakeCheckError when dbt fails.
    """
    key = write_throwaway_private_key(work_dir / "throwaway_rsa_key.p8")
    return run_dbt(
        ["build", "--exclude-resource-type", "unit_test",
         # fakesnow has no Cortex: the usage forecasts' !FORECAST calls become a stub
         # returning Cortex's documented columns (macros/cortex_forecast.sql).
         "--vars", "{cortex_stub: true}",
         "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")],
        server.dbt_environment(key, threads), timeout, project_dir,
    )  # fmt: skip


# --- comparing the two builds --------------------------------------------------------

SNOWFLAKE_TIMESTAMP_TYPE_CODES = {6, 7, 8}  # TIMESTAMP_LTZ, TIMESTAMP_TZ, TIMESTAMP_NTZ
SNOWFLAKE_TYPE_NAMES = {
    0: "NUMBER", 1: "FLOAT", 2: "TEXT", 3: "DATE", 4: "TIMESTAMP", 5: "VARIANT",
    6: "TIMESTAMP_LTZ", 7: "TIMESTAMP_TZ", 8: "TIMESTAMP_NTZ", 9: "OBJECT", 10: "ARRAY",
    11: "BINARY", 12: "TIME", 13: "BOOLEAN",
}  # fmt: skip
FLOAT_DIGITS = 6


def normalise_value(value: Any) -> Any:
    """A comparable form of one value from either engine.

    Numbers -> float rounded to FLOAT_DIGITS decimals (ints, decimals and doubles of equal
    value compare equal); a timestamp at midnight -> its date (fakesnow's date_trunc on a
    date returns a timestamp); dates and timestamps -> ISO text; the text of a JSON object
    -> the same object with sorted keys (Snowflake's OBJECT_CONSTRUCT does not keep key
    order, DuckDB's json_object does); None, bool and other text as is.
    """
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return round(float(value), FLOAT_DIGITS) + 0.0
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


@dataclass
class ViewComparison:
    view: str
    duckdb_rows: int = 0
    snowflake_rows: int = 0
    missing_in_snowflake: list[str] = field(default_factory=list)
    extra_in_snowflake: list[str] = field(default_factory=list)
    type_notes: list[str] = field(default_factory=list)
    only_in_duckdb: list[tuple] = field(default_factory=list)
    only_in_snowflake: list[tuple] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def equal(self) -> bool:
        return (
            self.error is None
            and not self.missing_in_snowflake
            and not self.only_in_duckdb
            and not self.only_in_snowflake
        )

    def describe(self, sample: int = 5) -> str:
        lines = [
            f"{self.view}: duckdb {self.duckdb_rows} rows, fakesnow {self.snowflake_rows} rows"
        ]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.missing_in_snowflake:
            lines.append(f"  columns missing on fakesnow: {self.missing_in_snowflake}")
        if self.extra_in_snowflake:
            lines.append(f"  columns only on fakesnow: {self.extra_in_snowflake}")
        if self.ignored_columns:
            lines.append(f"  not compared (known to differ): {self.ignored_columns}")
        lines += [f"  type: {note}" for note in self.type_notes]
        for label, rows in (("only in duckdb", self.only_in_duckdb),
                            ("only in fakesnow", self.only_in_snowflake)):  # fmt: skip
            if rows:
                lines.append(f"  {len(rows)} rows {label}, e.g.:")
                lines += [f"    {row}" for row in rows[:sample]]
        return "\n".join(lines)


def fetch_duckdb_view(
    con: duckdb.DuckDBPyConnection, view: str
) -> tuple[list[str], list[str], list[tuple]]:
    """(lower-case column names, DuckDB type names, rows) of one presentation view."""
    relation = f"{quote_ident(PRESENTATION_SCHEMA)}.{quote_ident(view)}"
    cursor = con.execute(f"select * from {relation}")
    columns = [d[0].lower() for d in cursor.description]
    types = [str(d[1]) for d in cursor.description]
    return columns, types, cursor.fetchall()


def fetch_fakesnow_view(sf, view: str) -> tuple[list[str], list[str], list[tuple]]:
    """(lower-case column names, Snowflake type names, rows) of one presentation view.

    Timestamp columns are read as text: fakesnow's server sends a NULL timestamp as
    1970-01-01 00:00:00 (its Arrow conversion drops the null mask), text keeps the null.
    """
    relation = f"{DATABASE}.{quote_ident(PRESENTATION_SCHEMA)}.{view.upper()}"
    cur = sf.cursor()
    cur.execute(f"select * from {relation} limit 0")
    described = [(d.name, d.type_code) for d in cur.description]
    select_list = ", ".join(
        f'"{name}"::varchar as "{name}"' if code in SNOWFLAKE_TIMESTAMP_TYPE_CODES else f'"{name}"'
        for name, code in described
    )
    cur.execute(f"select {select_list} from {relation}")
    rows = cur.fetchall()
    timestamp_positions = [
        i for i, (_, code) in enumerate(described) if code in SNOWFLAKE_TIMESTAMP_TYPE_CODES
    ]
    if timestamp_positions:
        rows = [
            tuple(
                dt.datetime.fromisoformat(v) if i in timestamp_positions and v is not None else v
                for i, v in enumerate(row)
            )
            for row in rows
        ]
    names = [name.lower() for name, _ in described]
    types = [SNOWFLAKE_TYPE_NAMES.get(code, str(code)) for _, code in described]
    return names, types, rows


COMPATIBLE_TYPES = {
    "NUMBER": ("INT", "DECIMAL", "HUGEINT"), "FLOAT": ("DOUBLE", "FLOAT", "DECIMAL"),
    "TEXT": ("VARCHAR",), "DATE": ("DATE",), "TIMESTAMP_NTZ": ("TIMESTAMP",),
    "BOOLEAN": ("BOOLEAN",),
}  # fmt: skip


def compare_view(duck, sf, view: str, ignore: Collection[str] = ()) -> ViewComparison:
    """Compare one view's rows, order-insensitively, on the DuckDB columns not in `ignore`."""
    comparison = ViewComparison(view, ignored_columns=list(ignore))
    try:
        d_columns, d_types, d_rows = fetch_duckdb_view(duck, view)
        s_columns, s_types, s_rows = fetch_fakesnow_view(sf, view)
    except Exception as error:  # noqa: BLE001 - any failure to read is the finding
        comparison.error = f"{type(error).__name__}: {' '.join(str(error).split())[:500]}"
        return comparison
    comparison.duckdb_rows, comparison.snowflake_rows = len(d_rows), len(s_rows)
    comparison.missing_in_snowflake = [c for c in d_columns if c not in s_columns]
    comparison.extra_in_snowflake = [c for c in s_columns if c not in d_columns]
    shared = [c for c in d_columns if c in s_columns and c not in ignore]
    for column in shared:
        d_type, s_type = d_types[d_columns.index(column)], s_types[s_columns.index(column)]
        if not any(p in d_type.upper() for p in COMPATIBLE_TYPES.get(s_type, ())):
            comparison.type_notes.append(f"{column}: duckdb {d_type}, fakesnow {s_type}")
    d_index = [d_columns.index(c) for c in shared]
    s_index = [s_columns.index(c) for c in shared]
    d_counter = Counter(tuple(normalise_value(row[i]) for i in d_index) for row in d_rows)
    s_counter = Counter(tuple(normalise_value(row[i]) for i in s_index) for row in s_rows)
    comparison.only_in_duckdb = sorted((d_counter - s_counter).elements(), key=repr)
    comparison.only_in_snowflake = sorted((s_counter - d_counter).elements(), key=repr)
    return comparison


def compare_presentation_views(
    duckdb_path: Path,
    server: FakesnowServer,
    views: tuple[str, ...] = PRESENTATION_VIEWS,
    ignore: Mapping[str, Collection[str]] | None = None,
) -> dict[str, ViewComparison]:
    """Compare every presentation view of the DuckDB file with the fakesnow build.

    `ignore` maps a view to columns left out of its row comparison (known to differ).
    """
    ignore = ignore or {}
    duck = duckdb.connect(str(duckdb_path), read_only=True)
    sf = server.connect()
    try:
        return {view: compare_view(duck, sf, view, ignore.get(view, ())) for view in views}
    finally:
        sf.close()
        duck.close()


def presentation_views_on_fakesnow(server: FakesnowServer) -> set[str]:
    """Lower-case names of the views in ACCURX."04_PRESENTATION" on the server."""
    sf = server.connect()
    try:
        rows = (
            sf.cursor()
            .execute(f"show views in schema {DATABASE}.{quote_ident(PRESENTATION_SCHEMA)}")
            .fetchall()
        )
    finally:
        sf.close()
    return {row[1].lower() for row in rows}


# --- command line ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.snowflake_check")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("compile", help="compile for Snowflake and check every statement")
    parity = commands.add_parser("parity", help="build on fakesnow and compare with DuckDB")
    parity.add_argument("raw_dir", type=Path, help="the raw CSVs the DuckDB file was built from")
    parity.add_argument("--db", type=Path, required=True, help="the built DuckDB warehouse")
    served = commands.add_parser("serve", help="run a fakesnow server (used by parity)")
    served.add_argument("--port", type=int, required=True)
    served.add_argument("--db-path", type=Path, help="persist the server's databases here")
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args.port, db_path=args.db_path)
        return 0
    with tempfile.TemporaryDirectory(prefix="snowflake-check-") as tmp:
        work_dir = Path(tmp)
        if args.command == "compile":
            compiled = compile_for_snowflake(work_dir)
            problems = check_compiled_dir(compiled)
            files = len(compiled_sql_files(compiled))
            for path, found in problems.items():
                print(path)
                print("\n".join(f"  {problem}" for problem in found))
            print(f"{files} compiled files, {len(problems)} with problems")
            return 1 if problems else 0
        started = time.perf_counter()
        with running_fakesnow(work_dir / "fakesnow.log") as server:
            loaded = load_raw_into_fakesnow(args.raw_dir, server, work_dir)
            print(f"loaded into fakesnow: {loaded}")
            build_on_fakesnow(server, work_dir)
            results = compare_presentation_views(args.db, server)
        for comparison in results.values():
            print(("EQUAL  " if comparison.equal else "DIFFER ") + comparison.describe())
        print(f"parity run took {time.perf_counter() - started:.0f}s")
        return 0 if all(c.equal for c in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
