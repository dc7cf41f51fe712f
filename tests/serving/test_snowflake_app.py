"""The app's own query modules on Snowflake, end to end, against the DuckDB build.

`fakesnow_warehouse` (tests/conftest.py) builds the session's demo raw data with
dbt-snowflake on a local fakesnow server. Here the app is configured for Snowflake the
way production is (environment variables, key-pair sign-in, the read-only role), and
every public function of queries/access.py, entitlements.py, usage.py, unpaid.py,
churn.py, customer.py and organisations.py runs through the app's Snowflake backend,
with parameters chosen from the data; the same calls on the DuckDB app of the same raw
data must give the same frames (columns, dtypes family, rows).

fakesnow is Snowflake's protocol in front of DuckDB: this proves the app's SQL, binding,
sign-in settings, session parameters and result normalisation work through
snowflake-connector-python, not Snowflake's own semantics (see warehouse/snowflake_check.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from app import create_app
from queries import access, churn, customer, entitlements, organisations, outlook, unpaid, usage
from queries.backends.snowflake import QUERY_TAG_APP
from queries.errors import WarehouseError, staleness_of
from queries.request_state import request_staleness
from queries.runner import EXTENSION_KEY
from warehouse.snowflake_check import normalise_value

pytestmark = pytest.mark.snowflake

REPO_ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ("access", "churn", "customer", "entitlements", "organisations", "outlook", "unpaid", "usage")


def snowflake_environment(fakesnow_warehouse) -> dict[str, str]:
    """Production-style settings pointed at the fakesnow server: key pair, no password."""
    server = fakesnow_warehouse.server
    return {
        "ACCURX_WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "ACCURX_DASHBOARD_SVC",
        "SNOWFLAKE_PRIVATE_KEY_FILE": str(fakesnow_warehouse.private_key_path),
        "SNOWFLAKE_HOST": server.host,
        "SNOWFLAKE_PORT": str(server.port),
        "SNOWFLAKE_PROTOCOL": "http",
        "ACCURX_STATEMENT_TIMEOUT_SECONDS": "60",
    }


@pytest.fixture(scope="module")
def built(fakesnow_warehouse):
    assert fakesnow_warehouse.dbt_failure is None, fakesnow_warehouse.dbt_failure
    return fakesnow_warehouse


@pytest.fixture(scope="module")
def sign_ins():
    """What the app passes to snowflake.connector.connect, recorded for the whole module
    (the real connector still runs)."""
    import snowflake.connector

    recorded: list[dict] = []
    real_connect = snowflake.connector.connect

    def recording_connect(**kwargs):
        recorded.append(kwargs)
        return real_connect(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snowflake.connector, "connect", recording_connect)
        yield recorded


@pytest.fixture(scope="module")
def snowflake_app(built, sign_ins):
    # Queries are compared here, not sign-in: serving Snowflake without it must be explicit.
    return create_app({**snowflake_environment(built), "ACCURX_ALLOW_ANONYMOUS": "1"})


@pytest.fixture(scope="module")
def duckdb_app(demo_warehouse):
    return create_app({"ACCURX_WAREHOUSE": "duckdb", "ACCURX_DUCKDB_PATH": str(demo_warehouse.db_path)})


def run_in(app, call: Callable, *args):
    """`call(*args)` inside `app`'s application context (as a callback would run it)."""
    with app.server.app_context():
        return call(*args)


# ---------------------------------------------------------------- the calls compared
@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[dict], object]  # parameters (chosen_parameters) -> result


def chosen_parameters(duckdb_app) -> dict:
    """Parameters that make every query return rows, read from the DuckDB app."""

    def pick():
        extent = organisations.data_extent().iloc[0]
        last_export = pd.Timestamp(extent["last_export_date"]).date()
        as_of = pd.Timestamp(extent["latest_complete_date"]).date()
        weeks = organisations.usage_week_extent().iloc[0]
        first_week = pd.Timestamp(weeks["first_week"]).date()
        last_week = pd.Timestamp(weeks["last_week"]).date()
        on_date = access.access_on_date(as_of)
        top = on_date.sort_values(["org_count", "feature", "selected_option"], ascending=[False, True, True]).iloc[0]
        ranked = unpaid.customers_ranked(first_week, last_export, None, None)
        unpaid_org = int(ranked["organisation_id"].iloc[0])
        changes = churn.cancellations_with_usage(None)
        changed_org = int(changes["organisation_id"].iloc[0]) if len(changes) else unpaid_org
        return {
            "as_of": as_of, "last_export": last_export, "first_week": first_week,
            "last_week": last_week, "feature": str(top["feature"]),
            "option": str(top["selected_option"]), "unpaid_org": unpaid_org,
            "changed_org": changed_org, "reason": min(unpaid.reason_definitions()["reason"]),
            "first_day": pd.Timestamp(extent["first_export_date"]).date(),
        }

    return run_in(duckdb_app, pick)


