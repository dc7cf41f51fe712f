"""Session fixtures shared by every test folder.

`demo_warehouse` generates demo data with the project's own generator, loads it and
builds it with dbt through the public command line (`python -m warehouse ...`), exactly
as a user would, once per test session. Tests read the generator's ground-truth
manifest from it; they never recompute answers the way the warehouse does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# The app fixtures (warehouse_app, app_context, app, broken_app, views, text_of).
pytest_plugins = ["app_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
# Small enough for CI, big enough to plant every fault and every unpaid reason.
# Apps built by the tests (and the browser tests' gunicorn) do not warm their response
# cache in the background unless a test asks (tests/serving/test_warm_up.py).
os.environ.setdefault("ACCURX_WARM_UP_SECONDS", "0")
TEST_SCALE = os.environ.get("ACCURX_TEST_SCALE", "small")
TEST_SEED = int(os.environ.get("ACCURX_TEST_SEED", "7"))


def tiny_warehouse(path: Path, organisations: list[tuple[int, str]]) -> Path:
    """A DuckDB file with only "04_PRESENTATION".organisations and latest_complete_date,
    swapped in atomically as the real build does (call again on the same path: a rebuild
    with a new build identity)."""
    import datetime as dt

    import duckdb

    building = path.with_suffix(".building")
    con = duckdb.connect(str(building))
    con.execute('create schema "04_PRESENTATION"')
    con.execute(
        'create table "04_PRESENTATION".organisations (organisation_id bigint, '
        "organisation_name varchar, region varchar, first_export_date date, last_export_date date)"
    )
    con.execute('create table "04_PRESENTATION".latest_complete_date as '
                "select date '2026-03-30' as as_of_date")
    for organisation_id, name in organisations:
        con.execute('insert into "04_PRESENTATION".organisations values (?, ?, null, ?, ?)',
                    [organisation_id, name, dt.date(2026, 1, 1), dt.date(2026, 3, 31)])
    con.close()
    os.replace(building, path)
    return path


@pytest.fixture(scope="session")
def make_tiny_warehouse():
    """`tiny_warehouse` for the runner's tests: a warehouse in milliseconds."""
    return tiny_warehouse


@dataclass(frozen=True)
class BuiltWarehouse:
    raw_dir: Path
    db_path: Path
    manifest: dict


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run `python -m warehouse ARGS` from the repo root; raise with its output on failure."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "warehouse", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"python -m warehouse {' '.join(args)} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> BuiltWarehouse:
    """A warehouse built from freshly generated demo data (scale ACCURX_TEST_SCALE)."""
    root = tmp_path_factory.mktemp("warehouse")
    raw_dir = root / "raw"
    db_path = root / "accurx.duckdb"
    run_cli("demo", "--out", str(raw_dir), "--scale", TEST_SCALE, "--seed", str(TEST_SEED))
    run_cli("load", str(raw_dir), "--db", str(db_path))
    run_cli("build", "--db", str(db_path))
    manifest = json.loads((raw_dir / "manifest.json").read_text())
    return BuiltWarehouse(raw_dir=raw_dir, db_path=db_path, manifest=manifest)


@pytest.fixture(scope="session")
def demo_scale_warehouse(tmp_path_factory) -> BuiltWarehouse:
    """A warehouse at the README's demo scale (300 organisations, ~3 min to generate, load
    and build): for figures that only mean something at that size (forecast accuracy).
    Tests using it are marked `slow`."""
    root = tmp_path_factory.mktemp("warehouse-demo-scale")
    raw_dir = root / "raw"
    db_path = root / "accurx.duckdb"
    run_cli("demo", "--out", str(raw_dir), "--scale", "demo", "--seed", str(TEST_SEED))
    run_cli("load", str(raw_dir), "--db", str(db_path))
    run_cli("build", "--db", str(db_path))
    manifest = json.loads((raw_dir / "manifest.json").read_text())
    return BuiltWarehouse(raw_dir=raw_dir, db_path=db_path, manifest=manifest)


@dataclass(frozen=True)
class FakesnowWarehouse:
    server: object  # warehouse.snowflake_check.FakesnowServer (host, port, connect())
    private_key_path: Path  # a throwaway key the server accepts (it accepts any)
    rows_loaded: dict
    seconds: float
    dbt_failure: str | None  # dbt's output when the build failed, else None


@pytest.fixture(scope="session")
def fakesnow_warehouse(demo_warehouse, tmp_path_factory):
    """`demo_warehouse`'s raw data built with dbt-snowflake on a local fakesnow server.

    Once per session (~1 min): the server runs until the session ends. A failed dbt
    build is recorded in `dbt_failure`, not raised, so each test can say what it needs.
    """
    import time

    from warehouse.snowflake_check import (
        SnowflakeCheckError,
        build_on_fakesnow,
        load_raw_into_fakesnow,
        running_fakesnow,
        write_throwaway_private_key,
    )

    work_dir = tmp_path_factory.mktemp("fakesnow-session")
    started = time.perf_counter()
    with running_fakesnow(work_dir / "fakesnow.log", db_path=work_dir / "databases") as server:
        loaded = load_raw_into_fakesnow(demo_warehouse.raw_dir, server, work_dir)
        try:
            build_on_fakesnow(server, work_dir)
            failure = None
        except SnowflakeCheckError as error:
            failure = str(error)
        key = write_throwaway_private_key(work_dir / "dashboard_rsa_key.p8")
        yield FakesnowWarehouse(server, key, loaded, time.perf_counter() - started, failure)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright, one per test session for every folder
    (Playwright's sync API allows one instance at a time). Missing chromium skips the
    tests locally and FAILS them when CI=true."""
    chromium_path = Path(os.environ.get("ACCURX_CHROMIUM", "/usr/bin/chromium"))
    if not chromium_path.exists():
        message = f"chromium not found at {chromium_path} (install it with `make browser-deps`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), args=args)
        yield chromium
        chromium.close()
