"""Unpaid usage (queries/unpaid.sql): how often customers use what they don't pay for, and why."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries import ALL
from queries.runner import run_query

QUESTION = "unpaid"
EVENTS_LIMIT = 5000  # customer_events returns one more row to tell that there are more


def _filters(feature: str | None, reason: str | None) -> dict:
    return {"feature": feature or ALL, "reason": reason or ALL}


def weekly_overview(start_week: dt.date, end_week: dt.date, feature: str | None,
                    reason: str | None) -> pd.DataFrame:
    """One row per week with usage rows: week_start, unpaid_events, unpaid_customers,
    feature_events, unpaid_share (null when the week has no feature event).
    Raises WarehouseError."""
    return run_query(QUESTION, "weekly_overview", {
        "start_week": start_week, "end_week": end_week, **_filters(feature, reason)})


def weekly_by_reason(start_week: dt.date, end_week: dt.date, feature: str | None,
                     reason: str | None) -> pd.DataFrame:
    """week_start, reason, events for each week and reason with unpaid events.
    Raises WarehouseError."""
    return run_query(QUESTION, "weekly_by_reason", {
        "start_week": start_week, "end_week": end_week, **_filters(feature, reason)})


def reason_definitions() -> pd.DataFrame:
    """Every unpaid reason in the warehouse's order of precedence: reason (the code),
    label, explanation, display_order, colour. Raises WarehouseError."""
    return run_query(QUESTION, "reason_definitions")


def customers_ranked(start_week: dt.date, end_day: dt.date, feature: str | None,
                     reason: str | None) -> pd.DataFrame:
    """One row per customer with unpaid events from `start_week` to `end_day`, most first:
    organisation_id, organisation_name, region, unpaid_events, feature_events,
    unpaid_share, users, days, first_date, last_date, then one column of event counts per
    reason of `reason_definitions()` (named by its code, in its order; 0 when none).
    Raises WarehouseError."""
    params = {"start_week": start_week, "end_day": end_day, **_filters(feature, reason)}
    ranked = run_query(QUESTION, "customers_ranked", params)
    by_reason = run_query(QUESTION, "customer_reasons", params)
    codes = reason_definitions()["reason"].tolist()
    counts = (by_reason.pivot(index="organisation_id", columns="reason", values="events")
              .reindex(columns=codes + sorted(set(by_reason["reason"]) - set(codes))))
    counts = counts.reindex(ranked["organisation_id"]).fillna(0).astype("int64")
    return pd.concat([ranked, counts.reset_index(drop=True)], axis=1)


def customer_events(organisation_id: int, start_week: dt.date, end_day: dt.date,
                    feature: str | None, reason: str | None) -> pd.DataFrame:
    """The customer's unpaid events, latest first, at most EVENTS_LIMIT + 1 rows:
    event_timestamp, date, user_id, event_name, feature, required_options, org_option
    (null on an unknown day), reason, message_id. Raises WarehouseError."""
    return run_query(QUESTION, "customer_events", {
        "organisation_id": int(organisation_id), "start_week": start_week, "end_day": end_day,
        **_filters(feature, reason)})
