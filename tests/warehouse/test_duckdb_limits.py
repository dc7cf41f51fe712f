"""DuckDB's memory limit, threads and spill folder reach `load`'s and `build`'s connections.

The build is checked with a minimal copy of the dbt project whose one model records
`current_setting(...)` as dbt-duckdb's connection sees it, over a raw schema with no rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.duckdb_limits import MEMORY_LIMIT_VAR, THREADS_VAR, connect_limited
from warehouse.load import ensure_raw_tables
from warehouse.staging import WarehouseError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO_ROOT / "warehouse"


def rendered_memory_limit(value: str) -> str:
    """How DuckDB itself reports a memory limit it was given (e.g. '1GB' -> '953.6 MiB')."""
    with duckdb.connect(config={"memory_limit": value}) as con:
        return con.sql("select current_setting('memory_limit')").fetchall()[0][0]


def settings_of(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.sql(
        "select current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')"
    ).fetchall()[0]


def test_load_connection_runs_under_the_configured_limits(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_VAR, "700MB")
    monkeypatch.setenv(THREADS_VAR, "1")
    database = tmp_path / "accurx.duckdb"
    with connect_limited(database) as con:
        memory, threads, temp = settings_of(con)
    assert memory == rendered_memory_limit("700MB")
    assert memory != rendered_memory_limit("2GB")
    assert (threads, Path(temp)) == (1, tmp_path / "accurx.duckdb.tmp")


def test_defaults_are_two_gigabytes_and_two_threads(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_VAR, raising=False)
    monkeypatch.delenv(THREADS_VAR, raising=False)
    with connect_limited(tmp_path / "accurx.duckdb") as con:
        memory, threads, _ = settings_of(con)
    assert (memory, threads) == (rendered_memory_limit("2GB"), 2)


@pytest.mark.parametrize(
    ("variable", "value"),
    [(MEMORY_LIMIT_VAR, "lots"), (THREADS_VAR, "0"), (THREADS_VAR, "two")],
)
def test_an_invalid_setting_is_an_error_naming_the_variable(tmp_path, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(WarehouseError, match=variable):
        connect_limited(tmp_path / "accurx.duckdb")


def test_load_with_an_invalid_setting_fails_in_one_line(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "organisation.csv").write_text("ORGANISATION_ID\n1\n")
    env = {**os.environ, MEMORY_LIMIT_VAR: "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "warehouse", "load", str(raw), "--db", str(tmp_path / "a.duckdb")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: {MEMORY_LIMIT_VAR}='lots'" in result.stderr
    assert not (tmp_path / "a.duckdb").exists()


@pytest.fixture
def probe_project(tmp_path: Path) -> Path:
    """The project's profile, config and macros with one model recording DuckDB's settings."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copyfile(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "macros", project / "macros")
    (project / "models").mkdir()
    (project / "models" / "settings_probe.sql").write_text(
        "{{ config(materialized='table') }}\n"  # a view would read the reader's settings
        "select current_setting('memory_limit') as memory_limit, "
        "current_setting('threads') as threads, "
        "current_setting('temp_directory') as temp_directory\n"
    )
    return project


def build_probe(tmp_path: Path, probe_project: Path, memory_limit: str) -> Path:
    """`warehouse build` of the probe project into a new live file, under `memory_limit`
    and one thread; returns the live file (fails the test if the build fails)."""
    live = tmp_path / "live" / "accurx.duckdb"
    live.parent.mkdir()
    with duckdb.connect(str(live)) as con:
        ensure_raw_tables(con)
    env = {
        **os.environ, MEMORY_LIMIT_VAR: memory_limit, THREADS_VAR: "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "warehouse", "build", "--db", str(live),
         "--project-dir", str(probe_project)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return live


def test_build_runs_dbt_under_the_configured_limits(tmp_path: Path, probe_project: Path):
    live = build_probe(tmp_path, probe_project, memory_limit="900MB")
    with duckdb.connect(str(live), read_only=True) as con:
        memory, threads, temp = con.sql(
            'select memory_limit, threads, temp_directory from "03_MODEL".settings_probe'
        ).fetchall()[0]
    assert memory == rendered_memory_limit("900MB")
    assert memory != rendered_memory_limit("2GB")
    assert threads == 1
    # Relative to the stage folder, where dbt runs: the spill folder sits beside the stage.
    assert temp == "accurx.duckdb.tmp"
    assert not (live.parent / ".build" / "accurx.duckdb.tmp").exists()


def test_build_survives_a_model_that_spills(tmp_path: Path, probe_project: Path):
    """A model that spills to disk under the memory limit, then more models (each on a new
    dbt-duckdb cursor). dbt-duckdb SETs its `settings` on every new cursor and DuckDB
    refuses to SET temp_directory once it has been used, so a spill used to fail the
    rest of the build ("Cannot switch temporary directory"): every large-scale build."""
    models = probe_project / "models"
    (models / "spills.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select s, count(*) as n from (select md5(range::varchar) as s from range(2000000)) "
        "group by s\n"
    )
    (models / "after_spill.sql").write_text(
        "{{ config(materialized='table') }}\nselect count(*) as groups from {{ ref('spills') }}\n"
    )
    live = build_probe(tmp_path, probe_project, memory_limit="40MB")
    with duckdb.connect(str(live), read_only=True) as con:
        ((groups,),) = con.sql('select groups from "03_MODEL".after_spill').fetchall()
        ((temp,),) = con.sql('select temp_directory from "03_MODEL".settings_probe').fetchall()
    assert groups == 2_000_000  # md5 of distinct numbers: all distinct
    assert temp == "accurx.duckdb.tmp"
