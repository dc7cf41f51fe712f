"""Churn (queries/churn.sql): entitlement changes, retention cohorts, churned and dormant customers."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries import ALL
from queries.runner import run_query

QUESTION = "churn"
DORMANT_DAYS = 28


def changes_by_month(feature: str | None) -> pd.DataFrame:
    """month, feature, change_type, status (cancellations: confirmed | reversed |
    provisional, else null), changes, customers. Raises WarehouseError."""
    return run_query(QUESTION, "changes_by_month", {"feature": feature or ALL})


def retention_cohorts(feature: str | None) -> pd.DataFrame:
    """feature, cohort_month, months_since_start, cohort_size, retained, retention_rate
    (0-1), is_left_censored. Raises WarehouseError."""
    return run_query(QUESTION, "retention_cohorts", {"feature": feature or ALL})


def cancellations_with_usage(feature: str | None) -> pd.DataFrame:
    """One row per cancellation, latest first: organisation_id, organisation_name, region,
    feature, change_date, from_option, status, events_4_weeks, events_12_weeks,
    peak_active_users_4_weeks, first_export_date. Raises WarehouseError."""
    return run_query(QUESTION, "cancellations_with_usage", {"feature": feature or ALL})


def dormant_entitled(feature: str | None, data_end: dt.date) -> pd.DataFrame:
    """(organisation, feature) pairs enabled on their latest known day without an event in
    the DORMANT_DAYS days ending `data_end`: organisation_id, organisation_name, region,
    feature, selected_option, latest_known_day, last_event_date (NaT: never).
    Raises WarehouseError."""
    return run_query(QUESTION, "dormant_entitled", {
        "feature": feature or ALL,
        "window_start": data_end - dt.timedelta(days=DORMANT_DAYS - 1),
        "data_end": data_end,
    })
