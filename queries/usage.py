"""Usage leaderboard (queries/usage.sql): per-customer usage of a feature over whole weeks."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries import ALL
from queries.runner import run_query

QUESTION = "usage"


def leaderboard(start_week: dt.date, end_week: dt.date, feature: str | None) -> pd.DataFrame:
    """One row per (organisation, feature) with a usage row in the weeks `start_week` to
    `end_week` (Mondays, inclusive), for `feature` (None = every feature):
    organisation_id, organisation_name, region, feature, events, active_user_weeks,
    user_weeks_with_access, days_enabled, weeks_enabled, is_entitled,
    events_per_active_user, adoption, events_per_entitled_day (ratios null when
    undefined; 0 when there was no event). Unordered by rank. Raises WarehouseError."""
    return run_query(QUESTION, "leaderboard", {
        "start_week": start_week, "end_week": end_week,
        "feature": feature or ALL,
    })
