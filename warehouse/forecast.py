"""The embedded warehouse's usage forecasts (METRICS.md section 5, view 8): statsforecast's
AutoETS, run by two dbt Python models (models/model/forecast/local/) inside `warehouse build`.

The module's rule: functions here take the weekly series that dbt prepared
(`int_usage_forecast_series`: one row per series and week, zeros filled, complete weeks
only) and return plain DataFrames; they read no database and decide nothing the SQL
already decided. The accuracy arithmetic (MAE, WAPE, MASE, coverage) is SQL
(`fct_usage_forecast_accuracy`), shared with the Snowflake (Cortex) target; this module
only produces the back-test's predictions.

Why AutoETS without a season: one year of weekly data cannot learn a yearly season, and
exponential smoothing (error, trend and damping chosen per series by AICc) is the
standard model for short business series; it needs no numba and gives analytic 80/95%
intervals. Bank holidays are known in advance and close GP practices, so the model
learns events per working day (weekdays that are not bank holidays, seed
`bank_holidays`) and scales the forecast and its bounds back by each future week's
working days; without that, every bank-holiday week is a surprise dip the model chases
for weeks (README "Usage forecasts" has the measurements). The naive baseline stays the
contract's: last week's events again. Any exception fails the dbt model, so a failed
forecast fails the build and the previous warehouse keeps serving.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

HORIZON_WEEKS = 12
MIN_HISTORY_WEEKS = 12
BACKTEST_ORIGINS = 8
BACKTEST_HORIZON_WEEKS = 4
# The first origin is trained_through minus this many weeks; the last is 3 weeks before it,
# so that the last origin's 4 target weeks end at trained_through.
FIRST_ORIGIN_WEEKS_BEFORE = 10
LEVELS = (80, 95)
MODEL_NAME = "AutoETS"
NAIVE_NAME = "naive"
INSUFFICIENT_HISTORY = "insufficient_history"
BACKEND = "local"
SERIES_KEYS = ["level", "organisation_id", "feature"]
BOUND_COLUMNS = ["lower_80", "upper_80", "lower_95", "upper_95"]
FORECAST_COLUMNS = [
    "level", "organisation_id", "feature", "week_start", "forecast", *BOUND_COLUMNS,
    "model", "trained_through", "backend",
]  # fmt: skip
BACKTEST_COLUMNS = [
    "level", "organisation_id", "feature", "model", "origin", "week_start", "actual",
    "forecast", "naive_forecast", *BOUND_COLUMNS, "backend",
]  # fmt: skip


def _series_ids(frame: pd.DataFrame) -> pd.Series:
    """One text id per (level, organisation_id, feature), as statsforecast wants."""
    organisation = frame["organisation_id"].astype("Int64").astype(str)
    return frame["level"] + "|" + organisation + "|" + frame["feature"]


def _single_trained_through(series: pd.DataFrame) -> dt.date:
    dates = series["trained_through"].drop_duplicates()
    if len(dates) != 1:
        raise ValueError(f"expected one trained_through, got {list(dates)}")
    return pd.Timestamp(dates.iloc[0]).date()


def working_day_share(week_starts: pd.Series, bank_holidays: set[dt.date]) -> np.ndarray:
    """Per week: its weekdays that are not bank holidays, as a share of 5 (at least 1 day,
    so that a week of holidays scales to a fifth rather than dividing by zero)."""
    mondays = pd.to_datetime(week_starts).dt.date
    working = [
        sum(1 for day in range(5) if monday + dt.timedelta(days=day) not in bank_holidays)
        for monday in mondays
    ]
    return np.maximum(np.array(working, dtype=float), 1.0) / 5.0


def fit_and_forecast(
    history: pd.DataFrame, horizon: int, bank_holidays: set[dt.date]
) -> pd.DataFrame:
    """AutoETS on events per working day for every series of `history` (columns
    unique_id, ds, y; weekly, Monday-dated, no gaps), `horizon` weeks ahead with 80/95%
    intervals, scaled back to events by each future week's working days.

    Returns statsforecast's columns: unique_id, ds, AutoETS, AutoETS-lo-80, ...
    Raises whatever statsforecast raises (a failed fit fails the build).
    """
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    per_working_day = history.assign(
        y=history["y"] / working_day_share(history["ds"], bank_holidays)
    )
    ets = StatsForecast(models=[AutoETS(season_length=1, alias=MODEL_NAME)], freq="W-MON")
    predicted = ets.forecast(df=per_working_day, h=horizon, level=list(LEVELS))
    share = working_day_share(predicted["ds"], bank_holidays)
    for column in predicted.columns:
        if column.startswith(MODEL_NAME):
            predicted[column] = predicted[column] * share
    return predicted


def _bounded(predictions: pd.DataFrame, model: str) -> pd.DataFrame:
    """The point forecast and bounds of `model`, clipped at 0 (usage cannot be negative)."""
    columns = {model: "forecast"}
    for level in LEVELS:
        columns[f"{model}-lo-{level}"] = f"lower_{level}"
        columns[f"{model}-hi-{level}"] = f"upper_{level}"
    bounded = predictions[["unique_id", "ds", *columns]].rename(columns=columns)
    for column in ["forecast", *BOUND_COLUMNS]:
        bounded[column] = bounded[column].clip(lower=0.0)
    return bounded


def usage_forecast_weekly(series: pd.DataFrame, bank_holidays: set[dt.date]) -> pd.DataFrame:
    """The 12 weeks after trained_through for every series (the contract's columns).

    `series`: int_usage_forecast_series; `bank_holidays`: the seed's dates. A series with fewer than MIN_HISTORY_WEEKS weeks
    gets one row per future week with model 'insufficient_history' and null numbers.
    """
    trained_through = _single_trained_through(series)
    series = series.assign(unique_id=_series_ids(series))
    keys = series.drop_duplicates("unique_id")[["unique_id", *SERIES_KEYS, "history_weeks"]]
    future_weeks = [
        trained_through + dt.timedelta(weeks=step) for step in range(1, HORIZON_WEEKS + 1)
    ]
    enough = keys["history_weeks"] >= MIN_HISTORY_WEEKS
    parts = []
    if enough.any():
        history = series[series["unique_id"].isin(keys.loc[enough, "unique_id"])]
        predictions = fit_and_forecast(_training_frame(history), HORIZON_WEEKS, bank_holidays)
        modelled = _bounded(predictions, MODEL_NAME).assign(model=MODEL_NAME)
        modelled["week_start"] = pd.to_datetime(modelled["ds"]).dt.date
        parts.append(modelled.merge(keys, on="unique_id"))
    short = keys.loc[~enough]
    if len(short):
        weeks = pd.DataFrame({"week_start": future_weeks})
        placeholder = short.merge(weeks, how="cross").assign(model=INSUFFICIENT_HISTORY)
        for column in ["forecast", *BOUND_COLUMNS]:
            placeholder[column] = np.nan
        parts.append(placeholder)
    if not parts:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    result = pd.concat(parts, ignore_index=True)
    result["trained_through"] = trained_through
    result["backend"] = BACKEND
    return _typed(result[FORECAST_COLUMNS])


def _training_frame(series: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": series["unique_id"].to_numpy(),
            "ds": pd.to_datetime(series["week_start"]),
            "y": series["events"].astype(float).to_numpy(),
        }
    ).sort_values(["unique_id", "ds"], ignore_index=True)


def backtest_origins(trained_through: dt.date) -> list[dt.date]:
    """The 8 rolling origins: the Mondays trained_through - 10 weeks .. - 3 weeks."""
    return [
        trained_through - dt.timedelta(weeks=FIRST_ORIGIN_WEEKS_BEFORE - step)
        for step in range(BACKTEST_ORIGINS)
    ]


def usage_forecast_backtest(series: pd.DataFrame, bank_holidays: set[dt.date]) -> pd.DataFrame:
    """Rolling-origin predictions of AutoETS and of the naive forecast.

    From each origin, every series with at least MIN_HISTORY_WEEKS weeks before the origin
    is fit on the weeks before the origin only and forecasts the origin's week and the 3
    after. One row per (series, model, origin, target week) with the actual, the forecast,
    the naive forecast (the last week before the origin) and the bounds, clipped at 0;
    the naive model's own rows have no bounds.
    """
    trained_through = _single_trained_through(series)
    series = series.assign(unique_id=_series_ids(series))
    series["week_start"] = pd.to_datetime(series["week_start"]).dt.date
    keys = series.drop_duplicates("unique_id")[["unique_id", *SERIES_KEYS]]
    parts = []
    for origin in backtest_origins(trained_through):
        before = series[series["week_start"] < origin]
        weeks_before = before.groupby("unique_id")["week_start"].transform("size")
        training = before[weeks_before >= MIN_HISTORY_WEEKS]
        if training.empty:
            continue
        predictions = fit_and_forecast(
            _training_frame(training), BACKTEST_HORIZON_WEEKS, bank_holidays
        )
        rows = _bounded(predictions, MODEL_NAME)
        rows["week_start"] = pd.to_datetime(rows["ds"]).dt.date
        last_week = training.sort_values("week_start").groupby("unique_id")["events"].last()
        rows["naive_forecast"] = rows["unique_id"].map(last_week)
        rows = rows.merge(
            series[["unique_id", "week_start", "events"]], on=["unique_id", "week_start"]
        ).rename(columns={"events": "actual"})
        rows = rows.assign(model=MODEL_NAME, origin=origin)
        parts.append(rows)
        # The baseline's own rows: last week again, without an interval (as on Cortex).
        naive = rows.assign(model=NAIVE_NAME, forecast=rows["naive_forecast"])
        naive[BOUND_COLUMNS] = np.nan
        parts.append(naive)
    if not parts:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    result = pd.concat(parts, ignore_index=True).merge(keys, on="unique_id")
    result["backend"] = BACKEND
    return _typed(result[BACKTEST_COLUMNS])


def bank_holiday_dates(frame: pd.DataFrame) -> set[dt.date]:
    """The seed `bank_holidays` (column date) as a set of dates."""
    return set(pd.to_datetime(frame["date"]).dt.date)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable column types for DuckDB: nullable integer organisation ids, float numbers."""
    frame = frame.copy()
    frame["organisation_id"] = frame["organisation_id"].astype("Int64")
    for column in ["forecast", *BOUND_COLUMNS, "actual", "naive_forecast"]:
        if column in frame:
            frame[column] = frame[column].astype(float)
    for column in ["week_start", "trained_through", "origin"]:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame.reset_index(drop=True)
