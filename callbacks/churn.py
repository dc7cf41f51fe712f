"""Callbacks of tab 5, Churn. State in the URL: feature, cohorts.

Each area has its own callback (and so its own error or empty state): changes per
month, retention cohorts, cancelled customers, dormant customers.

The retention heatmaps wait for the monthly chart: the monthly callback also writes the
feature it drew into a store (ids.CHURN_MONTHLY_DRAWN), an input of the retention
callback, so Dash asks for the heatmaps only once the monthly chart's answer is in. The
browser draws a chart in one long task, and the tab's charts are shown together once
none is loading: answered together, the monthly chart waited for the heatmaps (~0.4 s in
chromium) before anything of them appeared.
"""

from __future__ import annotations

import pandas as pd
from dash import Input, Output

from callbacks.common import (
    PROBLEMS,
    problem_figure,
    problem_state,
    shows_problems,
    with_stale_notice,
)
from callbacks.filters import validate_feature
from callbacks.parsers import parse_choice
from callbacks.registry import callback
from components import churn as view
from components import ids
from components.common import empty_figure, empty_state, graph_config
from queries import churn as churn_queries
from queries import organisations


def validate_cohorts(cohorts: str | None) -> str:
    """The cohort view (the default when not given). Raises ValueError for an unknown one."""
    return parse_choice(cohorts, view.COHORT_VIEWS, "a cohort view") or view.DEFAULT_COHORTS


@callback(
    Output(ids.CHURN_SUMMARY, "children"),
    Output(ids.CHURN_MONTHLY, "figure"),
    Output(ids.CHURN_MONTHLY, "config"),
    Output(ids.CHURN_MONTHLY_DRAWN, "data"),
    Input(ids.FEATURE, "value"),
)
def show_churn_changes(feature):
    """Totals and the monthly chart of entitlement changes, and the feature drawn ("" for
    every feature, or when the filter is not a feature) written for the retention
    heatmaps to follow (see the module docstring)."""
    answer = _churn_changes(feature)
    try:
        drawn, _ = validate_feature(feature)
    except PROBLEMS:
        drawn = None  # the areas say why, each with its own answer
    return (*answer, drawn or "")


@shows_problems(lambda err: (problem_state(err), problem_figure(err), graph_config("churn_changes")))
def _churn_changes(feature):
    config = graph_config("churn_changes")
    feature, features = validate_feature(feature)
    changes = churn_queries.changes_by_month(feature)
    if changes.empty:
        what = feature or "any feature"
        return (empty_state(f"No customer changed its {what} entitlement in the data: every "
                            "customer kept the option of its first known day."),
                empty_figure("No entitlement changes"), config)
    name = view.file_name("churn_changes", feature)
    title = f"Entitlement changes per month · {feature or 'every feature'}"
    return (with_stale_notice(view.summary_cards(changes)),
            view.monthly_figure(changes, features, title), graph_config(name))


@callback(
    Output(ids.CHURN_RETENTION, "figure"),
    Output(ids.CHURN_RETENTION, "config"),
    Input(ids.FEATURE, "value"),
    Input(ids.CHURN_COHORTS, "value"),
    Input(ids.CHURN_MONTHLY_DRAWN, "data"),
)
@shows_problems(lambda err: (empty_figure(str(err)), graph_config("churn_retention")))
def show_churn_retention(feature, cohorts, _monthly_drawn=None):
    """Retention heatmap(s) for the feature(s) and cohort view. `_monthly_drawn` only
    orders it after the monthly chart (the feature is read from its own input, so a
    cohort change alone does not wait for the monthly chart)."""
    config = graph_config("churn_retention")
    cohorts = validate_cohorts(cohorts)
    feature, features = validate_feature(feature)
    data = churn_queries.retention_cohorts(feature)
    rows = view.cohort_rows(data, cohorts)
    if rows.empty:
        reason = {"new": "no customer started the feature after the data began",
                  "censored": "no customer had it on from its first day in the data"}
        return empty_figure("No cohorts to show: " + reason.get(cohorts, "no customer ever had it on")), config
    name = view.file_name("churn_retention", feature, cohorts)
    title = f"Retention by cohort · {feature or 'every feature'} · {view.COHORT_VIEWS[cohorts].lower()}"
    return view.retention_figure(rows, features, title), graph_config(name)


@callback(
    Output(ids.CHURN_CANCELLATIONS_BODY, "children"),
    Input(ids.FEATURE, "value"),
)
@shows_problems(problem_state)
def show_churn_cancellations(feature):
    """Every cancellation with the usage of the 4 and 12 weeks before it."""
    feature, _ = validate_feature(feature)
    cancellations = churn_queries.cancellations_with_usage(feature)
    if cancellations.empty:
        return empty_state(f"No customer cancelled {feature or 'a feature'} in the data.")
    return view.cancellations_grid(cancellations, view.file_name("churn_cancellations", feature))


@callback(
    Output(ids.CHURN_DORMANT_BODY, "children"),
    Input(ids.FEATURE, "value"),
)
@shows_problems(problem_state)
def show_churn_dormant(feature):
    """Customers entitled on their latest known day but silent for the last 28 days."""
    feature, _ = validate_feature(feature)
    extent = organisations.data_extent()
    last_export = extent["last_export_date"].iloc[0] if len(extent) else None
    if last_export is None or pd.isna(last_export):
        return empty_state("The warehouse has no feature exports yet.")
    data_end = pd.Timestamp(last_export).date()
    dormant = churn_queries.dormant_entitled(feature, data_end)
    return view.dormant_block(dormant, data_end, feature,
                              view.file_name("churn_dormant", feature, f"to-{data_end.isoformat()}"))
