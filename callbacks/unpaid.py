"""Callbacks of tab 4, Unpaid usage. State in the URL: period, feature, reason, customer.

`customer` (a URL-bound store) is the customer whose events are listed: a click on a
row of the customers grid sets it, the Close button clears it (one callback).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from dash import Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.common import (
    NothingToShow,
    problem_figure,
    problem_state,
    shows_problems,
    with_stale_notice,
)
from callbacks.filters import Period, current_period, validate_feature
from callbacks.parsers import MAX_CHOICE_LENGTH, parse_int
from callbacks.registry import callback
from components import ids
from components import unpaid as view
from components.common import empty_figure, empty_state, error_state, graph_config, shorten
from queries import organisations
from queries import unpaid as unpaid_queries
from queries.errors import WarehouseError
from serving.personal_data import protect_users


@dataclass(frozen=True)
class Filters:
    """The tab's validated filters; `period` is None when the warehouse has no usage.
    `reasons`: every reason in words (queries.unpaid.reason_definitions())."""

    period: Period | None
    feature: str | None
    reason: str | None
    reasons: pd.DataFrame = field(compare=False, repr=False)

    def title(self, what: str) -> str:
        return view.figure_title(what, self.feature, self.reason, self.reasons, self.period.label())

    def file_name(self, kind: str, *extra) -> str:
        return view.file_name(kind, self.feature, self.reason, self.period.file_part(), *extra)


def validate(period_value, feature, reason) -> Filters:
    """The filters checked against the data. Raises ValueError with a sentence,
    NothingToShow when the period has no data, WarehouseError from the warehouse."""
    feature, _ = validate_feature(feature)
    reasons = unpaid_queries.reason_definitions()
    codes = reasons["reason"].tolist()
    if reason and (not isinstance(reason, str) or reason not in codes):
        raise ValueError(f"“{shorten(reason)}” is not a reason; choose one of "
                         f"{', '.join(codes)} (or every reason).")
    period = current_period(period_value)
    if period is None:
        raise NothingToShow("The warehouse has no usage yet, so there is no unpaid usage either.")
    if not period.overlaps_data:
        raise NothingToShow(f"No usage in {period.label()}: choose a period inside the weeks "
                            "the data covers (see under the period).")
    return Filters(period, feature, reason or None, reasons)


@callback(
    Output(ids.UNPAID_REASON, "options"),
    Input(ids.UNPAID_REASON, "value"),
)
def fill_reason_options(reason):
    """Reason choices (an unknown value from a link stays, to be explained)."""
    if not isinstance(reason, str) or len(reason) > MAX_CHOICE_LENGTH:
        reason = None  # not something a link could carry: the tab's areas explain it
    try:
        return view.reason_options(unpaid_queries.reason_definitions(), reason)
    except WarehouseError:
        return view.reason_options(None, reason)


@callback(
    Output(ids.UNPAID_SUMMARY, "children"),
    Output(ids.UNPAID_WEEKLY, "figure"),
    Output(ids.UNPAID_WEEKLY, "config"),
    Input(ids.PERIOD, "data"),
    Input(ids.FEATURE, "value"),
    Input(ids.UNPAID_REASON, "value"),
)
@shows_problems(lambda err: (problem_state(err), problem_figure(err), graph_config("unpaid_weekly")))
def show_unpaid_overview(period_value, feature, reason):
    """How often: the period's totals and the weekly events, share and customers."""
    config = graph_config("unpaid_weekly")
    filters = validate(period_value, feature, reason)
    weekly = unpaid_queries.weekly_overview(filters.period.start_week, filters.period.end_week,
                                            filters.feature, filters.reason)
    if weekly.empty:
        return empty_state("No usage at all in this period."), empty_figure("No usage in this period"), config
    summary = view.overview_cards(weekly)
    if not weekly["unpaid_events"].sum():
        summary = [summary, empty_state("No unpaid events in this period with these filters: "
                                        "every feature event was allowed by the customer's plan.")]
    return (with_stale_notice(summary),
            view.weekly_figure(weekly, filters.title("Unpaid usage per week")),
            graph_config(filters.file_name("unpaid_weekly")))


def _reasons_problem(err: Exception) -> tuple:
    """The chart's blank; the notes say the warehouse's sentence, else (the message being
    in the other areas) the reasons without totals."""
    if isinstance(err, WarehouseError):
        notes = error_state(str(err))
    else:
        try:
            notes = view.reason_notes(unpaid_queries.reason_definitions(), None)
        except WarehouseError as failure:
            notes = error_state(str(failure))
    return problem_figure(err), graph_config("unpaid_by_reason"), notes


