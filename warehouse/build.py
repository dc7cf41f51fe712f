"""`build --db PATH [--target duckdb] [--select NODE ...]`: `dbt build` into a fresh warehouse
file, then swap it in.

The module's rule: the live warehouse is replaced only by a build that fully passed.
The build copies the live file to `<dir>/.build/<same name>`, keeps only schema "01_RAW", runs
`dbt build` (seeds, models, data tests and unit tests) against that copy and, only when
everything passed, moves it over the live file with `os.replace`. A dashboard holding
the live file open keeps reading the old one until it reconnects; a failed build leaves
the previous warehouse serving and exits non-zero naming what failed.

dbt runs in a subprocess so that its DuckDB connection is closed (and the file
checkpointed) before the swap; its artifacts and logs go to `<dir>/.build/dbt/`, so
concurrent builds of different warehouses do not share a target folder.

`--select` passes dbt node selectors through (`+churn_risk_backtest`: that view and every
node it depends on, with the data tests that read only selected models). The result is a PARTIAL warehouse, for checks that need a few views
quickly (the churn back-test without the forecasts); the dashboard needs a full build.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from warehouse.duckdb_limits import connect_limited, duckdb_limits, spill_directory
from warehouse.load import RAW_SCHEMA, quote_ident
from warehouse.masking import verify_snowflake_masking
from warehouse.staging import (
    WarehouseError,
    copy_live_to_stage,
    exclusive_stage,
    live_warehouse_path,
    remove_database_file,
    staging_dir,
    swap_in,
)

PROJECT_DIR = Path(__file__).resolve().parent
REQUIRED_RAW_TABLES = ("EVENT", "FEATURE", "USER")
FAILED_STATUSES = {"error", "fail", "runtime error"}


def copy_raw_schema(live_path: Path, stage: Path) -> dict[str, int]:
    """Start the staged warehouse at `stage` from the live file's schema 01_RAW.

    Copies the file (a byte copy is far cheaper than re-inserting millions of text rows)
    and drops every other schema, so objects of models that no longer exist cannot
    survive the build. Returns rows per raw table. Raises WarehouseError when the live
    file has no raw data or cannot be read.
    """
    if not live_path.exists():
        raise WarehouseError(
            f"no warehouse at {live_path}: run `python -m warehouse load RAW_DIR --db {live_path}` first"
        )
    copy_live_to_stage(live_path, stage)
    con = connect_limited(stage)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = current_database() and schema_name = ? order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        missing = [table for table in REQUIRED_RAW_TABLES if table not in tables]
        if missing:
            raise WarehouseError(
                f"{live_path} has no raw table(s) {', '.join(missing)} in schema {RAW_SCHEMA}: "
                "run `python -m warehouse load` first"
            )
        built_schemas = con.execute(
            "select schema_name from duckdb_schemas() "
            "where database_name = current_database() and not internal and schema_name <> ?",
            [RAW_SCHEMA],
        ).fetchall()
        for (schema,) in built_schemas:
            con.execute(f"drop schema {quote_ident(schema)} cascade")
        copied = {}
        for table in tables:
            name = f"{quote_ident(RAW_SCHEMA)}.{quote_ident(table)}"
            (copied[table],) = con.execute(f"select count(*) from {name}").fetchone()
        con.execute("checkpoint")
    finally:
        con.close()
    return copied


def dbt_command(target: str, dbt_dir: Path, project_dir: Path,
                select: tuple[str, ...] = ()) -> list[str]:
    return [
        sys.executable, "-c", "from dbt.cli.main import cli; cli()",
        "--no-use-colors", "build",
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target", target,
        "--target-path", str(dbt_dir / "target"),
        "--log-path", str(dbt_dir / "logs"),
        # dbt.log at debug level costs seconds of CPU per build; the console log and
        # run_results.json say what failed.
        "--log-level-file", "none",
        # cautious: a data test runs only when every model it reads is selected (a
        # relationship to an unselected dimension is not part of a partial build).
        *(("--select", *select, "--indirect-selection", "cautious") if select else ()),
    ]  # fmt: skip


def failure_summary(run_results_path: Path) -> list[str]:
    """One line per failed dbt node (model, seed, data test, unit test) from run_results.json."""
    try:
        results = json.loads(run_results_path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []
    lines = []
    for result in results:
        if result.get("status") in FAILED_STATUSES:
            message = " ".join((result.get("message") or "").split())
            lines.append(f"  {result['status']}: {result['unique_id']}: {message[:400]}")
    skipped = sum(1 for result in results if result.get("status") == "skipped")
    if skipped:
        lines.append(f"  ({skipped} nodes skipped because of the failures above)")
    return lines


def run_dbt(
    target: str, env: dict[str, str], dbt_dir: Path, project_dir: Path, cwd: Path | None = None,
    select: tuple[str, ...] = (),
) -> None:
    """Run `dbt build`, streaming its log; raise WarehouseError naming the failed nodes."""
    run_results = dbt_dir / "target" / "run_results.json"
    run_results.unlink(missing_ok=True)
    seed_partial_parse(dbt_dir, project_dir, target)
    command = dbt_command(target, dbt_dir, project_dir, select)
    proc = subprocess.run(command, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        summary = failure_summary(run_results)
        detail = "\n".join(summary) if summary else "  (see the dbt output above)"
        raise WarehouseError(f"dbt build failed (exit {proc.returncode}):\n{detail}")
    keep_partial_parse(dbt_dir, project_dir, target)


def shared_partial_parse(project_dir: Path, target: str) -> Path:
    return project_dir / "target" / f"build_partial_parse.{target}.msgpack"


def seed_partial_parse(dbt_dir: Path, project_dir: Path, target: str) -> None:
    """Start a new warehouse's dbt target from the last build's parse (saves a full parse).

    dbt validates the file itself (project files, vars, profile) and parses from scratch
    when anything differs, so a stale copy costs nothing but the copy.
    """
    shared = shared_partial_parse(project_dir, target)
    own = dbt_dir / "target" / "partial_parse.msgpack"
    if shared.exists() and not own.exists():
        own.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, own)


def keep_partial_parse(dbt_dir: Path, project_dir: Path, target: str) -> None:
    own = dbt_dir / "target" / "partial_parse.msgpack"
    shared = shared_partial_parse(project_dir, target)
    if not own.exists():
        return
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        temporary = shared.with_name(f"{shared.name}.{os.getpid()}.tmp")
        shutil.copyfile(own, temporary)
        os.replace(temporary, shared)
    except OSError:
        pass  # only a speed-up; a read-only project folder is fine


def dbt_environment(**overrides: str) -> dict[str, str]:
    # dbt's threads share the CPU with DuckDB's own; more threads than cores only adds
    # contention (measured on a 2-core machine).
    threads = str(min(8, max(2, os.cpu_count() or 2)))
    return {
        "ACCURX_DBT_THREADS": threads,
        # Where dbt-duckdb's Python models import `warehouse.forecast` from.
        "ACCURX_PYTHON_ROOT": str(PROJECT_DIR.parent),
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        **overrides,
    }


def build(db_path: Path, target: str = "duckdb", project_dir: Path = PROJECT_DIR,
          select: tuple[str, ...] = ()) -> None:
    """Build the warehouse at `db_path` from its raw schema and swap the result in.

    With target "snowflake" dbt builds in Snowflake (credentials from the environment)
    and no file is involved; the build then checks in Snowflake that every personal
    column carries its masking policy (warehouse.masking). `select` (dbt node selectors)
    builds only those nodes: a partial warehouse. Raises WarehouseError on any failure;
    the live file is then untouched.
    """
    if target == "snowflake":
        dbt_dir = PROJECT_DIR / "target" / "snowflake-build"
        run_dbt(target, dbt_environment(ACCURX_DBT_TARGET=target), dbt_dir, project_dir,
                select=select)
        checked = verify_snowflake_masking(project_dir, dbt_dir / "target" / "manifest.json")
        print(f"masking verified: {checked} personal columns carry their policy", flush=True)
        return
    db_path = live_warehouse_path(db_path)
    dbt_dir = staging_dir(db_path) / "dbt"
    with exclusive_stage(db_path) as stage:
        started = time.perf_counter()
        copied = copy_raw_schema(db_path, stage)
        print(
            f"copied raw schema into {stage} in {time.perf_counter() - started:.1f}s "
            f"({', '.join(f'{table} {rows:,}' for table, rows in copied.items())})",
            flush=True,
        )
        # A path relative to the staging folder keeps dbt's profile (and so its saved
        # parse) identical from one warehouse to the next.
        # dbt-duckdb spills to `<ACCURX_DUCKDB_PATH>.tmp` (profiles.yml), beside the stage.
        limits = duckdb_limits(stage)
        env = dbt_environment(
            ACCURX_DUCKDB_PATH=stage.name,
            ACCURX_DBT_TARGET=target,
            ACCURX_DUCKDB_MEMORY_LIMIT=limits["memory_limit"],
            ACCURX_DUCKDB_THREADS=limits["threads"],
        )
        try:
            run_dbt(target, env, dbt_dir, project_dir, cwd=stage.parent, select=select)
        except BaseException:
            remove_database_file(stage)
            raise
        finally:
            shutil.rmtree(spill_directory(stage), ignore_errors=True)
        swap_in(stage, db_path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m warehouse build",
        description="Run dbt build (seeds, models, data and unit tests) into a fresh copy of "
        "the DuckDB warehouse and swap it in atomically when everything passed.",
    )
    parser.add_argument("--db", type=Path, help="DuckDB warehouse file (target duckdb)")
    parser.add_argument("--target", default="duckdb", choices=["duckdb", "snowflake"])
    parser.add_argument(
        "--project-dir", type=Path, default=PROJECT_DIR,
        help="dbt project folder (default: the warehouse package itself)",
    )  # fmt: skip
    parser.add_argument(
        "--select", nargs="+", default=[], metavar="NODE",
        help="dbt node selectors to build (e.g. +churn_risk_backtest): a PARTIAL warehouse "
        "for quick checks; the dashboard needs a full build",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.target == "duckdb" and args.db is None:
        parser.error("--db is required with --target duckdb")
    if args.select and args.target != "duckdb":
        parser.error("--select builds a partial DuckDB warehouse only (target duckdb)")
    started = time.perf_counter()
    build(args.db, args.target, args.project_dir.resolve(), tuple(args.select))
    where = f"{args.db} is live" if args.target == "duckdb" else "built in Snowflake"
    print(f"build finished in {time.perf_counter() - started:.1f}s: {where}")
    return 0
