"""`/healthz` answers without the warehouse; `/readyz` asks it, says how old its data is,
and answers 503 (saying nothing a stranger could use) when it cannot answer or, if a
limit is set, when the data is too old. Both stay public when sign-in is on."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from app import create_app
from config import ConfigError


@pytest.fixture(scope="module")
def last_export(demo_warehouse) -> dt.date:
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        return con.execute('select max(last_export_date) from "04_PRESENTATION".organisations').fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def missing_app(tmp_path_factory):
    missing = tmp_path_factory.mktemp("no-warehouse") / "accurx.duckdb"
    return create_app({"ACCURX_DUCKDB_PATH": str(missing), "ACCURX_WAREHOUSE": "duckdb"})


def test_healthz_never_touches_the_warehouse(demo_app, missing_app):
    runner = demo_app.server.extensions["accurx_runner"]

    def refuse(*_args, **_kwargs):
        raise AssertionError("/healthz asked the warehouse")

    runner.run = runner.backend.execute = runner.backend.identity = refuse
    try:
        response = demo_app.server.test_client().get("/healthz")
    finally:
        del runner.run, runner.backend.execute, runner.backend.identity
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert missing_app.server.test_client().get("/healthz").status_code == 200


def test_readyz_reports_the_warehouse_and_the_age_of_its_data(demo_app, last_export):
    response = demo_app.server.test_client().get("/readyz")
    assert response.status_code == 200
    facts = response.get_json()
    assert facts["status"] == "ready" and facts["warehouse"] == "duckdb"
    assert facts["last_export_date"] == last_export.isoformat()
    assert facts["data_age_days"] == (dt.date.today() - last_export).days
    assert facts["probe_ms"] >= 0


def test_readyz_is_503_without_a_warehouse_and_leaks_nothing(missing_app):
    response = missing_app.server.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "the warehouse did not answer"}
    assert "no-warehouse" not in response.get_data(as_text=True)


def test_readyz_is_503_when_the_data_is_older_than_allowed(make_app, last_export):
    age = (dt.date.today() - last_export).days
    fresh_enough = make_app(ACCURX_READY_MAX_DATA_AGE_DAYS=str(age + 1))
    assert fresh_enough.server.test_client().get("/readyz").status_code == 200
    if age >= 1:
        too_old = make_app(ACCURX_READY_MAX_DATA_AGE_DAYS=str(age - 1))
        response = too_old.server.test_client().get("/readyz")
        assert response.status_code == 503 and response.get_json()["status"] == "stale"


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_age_limit_stops_the_app(make_app, value):
    with pytest.raises(ConfigError, match="ACCURX_READY_MAX_DATA_AGE_DAYS"):
        make_app(ACCURX_READY_MAX_DATA_AGE_DAYS=value)


def test_probes_stay_public_when_sign_in_is_on(make_app):
    app = make_app(OIDC_ISSUER="https://issuer.invalid", OIDC_CLIENT_ID="dashboard",
                   OIDC_CLIENT_SECRET="secret", SECRET_KEY="k" * 32)
    client = app.server.test_client()
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