def _mid_week(p: dict) -> dt.date:
    return p["last_week"] - dt.timedelta(weeks=4)


CASES = [
    Case("organisations.all_organisations", lambda p: organisations.all_organisations()),
    Case("organisations.organisation_by_id", lambda p: organisations.organisation_by_id(p["unpaid_org"])),
    Case("organisations.data_extent", lambda p: organisations.data_extent()),
    Case("organisations.features", lambda p: organisations.features()),
    Case("organisations.usage_week_extent", lambda p: organisations.usage_week_extent()),
    Case("access.export_dates", lambda p: access.export_dates()),
    Case("access.access_on_date", lambda p: access.access_on_date(p["as_of"])),
    Case("access.enabled_options", lambda p: access.enabled_options()),
    Case("access.access_trend", lambda p: access.access_trend(p["feature"], p["option"])),
    Case("access.customers_with_access",
         lambda p: access.customers_with_access(p["as_of"], p["feature"], p["option"])),
    Case("access.all_trends", lambda p: access.all_trends()),
    Case("entitlements.features_of_organisation",
         lambda p: entitlements.features_of_organisation(p["changed_org"])),
    Case("entitlements.known_days",
         lambda p: entitlements.known_days(p["changed_org"], p["first_day"], p["last_export"])),
    Case("entitlements.option_before",
         lambda p: entitlements.option_before(p["changed_org"], p["last_export"])),
    Case("entitlements.week_summary", lambda p: entitlements.week_summary(p["changed_org"], _mid_week(p))),
    Case("entitlements.week_usage", lambda p: entitlements.week_usage(p["changed_org"], _mid_week(p))),
    Case("usage.leaderboard (all features)",
         lambda p: usage.leaderboard(p["first_week"], p["last_week"], None)),
    Case("usage.leaderboard (one feature)",
         lambda p: usage.leaderboard(_mid_week(p), p["last_week"], p["feature"])),
    Case("unpaid.weekly_overview",
         lambda p: unpaid.weekly_overview(p["first_week"], p["last_week"], None, None)),
    Case("unpaid.weekly_by_reason",
         lambda p: unpaid.weekly_by_reason(p["first_week"], p["last_week"], p["feature"], None)),
    Case("unpaid.reason_definitions", lambda p: unpaid.reason_definitions()),
    Case("unpaid.customers_ranked",
         lambda p: unpaid.customers_ranked(p["first_week"], p["last_export"], None, p["reason"])),
    Case("unpaid.customer_events",
         lambda p: unpaid.customer_events(p["unpaid_org"], p["first_week"], p["last_export"], None, None)),
    Case("churn.changes_by_month", lambda p: churn.changes_by_month(None)),
    Case("churn.retention_cohorts", lambda p: churn.retention_cohorts(p["feature"])),
    Case("churn.cancellations_with_usage", lambda p: churn.cancellations_with_usage(None)),
    Case("churn.dormant_entitled", lambda p: churn.dormant_entitled(None, p["last_export"])),
    Case("customer.entitlement_days", lambda p: customer.entitlement_days(p["changed_org"])),
    Case("customer.usage_against_peers",
         lambda p: customer.usage_against_peers(p["unpaid_org"], p["first_week"])),
    Case("customer.unpaid_by_reason", lambda p: customer.unpaid_by_reason(p["unpaid_org"], p["first_day"])),
    Case("customer.recent_unpaid_events",
         lambda p: customer.recent_unpaid_events(p["unpaid_org"], p["first_day"])),
    Case("customer.entitlement_changes", lambda p: customer.entitlement_changes(p["changed_org"])),
    # The outlook's risk score is SQL on both targets: the same answer. Its forecasts are
    # not (AutoETS here, Cortex there, a stub on fakesnow): compared by shape below.
    Case("outlook.risk_ranking", lambda p: outlook.risk_ranking(None, None)),
    Case("outlook.risk_ranking (one feature, high band)", lambda p: outlook.risk_ranking(p["feature"], "high")),
    Case("outlook.risk_backtest", lambda p: outlook.risk_backtest()),
    Case("outlook.feature_actuals", lambda p: outlook.feature_actuals(None)),
]

