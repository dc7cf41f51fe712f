"""Dashboard query latency: presentation views (materialised models) against views over
the raw JSON (the original design: every model a view, JSON parsed at query time).

Both sides run the dashboard's own query modules (queries/*.py) with the cache off, in
the same process, interleaved, on the same raw data; each pair of answers is checked
equal before its timing is reported, so the speed-up compares like with like.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks.bench_warehouse import ensure_built
from benchmarks.common import REPO_ROOT, time_calls, write_results
from warehouse.build import dbt_environment

WAREHOUSE_DIR = REPO_ROOT / "warehouse"


def build_raw_json_views(built_db: Path, bench_dir: Path) -> Path:
    """A copy of the warehouse in which every dbt model is a view (nothing materialised)."""
    target = bench_dir / "raw-json-views" / built_db.name  # same file name: views name the catalog
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    shutil.copyfile(built_db, target)
    # dbt_environment: what `warehouse build` gives dbt, including where the outlook's
    # Python models import warehouse.forecast from.
    env = dbt_environment(ACCURX_DUCKDB_PATH=str(target))
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "run", "--project-dir", str(WAREHOUSE_DIR),
         "--profiles-dir", str(WAREHOUSE_DIR), "--target", "duckdb",
         "--target-path", str(bench_dir / "raw-json-views" / "target"),
         "--log-path", str(bench_dir / "raw-json-views" / "logs"),
         "--vars", '{"model_materialization": "view"}'],
        check=True, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
    )
    return target


def _app_for(db_path: Path):
    sys.path.insert(0, str(REPO_ROOT))
    from app import create_app

    # No cache, and no statement timeout worth the name: the raw-JSON side is slow on purpose.
    return create_app({"ACCURX_DUCKDB_PATH": str(db_path), "CACHE_TYPE": "NullCache",
                       "ACCURX_STATEMENT_TIMEOUT_SECONDS": "900"})


def _cases(org_id: int, as_of: dt.date, week: dt.date, first_week: dt.date, last_day: dt.date,
           unpaid_org_id: int | None = None):
    """(question, scope, label, callable) for the queries each tab sends. `unpaid_org_id`:
    the customer for the unpaid drill-down (default `org_id`)."""
    unpaid_org_id = org_id if unpaid_org_id is None else unpaid_org_id
    from queries import access, churn, customer, entitlements, outlook, unpaid, usage

    sunday = week + dt.timedelta(days=6)
    return [
        ("1 access", "all", "access_on_date", lambda: access.access_on_date(as_of)),
        ("1 access", "all", "customers_with_access",
         lambda: access.customers_with_access(as_of, "SMS", "SMS Plus")),
        ("2 entitlements", "one org", "known_days",
         lambda: entitlements.known_days(org_id, week, sunday)),
        ("2 entitlements", "one org", "week_usage", lambda: entitlements.week_usage(org_id, week)),
        ("3 usage", "all", "leaderboard", lambda: usage.leaderboard(first_week, week, "SMS")),
        ("3 usage", "one org", "usage_against_peers",
         lambda: customer.usage_against_peers(org_id, first_week)),
        ("4 unpaid", "all", "weekly_by_reason",
         lambda: unpaid.weekly_by_reason(first_week, week, None, None)),
        ("4 unpaid", "one org", "customer_events",
         lambda: unpaid.customer_events(unpaid_org_id, first_week, last_day, None, None)),
        ("5 churn", "all", "changes_by_month", lambda: churn.changes_by_month(None)),
        ("5 churn", "all", "retention_cohorts", lambda: churn.retention_cohorts(None)),
        ("5 churn", "one org", "entitlement_changes",
         lambda: customer.entitlement_changes(org_id)),
        # The outlook (issue 9): the Outlook tab's queries (queries/outlook.py) for every
        # feature and for one, and the customer page's outlook (queries/customer.py).
        ("6 outlook", "all", "risk_ranking", lambda: outlook.risk_ranking(None, None)),
        ("6 outlook", "all", "risk_ranking SMS high",
         lambda: outlook.risk_ranking("SMS", "high")),
        ("6 outlook", "all", "feature_forecast", lambda: outlook.feature_forecast(None)),
        ("6 outlook", "all", "feature_forecast SMS", lambda: outlook.feature_forecast("SMS")),
        ("6 outlook", "all", "feature_actuals", lambda: outlook.feature_actuals(None)),
        ("6 outlook", "all", "feature_actuals SMS", lambda: outlook.feature_actuals("SMS")),
        ("6 outlook", "all", "feature_accuracy", lambda: outlook.feature_accuracy(None)),
        ("6 outlook", "all", "feature_accuracy SMS", lambda: outlook.feature_accuracy("SMS")),
        ("6 outlook", "all", "risk_backtest", lambda: outlook.risk_backtest()),
        ("6 outlook", "one org", "risk_by_feature", lambda: customer.risk_by_feature(org_id)),
        ("6 outlook", "one org", "forecast_by_feature",
         lambda: customer.forecast_by_feature(org_id)),
        ("6 outlook", "one org", "forecast_actuals", lambda: customer.forecast_actuals(org_id)),
        ("6 outlook", "one org", "forecast_accuracy",
         lambda: customer.forecast_accuracy(org_id)),
    ]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    key = list(a.columns)
    a = a.sort_values(key, ignore_index=True, na_position="first")
    b = b.sort_values(key, ignore_index=True, na_position="first")
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)
    except AssertionError:
        return False
    return True


def run(bench_dir: Path, scale: str, seed: int, repeat: int = 7) -> Path:
    built = ensure_built(bench_dir, scale, seed)
    raw_views = build_raw_json_views(built, bench_dir)
    fast_app, slow_app = _app_for(built), _app_for(raw_views)

    with fast_app.server.app_context():
        from queries import organisations, unpaid, usage

        extent = organisations.data_extent().iloc[0]
        as_of = pd.Timestamp(extent["latest_complete_date"]).date()
        last_day = pd.Timestamp(extent["last_export_date"]).date()
        week = as_of - dt.timedelta(days=as_of.weekday())
        first_week = week - dt.timedelta(weeks=12)
        board = usage.leaderboard(first_week, week, "SMS")
        # The busiest customer: the one-organisation case at its heaviest.
        org_id = int(board.sort_values("events", ascending=False)["organisation_id"].iloc[0])
        # The unpaid drill-down: the customer with the most unpaid events in the period.
        ranked = unpaid.customers_ranked(first_week, last_day, None, None)
        unpaid_org_id = int(ranked.sort_values("unpaid_events", ascending=False)["organisation_id"].iloc[0])
        cases = _cases(org_id, as_of, week, first_week, last_day, unpaid_org_id)

    rows = []
    for question, scope, label, call in cases:
        with fast_app.server.app_context():
            fast_answer = call()
        with slow_app.server.app_context():
            slow_answer = call()
        equal = _same(fast_answer, slow_answer)
        with fast_app.server.app_context():
            fast = time_calls(call, repeat)
        with slow_app.server.app_context():
            slow = time_calls(call, 2)
        ratio = round(slow["median_ms"] / fast["median_ms"], 1) if fast["median_ms"] else None
        rows.append({"question": question, "scope": scope, "query": label,
                     "rows": len(fast_answer), "same_answer": equal,
                     "presentation_ms": fast, "raw_json_views_ms": slow, "speedup": ratio})
        print(f"{question:15} {scope:8} {label:22} {fast['median_ms']:8.1f} ms vs "
              f"{slow['median_ms']:9.1f} ms  x{ratio}  same={equal}")
    return write_results(f"queries-{scale}", {
        "scale": scale, "organisation_id": org_id, "unpaid_organisation_id": unpaid_org_id,
        "as_of": as_of, "week": week,
        "cases": rows,
        "command": f"python -m benchmarks.run queries --scale {scale} --seed {seed}",
        "note": "medians of repeated calls, cache off; presentation = the built warehouse, "
                "raw_json_views = the same dbt project with every model a view",
    })
