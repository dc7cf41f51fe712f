"""Usage forecasts of the embedded warehouse: AutoETS, 12 weeks after trained_through.

A dbt Python model run in-process by dbt-duckdb (enabled on DuckDB only; Snowflake uses
Cortex, ../cortex/). The logic lives in warehouse/forecast.py so that it can be tested
without dbt; any exception fails this model and so the build.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from warehouse.forecast import bank_holiday_dates, usage_forecast_weekly

    series = dbt.ref("int_usage_forecast_series").df()
    bank_holidays = bank_holiday_dates(dbt.ref("bank_holidays").df())
    return usage_forecast_weekly(series, bank_holidays)
