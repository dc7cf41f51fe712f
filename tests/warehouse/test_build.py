"""`python -m warehouse build`: dbt build into a fresh file, swapped in atomically.

Uses the session's demo warehouse (tests/conftest.py) as the "live" warehouse: each
test copies it, so the shared one is never modified. A failing build is provoked with a
temporary copy of the dbt project holding a broken model and a failing test.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "warehouse"


def run_build(db_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [sys.executable, "-m", "warehouse", "build", "--db", str(db_path), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def live_copy(demo_warehouse, tmp_path: Path) -> Path:
    """A private copy of the built demo warehouse, same file name (views store its stem)."""
    target = tmp_path / "live" / demo_warehouse.db_path.name
    target.parent.mkdir()
    shutil.copyfile(demo_warehouse.db_path, target)
    return target


def data_quality(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute('select * from "04_PRESENTATION".data_quality order by 1').fetchall()


def test_build_runs_seeds_models_unit_tests_and_data_tests(demo_warehouse):
    run_results = demo_warehouse.db_path.parent / ".build" / "dbt" / "target" / "run_results.json"
    results = json.loads(run_results.read_text())["results"]
    kinds: dict[str, int] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        assert result["status"] in {"pass", "success"}, result["unique_id"]
    seed_files = sorted((PROJECT_DIR / "seeds").glob("*.csv"))
    assert kinds["seed"] == len(seed_files) >= 6  # rules, reasons, holidays, risk points and bands
    assert kinds["model"] >= 30
    assert kinds["unit_test"] >= 20
    assert kinds["test"] >= 50
    unit_tests = {result["unique_id"].split(".")[-1] for result in results}
    for rule in (
        "event_dedup_keeps_earliest_timestamp_then_first_read",
        "export_dedup_keeps_latest_loaded_then_greatest_filename_then_row",
        "event_quarantine_reasons_in_precedence_order",
        "unpaid_reasons_each_and_in_precedence_order",
        "cancellation_confirmed_reversed_or_provisional",
        "cancellation_window_follows_the_confirmation_days_var",
        "export_coverage_exactly_95_percent_counts_and_needs_user_export",
        "retention_cohorts_censoring_month_end_state_and_data_horizon",
    ):
        assert rule in unit_tests


def test_build_swaps_in_while_a_reader_holds_the_old_file(live_copy: Path):
    """Also rebuilds without the optional ORGANISATION table (dropped first): customers
    are then named "Organisation <id>" and every other answer is unchanged."""
    with duckdb.connect(str(live_copy)) as con:
        con.execute('drop table "01_RAW"."ORGANISATION"')
    reader = duckdb.connect(str(live_copy), read_only=True)
    try:
        before = data_quality(reader)
        organisations = reader.execute(
            'select count(*) from "04_PRESENTATION".organisations'
        ).fetchone()
        old_inode = live_copy.stat().st_ino

        result = run_build(live_copy)

        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        assert live_copy.stat().st_ino != old_inode  # a new file took the old one's place
        assert data_quality(reader) == before  # the open reader still reads the old file
    finally:
        reader.close()
    with duckdb.connect(str(live_copy), read_only=True) as fresh:
        assert data_quality(fresh) == before  # same raw data, same answers
        names = fresh.execute(
            'select organisation_id, organisation_name, region from "04_PRESENTATION".organisations'
        ).fetchall()
    assert (len(names),) == organisations
    assert all(name == f"Organisation {org}" and region is None for org, name, region in names)
    assert not (live_copy.parent / ".build" / live_copy.name).exists()


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    """A copy of the dbt project with a model that fails and a data test that fails."""
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR, project,
        ignore=shutil.ignore_patterns("target", "logs", "__pycache__", "snowflake", ".user.yml"),
    )  # fmt: skip
    (project / "models" / "model" / "broken_model.sql").write_text(
        "select no_such_column from {{ ref('fct_events') }}\n"
    )
    (project / "tests" / "always_fails.sql").write_text(
        "select organisation_id from {{ ref('dim_organisations') }}\n"
    )
    return project


def test_failed_build_leaves_the_previous_warehouse_serving(live_copy: Path, broken_project: Path):
    before = digest(live_copy)
    reader = duckdb.connect(str(live_copy), read_only=True)
    try:
        answers = data_quality(reader)

        result = run_build(live_copy, "--project-dir", str(broken_project))

        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "dbt build failed" in result.stderr
        assert "model.accurx.broken_model" in result.stderr
        assert "test.accurx.always_fails" in result.stderr
        assert data_quality(reader) == answers
    finally:
        reader.close()
    assert digest(live_copy) == before
    assert not (live_copy.parent / ".build" / live_copy.name).exists()


def test_build_without_a_loaded_warehouse_is_a_clear_error(tmp_path: Path):
    result = run_build(tmp_path / "accurx.duckdb")
    assert result.returncode == 1
    assert "run `python -m warehouse load" in result.stderr
    assert "Traceback" not in result.stderr


def test_select_passes_dbt_selectors_through_and_is_duckdb_only(tmp_path: Path):
    from warehouse.build import dbt_command

    full = dbt_command("duckdb", tmp_path, PROJECT_DIR)
    partial = dbt_command("duckdb", tmp_path, PROJECT_DIR, ("+churn_risk_backtest", "organisations"))
    assert "--select" not in full
    assert partial[len(full):] == ["--select", "+churn_risk_backtest", "organisations",
                                   "--indirect-selection", "cautious"]
    result = subprocess.run(
        [sys.executable, "-m", "warehouse", "build", "--target", "snowflake", "--select", "x"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "partial DuckDB warehouse only" in result.stderr


def test_concurrent_build_of_the_same_warehouse_is_refused(live_copy: Path):
    lock_path = live_copy.parent / ".build" / f"{live_copy.name}.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_build(live_copy)
    assert result.returncode == 1
    assert "another load or build" in result.stderr


def test_malformed_csv_lines_reach_quarantine_and_data_quality_without_personal_data(
    live_copy: Path, tmp_path: Path
):
    """A broken line no longer holds back the load; the build quarantines it as
    malformed_csv_line (file, line, text), counts it in data_quality, and no e-mail
    address or name of a USER line or record reaches the presentation layer."""
    with duckdb.connect(str(live_copy), read_only=True) as con:
        before = {row[0]: row for row in data_quality(con)}
    raw_dir = tmp_path / "more_raw"
    raw_dir.mkdir()
    (raw_dir / "event_zz_broken.csv").write_text(
        "EVENT_NAME,EVENT_TIMESTAMP,PAYLOAD\nLogin,2026-01-05 08:00:00,x,extra column\n"
    )
    (raw_dir / "user_zz_broken.csv").write_text(
        "EXPORT_DATE,FILENAME,FILE_ROW_NO,FILE_LOADED_DAY,PAYLOAD\n"
        '2026-01-05,u.csv,1,2026-01-05,"{""userId"":1,""email"":""ann.lee@example.org"",'
        '""firstName"":""Annabel"",""lastName"":""Leeworth""}",oops\n'
    )
    load = subprocess.run(
        [sys.executable, "-m", "warehouse", "load", str(raw_dir), "--db", str(live_copy)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert load.returncode == 0, load.stderr

    result = run_build(live_copy)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    with duckdb.connect(str(live_copy), read_only=True) as con:
        after = {row[0]: row for row in data_quality(con)}
        malformed = con.execute(
            'select source_table, source_file, source_row, raw_record from "04_PRESENTATION".quarantine '
            "where reason = 'malformed_csv_line' order by source_table"
        ).fetchall()
        leaked = con.execute(
            'select count(*) from "04_PRESENTATION".quarantine where raw_record like ? '
            "or raw_record like ? or raw_record like ?",
            ["%ann.lee@example.org%", "%Annabel%", "%Leeworth%"],
        ).fetchone()[0]
        demo_emails = con.execute(
            """select count(*) from "04_PRESENTATION".quarantine
               where regexp_matches(raw_record, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+')"""
        ).fetchone()[0]
    assert [row[:3] for row in malformed] == [
        ("EVENT", "event_zz_broken.csv", 2),
        ("USER", "user_zz_broken.csv", 2),
    ]
    assert malformed[0][3] == "Login,2026-01-05 08:00:00,x,extra column"
    assert '""email"":""***REDACTED***""' in malformed[1][3]
    assert leaked == 0
    assert demo_emails == 0
    for table in ("EVENT", "USER"):
        _, raw, modeled, duplicates, quarantined = after[table]
        assert raw == before[table][1] + 1
        assert quarantined == before[table][4] + 1
        assert (modeled, duplicates) == before[table][2:4]
