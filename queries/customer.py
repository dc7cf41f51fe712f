"""The customer page (queries/customer.sql): one customer's entitlements, usage, unpaid usage."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries.runner import run_query

QUESTION = "customer"


def entitlement_days(organisation_id: int) -> pd.DataFrame:
    """feature, date, selected_option, is_enabled of every known day. Raises WarehouseError."""
    return run_query(QUESTION, "entitlement_days", {"organisation_id": organisation_id})


def usage_against_peers(organisation_id: int, since_week: dt.date) -> pd.DataFrame:
    """week_start, feature, option, events, active_users, users_with_access,
    peer_median_events, peer_count per (week, feature) from `since_week`; peers share the
    feature and the week's last option. Raises WarehouseError."""
    return run_query(QUESTION, "usage_against_peers",
                     {"organisation_id": organisation_id, "since_week": since_week})


def unpaid_by_reason(organisation_id: int, since_day: dt.date) -> pd.DataFrame:
    """reason, feature, events, last_date of unpaid events since `since_day`.
    Raises WarehouseError."""
    return run_query(QUESTION, "unpaid_by_reason",
                     {"organisation_id": organisation_id, "since_day": since_day})


def recent_unpaid_events(organisation_id: int, since_day: dt.date) -> pd.DataFrame:
    """The latest 200 unpaid events since `since_day`: event_timestamp, date, event_name,
    feature, required_options, org_option, reason, user_id. Raises WarehouseError."""
    return run_query(QUESTION, "recent_unpaid_events",
                     {"organisation_id": organisation_id, "since_day": since_day})


def entitlement_changes(organisation_id: int) -> pd.DataFrame:
    """feature, change_date, from_option, to_option, change_type, cancellation_status
    (confirmed | reversed | provisional; null unless a cancellation), latest first.
    Raises WarehouseError."""
    return run_query(QUESTION, "entitlement_changes", {"organisation_id": organisation_id})


def risk_by_feature(organisation_id: int) -> pd.DataFrame:
    """The customer's churn risk per enabled feature, highest first: as_of_date, feature,
    risk_score, risk_band, reasons, utilisation, usage_trend, weeks_since_last_event,
    recent_changes. Raises WarehouseError ('missing_view' before the outlook existed)."""
    return run_query(QUESTION, "risk_by_feature", {"organisation_id": organisation_id})


def forecast_by_feature(organisation_id: int) -> pd.DataFrame:
    """The customer's 12 forecast weeks per feature: feature, week_start, forecast,
    lower_80, upper_80, lower_95, upper_95 (NaN for 'insufficient_history'), model,
    trained_through, backend. Raises WarehouseError."""
    return run_query(QUESTION, "forecast_by_feature", {"organisation_id": organisation_id})


def forecast_actuals(organisation_id: int) -> pd.DataFrame:
    """feature, week_start, events of the customer's weeks up to each forecast's
    trained_through (absent weeks are 0). Raises WarehouseError."""
    return run_query(QUESTION, "forecast_actuals", {"organisation_id": organisation_id})


def forecast_accuracy(organisation_id: int) -> pd.DataFrame:
    """The customer's forecast back-test per feature and model ('naive' included):
    feature, model, origins, mae, wape, mase, coverage_80, coverage_95, backend.
    Raises WarehouseError."""
    return run_query(QUESTION, "forecast_accuracy", {"organisation_id": organisation_id})
