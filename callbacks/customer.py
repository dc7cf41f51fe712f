"""Callbacks of the customer page /customer/<id>. State: the id in the path, `weeks` in the URL.

The outlook (churn risk and forecasts) has its own callback and area, so a warehouse
built before the outlook shows every other section and says to rebuild for that one."""

from __future__ import annotations

import pandas as pd
from dash import Input, Output

from callbacks.common import problem_state, shows_problems, with_stale_notice
from callbacks.outlook import outlook_problem
from callbacks.parsers import parse_int
from callbacks.registry import callback, clientside_callback
from components import customer as view
from components import ids
from components.common import error_state, shorten
from queries import customer as customer_queries
from queries import organisations
from queries import unpaid as unpaid_queries
from serving.personal_data import protect_users


@callback(
    Output(ids.CUSTOMER_BODY, "children"),
    Input(ids.CUSTOMER_ID, "data"),
    Input(ids.CUSTOMER_WEEKS, "value"),
)
@shows_problems(problem_state)
def show_customer(organisation_id_text, weeks):
    """Every section of the customer page, or a page saying there is no such customer."""
    try:
        organisation_id = parse_int(organisation_id_text, "customer id")
    except ValueError:
        return view.bad_id_page(f"“{shorten(organisation_id_text)}” is not a customer id: ids are "
                                "whole numbers.")
    if organisation_id is None:
        return view.bad_id_page("No customer id in the address.")
    if weeks not in view.PERIODS and weeks is not None:
        return error_state(f"“{shorten(weeks)}” is not a period of this page; choose one of the "
                           "periods above.", title="Check the period")
    found = organisations.organisation_by_id(organisation_id)
    if found.empty:
        return view.bad_id_page(f"There is no customer with id {organisation_id}.")
    organisation = found.iloc[0]
    since = view.period_start(pd.Timestamp(organisation["last_export_date"]).date(), weeks)
    since_day = since or pd.Timestamp(organisation["first_export_date"]).date()
    since_week = since_day - pd.Timedelta(days=since_day.weekday())
    days = customer_queries.entitlement_days(organisation_id)
    usage = customer_queries.usage_against_peers(organisation_id, since_week)
    by_reason = customer_queries.unpaid_by_reason(organisation_id, since_day)
    recent = protect_users(customer_queries.recent_unpaid_events(organisation_id, since_day))
    changes = customer_queries.entitlement_changes(organisation_id)
    reasons = unpaid_queries.reason_definitions()
    if since is not None:
        days = days[pd.to_datetime(days["date"]).dt.date >= since]
        changes = changes[pd.to_datetime(changes["change_date"]).dt.date >= since]
    return with_stale_notice(view.page(organisation, since, weeks, days, usage, by_reason, recent,
                                       changes, reasons))


@callback(
    Output(ids.CUSTOMER_OUTLOOK_BODY, "children"),
    Input(ids.CUSTOMER_ID, "data"),
)
@shows_problems(outlook_problem)
def show_customer_outlook(organisation_id_text):
    """The customer's churn risk per feature and its forecasts (nothing for a bad id: the
    page's main area explains it)."""
    try:
        organisation_id = parse_int(organisation_id_text, "customer id")
    except ValueError:
        return None
    if organisation_id is None:
        return None
    found = organisations.organisation_by_id(organisation_id)
    if found.empty:
        return None
    risk = customer_queries.risk_by_feature(organisation_id)
    forecast = customer_queries.forecast_by_feature(organisation_id)
    actuals = customer_queries.forecast_actuals(organisation_id)
    accuracy = customer_queries.forecast_accuracy(organisation_id)
    return with_stale_notice(view.outlook_section(
        organisation_id, str(found.iloc[0]["organisation_name"]), risk, forecast, actuals, accuracy))


# Grids below the fold are drawn when scrolled near (assets/lazy-ag-grid.js): draw them
# all before opening the print dialog, so that the PDF shows every table.
clientside_callback(
    """function (clicks) {
        if (!clicks) { return; }
        var grids = window.accurxLazyGrids;
        (grids ? grids.whenDrawn(10000) : Promise.resolve(true)).then(function () { window.print(); });
    }""",
    Input(ids.CUSTOMER_PRINT, "n_clicks"),
    prevent_initial_call=True,
)
