"""Outlook (queries/outlook.sql): churn risk, usage forecasts and how far to trust them."""

from __future__ import annotations

import pandas as pd

from queries import ALL
from queries.runner import run_query

QUESTION = "outlook"


def risk_ranking(feature: str | None, band: str | None) -> pd.DataFrame:
    """(organisation, feature) pairs, highest risk first: as_of_date, organisation_id,
    organisation_name, region, feature, risk_score (0-100), risk_band (high | medium |
    low), reasons, utilisation (0-1 or NaN), usage_trend (ratio or NaN),
    weeks_since_last_event (NaN: never used), recent_changes. Raises WarehouseError
    (kind 'missing_view' on a warehouse built before the outlook)."""
    return run_query(QUESTION, "risk_ranking", {"feature": feature or ALL, "band": band or ALL})


def feature_forecast(feature: str | None) -> pd.DataFrame:
    """The 12 forecast weeks per feature (all organisations): feature, week_start,
    forecast, lower_80, upper_80, lower_95, upper_95 (NaN when model is
    'insufficient_history'), model, trained_through, backend. Raises WarehouseError."""
    return run_query(QUESTION, "feature_forecast", {"feature": feature or ALL})


def feature_actuals(feature: str | None) -> pd.DataFrame:
    """feature, week_start, events (all organisations) of the weeks up to each feature's
    trained_through; weeks without a row are absent (0). Raises WarehouseError."""
    return run_query(QUESTION, "feature_actuals", {"feature": feature or ALL})


def feature_accuracy(feature: str | None) -> pd.DataFrame:
    """The forecasts' back-test per feature and model ('naive' included): feature, model,
    origins, mae, wape, mase, coverage_80, coverage_95, backend. Raises WarehouseError."""
    return run_query(QUESTION, "feature_accuracy", {"feature": feature or ALL})


def risk_backtest() -> pd.DataFrame:
    """The risk score's back-test: as_of_date (NaT on the pooled row, first), pairs,
    cancellations, base_rate, auc, auc_lower_95, auc_upper_95, precision_at_20 (NaN
    where undefined). Empty when the data is too short for a back-test date.
    Raises WarehouseError."""
    return run_query(QUESTION, "risk_backtest")
