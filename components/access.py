"""Tab 1, Access: how many customers and users currently have access to a feature?

Cards per enabled (feature, option) on the as-of date (default: the latest complete
date), a trend of customers and active users over time, and the customers behind a
clicked card.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import dcc, html

from components import ids
from components.common import (
    UrlParams,
    col_customer,
    col_int,
    col_text,
    control,
    data_grid,
    dates,
    empty_state,
    figure,
    file_slug,
    fmt_date,
    fmt_int,
    graph,
    kpi_card,
    loading,
    notice,
    option_colour,
    ordered_options,
    section,
    stacked_subplots,
    subplot_axes,
    themed,
    update_axes,
)

KEY = "access"
LABEL = "Access"
QUESTION = "How many customers and users currently have access to a feature?"
PICK_SEPARATOR = "|"


def pick_value(feature: str, option: str) -> str:
    """The URL value naming one (feature, option): 'SMS|SMS Plus'."""
    return f"{feature}{PICK_SEPARATOR}{option}"


def split_pick(value: str | None) -> tuple[str, str] | None:
    """('SMS', 'SMS Plus') from 'SMS|SMS Plus'; None when absent or malformed."""
    if not value or PICK_SEPARATOR not in value:
        return None
    feature, _, option = value.partition(PICK_SEPARATOR)
    return (feature, option) if feature and option else None


def pick_label(value: str | None) -> str:
    pick = split_pick(value)
    return f"{pick[0]} · {pick[1]}" if pick else str(value)


def layout(params: UrlParams):
    date_text = params.get("date")
    valid_date = None
    warning = None
    if date_text:
        try:
            valid_date = dt.date.fromisoformat(date_text).isoformat()
        except ValueError:
            warning = notice(f"The link's date “{date_text}” is not a date (YYYY-MM-DD); "
                             "showing the latest complete date instead.", color="warning")
    pick = params.get("pick")
    controls = html.Div(
        [
            control("As of", dcc.DatePickerSingle(
                id=ids.ACCESS_DATE, date=valid_date, display_format="D MMM YYYY",
                first_day_of_week=1, clearable=True, placeholder="Latest complete date",
            )),
            control("Feature and option", dcc.Dropdown(
                id=ids.ACCESS_PICK, value=pick, clearable=True, searchable=False,
                options=[{"label": pick_label(pick), "value": pick}] if pick else [],
                placeholder="All options (click a card to choose)",
                style={"minWidth": "18rem"},
            )),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        section(
            "Customers and active users with access",
            controls,
            warning,
            loading(html.Div([html.Div(id=ids.ACCESS_DATE_NOTE), html.Div(id=ids.ACCESS_CARDS)])),
            subtitle="A customer has access when its option is not Off on the export of that "
                     "date. Active users: users with status Active in that day's user export. "
                     "Click a card for its customers and trend.",
        ),
        section("Over time", loading(graph(
            ids.ACCESS_TREND, filename="access_trend",
            caption="Customers with access over time (the cards above give the numbers on the "
                    "date marked)",
            described_by=(ids.ACCESS_DATE_NOTE, ids.ACCESS_CARDS)))),
        section(
            html.Span(id=ids.ACCESS_CUSTOMERS_TITLE, children="Customers"),
            loading(html.Div(id=ids.ACCESS_CUSTOMERS_BODY)),
        ),
    ])


# ---------------------------------------------------------------- pieces filled by callbacks
def date_note(as_of: dt.date, chosen: bool, latest_complete: dt.date | None,
              last_export: dt.date | None, is_export_date: bool):
    """Which date the cards describe, and why 'currently' may not be the last export."""
    if not is_export_date:
        return notice(
            f"There is no export on {fmt_date(as_of, weekday=True)}: nothing is known about "
            f"access that day. Pick a date between {fmt_date_range(latest_complete, last_export)}.",
            color="warning",
        )
    parts = []
    if chosen:
        parts.append(f"Showing {fmt_date(as_of, weekday=True)}.")
        if latest_complete:
            parts.append(f"“Currently” means {fmt_date(latest_complete)}, the latest complete date.")
    elif latest_complete:
        parts.append(f"Showing {fmt_date(as_of, weekday=True)}, the latest complete date.")
        if last_export and last_export != latest_complete:
            parts.append(
                f"The last export is {fmt_date(last_export)}, but the exports after "
                f"{fmt_date(latest_complete)} are incomplete (a feature export covering fewer "
                "than 95% of the previous day's customers, or no user export), so their "
                "numbers would understate access."
            )
    else:
        parts.append(
            f"Showing {fmt_date(as_of, weekday=True)}, the last export: no export date is "
            "complete (95% of customers and a user export), so these numbers may understate access."
        )
    return notice(" ".join(parts), color="light" if chosen or not last_export or
                  last_export == latest_complete else "info")


def fmt_date_range(first, last) -> str:
    return f"the exports up to {fmt_date(last)}" if first is None else f"{fmt_date(first)} and {fmt_date(last)}"


def date_picker_limits(export_dates: pd.Series) -> dict:
    """min/max dates and the non-export days to grey out in the date picker."""
    if export_dates.empty:
        return {"min": None, "max": None, "disabled": []}
    days = pd.to_datetime(export_dates).dt.date
    first, last = days.min(), days.max()
    all_days = pd.date_range(first, last, freq="D").date
    known = set(days)
    missing = [d.isoformat() for d in all_days if d not in known]
    return {"min": first.isoformat(), "max": last.isoformat(), "disabled": missing}


def option_choices(options: pd.DataFrame) -> list[dict]:
    """Dropdown options for every enabled (feature, option), in contract order."""
    choices = []
    for feature in sorted(options["feature"].unique()):
        for option in ordered_options(options.loc[options["feature"] == feature, "selected_option"]):
            value = pick_value(feature, option)
            choices.append({"label": pick_label(value), "value": value})
    return choices


def access_cards(on_date: pd.DataFrame, options: pd.DataFrame, selected: str | None):
    """One card per enabled (feature, option) ever seen (0 when none on the date), grouped
    by feature with the feature's total."""
    counts = on_date.set_index(["feature", "selected_option"])
    groups = []
    for feature in sorted(options["feature"].unique()):
        feature_options = ordered_options(options.loc[options["feature"] == feature, "selected_option"])
        cards = []
        for option in feature_options:
            key = (feature, option)
            org_count = int(counts.loc[key, "org_count"]) if key in counts.index else 0
            users = int(counts.loc[key, "active_user_count"]) if key in counts.index else 0
            value = pick_value(feature, option)
            cards.append(kpi_card(
                f"{feature} · {option}",
                f"{fmt_int(org_count)}",
                subtitle=f"customers · {fmt_int(users)} active users",
                card_id=ids.access_card(feature, option),
                selected=value == selected,
                accent=option_colour(option),
            ))
        in_feature = on_date[on_date["feature"] == feature]
        total_orgs = int(in_feature["org_count"].sum())
        total_users = int(in_feature["active_user_count"].sum())
        groups.append(html.Div([
            html.H3([
                feature,
                html.Span(f" — {fmt_int(total_orgs)} customers, {fmt_int(total_users)} active users "
                          "with any option", className="text-muted fw-normal small"),
            ], className="h6 mt-3 mb-2"),
            html.Div(cards, className="kpi-grid"),
        ]))
    return html.Div(groups)


