"""Callbacks of tab 6, Outlook. State in the URL: feature, band.

Each area has its own callback (and so its own error or empty state): who may cancel,
what usage to expect, how far to trust the risk score. A warehouse built before the
outlook has none of its views: each area then says to rebuild it (`outlook_problem`),
and the other tabs, which do not read those views, keep working.
"""

from __future__ import annotations

from dash import Input, Output

from callbacks.common import (
    NothingToShow,
    problem_figure,
    problem_state,
    shows_problems,
    with_stale_notice,
)
from callbacks.filters import validate_feature
from callbacks.parsers import parse_choice
from callbacks.registry import callback
from components import ids
from components import outlook as view
from components.common import empty_figure, graph_config
from queries import outlook as outlook_queries
from queries.errors import WarehouseError


def older_warehouse(err: Exception) -> bool:
    """True when `err` says the warehouse lacks a view: a build from before the outlook."""
    return isinstance(err, WarehouseError) and err.kind == "missing_view"


def outlook_problem(err: Exception):
    """The area's message: the rebuild advice on an older warehouse, else the usual one."""
    return view.older_warehouse_state() if older_warehouse(err) else problem_state(err)


def outlook_problem_figure(err: Exception):
    if older_warehouse(err):
        return empty_figure("No outlook in this warehouse: see below.")
    return problem_figure(err)


def validate_band(band: str | None) -> str | None:
    """The band, or None for every band. Raises ValueError for an unknown one."""
    return parse_choice(band, view.BANDS, "a risk band", none_means="every band")


@callback(
    Output(ids.OUTLOOK_RISK_SUMMARY, "children"),
    Output(ids.OUTLOOK_CALL_FIRST, "children"),
    Output(ids.OUTLOOK_RISK_BODY, "children"),
    Input(ids.FEATURE, "value"),
    Input(ids.OUTLOOK_BAND, "value"),
)
@shows_problems(lambda err: (outlook_problem(err), None, None))
def show_outlook_risk(feature, band):
    """The ranked customer-feature pairs of the feature and band, with their reasons: the
    first few as a short list in the first view, all of them in the grid further down."""
    band = validate_band(band)
    feature, _ = validate_feature(feature)
    ranking = outlook_queries.risk_ranking(feature, band)
    if ranking.empty:
        what = " ".join(x for x in (band and f"{band}-risk", feature) if x) or "any"
        raise NothingToShow(f"No customer has {what} feature enabled on the latest complete day.")
    name = view.file_name("outlook_risk", feature, band)
    return (with_stale_notice(view.risk_summary(ranking, feature, band)),
            view.call_first(ranking), view.risk_grid(ranking, name))


@callback(
    Output(ids.OUTLOOK_FORECAST, "figure"),
    Output(ids.OUTLOOK_FORECAST, "config"),
    Output(ids.OUTLOOK_FORECAST_SUMMARY, "children"),
    Input(ids.FEATURE, "value"),
)
@shows_problems(lambda err: (outlook_problem_figure(err), graph_config("outlook_forecast"),
                             outlook_problem(err)))
def show_outlook_forecast(feature):
    """Actual and forecast weekly events per feature, and their accuracy in words."""
    feature, features = validate_feature(feature)
    forecast = outlook_queries.feature_forecast(feature)
    if forecast.empty:
        raise NothingToShow("No forecast yet: this warehouse build made none. Rebuild it with "
                            "`python -m warehouse build` once it has feature usage.")
    actuals = outlook_queries.feature_actuals(feature)
    accuracy = outlook_queries.feature_accuracy(feature)
    shown = [feature] if feature else features
    name = view.file_name("outlook_forecast", feature)
    title = f"Weekly events: actual and the next 12 weeks · {feature or 'every feature'}"
    return (view.forecast_figure(actuals, forecast, accuracy, shown, title), graph_config(name),
            with_stale_notice(view.forecast_sentences(actuals, forecast, accuracy, shown)))


@callback(
    Output(ids.OUTLOOK_TRUST_BODY, "children"),
    Input(ids.FEATURE, "value"),
)
@shows_problems(outlook_problem)
def show_outlook_trust(_feature):
    """The risk score's back-test (every feature pooled: the filter does not change it)."""
    return with_stale_notice(view.trust_block(outlook_queries.risk_backtest()))