@callback(
    Output(ids.UNPAID_BY_REASON, "figure"),
    Output(ids.UNPAID_BY_REASON, "config"),
    Output(ids.UNPAID_REASON_NOTES, "children"),
    Input(ids.PERIOD, "data"),
    Input(ids.FEATURE, "value"),
    Input(ids.UNPAID_REASON, "value"),
)
@shows_problems(_reasons_problem)
def show_unpaid_reasons(period_value, feature, reason):
    """Why: unpaid events per week stacked by reason, and each reason's total in words."""
    config = graph_config("unpaid_by_reason")
    filters = validate(period_value, feature, reason)
    by_reason = unpaid_queries.weekly_by_reason(filters.period.start_week, filters.period.end_week,
                                                filters.feature, filters.reason)
    totals = by_reason.groupby("reason")["events"].sum()
    if by_reason.empty:
        return (empty_figure("No unpaid events in this period with these filters"), config,
                view.reason_notes(filters.reasons, totals))
    return (view.reasons_figure(by_reason, filters.reasons, filters.title("Unpaid events by reason")),
            graph_config(filters.file_name("unpaid_by_reason")),
            view.reason_notes(filters.reasons, totals))


@callback(
    Output(ids.UNPAID_CUSTOMERS_BODY, "children"),
    Input(ids.PERIOD, "data"),
    Input(ids.FEATURE, "value"),
    Input(ids.UNPAID_REASON, "value"),
    Input(ids.UNPAID_CUSTOMER, "data"),
)
@shows_problems(problem_state)
def show_unpaid_customers(period_value, feature, reason, customer):
    """Who: customers ranked by unpaid events (the chosen one highlighted)."""
    filters = validate(period_value, feature, reason)
    customers = unpaid_queries.customers_ranked(filters.period.start_week, filters.period.end_day,
                                                filters.feature, filters.reason)
    if customers.empty:
        return empty_state("No customer had unpaid events in this period with these filters.")
    try:
        selected = parse_int(customer, "customer id")
    except ValueError:
        selected = None
    return view.customers_grid(customers, filters.reasons, filters.file_name("unpaid_customers"),
                               selected)


@callback(
    Output(ids.UNPAID_EVENTS_TITLE, "children"),
    Output(ids.UNPAID_EVENTS_BODY, "children"),
    Output(ids.UNPAID_EVENTS_CLOSE, "className"),
    Input(ids.PERIOD, "data"),
    Input(ids.FEATURE, "value"),
    Input(ids.UNPAID_REASON, "value"),
    Input(ids.UNPAID_CUSTOMER, "data"),
)
@shows_problems(lambda err: (view.events_title(None), problem_state(err), view.close_class(True)))
def show_unpaid_events(period_value, feature, reason, customer):
    """Drill-down: the chosen customer's unpaid events under the same filters."""
    if not customer:
        return (view.events_title(None), empty_state("Click a customer above to list its unpaid events."),
                view.close_class(False))
    shown = view.close_class(True)
    organisation_id = parse_int(customer, "customer id")
    filters = validate(period_value, feature, reason)
    found = organisations.organisation_by_id(organisation_id)
    if found.empty:
        return (view.events_title(None),
                error_state(f"There is no customer with id {organisation_id}.",
                            title="Check the customer"), shown)
    name = str(found["organisation_name"].iloc[0])
    events = protect_users(unpaid_queries.customer_events(
        organisation_id, filters.period.start_week, filters.period.end_day,
        filters.feature, filters.reason))
    if events.empty:
        return (view.events_title(name, 0),
                empty_state(f"{name} has no unpaid events in {filters.period.label()} with these "
                            "filters."), shown)
    limit = unpaid_queries.EVENTS_LIMIT
    more = len(events) > limit
    events = events.head(limit)
    return (
        view.events_title(name, len(events), more),
        view.events_grid(events, filters.reasons, organisation_id, name,
                         filters.file_name("unpaid_events", f"customer-{organisation_id}"), more, limit),
        shown,
    )


@callback(
    Output(ids.UNPAID_CUSTOMER, "data"),
    Input(ids.grid(ids.UNPAID_CUSTOMERS_GRID), "cellClicked"),
    Input(ids.UNPAID_EVENTS_CLOSE, "n_clicks"),
    State(ids.UNPAID_CUSTOMER, "data"),
    prevent_initial_call=True,
)
def choose_unpaid_customer(cell, close_clicks, current):
    """A click on a customer's row lists its events; Close clears the choice."""
    if ctx.triggered_id == ids.UNPAID_EVENTS_CLOSE:
        if not close_clicks or current is None:
            raise PreventUpdate
        return None
    try:
        organisation_id = parse_int(cell.get("rowId") if isinstance(cell, dict) else None)
    except ValueError:
        raise PreventUpdate from None  # not a row of the customers grid
    if organisation_id is None or str(organisation_id) == str(current):
        raise PreventUpdate
    return str(organisation_id)