def _by_export_date(trend: pd.DataFrame, export_dates: pd.Series) -> pd.DataFrame:
    """Trend rows on every export date (0 where no customer had the option that day)."""
    dates = pd.to_datetime(export_dates).sort_values()
    frame = trend.assign(date=pd.to_datetime(trend["date"])).set_index("date")
    return frame.reindex(dates, fill_value=0).rename_axis("date").reset_index()


def trend_figure(trend: pd.DataFrame, export_dates: pd.Series, feature: str, option: str,
                 as_of: dt.date | None) -> dict:
    """Customers (top) and active users (bottom) with `feature` = `option` over time."""
    data = _by_export_date(trend, export_dates)
    days = dates(data["date"])
    colour = option_colour(option) if option_colour(option) != "#D9D9D9" else "#0072B2"
    fig = figure([
        {"type": "scatter", "x": days, "y": data["org_count"].tolist(), "mode": "lines",
         "name": "Customers", "showlegend": False, "line": {"color": colour, "width": 2.5},
         "hovertemplate": "%{x|%-d %b %Y}: %{y:,} customers<extra></extra>", **subplot_axes(1)},
        {"type": "scatter", "x": days, "y": data["active_user_count"].tolist(), "mode": "lines",
         "name": "Active users", "showlegend": False, "line": {"color": "#E69F00", "width": 2.5},
         "hovertemplate": "%{x|%-d %b %Y}: %{y:,} active users<extra></extra>", **subplot_axes(2)},
    ], **stacked_subplots(("Customers", "Active users"), vertical_spacing=0.1, shared_xaxes=True))
    _mark_date(fig, as_of)
    themed(fig, f"{feature} · {option}: customers and active users with access", height=520)
    update_axes(fig, "y", rangemode="tozero")
    update_axes(fig, "x", tickformat="%-d %b %Y")
    return fig


