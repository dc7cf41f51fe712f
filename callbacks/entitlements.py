"""Callbacks of tab 2, Entitlements. State: `customer` (id) and `week` (ISO week) in the URL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.common import problem_state, shows_problems
from callbacks.parsers import MAX_CHOICE_LENGTH, parse_int, parse_iso_week
from callbacks.registry import callback
from components import entitlements as view
from components import ids
from components.common import empty_state, fmt_date, iso_week_label, stale_notice
from queries import entitlements as entitlement_queries
from queries import organisations
from queries.errors import WarehouseError
from queries.request_state import request_staleness


class InputProblem(ValueError):
    """An input the page explains in words (bad id, unknown customer, week outside the data)."""


def _extent() -> tuple[dt.date | None, dt.date | None]:
    extent = organisations.data_extent()
    if extent.empty or pd.isna(extent["last_export_date"].iloc[0]):
        return None, None
    return (pd.Timestamp(extent["first_export_date"].iloc[0]).date(),
            pd.Timestamp(extent["last_export_date"].iloc[0]).date())


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def resolve_week(week_text: str | None) -> tuple[dt.date, bool]:
    """(Monday of the chosen week, whether it is the latest week). Default: the latest week.

    Raises InputProblem for a malformed week or one outside the data; WarehouseError."""
    first, last = _extent()
    if last is None:
        raise InputProblem("The warehouse has no feature exports yet.")
    latest = _monday(last)
    try:
        monday = parse_iso_week(week_text)
    except ValueError as err:
        raise InputProblem(str(err)) from None
    if monday is None:
        return latest, True
    if monday > latest or monday + dt.timedelta(days=6) < first:
        raise InputProblem(
            f"Week {iso_week_label(monday)} ({fmt_date(monday)} – "
            f"{fmt_date(monday + dt.timedelta(days=6))}) is outside the data, which runs from "
            f"{view.week_range_text(first, last)}."
        )
    return monday, monday == latest


def resolve_customer(customer_text: str | None) -> pd.Series | None:
    """The organisation's row, None when no customer is chosen.

    Raises InputProblem for a malformed or unknown id; WarehouseError."""
    try:
        organisation_id = parse_int(customer_text, "customer id")
    except ValueError as err:
        raise InputProblem(str(err)) from None
    if organisation_id is None:
        return None
    found = organisations.organisation_by_id(organisation_id)
    if found.empty:
        raise InputProblem(f"There is no customer with id {organisation_id} in the warehouse.")
    return found.iloc[0]


@callback(
    Output(ids.ENTITLEMENTS_CUSTOMER, "options"),
    Input(ids.ENTITLEMENTS_CUSTOMER, "search_value"),
    State(ids.ENTITLEMENTS_CUSTOMER, "value"),
)
def list_customer_choices(search, selected):
    """Customers matching what is typed (name or id), the selected one always included."""
    search = search[:MAX_CHOICE_LENGTH] if isinstance(search, str) else None
    if not isinstance(selected, str) or len(selected) > MAX_CHOICE_LENGTH:
        selected = None  # not an id a link could carry: show_entitlements explains it
    try:
        return view.customer_choices(organisations.all_organisations(), search, selected)
    except WarehouseError:
        return [{"label": f"Customer {selected}", "value": selected}] if selected else []


@callback(
    Output(ids.ENTITLEMENTS_WEEK_OPTIONS, "children"),
    Input(ids.ENTITLEMENTS_WEEK_OPTIONS, "id"),
)
def list_week_choices(_):
    """Suggestions for the week box: every ISO week in the data."""
    try:
        return view.week_choices(*_extent())
    except WarehouseError:
        return []


@callback(
    Output(ids.ENTITLEMENTS_WEEK, "value"),
    Input(ids.ENTITLEMENTS_PREVIOUS_WEEK, "n_clicks"),
    Input(ids.ENTITLEMENTS_NEXT_WEEK, "n_clicks"),
    State(ids.ENTITLEMENTS_WEEK, "value"),
    prevent_initial_call=True,
)
def step_week(_previous, _next, week_text):
    """‹ and › move the week by one (from the latest week when none is chosen)."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    step = -7 if ctx.triggered_id == ids.ENTITLEMENTS_PREVIOUS_WEEK else 7
    try:
        monday, _ = resolve_week(week_text)
    except (InputProblem, WarehouseError):
        raise PreventUpdate from None
    return iso_week_label(monday + dt.timedelta(days=step))


def _entitlements_problem(err: Exception) -> tuple:
    """A bad customer or week is explained in the hint above the grid; the warehouse's
    sentence takes the grid's place."""
    if isinstance(err, WarehouseError):
        return None, problem_state(err)
    return problem_state(err, title="Check the customer and week"), None


@callback(
    Output(ids.ENTITLEMENTS_HINT, "children"),
    Output(ids.ENTITLEMENTS_BODY, "children"),
    Input(ids.ENTITLEMENTS_CUSTOMER, "value"),
    Input(ids.ENTITLEMENTS_WEEK, "value"),
)
@shows_problems(_entitlements_problem)
def show_entitlements(customer_text, week_text):
    """The feature x day grid and the week's usage of the chosen customer."""
    week_start, is_latest = resolve_week(week_text)
    organisation = resolve_customer(customer_text)
    if organisation is None:
        return None, empty_state("Choose a customer: type part of its name or its id.")
    organisation_id = int(organisation["organisation_id"])
    features = entitlement_queries.features_of_organisation(organisation_id)["feature"].tolist()
    days = entitlement_queries.known_days(organisation_id, week_start,
                                          week_start + dt.timedelta(days=6))
    before = entitlement_queries.option_before(organisation_id, week_start)
    summary = entitlement_queries.week_summary(organisation_id, week_start)
    usage = entitlement_queries.week_usage(organisation_id, week_start)
    return stale_notice(request_staleness()), view.week_view(
        organisation, week_start, features, days, before, summary, usage, is_latest)
