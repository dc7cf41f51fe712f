"""Tab 2, Entitlements: which features did one customer have in a given week?

A customer (searchable by name or id) and an ISO week (default: the latest); a grid
of feature x day showing the option, "unknown" on days without an export, changes
marked; the week's usage per feature beside it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import dcc, html

from components import ids
from components.common import (
    UrlParams,
    control,
    fmt_date,
    fmt_int,
    fmt_week,
    iso_week_label,
    loading,
    notice,
    section,
)

KEY = "entitlements"
LABEL = "Entitlements"
QUESTION = "Which features did a customer have in a given week?"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OPTION_RANK = {"Off": 0, "SMS Lite": 1, "SMS Plus": 2, "On": 1}
MAX_CUSTOMER_CHOICES = 50


def layout(params: UrlParams):
    customer = params.get("customer")
    week = params.get("week")
    controls = html.Div(
        [
            control("Customer", dcc.Dropdown(
                id=ids.ENTITLEMENTS_CUSTOMER, value=customer, clearable=True, searchable=True,
                options=[{"label": f"Customer {customer}", "value": customer}] if customer else [],
                placeholder="Type a name or an id", style={"minWidth": "24rem"},
            )),
            html.Div([
                html.Label("ISO week", htmlFor=ids.dom_id(ids.ENTITLEMENTS_WEEK)),
                html.Div([
                    html.Button([html.Span("‹", **{"aria-hidden": "true"}),
                                 html.Span("Previous week", className="visually-hidden")],
                                id=ids.ENTITLEMENTS_PREVIOUS_WEEK, n_clicks=0, type="button",
                                className="btn btn-outline-secondary", title="Previous week"),
                    dcc.Input(
                        id=ids.ENTITLEMENTS_WEEK, value=week, type="text", debounce=True,
                        placeholder="Latest week", list=ids.ENTITLEMENTS_WEEK_OPTIONS,
                        className="form-control", style={"maxWidth": "9.5rem"},
                        autoComplete="off", spellCheck=False,
                    ),
                    html.Button([html.Span("›", **{"aria-hidden": "true"}),
                                 html.Span("Next week", className="visually-hidden")],
                                id=ids.ENTITLEMENTS_NEXT_WEEK, n_clicks=0, type="button",
                                className="btn btn-outline-secondary", title="Next week"),
                ], className="input-group flex-nowrap"),
                html.Datalist(id=ids.ENTITLEMENTS_WEEK_OPTIONS),
            ], className="control"),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        section(
            "Entitlements and usage in one week",
            controls,
            html.Div(id=ids.ENTITLEMENTS_HINT),
            loading(html.Div(id=ids.ENTITLEMENTS_BODY)),
            subtitle="Type a week as YEAR-Wnn (e.g. 2026-W14) or step with ‹ ›. Each day shows the "
                     "option in that day's export; “unknown” means no export for this customer "
                     "that day (nothing is guessed).",
        ),
    ])


# ---------------------------------------------------------------- pieces filled by callbacks
def customer_choices(organisations: pd.DataFrame, search: str | None, selected: str | None) -> list[dict]:
    """Up to 50 customers whose name or id contains `search`, plus the selected one."""
    frame = organisations
    if search:
        needle = search.strip().lower()
        by_name = frame["organisation_name"].str.lower().str.contains(needle, regex=False, na=False)
        by_id = frame["organisation_id"].astype(str).str.contains(needle, regex=False)
        frame = frame[by_name | by_id]
    chosen = frame.head(MAX_CUSTOMER_CHOICES)
    choices = []
    if selected is not None:
        selected_rows = organisations[organisations["organisation_id"].astype(str) == str(selected)]
        chosen = pd.concat([selected_rows, chosen]).drop_duplicates("organisation_id")
        if selected_rows.empty:
            # Keep an unknown id from the URL selected, so the page can say it is unknown.
            choices.append({"label": f"{selected} (no such customer)", "value": str(selected)})
    return choices + [
        {"label": f"{row.organisation_name} ({row.organisation_id})", "value": str(row.organisation_id)}
        for row in chosen.itertuples()
    ]


def week_choices(first_day: dt.date | None, last_day: dt.date | None) -> list:
    """<option>s of every ISO week from the first to the last export, latest first."""
    if first_day is None or last_day is None:
        return []
    monday = last_day - dt.timedelta(days=last_day.weekday())
    first_monday = first_day - dt.timedelta(days=first_day.weekday())
    options = []
    while monday >= first_monday:
        options.append(html.Option(value=iso_week_label(monday), label=fmt_week(monday)))
        monday -= dt.timedelta(days=7)
    return options


def week_range_text(first_day: dt.date, last_day: dt.date) -> str:
    return (f"{iso_week_label(first_day)} ({fmt_date(first_day)}) to "
            f"{iso_week_label(last_day)} ({fmt_date(last_day)})")


def _option_class(option: str | None) -> str:
    if option is None:
        return "unknown"
    return {
        "Off": "opt-off", "On": "opt-on", "SMS Lite": "opt-sms-lite", "SMS Plus": "opt-sms-plus",
    }.get(option, "opt-other")


def _change_mark(previous: str | None, option: str) -> str:
    if previous is None or previous == option:
        return ""
    before, after = OPTION_RANK.get(previous), OPTION_RANK.get(option)
    if before is None or after is None:
        return "● "
    return "▲ " if after > before else "▼ "


def week_table(week_start: dt.date, features: list[str], days: pd.DataFrame,
               before: pd.DataFrame, summary: pd.DataFrame, usage: pd.DataFrame) -> html.Table:
    """Feature x day grid (option or 'unknown', changes outlined and marked ▲/▼) with the
    week's usage per feature in the last columns."""
    dates = [week_start + dt.timedelta(days=i) for i in range(7)]
    known = {
        (row.feature, pd.Timestamp(row.date).date()): row.selected_option
        for row in days.itertuples()
    }
    previous_known = {row.feature: row.selected_option for row in before.itertuples()}
    usage_by_feature = usage.set_index("feature") if len(usage) else pd.DataFrame()
    days_known = dict(zip(summary["feature"], summary["days_known"]))

    head = html.Thead(html.Tr(
        [html.Th("Feature", className="feature")]
        + [html.Th([name, html.Br(), html.Span(f"{day.day} {day:%b}", className="fw-normal small")])
           for name, day in zip(DAY_NAMES, dates)]
        + [html.Th(name, className="stat") for name in
           ("Days known", "Days enabled", "Events", "Users with events", "Users with access")]
    ))
    rows = []
    for feature in features:
        cells = [html.Td(feature, className="feature")]
        previous = previous_known.get(feature)
        for day in dates:
            option = known.get((feature, day))
            if option is None:
                cells.append(html.Td("unknown", className="unknown",
                                     title=f"No export for this customer on {fmt_date(day, weekday=True)}"))
                continue
            mark = _change_mark(previous, option)
            title = f"{fmt_date(day, weekday=True)}: {option}"
            if mark:
                title += f" (changed from {previous})"
            cells.append(html.Td(mark + option, title=title,
                                 className=_option_class(option) + (" changed" if mark else "")))
            previous = option
        cells.append(html.Td(f"{int(days_known.get(feature, 0))}/7", className="num"))
        if feature in usage_by_feature.index:
            stats = usage_by_feature.loc[feature]
            cells += [html.Td(fmt_int(stats["days_enabled"]), className="num"),
                      html.Td(fmt_int(stats["events"]), className="num"),
                      html.Td(fmt_int(stats["active_users"]), className="num"),
                      html.Td(fmt_int(stats["users_with_access"]), className="num")]
        else:
            cells += [html.Td("0", className="num") for _ in range(4)]
        rows.append(html.Tr(cells))
    return html.Div(html.Table([head, html.Tbody(rows)], className="week-grid"),
                    className="table-responsive")


