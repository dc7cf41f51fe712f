"""Usage forecasts (METRICS.md section 5, view 8): the local model and its back-test.

Three groups:
- `warehouse.forecast` on hand-made series: the back-test's origins, the weeks each fit
  may see (nothing from the origin on), the naive baseline, insufficient history, bounds.
  The accuracy arithmetic itself (MAE, WAPE, MASE, coverage) is SQL shared with Snowflake
  and has a dbt unit test with hand-computed values
  (`forecast_accuracy_mae_wape_mase_coverage_by_hand`), checked here to have run.
- The session's small demo warehouse: every series is forecast or marked
  insufficient_history, no bound below 0, the accuracy view has both models.
- Demo scale (`slow`): the model beats the naive forecast at feature level, the
  organisation-level 80% bands are calibrated, and each feature's 80% band held 70-90%
  of the back-tested weeks (a known shortfall on SMS, marked strict xfail: README).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from warehouse.forecast import (
    BACKTEST_HORIZON_WEEKS,
    HORIZON_WEEKS,
    INSUFFICIENT_HISTORY,
    MODEL_NAME,
    NAIVE_NAME,
    backtest_origins,
    conformal_half_width,
    memoise_normal_quantiles,
    usage_forecast_backtest,
    usage_forecast_weekly,
    working_day_share,
)

TRAINED_THROUGH = dt.date(2026, 6, 29)  # a Monday
NO_HOLIDAYS: set[dt.date] = set()


def weekly_series(
    values: list[float], organisation_id: int | None = 1, feature: str = "SMS"
) -> pd.DataFrame:
    """One series ending at TRAINED_THROUGH, shaped like int_usage_forecast_series."""
    weeks = [TRAINED_THROUGH - dt.timedelta(weeks=len(values) - 1 - i) for i in range(len(values))]
    return pd.DataFrame(
        {
            "level": "organisation" if organisation_id is not None else "feature",
            "organisation_id": pd.array([organisation_id] * len(values), dtype="Int64"),
            "feature": feature,
            "week_start": weeks,
            "events": [float(v) for v in values],
            "series_start": weeks[0],
            "trained_through": TRAINED_THROUGH,
            "history_weeks": len(values),
        }
    )


def noisy_counts(weeks: int, mean: float, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).poisson(mean, weeks).astype(float))


def test_backtest_origins_are_the_mondays_ten_to_three_weeks_before_trained_through():
    origins = backtest_origins(TRAINED_THROUGH)
    assert origins[0] == TRAINED_THROUGH - dt.timedelta(weeks=10)
    assert origins[-1] == TRAINED_THROUGH - dt.timedelta(weeks=3)
    assert len(origins) == 8
    assert all(b - a == dt.timedelta(weeks=1) for a, b in itertools.pairwise(origins))


def test_working_day_share_counts_weekday_bank_holidays_only():
    easter = {dt.date(2026, 4, 3), dt.date(2026, 4, 6), dt.date(2026, 4, 11)}  # + a Saturday
    weeks = pd.Series([dt.date(2026, 3, 30), dt.date(2026, 4, 6), dt.date(2026, 4, 13)])
    assert list(working_day_share(weeks, easter)) == [0.8, 0.8, 1.0]


@pytest.mark.parametrize("organisation_id", [1, None], ids=["organisation", "feature"])
def test_backtest_fits_only_on_weeks_before_each_origin(organisation_id):
    """Changing every week from an origin on must not change that origin's forecast or its
    bands (analytic at organisation level, from earlier errors at feature level), and the
    naive forecast is the week before the origin."""
    values = noisy_counts(40, 400, seed=1)
    series = weekly_series(values, organisation_id=organisation_id)
    predictions = usage_forecast_backtest(series, NO_HOLIDAYS)
    origins = backtest_origins(TRAINED_THROUGH)
    assert sorted(predictions["origin"].unique()) == origins
    assert set(predictions["model"]) == {MODEL_NAME, NAIVE_NAME}
    per_origin = predictions.groupby(["model", "origin"]).size()
    assert (per_origin == BACKTEST_HORIZON_WEEKS).all()

    weeks = list(series["week_start"])
    for origin in (origins[0], origins[4]):
        rows = predictions[(predictions["origin"] == origin) & (predictions["model"] == MODEL_NAME)]
        first_target = weeks.index(origin)
        assert list(rows["week_start"]) == weeks[first_target : first_target + 4]
        assert list(rows["actual"]) == values[first_target : first_target + 4]
        assert (rows["naive_forecast"] == values[first_target - 1]).all()

        changed = series.copy()
        changed.loc[changed["week_start"] >= origin, "events"] = 10_000.0
        again = usage_forecast_backtest(changed, NO_HOLIDAYS)
        again_rows = again[(again["origin"] == origin) & (again["model"] == MODEL_NAME)]
        np.testing.assert_allclose(again_rows["forecast"], rows["forecast"])
        for column in ("lower_80", "upper_80", "lower_95", "upper_95"):
            np.testing.assert_allclose(again_rows[column], rows[column])


def test_memoised_normal_quantiles_give_statsforecasts_own_bounds(monkeypatch):
    """With statsforecast's per-series quantiles memoised (a large build's back-test spends
    a minute rebuilding the same two normal quantiles), the back-test is identical to the
    one statsforecast computes unaided, the original quantile function runs once per set
    of levels instead of once per series, and other distributions still reach it."""
    import statsforecast.utils as sf_utils

    original = getattr(sf_utils._quantiles, "original", sf_utils._quantiles)
    calls = []

    def counted(level, distribution="normal", dist_params=None):
        calls.append(distribution)
        return original(level, distribution, dist_params)

    series = pd.concat(
        [weekly_series(noisy_counts(30, mean, seed=mean), organisation_id=org)
         for org, mean in [(1, 40), (2, 400), (3, 9)]]
        + [weekly_series(noisy_counts(30, 900, seed=5), organisation_id=None)]
    )  # fmt: skip
    monkeypatch.setattr(sf_utils, "_quantiles", counted)
    monkeypatch.setattr("warehouse.forecast.memoise_normal_quantiles", lambda: None)
    unaided = usage_forecast_backtest(series, NO_HOLIDAYS)
    fits = len(calls)
    assert fits >= 3 * 8  # one per organisation series and origin at least

    calls.clear()
    memoise_normal_quantiles()
    assert sf_utils._quantiles is not counted and sf_utils._quantiles.original is counted
    memoise_normal_quantiles()  # a second install keeps the first
    assert sf_utils._quantiles.original is counted
    memoised = usage_forecast_backtest(series, NO_HOLIDAYS)
    pd.testing.assert_frame_equal(memoised, unaided, check_exact=True)
    assert memoised["lower_80"].notna().any()
    assert calls == ["normal"]

    np.testing.assert_array_equal(
        sf_utils._quantiles(np.array([80.0]), "t", {"df": 5}),
        original(np.array([80.0]), "t", {"df": 5}),
    )
    assert calls == ["normal", "t"]


def test_conformal_half_width_is_the_finite_sample_rank():
    errors = np.array([9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0])  # 1..9 shuffled
    assert conformal_half_width(errors, 80) == 8.0  # rank ceil(10 * 0.8) = 8
    assert conformal_half_width(errors, 95) == 9.0  # rank 10 > 9: the largest


def test_feature_level_bands_come_from_earlier_errors_at_the_same_step():
    """A feature series that jumps about has wide bands, a steady one narrow bands, and
    the band widens with the step when the errors do (a random walk)."""
    rng = np.random.default_rng(4)
    steady = weekly_series(list(1000 + rng.normal(0, 5, 40)), None, feature="SMS")
    walk = weekly_series(list(1000 + np.cumsum(rng.normal(0, 50, 40))), None, feature="Video")
    forecast = usage_forecast_weekly(pd.concat([steady, walk]), NO_HOLIDAYS)
    width = (forecast["upper_80"] - forecast["lower_80"]).groupby(forecast["feature"])
    assert width.mean()["Video"] > 5 * width.mean()["SMS"]
    video = forecast[forecast["feature"] == "Video"].sort_values("week_start")
    video_width = (video["upper_80"] - video["lower_80"]).to_numpy()
    assert video_width[-1] > video_width[0]
    assert (
        (forecast["lower_95"] <= forecast["lower_80"])
        & (forecast["lower_80"] <= forecast["forecast"])
    ).all()
    assert (
        (forecast["forecast"] <= forecast["upper_80"])
        & (forecast["upper_80"] <= forecast["upper_95"])
    ).all()


def test_a_series_of_zeros_is_forecast_zero_with_a_zero_interval():
    series = weekly_series([0.0] * 30)
    forecast = usage_forecast_weekly(series, NO_HOLIDAYS)
    assert set(forecast["model"]) == {MODEL_NAME}
    assert (forecast[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]] == 0).all().all()
    backtest = usage_forecast_backtest(series, NO_HOLIDAYS)
    assert len(backtest) == 2 * 8 * BACKTEST_HORIZON_WEEKS
    assert (backtest.loc[backtest["model"] == MODEL_NAME, "upper_95"] == 0).all()


def test_backtest_skips_origins_with_less_than_twelve_weeks_before_them():
    series = weekly_series(noisy_counts(16, 20, seed=2))  # 12 weeks before origin 5 only
    predictions = usage_forecast_backtest(series, NO_HOLIDAYS)
    origins = backtest_origins(TRAINED_THROUGH)
    first_week = series["week_start"].min()
    expected = [o for o in origins if (o - first_week).days // 7 >= 12]
    assert expected and len(expected) < len(origins)
    assert sorted(predictions["origin"].unique()) == expected


def test_forecast_twelve_weeks_or_insufficient_history_and_no_bound_below_zero():
    rare = weekly_series([0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0], organisation_id=1)
    short = weekly_series(noisy_counts(11, 30, seed=3), organisation_id=2)
    forecast = usage_forecast_weekly(pd.concat([rare, short]), NO_HOLIDAYS)
    future = [TRAINED_THROUGH + dt.timedelta(weeks=k) for k in range(1, HORIZON_WEEKS + 1)]

    modelled = forecast[forecast["organisation_id"] == 1]
    assert list(modelled["week_start"]) == future
    assert set(modelled["model"]) == {MODEL_NAME}
    assert (modelled[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]] >= 0).all().all()
    assert (modelled["lower_95"] <= modelled["lower_80"]).all()
    assert (modelled["upper_80"] <= modelled["upper_95"]).all()
    assert (modelled["lower_95"] == 0).any(), "a rare series' interval reaches 0 (clipped)"

    insufficient = forecast[forecast["organisation_id"] == 2]
    assert list(insufficient["week_start"]) == future
    assert set(insufficient["model"]) == {INSUFFICIENT_HISTORY}
    assert insufficient[["forecast", "lower_80", "upper_95"]].isna().all().all()
    assert set(forecast["trained_through"]) == {TRAINED_THROUGH}


def test_forecast_scales_bank_holiday_weeks_by_their_working_days():
    series = weekly_series([100.0 + (i % 3) for i in range(20)])
    holiday = TRAINED_THROUGH + dt.timedelta(weeks=2)  # a Monday in the horizon
    plain = usage_forecast_weekly(series, NO_HOLIDAYS).set_index("week_start")
    with_holiday = usage_forecast_weekly(series, {holiday}).set_index("week_start")
    assert with_holiday.loc[holiday, "forecast"] == pytest.approx(
        plain.loc[holiday, "forecast"] * 0.8
    )
    other = TRAINED_THROUGH + dt.timedelta(weeks=3)
    assert with_holiday.loc[other, "forecast"] == pytest.approx(plain.loc[other, "forecast"])


# --- the built warehouse ---------------------------------------------------------------


def presentation(db_path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, params or []).df()


def assert_every_series_forecast_or_insufficient(db_path) -> None:
    series = presentation(
        db_path,
        "select level, organisation_id, feature, max(history_weeks) as history_weeks "
        'from "03_MODEL".int_usage_forecast_series group by all',
    )
    forecast = presentation(db_path, 'select * from "04_PRESENTATION".usage_forecast_weekly')
    per_series = forecast.groupby(["level", "organisation_id", "feature"], dropna=False).agg(
        weeks=("week_start", "nunique"), models=("model", "unique")
    )
    assert len(per_series) == len(series)
    assert (per_series["weeks"] == HORIZON_WEEKS).all()
    joined = series.merge(
        per_series.reset_index(), on=["level", "organisation_id", "feature"], how="left"
    )
    expected = np.where(joined["history_weeks"] >= 12, MODEL_NAME, INSUFFICIENT_HISTORY)
    assert [list(m) for m in joined["models"]] == [[m] for m in expected]
    bounds = forecast[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]]
    assert (bounds.fillna(0) >= 0).all().all()
    assert set(forecast["backend"]) == {"local"}


def test_small_demo_every_series_forecast_or_insufficient_history(demo_warehouse):
    assert_every_series_forecast_or_insufficient(demo_warehouse.db_path)


def test_small_demo_accuracy_has_model_and_naive_rows_and_the_arithmetic_unit_test_ran(
    demo_warehouse,
):
    accuracy = presentation(
        demo_warehouse.db_path, 'select * from "04_PRESENTATION".usage_forecast_accuracy'
    )
    assert set(accuracy["model"]) == {MODEL_NAME, NAIVE_NAME}
    naive = accuracy[(accuracy["model"] == NAIVE_NAME) & accuracy["mase"].notna()]
    assert len(naive) and np.allclose(naive["mase"], 1.0)
    assert accuracy["origins"].between(1, 8).all()
    run_results = demo_warehouse.db_path.parent / ".build" / "dbt" / "target" / "run_results.json"
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in json.loads(run_results.read_text())["results"]
    }
    for unit_test in (
        "forecast_accuracy_mae_wape_mase_coverage_by_hand",
        "forecast_series_complete_weeks_from_first_active_week_zero_filled",
        "forecast_series_sunday_export_completes_its_week",
    ):
        assert statuses[unit_test] == "pass"


def feature_accuracy(db_path) -> pd.DataFrame:
    """The model's accuracy per feature with usage (wape is null only for a feature
    nobody used: its coverage says nothing)."""
    return presentation(
        db_path,
        "select feature, mase, coverage_80, coverage_95, wape "
        'from "04_PRESENTATION".usage_forecast_accuracy '
        "where level = 'feature' and model = ? and wape is not null",
        [MODEL_NAME],
    ).set_index("feature")


@pytest.mark.slow
def test_demo_scale_forecast_beats_naive_and_organisation_intervals_are_calibrated(
    demo_scale_warehouse,
):
    db_path = demo_scale_warehouse.db_path
    assert_every_series_forecast_or_insufficient(db_path)
    accuracy = feature_accuracy(db_path)
    assert len(accuracy) >= 3, accuracy
    assert (accuracy["mase"] < 1).all(), accuracy  # every feature beats "last week again"
    assert (accuracy["coverage_95"] >= accuracy["coverage_80"]).all(), accuracy
    organisation = presentation(
        db_path,
        "select avg(case when actual between lower_80 and upper_80 then 1.0 else 0.0 end) "
        'as coverage_80 from "03_MODEL".fct_usage_forecast_backtest_local '
        "where model = ? and level = 'organisation'",
        [MODEL_NAME],
    )
    assert 0.70 <= organisation["coverage_80"].iloc[0] <= 0.90, organisation


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 9's target not met: on the tests' seed 7 SMS holds 19 of 32 weeks (0.59) "
    "and Self Book all 32; on seed 42 Self Book holds 10 (0.31). Each feature's 32 weeks are "
    "one autumn rise, steeper in some seeds than any weeks a band may learn from "
    "(README 'Usage forecasts', five seeds and the band rules tried)",
)
def test_demo_scale_feature_level_80_percent_bands_hold_70_to_90_percent_of_weeks(
    demo_scale_warehouse,
):
    accuracy = feature_accuracy(demo_scale_warehouse.db_path)
    assert len(accuracy) >= 3, accuracy
    assert accuracy["coverage_80"].between(0.70, 0.90).all(), accuracy
