"""The Snowflake target's usage forecasts (SNOWFLAKE.ML.FORECAST, Cortex), as far as they
can be checked without an account.

- The compiled Snowflake SQL of the Cortex models parses with sqlglot: the project's
  compile check in tests/warehouse/test_snowflake.py, which also checks that the Cortex
  calls are really in it (two per training set, with the contract's intervals).
- The mapping from Cortex's documented output (SERIES, TS, FORECAST, LOWER_BOUND,
  UPPER_BOUND) to the contract's columns, on the session's fakesnow build, where
  var cortex_stub replaces each !FORECAST call with a stub returning those columns: last
  week again, bounds that go below 0 for small series. Proves the unpacking of the series
  VARIANT, the join of the 80% and 95% calls, the clipping and the back-test's
  bookkeeping; it cannot prove what Cortex itself returns (that needs a real account).
"""

from __future__ import annotations

import pandas as pd
import pytest

from warehouse.snowflake_check import DATABASE

pytestmark = pytest.mark.snowflake


def fakesnow_view(server, view: str) -> pd.DataFrame:
    con = server.connect()
    try:
        cur = con.cursor()
        cur.execute(f'select * from {DATABASE}."04_PRESENTATION".{view.upper()}')
        columns = [d.name.lower() for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)
    finally:
        con.close()


def test_cortex_output_mapped_onto_the_contract_on_fakesnow(fakesnow_warehouse, demo_warehouse):
    assert fakesnow_warehouse.dbt_failure is None, fakesnow_warehouse.dbt_failure
    import duckdb

    with duckdb.connect(str(demo_warehouse.db_path), read_only=True) as con:
        series = con.sql(
            "select level, organisation_id, feature, week_start, events, history_weeks, "
            'trained_through from "03_MODEL".int_usage_forecast_series'
        ).df()
    forecast = fakesnow_view(fakesnow_warehouse.server, "usage_forecast_weekly")
    assert set(forecast["backend"]) == {"cortex"}
    assert set(forecast["model"]) == {"cortex_forecast", "insufficient_history"}

    # The stub forecasts last week again: each series' forecast must be its own last
    # complete week, which proves the SERIES VARIANT was unpacked to the right series.
    last_week = series[series["week_start"] == series["trained_through"]]
    modelled = forecast[forecast["model"] == "cortex_forecast"].merge(
        last_week, on=["level", "organisation_id", "feature"], how="left", suffixes=("", "_s")
    )
    assert modelled["events"].notna().all()
    assert (modelled["forecast"].astype(float) == modelled["events"]).all()
    eligible = last_week[last_week["history_weeks"] >= 12]
    keys = ["level", "organisation_id", "feature"]
    assert len(modelled.drop_duplicates(keys)) == len(eligible)
    assert (modelled.groupby(keys, dropna=False)["week_start"].nunique() == 12).all()

    bounds = modelled[["lower_80", "upper_80", "lower_95", "upper_95"]].astype(float)
    assert (bounds >= 0).all().all()
    zero_weeks = modelled["events"] == 0
    assert zero_weeks.any() and (bounds.loc[zero_weeks, "lower_95"] == 0).all()  # clipped
    assert (bounds["lower_95"] <= bounds["lower_80"]).all()
    assert (bounds["upper_80"] <= bounds["upper_95"]).all()

    accuracy = fakesnow_view(fakesnow_warehouse.server, "usage_forecast_accuracy")
    assert set(accuracy["model"]) == {"cortex_forecast", "naive"}
    assert set(accuracy["backend"]) == {"cortex"}
    # The stub is the naive forecast, so its MASE is 1 wherever it is defined.
    stub = accuracy[(accuracy["model"] == "cortex_forecast") & accuracy["mase"].notna()]
    assert len(stub) and (stub["mase"].astype(float).round(9) == 1).all()
    assert accuracy.loc[accuracy["model"] == "naive", "coverage_80"].isna().all()
