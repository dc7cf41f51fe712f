"""The Snowflake backend of queries/runner.py: every statement parses as Snowflake SQL,
and the runner binds, normalises and reports errors against a fakesnow server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import load_settings
from queries.runner import QUERIES_DIR, Runner, WarehouseError, load_statements

pytestmark = pytest.mark.snowflake


@pytest.mark.parametrize("question", sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
def test_every_statement_parses_as_snowflake_sql(question):
    sqlglot = pytest.importorskip("sqlglot")
    runner = Runner(load_settings({"ACCURX_WAREHOUSE": "snowflake"}, environ={}))
    for name in load_statements(question):
        sql = runner.sql_for(question, name).sql
        assert 'ACCURX."04_PRESENTATION".' in sql
        sqlglot.parse_one(sql, read="snowflake")


@pytest.fixture(scope="module")
def fakesnow_port(tmp_path_factory):
    executable = Path(sys.executable).with_name("fakesnow")
    if not executable.exists() and not shutil.which("fakesnow"):
        pytest.skip("fakesnow is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("fakesnow") / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(executable), "-s", "-p", str(port)], stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"fakesnow server did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_runner_against_fakesnow(fakesnow_port):
    import snowflake.connector

    connection = {"account": "fakesnow", "user": "dashboard", "password": "unused", "host": "127.0.0.1",
                      "port": fakesnow_port, "protocol": "http"}
    con = snowflake.connector.connect(**connection)
    cur = con.cursor()
    cur.execute("create database if not exists ACCURX")
    cur.execute('create schema if not exists ACCURX."04_PRESENTATION"')
    cur.execute('create table ACCURX."04_PRESENTATION".organisations (organisation_id int, '
                "organisation_name varchar, region varchar, first_export_date date, last_export_date date)")
    cur.execute("insert into ACCURX.\"04_PRESENTATION\".organisations values "
                "(1, 'Alpha Surgery', null, '2026-01-01', '2026-03-01'), "
                "(2, 'Beta Practice', 'London', '2026-01-02', '2026-03-02')")
    con.close()

    settings = load_settings({
        "ACCURX_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "fakesnow", "SNOWFLAKE_USER": "dashboard",
        "SNOWFLAKE_PASSWORD": "unused", "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": str(fakesnow_port), "SNOWFLAKE_PROTOCOL": "http",
    }, environ={})
    runner = Runner(settings)
    one = runner.run("organisations", "organisation_by_id", {"organisation_id": 2})
    assert one["organisation_name"].tolist() == ["Beta Practice"]
    assert list(one.columns) == ["organisation_id", "organisation_name", "region",
                                 "first_export_date", "last_export_date"]
    assert str(one["last_export_date"].dtype).startswith("datetime64")
    assert runner.backend.identity().startswith("snowflake:")
    with pytest.raises(WarehouseError, match="does not have a view"):
        runner.run("access", "export_dates")
