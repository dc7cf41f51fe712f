"""The embedded warehouse's usage forecasts (METRICS.md section 5, view 8): statsforecast's
AutoETS, run by two dbt Python models (models/model/forecast/local/) inside `warehouse build`.

The module's rule: functions here take the weekly series that dbt prepared
(`int_usage_forecast_series`: one row per series and week, zeros filled, complete weeks
only) and return plain DataFrames; they read no database and decide nothing the SQL
already decided. The accuracy arithmetic (MAE, WAPE, MASE, coverage) is SQL
(`fct_usage_forecast_accuracy`), shared with the Snowflake (Cortex) target; this module
only produces the back-test's predictions.

Why ETS without a season: one year of weekly data cannot learn a yearly season, and
exponential smoothing is the standard model for short business series; it needs no numba.
Organisation level: ETS(A,N,N) with its analytic 80/95% intervals (as accurate and as well
calibrated as AutoETS's per-series choice, at a third of the cost). Feature level: an
additive trend, and split-conformal bands from the model's own earlier errors at the same
step ahead (`_empirical_bands`), because a sum over hundreds of practices has small
one-step residuals but errors that come from level moves lasting weeks. Bank holidays are
known in advance and close GP practices, so the model learns events per working day
(weekdays that are not bank holidays, seed `bank_holidays`) and scales the forecast and
its bounds back by each future week's working days; without that, every bank-holiday week
is a surprise dip the model chases for weeks (README "Usage forecasts" has the
measurements). The naive baseline stays the contract's: last week's events again. Any
exception fails the dbt model, so a failed forecast fails the build and the previous
warehouse keeps serving.
"""

from __future__ import annotations

import datetime as dt
import math

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
# ETS specs (error, trend, season; Z = chosen by AICc, N = none, A = additive). README
# "Usage forecasts" has the measurements behind both.
FEATURE_SPEC = "ZAN"
ORGANISATION_SPEC = "ANN"
# A feature-level band needs at least this many earlier errors at its step ahead.
MIN_CALIBRATION_ERRORS = 10
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


def _prefixes(training: pd.DataFrame, origins: list[pd.Timestamp]) -> pd.DataFrame:
    """Every series' weeks before each origin, as a series of its own: columns unique_id
    (the series), origin, fit_id (one per series and origin), ds, y. A prefix shorter than
    MIN_HISTORY_WEEKS is left out (that origin gets no forecast for that series)."""
    parts = []
    for origin in origins:
        before = training[training["ds"] < origin]
        weeks = before.groupby("unique_id")["ds"].transform("size")
        before = before[weeks >= MIN_HISTORY_WEEKS]
        parts.append(
            before.assign(origin=origin, fit_id=before["unique_id"] + "@" + str(origin.date()))
        )
    if not parts:
        return training.assign(origin=pd.NaT, fit_id="").iloc[0:0]
    return pd.concat(parts, ignore_index=True)


def memoise_normal_quantiles() -> None:
    """Make statsforecast compute the normal quantiles of its intervals once, not per series.

    statsforecast (2.1.1) builds a scipy frozen distribution for every series it forecasts
    with `level=` just to read the same two numbers (z for 80% and 95%): about 1.5 ms a
    series, two thirds of an ETS(A,N,N) fit, so a minute of a large build's back-test.
    Its `utils._quantiles` is replaced (once per process) by a wrapper that keeps the
    normal quantiles per level it has computed with the original function: the same
    numbers. Any other distribution goes to the original. Idempotent and thread-safe
    enough: two racing installs both wrap the original.
    """
    import statsforecast.utils as sf_utils

    original = sf_utils._quantiles
    if getattr(original, "memoised_normal", False):
        return
    computed: dict[tuple, np.ndarray] = {}

    def quantiles(level, distribution="normal", dist_params=None):
        if distribution != "normal" or dist_params is not None:
            return original(level, distribution, dist_params)
        levels = np.asarray(level, dtype=float)
        key = (levels.shape, tuple(levels.ravel().tolist()))
        if key not in computed:
            computed[key] = np.asarray(original(level, distribution, dist_params))
        return computed[key].copy()

    quantiles.memoised_normal = True
    quantiles.original = original
    sf_utils._quantiles = quantiles


