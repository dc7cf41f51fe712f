"""Callbacks of tab 1, Access. State: `date` (as-of date) and `pick` (feature|option) in the URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from dash import ALL, Input, Output, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.common import PROBLEMS, problem_state, shows_problems, with_stale_notice
from callbacks.parsers import parse_iso_date
from callbacks.registry import callback
from components import access as view
from components import ids
from components.common import empty_figure, empty_state, file_slug, fmt_date, graph_config, shorten
from queries import access as access_queries
from queries import organisations
from queries.errors import WarehouseError


@dataclass(frozen=True)
class AsOf:
    """The date the tab describes and the facts needed to explain it."""

    date: dt.date | None
    chosen: bool
    latest_complete: dt.date | None
    last_export: dt.date | None
    is_export_date: bool


def _day(value) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def resolve_as_of(date_text: str | None) -> AsOf:
    """The chosen date, or the latest complete date (else the last export) by default.

    Raises ValueError for a malformed date, WarehouseError from the warehouse."""
    chosen = parse_iso_date(date_text)
    extent = organisations.data_extent()
    latest_complete = _day(extent["latest_complete_date"].iloc[0]) if len(extent) else None
    last_export = _day(extent["last_export_date"].iloc[0]) if len(extent) else None
    as_of = chosen or latest_complete or last_export
    export_days = set(pd.to_datetime(access_queries.export_dates()["date"]).dt.date)
    return AsOf(as_of, chosen is not None, latest_complete, last_export, as_of in export_days)


class PickProblem(ValueError):
    """The URL's pick is not an enabled (feature, option) of the data."""


def resolve_pick(pick) -> tuple[str, str] | None:
    """(feature, option) of the URL's pick; None when nothing (or nothing of the form
    "feature|option") is picked.

    Raises PickProblem for a pick that is not an enabled option of the data (so it
    never reaches a query), WarehouseError from the warehouse."""
    selected = view.split_pick(pick) if isinstance(pick, str) else None
    if selected is None:
        return None
    options = access_queries.enabled_options()
    if selected in set(zip(options["feature"], options["selected_option"])):
        return selected
    raise PickProblem(f"“{shorten(pick)}” is not a feature option in the data; pick one of the "
                      "cards above.")


@callback(
    Output(ids.ACCESS_DATE, "min_date_allowed"),
    Output(ids.ACCESS_DATE, "max_date_allowed"),
    Output(ids.ACCESS_DATE, "disabled_days"),
    Output(ids.ACCESS_DATE, "placeholder"),
    Output(ids.ACCESS_PICK, "options"),
    Input(ids.ACCESS_DATE_NOTE, "id"),
)
def fill_access_controls(_):
    """Date picker limits (export dates only) and the feature/option choices."""
    try:
        limits = view.date_picker_limits(access_queries.export_dates()["date"])
        choices = view.option_choices(access_queries.enabled_options())
        as_of = resolve_as_of(None)
    except WarehouseError:
        return no_update, no_update, no_update, no_update, no_update  # the cards show the error
    placeholder = f"{fmt_date(as_of.date)} (latest)" if as_of.date else "No data"
    return limits["min"], limits["max"], limits["disabled"], placeholder, choices


@callback(
    Output(ids.ACCESS_DATE_NOTE, "children"),
    Output(ids.ACCESS_CARDS, "children"),
    Input(ids.ACCESS_DATE, "date"),
    Input(ids.ACCESS_PICK, "value"),
)
@shows_problems(lambda err: (None, problem_state(err, title="Check the date")))
def show_access_cards(date_text, pick):
    """The note saying which date is shown and one card per enabled (feature, option)."""
    as_of = resolve_as_of(date_text)
    if as_of.date is None:
        return None, empty_state("The warehouse has no feature exports yet.")
    note = view.date_note(as_of.date, as_of.chosen, as_of.latest_complete,
                          as_of.last_export, as_of.is_export_date)
    if not as_of.is_export_date:
        return note, None
    cards = view.access_cards(access_queries.access_on_date(as_of.date),
                              access_queries.enabled_options(), pick)
    return note, with_stale_notice(cards)


def _trend_problem(err: Exception) -> tuple:
    """The chart's blank: the pick's or the warehouse's sentence; a bad date is explained
    above the chart."""
    bad_date = isinstance(err, ValueError) and not isinstance(err, PickProblem)
    return empty_figure("Check the date above." if bad_date else str(err)), graph_config("access_trend")


@callback(
    Output(ids.ACCESS_TREND, "figure"),
    Output(ids.ACCESS_TREND, "config"),
    Input(ids.ACCESS_DATE, "date"),
    Input(ids.ACCESS_PICK, "value"),
)
@shows_problems(_trend_problem)
def show_access_trend(date_text, pick):
    """Customers and active users over time for the picked option (all options if none)."""
    selected = resolve_pick(pick)
    as_of = resolve_as_of(date_text)
    export_dates = access_queries.export_dates()["date"]
    if selected:
        feature, option = selected
        trend = access_queries.access_trend(feature, option)
        figure = view.trend_figure(trend, export_dates, feature, option, as_of.date)
        filename = file_slug("access_trend", feature, option)
    else:
        figure = view.overview_figure(access_queries.all_trends(), export_dates, as_of.date)
        filename = file_slug("access_trend", "all_options")
    return figure, graph_config(filename)


@callback(
    Output(ids.ACCESS_CUSTOMERS_TITLE, "children"),
    Output(ids.ACCESS_CUSTOMERS_BODY, "children"),
    Input(ids.ACCESS_DATE, "date"),
    Input(ids.ACCESS_PICK, "value"),
)
def show_access_customers(date_text, pick):
    """The customers with the picked option on the as-of date."""
    try:
        selected = resolve_pick(pick)
    except (PickProblem, WarehouseError) as err:
        return view.customers_title(None, None, None), problem_state(err, title="Check the option")
    if not selected:
        return view.customers_title(None, None, None), view.no_pick_message()
    feature, option = selected
    try:
        as_of = resolve_as_of(date_text)
        if as_of.date is None or not as_of.is_export_date:
            return (view.customers_title(feature, option, as_of.date),
                    empty_state("No export on that date: choose an export date above."))
        customers = access_queries.customers_with_access(as_of.date, feature, option)
    except PROBLEMS as err:
        return view.customers_title(feature, option, None), problem_state(err, title="Check the date")
    return (view.customers_title(feature, option, as_of.date, len(customers)),
            view.customers_table(customers, feature, option, as_of.date))


@callback(
    Output(ids.ACCESS_PICK, "value"),
    Input(ids.access_card(ALL, ALL), "n_clicks"),
    prevent_initial_call=True,
)
def pick_clicked_card(_clicks):
    """A click on a card picks its (feature, option) (and so updates the URL)."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    return view.pick_value(trigger["feature"], trigger["option"])