def overview_figure(trends: pd.DataFrame, export_dates: pd.Series, as_of: dt.date | None) -> dict:
    """Customers with each enabled option over time (one line per feature · option)."""
    traces = []
    for (feature, option), rows in trends.groupby(["feature", "selected_option"], sort=True):
        data = _by_export_date(rows[["date", "org_count", "active_user_count"]], export_dates)
        traces.append({
            "type": "scatter", "x": dates(data["date"]), "y": data["org_count"].tolist(),
            "mode": "lines", "name": f"{feature} · {option}",
            "hovertemplate": f"{feature} · {option}<br>" + "%{x|%-d %b %Y}: %{y:,} customers<extra></extra>",
        })
    fig = figure(traces)
    _mark_date(fig, as_of)
    themed(fig, "Customers with each option over time", height=420)
    update_axes(fig, "x", tickformat="%-d %b %Y")
    return fig


def _mark_date(fig: dict, as_of: dt.date | None) -> None:
    if as_of is None:
        return
    (day,) = dates([as_of])
    fig["layout"].setdefault("shapes", []).append(
        {"type": "line", "xref": "x", "yref": "paper", "x0": day, "x1": day, "y0": 0, "y1": 1,
         "line": {"color": "#6c757d", "dash": "dot", "width": 1.5}})
    fig["layout"].setdefault("annotations", []).append(
        {"x": day, "xref": "x", "y": 1, "yref": "paper", "text": fmt_date(as_of), "showarrow": False,
         "yanchor": "bottom", "font": {"size": 12, "color": "#6c757d"}})


def customers_title(feature: str | None, option: str | None, as_of: dt.date | None, count=None):
    if not feature:
        return "Customers"
    suffix = f" ({fmt_int(count)})" if count is not None else ""
    return f"Customers with {feature} · {option} on {fmt_date(as_of)}{suffix}"


def customers_table(customers: pd.DataFrame, feature: str, option: str, as_of: dt.date):
    """The customers with the option on the date, exportable as CSV."""
    if customers.empty:
        return empty_state(f"No customer had {feature} · {option} on {fmt_date(as_of)}.")
    frame = customers.assign(region=customers["region"].fillna("Unknown"))
    return html.Div([
        data_grid(
            ids.ACCESS_CUSTOMERS_GRID,
            frame[["organisation_name", "organisation_id", "region", "active_user_count"]],
            [
                col_customer(),
                col_text("organisation_id", "Customer ID", maxWidth=150),
                col_text("region", "Region"),
                col_int("active_user_count", "Active users"),
            ],
            file_name=file_slug("access_customers", feature, option, as_of),
            row_id="organisation_id",
        ),
        html.P(
            f"Active users: the customer's users with status Active in the user export of "
            f"{fmt_date(as_of)}; they add up to the card's total.",
            className="text-muted small mt-2 mb-0",
        ),
    ])


def no_pick_message():
    return empty_state("Click a card above (or choose a feature and option) to list its customers.")