FORECAST_CASES = [
    Case("outlook.feature_forecast", lambda p: outlook.feature_forecast(None)),
    Case("outlook.feature_accuracy", lambda p: outlook.feature_accuracy(None)),
]


def comparable(value):
    """One cell in a form both engines agree on (see warehouse.snowflake_check.normalise_value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return normalise_value(value)


def rows_of(result) -> tuple[list[str], list[tuple]]:
    if isinstance(result, list):
        return ["value"], sorted(((comparable(v),) for v in result), key=repr)
    frame = result.astype(object)
    rows = [tuple(comparable(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    return list(frame.columns), rows


def kind_of(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "object"


@pytest.fixture(scope="module")
def compared(snowflake_app, duckdb_app):
    """{case name: (duckdb result, snowflake result)} for every case."""
    results = {}
    chosen = chosen_parameters(duckdb_app)
    for case in CASES:
        results[case.name] = (run_in(duckdb_app, case.call, chosen),
                              run_in(snowflake_app, case.call, chosen))
    return results


def test_every_question_is_compared(compared):
    asked = {name.split(".")[0] for name in compared}
    assert asked == set(QUESTIONS)
    # Enough data for the comparison to mean something.
    assert sum(len(duck) for duck, _ in compared.values()) > 500
    empty = [name for name, (duck, _) in compared.items() if len(duck) == 0]
    assert len(empty) <= 3, f"parameters chosen leave these empty: {empty}"


@pytest.mark.parametrize("case", FORECAST_CASES, ids=lambda case: case.name)
def test_forecast_queries_give_the_same_series_on_snowflake(case, snowflake_app, duckdb_app):
    """Same columns and the same series, weeks and models on both targets; the numbers
    differ by design (AutoETS on DuckDB, Cortex's stub on fakesnow)."""
    chosen = chosen_parameters(duckdb_app)
    duck = run_in(duckdb_app, case.call, chosen)
    snow = run_in(snowflake_app, case.call, chosen)
    assert list(snow.columns) == list(duck.columns)
    keys = [c for c in ("feature", "week_start", "trained_through") if c in duck.columns]
    assert len(duck) > 0
    assert sorted(rows_of(snow[keys])[1], key=repr) == sorted(rows_of(duck[keys])[1], key=repr)


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_query_gives_the_same_answer_on_snowflake(name, compared):
    duck, snow = compared[name]
    d_columns, d_rows = rows_of(duck)
    s_columns, s_rows = rows_of(snow)
    assert s_columns == d_columns
    if isinstance(duck, pd.DataFrame):
        assert {c: kind_of(snow[c]) for c in snow.columns if len(snow) and snow[c].notna().any()} == {
            c: kind_of(duck[c]) for c in duck.columns if len(snow) and snow[c].notna().any()}
    only_duck = sorted(set(d_rows) - set(s_rows), key=repr)[:5]
    only_snow = sorted(set(s_rows) - set(d_rows), key=repr)[:5]
    assert sorted(d_rows, key=repr) == sorted(s_rows, key=repr), (
        f"{len(d_rows)} rows on DuckDB, {len(s_rows)} on Snowflake; only DuckDB: {only_duck}; "
        f"only Snowflake: {only_snow}")


# ---------------------------------------------------------------- how the app signs in
def test_sessions_use_key_pair_read_only_role_timeout_and_a_tag_per_question(compared, sign_ins,
                                                                             built):
    assert sign_ins, "the Snowflake app never signed in"
    for kwargs in sign_ins:
        assert kwargs["private_key_file"] == str(built.private_key_path)
        assert "password" not in kwargs
        assert kwargs["role"] == "ACCURX_DASHBOARD_READER"
        assert kwargs["database"] == "ACCURX"
        assert kwargs["paramstyle"] == "qmark"
        assert kwargs["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] == 60
    tags = {kwargs["session_parameters"]["QUERY_TAG"] for kwargs in sign_ins}
    assert tags == {json.dumps({"app": QUERY_TAG_APP, "question": q}, separators=(",", ":"))
                    for q in QUESTIONS}
    # Sessions are pooled: one sign-in per question, not one per query.
    assert len(sign_ins) == len(QUESTIONS)


def test_readiness_reports_the_same_data_on_both_warehouses(snowflake_app, duckdb_app):
    snow = run_in(snowflake_app, snowflake_app.server.extensions[EXTENSION_KEY].readiness)
    duck = run_in(duckdb_app, duckdb_app.server.extensions[EXTENSION_KEY].readiness)
    assert snow["warehouse"] == "snowflake" and duck["warehouse"] == "duckdb"
    assert snow["reachable"] is True
    assert {k: v for k, v in snow.items() if k != "warehouse"} == {
        k: v for k, v in duck.items() if k != "warehouse"}
    assert snow["last_export_date"] and isinstance(snow["data_age_days"], int)


def test_a_named_connection_from_connections_toml_in_snowflake_home(built, tmp_path, demo_warehouse):
    """SNOWFLAKE_CONNECTION_NAME + $SNOWFLAKE_HOME/connections.toml, nothing else: the
    connector reads the file when it is imported, so this runs in a fresh interpreter."""
    home = tmp_path / "snowflake-home"
    home.mkdir()
    toml = home / "connections.toml"
    toml.write_text(textwrap.dedent(f"""\
        [accurx]
        account = "fakesnow"
        user = "ACCURX_DASHBOARD_SVC"
        private_key_file = "{built.private_key_path}"
        host = "{built.server.host}"
        port = {built.server.port}
        protocol = "http"
        """))
    toml.chmod(0o600)
    script = textwrap.dedent("""\
        import json
        from config import load_settings
        from queries.runner import Runner
        runner = Runner(load_settings())
        frame = runner.run("organisations", "all_organisations")
        print(json.dumps({"rows": len(frame), "backend": runner.backend.name}))
        """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNOWFLAKE_", "ACCURX_"))}
    env.update(SNOWFLAKE_HOME=str(home), SNOWFLAKE_CONNECTION_NAME="accurx", ACCURX_WAREHOUSE="snowflake")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        (expected,) = con.execute('select count(*) from "04_PRESENTATION".organisations').fetchone()
    finally:
        con.close()
    assert answer == {"rows": expected, "backend": "snowflake"}


def test_warehouse_down_serves_last_good_copies_then_recovers(built, monkeypatch):
    """A real network failure through the real connector: the app's backend is pointed at
    a port nobody listens on, then back at the server."""
    import time

    from config import load_settings
    from queries.backends.snowflake import SnowflakeBackend
    from queries.runner import BUILD_IDENTITY, Runner
    from warehouse.snowflake_check import free_port

    cooldown = 3.0
    settings = {**snowflake_environment(built), "ACCURX_OUTAGE_COOLDOWN_SECONDS": str(cooldown),
                "ACCURX_RETRY_BASE_SECONDS": "0.05", "ACCURX_QUERY_ATTEMPTS": "2",
                # A key-pair sign-in keeps retrying until its login timeout: keep it short here.
                "ACCURX_SNOWFLAKE_LOGIN_TIMEOUT_SECONDS": "2"}
    app = create_app({**settings, "ACCURX_ALLOW_ANONYMOUS": "1"})  # outages tested, not sign-in
    runner: Runner = app.server.extensions[EXTENSION_KEY]
    live = runner.backend
    fresh = run_in(app, organisations.all_organisations)
    monkeypatch.setattr(runner, "backend",
                        SnowflakeBackend(load_settings({**settings, "SNOWFLAKE_PORT": str(free_port())}),
                                         BUILD_IDENTITY))

    def during_outage():
        frame = organisations.all_organisations()
        return frame, staleness_of(frame), request_staleness()

    frame, stale, in_request = run_in(app, during_outage)
    assert frame.equals(fresh)
    assert stale is not None and stale.kind == "unreachable" and in_request == stale
    assert stale.reason == "the warehouse is not answering"
    failed_at = time.monotonic()
    with pytest.raises(WarehouseError, match="could not be reached") as raised:
        run_in(app, organisations.organisation_by_id, 123456789)  # never asked before: no copy
    assert raised.value.facts.get("circuit") == "open"  # not even tried during the cool-down
    assert time.monotonic() - failed_at < 1

    monkeypatch.setattr(runner, "backend", live)
    time.sleep(max(0.0, cooldown - (time.monotonic() - failed_at)) + 0.1)
    recovered = run_in(app, organisations.organisation_by_id, int(fresh["organisation_id"].iloc[0]))
    assert staleness_of(recovered) is None and len(recovered) == 1
