"""Callbacks of tab 3, Usage. State in the URL: period, feature, metric, order, top.

A click on a bar or a grid row goes to the customer's page through a Location of the
tab's own (refresh="callback-nav"): a real navigation, so the leaderboard's URL stays in
the history and Back returns to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dash import Input, Output
from dash.exceptions import PreventUpdate

from callbacks.common import problem_figure, problem_state, shows_problems, with_stale_notice
from callbacks.filters import Period, current_period, validate_feature
from callbacks.navigation import customer_href
from callbacks.parsers import parse_int
from callbacks.registry import callback
from components import ids
from components import usage as view
from components.common import empty_figure, empty_state, graph_config, shorten
from queries import usage as usage_queries


@dataclass(frozen=True)
class Choice:
    """The leaderboard's validated filters."""

    period: Period | None
    feature: str | None
    metric: str
    order: str
    top: int
    features: list[str]


def validate(period_value, feature, metric, order, top_text) -> Choice:
    """The filters checked against the data. Raises ValueError with a sentence,
    WarehouseError from the warehouse."""
    metric = metric or view.DEFAULT_METRIC
    if not isinstance(metric, str) or metric not in view.METRICS:
        names = ", ".join(view.METRICS)
        raise ValueError(f"“{shorten(metric)}” is not a measure; choose one of {names}.")
    order = order or view.DEFAULT_ORDER
    if not isinstance(order, str) or order not in view.ORDERS:
        raise ValueError(f"“{shorten(order)}” is not an order; choose least or most.")
    top = parse_int(top_text, "number of customers") or view.DEFAULT_TOP
    if not 1 <= top <= view.MAX_TOP:
        raise ValueError(f"Top {top} is not possible: show between 1 and {view.MAX_TOP} customers.")
    feature, features = validate_feature(feature)
    return Choice(current_period(period_value), feature, metric, order, top, features)


@callback(
    Output(ids.USAGE_SUMMARY, "children"),
    Output(ids.USAGE_CHART, "figure"),
    Output(ids.USAGE_CHART, "config"),
    Output(ids.USAGE_BODY, "children"),
    Input(ids.PERIOD, "data"),
    Input(ids.FEATURE, "value"),
    Input(ids.USAGE_METRIC, "value"),
    Input(ids.USAGE_ORDER, "value"),
    Input(ids.USAGE_TOP, "value"),
)
@shows_problems(lambda err: (problem_state(err), problem_figure(err),
                             graph_config("usage_leaderboard"), None))
def show_leaderboard(period_value, feature, metric, order, top_text):
    """Summary, bar chart and grid of the leaderboard for the URL's filters."""
    config = graph_config("usage_leaderboard")
    choice = validate(period_value, feature, metric, order, top_text)
    if choice.period is None:
        message = "The warehouse has no usage yet, so there is nothing to rank."
        return empty_state(message), empty_figure(message), config, None
    period = choice.period
    if not period.overlaps_data:
        message = (f"No usage in {period.label()}: the data covers only the weeks shown "
                   "under the period. Choose a period inside them.")
        return empty_state(message), empty_figure("No data in this period"), config, None
    frame = usage_queries.leaderboard(period.start_week, period.end_week, choice.feature)
    ranking = view.rank_leaderboard(frame, choice.metric, choice.order, choice.top)
    if ranking.rows.empty:
        what = choice.feature or "any feature"
        message = (f"No customer had {what} on in {period.label()}, so nobody can be ranked"
                   + (f" ({ranking.undefined} with undefined {view.METRICS[choice.metric].label.lower()})"
                      if ranking.undefined else "") + ".")
        return empty_state(message), empty_figure("Nobody to rank in this period"), config, None
    name = view.file_name("usage_leaderboard", choice.feature, choice.metric, choice.order,
                          choice.top, period.file_part())
    return (
        with_stale_notice(view.summary(ranking, choice.metric, choice.order, choice.feature,
                                       period.label())),
        view.leaderboard_figure(ranking, choice.metric, choice.order, choice.feature,
                                choice.features, period.label()),
        graph_config(name),
        view.leaderboard_grid(ranking, choice.metric, choice.feature, name),
    )


@callback(
    Output(ids.USAGE_GO, "href", allow_duplicate=True),
    Input(ids.USAGE_CHART, "clickData"),
    prevent_initial_call=True,
)
def open_clicked_bar(click):
    """A bar (or its row's transparent hit area) -> the customer's page, as a navigation
    (ids.USAGE_GO is a Location with refresh="callback-nav"), so Back returns here."""
    points = click.get("points") if isinstance(click, dict) else None
    point = points[0] if isinstance(points, list) and points else None
    customdata = point.get("customdata") if isinstance(point, dict) else None
    if not isinstance(customdata, list) or not customdata:
        raise PreventUpdate
    return customer_href(_customer_id(customdata[0]))


@callback(
    Output(ids.USAGE_GO, "href", allow_duplicate=True),
    Input(ids.grid(ids.USAGE_LEADERBOARD_GRID), "cellClicked"),
    prevent_initial_call=True,
)
def open_clicked_row(cell):
    """A click anywhere on a grid row does what the row's customer link does (the link's
    own cell is left to the link, or the page would be opened twice)."""
    if not isinstance(cell, dict) or not cell.get("rowId") or cell.get("colId") == "organisation_name":
        raise PreventUpdate
    return customer_href(_customer_id(str(cell["rowId"]).split("|")[0]))


def _customer_id(value) -> int:
    """The customer id a click carries; PreventUpdate if it is not one."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a chart's customdata row mixes ids with float measures
    try:
        organisation_id = parse_int(value, "customer id")
    except ValueError:
        raise PreventUpdate from None
    if organisation_id is None:
        raise PreventUpdate
    return organisation_id
