"""Question 2, Entitlements (queries/entitlements.sql): one customer's options in one week."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries.runner import run_query

QUESTION = "entitlements"


def features_of_organisation(organisation_id: int) -> pd.DataFrame:
    """`feature` of every feature ever known for the organisation. Raises WarehouseError."""
    return run_query(QUESTION, "features_of_organisation", {"organisation_id": organisation_id})


def known_days(organisation_id: int, first_day: dt.date, last_day: dt.date) -> pd.DataFrame:
    """date, feature, selected_option, is_enabled of the organisation's known days between
    the two dates (inclusive). Raises WarehouseError."""
    return run_query(QUESTION, "known_days", {
        "organisation_id": organisation_id, "first_day": first_day, "last_day": last_day,
    })


def option_before(organisation_id: int, before_day: dt.date) -> pd.DataFrame:
    """feature, date, selected_option of the organisation's last known day before
    `before_day`, per feature. Raises WarehouseError."""
    return run_query(QUESTION, "option_before",
                     {"organisation_id": organisation_id, "before_day": before_day})


def week_summary(organisation_id: int, week_start: dt.date) -> pd.DataFrame:
    """feature, days_known, days_enabled, first_option, last_option, changed_in_week for the
    organisation's week. Raises WarehouseError."""
    return run_query(QUESTION, "week_summary",
                     {"organisation_id": organisation_id, "week_start": week_start})


def week_usage(organisation_id: int, week_start: dt.date) -> pd.DataFrame:
    """feature, events, active_users, users_with_access, days_enabled for the organisation's
    week (features enabled some day or used). Raises WarehouseError."""
    return run_query(QUESTION, "week_usage",
                     {"organisation_id": organisation_id, "week_start": week_start})