def legend():
    swatches = [("Off", "opt-off"), ("SMS Lite", "opt-sms-lite"), ("SMS Plus", "opt-sms-plus"),
                ("On", "opt-on"), ("unknown (no export)", "unknown")]
    return html.Div(
        [html.Span([html.Span(className=f"legend-swatch {cls}"), label], className="me-3")
         for label, cls in swatches]
        + [html.Span("▲ ▼ outlined: the option changed from the previous known day", className="me-3")],
        className="small text-muted mt-2",
    )


def week_view(organisation: pd.Series, week_start: dt.date, features: list[str],
              days: pd.DataFrame, before: pd.DataFrame, summary: pd.DataFrame,
              usage: pd.DataFrame, is_latest: bool):
    """The heading, the grid with usage, the legend and the notes."""
    heading = html.Div([
        html.H3([organisation["organisation_name"],
                 html.Span(f" · id {organisation['organisation_id']}", className="text-muted fw-normal")],
                className="h5 mb-1"),
        html.Div([
            html.Span(f"Week {fmt_week(week_start)}" + (" — the latest week in the data" if is_latest else "")),
            dcc.Link("Open the customer page →", href=f"/customer/{organisation['organisation_id']}",
                     className="ms-3 no-print"),
        ]),
    ], className="mb-3")
    if not features:
        return html.Div([heading, notice("No feature of this customer is known in any export.", "secondary")])
    notes = html.Ul([
        html.Li("Days known: days of this week with an export for this customer. "
                "Days enabled: days of this week whose export shows an option other than Off."),
        html.Li("Events: feature events this week (unpaid ones included). Users with events: "
                "distinct users who sent one."),
        html.Li("Users with access: the customer's active users on its last known day of the "
                "week, when the feature was enabled that day (else 0)."),
    ], className="small text-muted mt-2 mb-0")
    return html.Div([heading, week_table(week_start, features, days, before, summary, usage), legend(), notes])
