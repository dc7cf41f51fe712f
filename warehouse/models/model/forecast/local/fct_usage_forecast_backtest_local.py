"""The embedded warehouse's rolling-origin back-test: AutoETS and naive predictions.

A dbt Python model run in-process by dbt-duckdb (enabled on DuckDB only). 8 origins,
each a fit on the weeks before it only; see warehouse/forecast.py. The accuracy figures
are computed from these rows in SQL (fct_usage_forecast_accuracy), as on Snowflake.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from warehouse.forecast import bank_holiday_dates, usage_forecast_backtest

    series = dbt.ref("int_usage_forecast_series").df()
    bank_holidays = bank_holiday_dates(dbt.ref("bank_holidays").df())
    return usage_forecast_backtest(series, bank_holidays)
