"""Question 1, Access (queries/access.sql): customers and active users with each option."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries.runner import run_query

QUESTION = "access"


def export_dates() -> pd.DataFrame:
    """`date` of every FEATURE export, ascending. Raises WarehouseError."""
    return run_query(QUESTION, "export_dates")


def access_on_date(as_of_date: dt.date) -> pd.DataFrame:
    """feature, selected_option, org_count, active_user_count for every enabled option on
    `as_of_date` (no rows for a date without an export). Raises WarehouseError."""
    return run_query(QUESTION, "access_on_date", {"as_of_date": as_of_date})


def enabled_options() -> pd.DataFrame:
    """feature, selected_option of every enabled option seen in the data. Raises WarehouseError."""
    return run_query(QUESTION, "enabled_options")


def access_trend(feature: str, selected_option: str) -> pd.DataFrame:
    """date, org_count, active_user_count for the export dates on which some organisation
    had `feature` = `selected_option`. Raises WarehouseError."""
    return run_query(QUESTION, "access_trend",
                     {"feature": feature, "selected_option": selected_option})


def customers_with_access(as_of_date: dt.date, feature: str, selected_option: str) -> pd.DataFrame:
    """organisation_id, organisation_name, region, active_user_count of every organisation
    whose `feature` was `selected_option` on `as_of_date`, with its active users that day.
    Raises WarehouseError."""
    return run_query(QUESTION, "customers_with_access", {
        "as_of_date": as_of_date, "feature": feature, "selected_option": selected_option,
    })


def all_trends() -> pd.DataFrame:
    """date, feature, selected_option, org_count, active_user_count for every enabled option
    on every export date where some organisation had it. Raises WarehouseError."""
    return run_query(QUESTION, "all_trends")
