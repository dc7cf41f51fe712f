"""Customers and the extent of the data (queries/organisations.sql), used by every page."""

from __future__ import annotations

import pandas as pd

from queries.runner import run_query

QUESTION = "organisations"


def all_organisations() -> pd.DataFrame:
    """organisation_id, organisation_name, region, first_export_date, last_export_date for
    every organisation, by name. Raises WarehouseError."""
    return run_query(QUESTION, "all_organisations")


def organisation_by_id(organisation_id: int) -> pd.DataFrame:
    """The organisation's row (same columns as all_organisations), or no rows when the id
    is unknown. Raises WarehouseError."""
    return run_query(QUESTION, "organisation_by_id", {"organisation_id": int(organisation_id)})


def data_extent() -> pd.DataFrame:
    """One row: first_export_date, last_export_date, latest_complete_date (may be NaT).
    Raises WarehouseError."""
    return run_query(QUESTION, "data_extent")


def features() -> list[str]:
    """Every feature name in the FEATURE exports, sorted. Raises WarehouseError."""
    return run_query(QUESTION, "features")["feature"].tolist()


def usage_week_extent() -> pd.DataFrame:
    """One row: first_week, last_week (Mondays, NaT when there is no usage row): the weeks
    the usage and unpaid-usage views cover. Raises WarehouseError."""
    return run_query(QUESTION, "usage_week_extent")
