"""Callbacks of the customer page /customer/<id>. State: the id in the path, `weeks` in the URL.

The outlook (churn risk and forecasts) has its own callback and area, so a warehouse
built before the outlook shows every other section and says to rebuild for that one."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

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


def _customer_and_period(organisation_id_text, weeks):
    """(the organisation's row, the period's first day or None for all data), or the
    component to show instead (a bad or unknown id, a bad period)."""
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
    return organisation, view.period_start(pd.Timestamp(organisation["last_export_date"]).date(), weeks)


def _since_day(organisation: pd.Series, since) -> dt.date:
    """The period's first day; the customer's first export day for all data."""
    return since or pd.Timestamp(organisation["first_export_date"]).date()


@callback(
    Output(ids.CUSTOMER_BODY, "children"),
    Input(ids.CUSTOMER_ID, "data"),
    Input(ids.CUSTOMER_WEEKS, "value"),
)
@shows_problems(problem_state)
def show_customer(organisation_id_text, weeks):
    """The top of the customer page (header and entitlement timeline), or a page saying
    there is no such customer. The sections below follow (`show_customer_sections`)."""
    found = _customer_and_period(organisation_id_text, weeks)
    if not isinstance(found, tuple):
        return found
    organisation, since = found
    organisation_id = int(organisation["organisation_id"])
    days = customer_queries.entitlement_days(organisation_id)
    by_reason = customer_queries.unpaid_by_reason(organisation_id, _since_day(organisation, since))
    changes = customer_queries.entitlement_changes(organisation_id)
    if since is not None:
        days = days[pd.to_datetime(days["date"]).dt.date >= since]
        changes = changes[pd.to_datetime(changes["change_date"]).dt.date >= since]
    return with_stale_notice(view.page_top(organisation, since, weeks, days, by_reason, changes))


# The sections below the timeline have their own callback, asked for by the store the top
# of the page brings (ids.CUSTOMER_SHOWN): the browser draws the charts of one answer in
# one long task, so with the whole page in one answer the timeline appeared only once the
# four charts (and the outlook's) were drawn (~0.7 s in chromium on a 2-core machine).
@callback(
    Output(ids.CUSTOMER_SECTIONS, "children"),
    Input(ids.CUSTOMER_SHOWN, "data"),
)
@shows_problems(problem_state)
def show_customer_sections(shown):
    """Usage against peers, users, unpaid usage and entitlement changes of the customer
    and period the top of the page shows (`shown`: {"customer": id, "weeks": period})."""
    if not isinstance(shown, dict):
        raise PreventUpdate
    weeks = shown.get("weeks")
    found = _customer_and_period(shown.get("customer"), weeks)
    if not isinstance(found, tuple):
        return None  # the top of the page says why
    organisation, since = found
    organisation_id = int(organisation["organisation_id"])
    since_day = _since_day(organisation, since)
    since_week = since_day - pd.Timedelta(days=since_day.weekday())
    usage = customer_queries.usage_against_peers(organisation_id, since_week)
    by_reason = customer_queries.unpaid_by_reason(organisation_id, since_day)
    recent = protect_users(customer_queries.recent_unpaid_events(organisation_id, since_day))
    changes = customer_queries.entitlement_changes(organisation_id)
    reasons = unpaid_queries.reason_definitions()
    if since is not None:
        changes = changes[pd.to_datetime(changes["change_date"]).dt.date >= since]
    return with_stale_notice(view.sections(organisation, weeks, usage, by_reason, recent,
                                           changes, reasons))


@callback(
    Output(ids.CUSTOMER_OUTLOOK_BODY, "children"),
    Output(ids.CUSTOMER_OUTLOOK_FOR, "data"),
    Input(ids.CUSTOMER_SHOWN, "data"),
    State(ids.CUSTOMER_OUTLOOK_FOR, "data"),
)
def show_customer_outlook_below(shown, drawn_for):
    """The outlook area, asked for with the sections once the top of the page is shown
    (as they are, so that its chart is not drawn before the timeline); drawn once per
    customer (`drawn_for`: the customer it shows), not again for another period."""
    if not isinstance(shown, dict) or shown.get("customer") == drawn_for:
        raise PreventUpdate
    return show_customer_outlook(shown.get("customer")), shown.get("customer")


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
