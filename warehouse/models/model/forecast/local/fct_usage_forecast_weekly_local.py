"""Usage forecasts of the embedded warehouse: AutoETS, 12 weeks after trained_through.

A dbt Python model run in-process by dbt-duckdb (enabled on DuckDB only; Snowflake uses
Cortex, ../cortex/). The logic lives in warehouse/forecast.py so that it can be tested
without dbt; any exception fails this model and so the build.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from warehouse.forecast import usage_forecast_weekly

    series = dbt.ref("int_usage_forecast_series").df()
    return usage_forecast_weekly(series)