def _fit_per_working_day(prefixes: pd.DataFrame, horizon: int, spec: str) -> pd.DataFrame:
    """ETS(`spec`, no season) on every prefix (y already per working day), `horizon` weeks
    from its origin with analytic 80/95% intervals, all in a single statsforecast call.
    A prefix that is all zeros is not fitted: its forecast and bounds are 0 (an ETS fit
    says the same, at a cost). Returns fit_id, ds, forecast and the bound columns.
    Raises whatever statsforecast raises (a failed fit fails the build)."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    used = prefixes.groupby("fit_id")["y"].transform("max") > 0
    parts = []
    if used.any():
        memoise_normal_quantiles()
        ets = StatsForecast(
            models=[AutoETS(season_length=1, model=spec, alias=MODEL_NAME)], freq="W-MON"
        )
        frame = prefixes.loc[used, ["fit_id", "ds", "y"]].rename(columns={"fit_id": "unique_id"})
        predicted = ets.forecast(df=frame, h=horizon, level=list(LEVELS))
        parts.append(_renamed(predicted).rename(columns={"unique_id": "fit_id"}))
    idle = prefixes.loc[~used].drop_duplicates("fit_id")[["fit_id", "origin"]]
    if len(idle):
        steps = pd.DataFrame({"step": range(horizon)})
        zeros = idle.merge(steps, how="cross")
        zeros["ds"] = zeros["origin"] + pd.to_timedelta(zeros["step"] * 7, unit="D")
        zeros[["forecast", *BOUND_COLUMNS]] = 0.0
        parts.append(zeros[["fit_id", "ds", "forecast", *BOUND_COLUMNS]])
    return pd.concat(parts, ignore_index=True)


def _renamed(predicted: pd.DataFrame) -> pd.DataFrame:
    columns = {MODEL_NAME: "forecast"}
    for level in LEVELS:
        columns[f"{MODEL_NAME}-lo-{level}"] = f"lower_{level}"
        columns[f"{MODEL_NAME}-hi-{level}"] = f"upper_{level}"
    return predicted[["unique_id", "ds", *columns]].rename(columns=columns)


def conformal_half_width(absolute_errors: np.ndarray, level: int) -> float:
    """Split-conformal half-width: the ceil((n + 1) * level / 100)-th smallest of n earlier
    absolute errors (the largest when that rank exceeds n)."""
    ordered = np.sort(absolute_errors)
    rank = min(len(ordered), math.ceil((len(ordered) + 1) * level / 100))
    return float(ordered[rank - 1])


def _empirical_bands(
    wanted: pd.DataFrame, rolling: pd.DataFrame, prefixes: pd.DataFrame
) -> pd.DataFrame:
    """Replace the analytic bounds of `wanted` (forecasts from some origins) by the model's
    own earlier errors at the same step ahead: for origin o, the forecasts made from every
    earlier week whose target week is before o (so nothing from o on is used). A step with
    fewer than MIN_CALIBRATION_ERRORS such errors keeps its analytic bounds."""
    actual = prefixes.drop_duplicates(["unique_id", "ds"])[["unique_id", "ds", "y"]]
    errors = rolling.merge(actual, on=["unique_id", "ds"])
    errors["absolute_error"] = (errors["y"] - errors["forecast"]).abs()
    parts = []
    for origin, rows in wanted.groupby("origin"):
        earlier = errors[errors["ds"] < origin].groupby(["unique_id", "step"])["absolute_error"]
        counts = earlier.size().rename("errors")
        rows = rows.merge(counts, on=["unique_id", "step"], how="left")
        enough = rows["errors"].fillna(0) >= MIN_CALIBRATION_ERRORS
        for level in LEVELS:
            width = earlier.agg(lambda e, lv=level: conformal_half_width(e.to_numpy(), lv))
            half = width.reindex(pd.MultiIndex.from_frame(rows[["unique_id", "step"]])).to_numpy()
            rows.loc[enough, f"lower_{level}"] = (rows["forecast"] - half)[enough]
            rows.loc[enough, f"upper_{level}"] = (rows["forecast"] + half)[enough]
        parts.append(rows.drop(columns="errors"))
    return pd.concat(parts, ignore_index=True)


def forecast_from_origins(
    training: pd.DataFrame,
    origins: list[dt.date],
    horizon: int,
    bank_holidays: set[dt.date],
    empirical_bands: bool,
) -> pd.DataFrame:
    """From each origin, every series of `training` (columns unique_id, ds, y; weekly,
    Monday-dated, no gaps) with at least MIN_HISTORY_WEEKS weeks before the origin is fit
    on those weeks only and forecasts `horizon` weeks from the origin on.

    The model learns events per working day and its forecast and bounds are scaled back by
    each target week's working days. Bounds are ETS's analytic intervals, or with
    `empirical_bands` the split-conformal bands of `_empirical_bands` (this needs a fit
    from every earlier week too). Returns unique_id, origin, ds, forecast, the bound
    columns (clipped at 0) and naive_forecast (the last week before the origin).
    """
    training = training.assign(
        ds=pd.to_datetime(training["ds"]),
        y=training["y"] / working_day_share(training["ds"], bank_holidays),
    )
    wanted_origins = [pd.Timestamp(origin) for origin in origins]
    spec = FEATURE_SPEC if empirical_bands else ORGANISATION_SPEC
    fit_origins = set(wanted_origins)
    if empirical_bands:
        fit_origins |= {week for week in training["ds"] if week < max(wanted_origins)}
    prefixes = _prefixes(training, sorted(fit_origins))
    if prefixes.empty:
        columns = ["unique_id", "origin", "ds", "forecast", *BOUND_COLUMNS, "naive_forecast"]
        return pd.DataFrame(columns=columns)
    keys = prefixes.drop_duplicates("fit_id")[["fit_id", "unique_id", "origin"]]
    rolling = _fit_per_working_day(prefixes, horizon, spec).merge(keys, on="fit_id")
    rolling["step"] = (rolling["ds"] - rolling["origin"]).dt.days // 7
    wanted = rolling[rolling["origin"].isin(wanted_origins)]
    if empirical_bands and len(wanted):
        wanted = _empirical_bands(wanted, rolling, prefixes)
    last = prefixes.sort_values("ds").groupby("fit_id").tail(1)
    naive = dict(zip(last["fit_id"], last["y"] * working_day_share(last["ds"], bank_holidays)))
    result = wanted.assign(naive_forecast=wanted["fit_id"].map(naive))
    share = working_day_share(result["ds"], bank_holidays)
    for column in ["forecast", *BOUND_COLUMNS]:
        result[column] = (result[column].astype(float) * share).clip(lower=0.0)
    return result[["unique_id", "origin", "ds", "forecast", *BOUND_COLUMNS, "naive_forecast"]]


def _forecast_by_level(
    series: pd.DataFrame, origins: list[dt.date], horizon: int, bank_holidays: set[dt.date]
) -> pd.DataFrame:
    """forecast_from_origins for each level: empirical bands at feature level, analytic
    ones at organisation level (README "Usage forecasts" has the measurements)."""
    parts = []
    for level, rows in series.groupby("level"):
        parts.append(
            forecast_from_origins(
                _training_frame(rows), origins, horizon, bank_holidays,
                empirical_bands=(level == "feature"),
            )
        )  # fmt: skip
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def usage_forecast_weekly(series: pd.DataFrame, bank_holidays: set[dt.date]) -> pd.DataFrame:
    """The 12 weeks after trained_through for every series (the contract's columns).

    `series`: int_usage_forecast_series; `bank_holidays`: the seed's dates. A series with
    fewer than MIN_HISTORY_WEEKS weeks gets one row per future week with model
    'insufficient_history' and null numbers.
    """
    trained_through = _single_trained_through(series)
    series = series.assign(unique_id=_series_ids(series))
    keys = series.drop_duplicates("unique_id")[["unique_id", *SERIES_KEYS, "history_weeks"]]
    first_future_week = trained_through + dt.timedelta(weeks=1)
    future_weeks = [
        trained_through + dt.timedelta(weeks=step) for step in range(1, HORIZON_WEEKS + 1)
    ]
    enough = keys["history_weeks"] >= MIN_HISTORY_WEEKS
    parts = []
    if enough.any():
        history = series[series["unique_id"].isin(keys.loc[enough, "unique_id"])]
        modelled = _forecast_by_level(history, [first_future_week], HORIZON_WEEKS, bank_holidays)
        modelled = modelled.assign(model=MODEL_NAME, week_start=modelled["ds"].dt.date)
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
    keys = series.drop_duplicates("unique_id")[["unique_id", *SERIES_KEYS]]
    origins = backtest_origins(trained_through)
    rows = _forecast_by_level(series, origins, BACKTEST_HORIZON_WEEKS, bank_holidays)
    if rows.empty:
        return pd.DataFrame(columns=BACKTEST_COLUMNS)
    actual = pd.DataFrame(
        {"unique_id": series["unique_id"], "ds": pd.to_datetime(series["week_start"]),
         "actual": series["events"].astype(float)}
    )  # fmt: skip
    rows = rows.merge(actual, on=["unique_id", "ds"]).assign(model=MODEL_NAME)
    # The baseline's own rows: last week again, without an interval (as on Cortex).
    naive = rows.assign(model=NAIVE_NAME, forecast=rows["naive_forecast"])
    naive[BOUND_COLUMNS] = np.nan
    result = pd.concat([rows, naive], ignore_index=True).merge(keys, on="unique_id")
    result["week_start"] = result["ds"]
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
