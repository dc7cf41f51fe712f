"""Tab 4, Unpaid usage: a customer used a feature they don't pay for; how often, and why?

How often: unpaid events and customers per week, and their share of all feature
events. Why: the same events stacked by reason, each reason explained in plain words.
Who: customers ranked by unpaid events; clicking one lists its events (the user as
"User 1", "User 2"... unless the viewer may see user ids, see serving/personal_data.py;
never a name or an email), exportable as CSV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from dash import dcc, html

from components import ids
from components.common import (
    UrlParams,
    col_int,
    col_text,
    control,
    data_grid,
    dates,
    empty_state,
    figure,
    file_slug,
    fmt_int,
    graph,
    iso_week_label,
    kpi_card,
    loading,
    merge,
    reason_label,
    section,
    stacked_subplots,
    subplot_axes,
    themed,
    update_axes,
)
from components.filters import feature_control, period_controls, period_note

KEY = "unpaid"
LABEL = "Unpaid usage"
QUESTION = "A customer used a feature they don't pay for: how often, and why?"

# The reasons' words, order and colours come from the warehouse (the unpaid_reasons view,
# read by queries.unpaid.reason_definitions()); `reasons` below is that frame.
OTHER_REASON_COLOUR = "#0072B2"  # a reason missing from the definitions (never expected)
UNKNOWN_OPTION = "Unknown (no export that day)"


def reason_options(reasons: pd.DataFrame | None, chosen: str | None) -> list[dict]:
    """Every reason of `reasons` in the warehouse's order (none while they are unknown);
    an unknown chosen value is kept so the page can say it is unknown."""
    known = [] if reasons is None else reasons["reason"].tolist()
    choices = [{"label": reason_label(reasons, r), "value": r} for r in known]
    if chosen and chosen not in known:
        choices.append({"label": f"{chosen} (unknown)" if known else chosen, "value": chosen,
                        "disabled": bool(known)})
    return choices


def layout(params: UrlParams):
    """The tab's skeleton; controls from the URL, data areas filled by callbacks/unpaid.py."""
    reason = params.get("reason")
    controls = html.Div(
        [
            *period_controls(KEY, params),
            feature_control(params),
            control("Reason", dcc.Dropdown(
                id=ids.UNPAID_REASON, value=reason, clearable=True, searchable=False,
                options=reason_options(None, reason), placeholder="Every reason",
                style={"minWidth": "17rem"})),
            dcc.Store(id=ids.UNPAID_CUSTOMER, data=params.get("customer")),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        section(
            "How often",
            controls,
            period_note(KEY),
            loading(html.Div(id=ids.UNPAID_SUMMARY)),
            loading(graph(ids.UNPAID_WEEKLY, filename="unpaid_weekly",
                          caption="Unpaid feature events per week",
                          described_by=(ids.UNPAID_SUMMARY,))),
            subtitle="An event is unpaid when the customer's plan on the event's day did not "
                     "include an option that allows it (METRICS.md: usage rules).",
        ),
        section(
            "Why",
            loading(graph(ids.UNPAID_BY_REASON, filename="unpaid_by_reason",
                          caption="Unpaid feature events by reason",
                          described_by=(ids.UNPAID_SUMMARY,))),
            html.Div(id=ids.UNPAID_REASON_NOTES),
            subtitle="Each unpaid event gets the first reason that applies, in the order below.",
        ),
        section(
            "Which customers",
            loading(html.Div(id=ids.UNPAID_CUSTOMERS_BODY)),
            subtitle="Customers ranked by unpaid events. Click a customer to list its events.",
        ),
        section(
            html.Span([
                html.Span(id=ids.UNPAID_EVENTS_TITLE, children="Events of a customer"),
                html.Button("Close", id=ids.UNPAID_EVENTS_CLOSE, n_clicks=0, type="button",
                            className=close_class(False)),
            ]),
            loading(html.Div(id=ids.UNPAID_EVENTS_BODY)),
        ),
    ])


# ---------------------------------------------------------------- how often
def overview_cards(weekly: pd.DataFrame, customers: int | None = None):
    """Totals of the period: unpaid events, their share of all feature events, peak week."""
    unpaid = int(weekly["unpaid_events"].sum())
    feature_events = int(weekly["feature_events"].sum())
    share = unpaid / feature_events if feature_events else None
    cards = [
        kpi_card("Unpaid events", fmt_int(unpaid),
                 subtitle=f"{share:.1%} of {fmt_int(feature_events)} feature events"
                 if share is not None else "no feature events in the period"),
    ]
    if unpaid:
        peak = weekly.loc[weekly["unpaid_events"].idxmax()]
        cards.append(kpi_card("Busiest week", iso_week_label(peak["week_start"]),
                              subtitle=f"{fmt_int(peak['unpaid_events'])} unpaid events, "
                                       f"{fmt_int(peak['unpaid_customers'])} customers"))
        cards.append(kpi_card("Customers per week", f"{weekly['unpaid_customers'].mean():,.1f}",
                              subtitle="on average with at least one unpaid event"))
    return html.Div(cards, className="kpi-grid mb-3")


def weekly_figure(weekly: pd.DataFrame, title: str) -> dict:
    """Three rows over the weeks: unpaid events, their share of feature events, customers."""
    weeks = [iso_week_label(w) for w in weekly["week_start"]]
    days = dates(weekly["week_start"])
    fig = figure([
        {"type": "bar", "x": days, "y": weekly["unpaid_events"].tolist(), "name": "Unpaid events",
         "marker": {"color": "#D55E00"}, "customdata": weeks,
         "hovertemplate": "%{customdata}: %{y:,} unpaid events<extra></extra>", **subplot_axes(1)},
        {"type": "scatter", "x": days, "y": weekly["unpaid_share"].tolist(), "mode": "lines+markers",
         "name": "Share", "line": {"color": "#0072B2", "width": 2.5}, "customdata": weeks,
         "hovertemplate": "%{customdata}: %{y:.1%} of feature events<extra></extra>", **subplot_axes(2)},
        {"type": "bar", "x": days, "y": weekly["unpaid_customers"].tolist(), "name": "Customers",
         "marker": {"color": "#009E73"}, "customdata": weeks,
         "hovertemplate": "%{customdata}: %{y:,} customers<extra></extra>", **subplot_axes(3)},
    ], **stacked_subplots(("Unpaid events", "Share of all feature events",
                           "Customers with unpaid events"), vertical_spacing=0.11, shared_xaxes=True))
    themed(fig, title, height=620)
    merge(fig["layout"], {"showlegend": False, "bargap": 0.2, "margin": {"t": 90}})
    update_axes(fig, "y", tickformat=",d", rangemode="tozero")
    top_share = weekly["unpaid_share"].max()
    update_axes(fig, "y", row=2, tickformat=".1%" if pd.notna(top_share) and top_share < 0.05 else ".0%")
    update_axes(fig, "x", tickformat="%-d %b %Y")
    update_axes(fig, "x", row=3, title={"text": "Week starting (Monday)"})
    for subplot_title in fig["layout"]["annotations"]:
        merge(subplot_title, {"font": {"size": 14}, "yshift": 4})
    return fig


# ---------------------------------------------------------------- why
def reasons_figure(by_reason: pd.DataFrame, reasons: pd.DataFrame, title: str) -> dict:
    """Unpaid events per week stacked by reason, the last in the warehouse's order (for
    unexplained) at the bottom."""
    present = list(by_reason["reason"].unique())
    stack_order = reasons["reason"].tolist()[::-1]
    order = [r for r in stack_order if r in present] + sorted(set(present) - set(stack_order))
    colours = dict(zip(reasons["reason"], reasons["colour"]))
    traces = []
    for reason in order:
        rows = by_reason[by_reason["reason"] == reason]
        label = reason_label(reasons, reason)
        traces.append({
            "type": "bar", "x": dates(rows["week_start"]), "y": rows["events"].tolist(), "name": label,
            "marker": {"color": colours.get(reason, OTHER_REASON_COLOUR)},
            "customdata": [iso_week_label(w) for w in rows["week_start"]],
            "hovertemplate": f"{label}<br>" + "%{customdata}: %{y:,} events<extra></extra>",
        })
    fig = figure(traces)
    themed(fig, title, height=440)
    merge(fig["layout"], {"barmode": "stack", "bargap": 0.2, "legend": {"traceorder": "normal"},
                          "margin": {"t": 100}})
    update_axes(fig, "x", tickformat="%-d %b %Y", title={"text": "Week starting (Monday)"})
    update_axes(fig, "y", title={"text": "Unpaid events"})
    return fig


def reason_notes(reasons: pd.DataFrame, totals: pd.Series | None):
    """Each reason of `reasons` in plain words, with its events in the period when known."""
    rows = []
    total = float(totals.sum()) if totals is not None and len(totals) else 0.0
    for reason, label, words, colour in reasons[["reason", "label", "explanation", "colour"]].itertuples(
            index=False):
        count = None if totals is None else int(totals.get(reason, 0))
        figure = ""
        if count is not None:
            figure = f"{fmt_int(count)} events" + (f" ({count / total:.0%})" if total else "")
        rows.append(html.Tr([
            html.Td(html.Span(className="legend-swatch",
                              style={"background": colour})),
            html.Td([html.Strong(label), html.Br(), html.Code(reason, className="small")]),
            html.Td(words),
            html.Td(figure, className="text-end text-nowrap"),
        ]))
    return html.Table(
        [html.Thead(html.Tr([html.Th(""), html.Th("Reason"), html.Th("What it means"),
                             html.Th("In this view", className="text-end")])),
         html.Tbody(rows)],
        className="table table-sm align-middle mt-3 mb-0 reason-table",
    )


# ---------------------------------------------------------------- who
def main_reasons(customers: pd.DataFrame, reasons: pd.DataFrame) -> list[str]:
    """Per row of `customers`, the label of the reason with most events (the earlier one
    in the warehouse's order on a tie); "" for a row without events. One count column per
    reason code (a missing column counts 0), compared for all rows at once."""
    codes = reasons["reason"].tolist()
    if not codes or customers.empty:
        return [""] * len(customers)
    counts = np.column_stack([
        customers[code].fillna(0).to_numpy(dtype=float) if code in customers
        else np.zeros(len(customers)) for code in codes
    ])
    first_most = counts.argmax(axis=1)  # argmax keeps the first of equal counts
    labels = [reason_label(reasons, code) for code in codes]
    return [labels[i] if counts[row, i] else "" for row, i in enumerate(first_most)]


def customers_grid(customers: pd.DataFrame, reasons: pd.DataFrame, file_name: str,
                   selected: int | None):
    """Customers ranked by unpaid events (one count column per reason of `reasons`); a
    click on a row lists its events."""
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    frame = customers.assign(
        rank=range(1, len(customers) + 1),
        region=customers["region"].fillna("Unknown"),
        main_reason=main_reasons(customers, reasons),
    )
    columns = [
        col_int("rank", "Rank", maxWidth=100, minWidth=95, **wrap),
        col_text("organisation_name", "Customer", minWidth=220,
                 cellStyle={"cursor": "pointer", "color": "#0072B2", "fontWeight": 600}, **wrap),
        col_text("region", "Region", **wrap),
        col_int("unpaid_events", "Unpaid events", **wrap),
        {"field": "unpaid_share", "headerName": "Share of its feature events", "type": "rightAligned",
         "filter": "agNumberColumnFilter",
         "valueFormatter": {"function": "params.value == null ? '' : d3.format('.1%')(params.value)"},
         **wrap},
        col_int("users", "Users", **wrap),
        col_int("days", "Days", **wrap),
        {**col_text("last_date", "Last unpaid event", **wrap),
         "valueFormatter": {"function": "params.value ? d3.timeFormat('%-d %b %Y')(d3.timeParse('%Y-%m-%d')(params.value)) : ''"}},
        col_text("main_reason", "Main reason", minWidth=170, **wrap),
        *[col_int(r, label, minWidth=140, **wrap)
          for r, label in zip(reasons["reason"], reasons["label"])],
    ]
    fields = [c["field"] for c in columns] + ["organisation_id"]
    note = html.P(
        f"{fmt_int(len(frame))} customers had unpaid events in this view. "
        + ("The highlighted customer's events are listed below." if selected else
           "Click a customer to list its events below."),
        className="text-muted small mb-1",
    )
    highlight = None if selected is None else {"styleConditions": [{
        "condition": f"params.data.organisation_id == {int(selected)}",
        "style": {"backgroundColor": "#FFF3CD", "fontWeight": 600},
    }]}
    block = data_grid(ids.UNPAID_CUSTOMERS_GRID, frame[fields], columns, file_name=file_name,
                      row_id="organisation_id", height=460, row_style=highlight)
    return html.Div([note, block])


# ---------------------------------------------------------------- drill-down
def events_title(name: str | None, count: int | None = None, more: bool = False):
    if not name:
        return "Events of a customer"
    if count is None:
        return f"Unpaid events of {name}"
    return f"Unpaid events of {name} ({'latest ' if more else ''}{fmt_int(count)})"


def events_grid(events: pd.DataFrame, reasons: pd.DataFrame, organisation_id: int, name: str,
                file_name: str, more: bool, limit: int):
    """The customer's unpaid events, newest first (user id only), exportable as CSV."""
    frame = events.assign(
        reason=[reason_label(reasons, r) for r in events["reason"]],
        org_option=events["org_option"].fillna(UNKNOWN_OPTION),
    )
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    columns = [
        {**col_text("event_timestamp", "Time", minWidth=190, **wrap),
         "valueFormatter": {"function": "params.value ? d3.timeFormat('%-d %b %Y %H:%M:%S')(d3.timeParse('%Y-%m-%d %H:%M:%S')(params.value)) : ''"}},
        col_text("user_id", "User ID", maxWidth=140, **wrap),
        col_text("event_name", "Event", minWidth=190, **wrap),
        col_text("feature", "Feature", **wrap),
        col_text("required_options", "Needs option", minWidth=150, **wrap),
        col_text("org_option", "Customer's option that day", minWidth=230, **wrap),
        col_text("reason", "Reason", minWidth=200, **wrap),
        col_text("message_id", "Message ID", minWidth=160, **wrap),
    ]
    header = html.P(dcc.Link(f"Open {name}'s customer page", href=f"/customer/{organisation_id}"),
                    className="mb-2")
    parts = [header]
    if more:
        parts.append(empty_state(f"Showing the latest {fmt_int(limit)} events only (there are "
                                 "more): narrow the period, feature or reason to see the rest."))
    parts.append(data_grid(ids.UNPAID_EVENTS_GRID, frame[[c["field"] for c in columns]], columns,
                           file_name=file_name, row_id="message_id", height=520))
    return html.Div(parts)


def close_class(visible: bool) -> str:
    """The Close button of the events section is shown only while a customer is chosen."""
    return "btn btn-outline-secondary btn-sm no-print ms-3 align-baseline" + ("" if visible else " d-none")


def file_name(kind: str, feature: str | None, reason: str | None, period_part: str, *extra) -> str:
    """'unpaid_customers_SMS_unexplained_2026-06-29_to_2026-07-26'."""
    return file_slug(kind, *extra, feature or "all-features", reason or "all-reasons", period_part)


def figure_title(what: str, feature: str | None, reason: str | None, reasons: pd.DataFrame,
                 period_label: str) -> str:
    label = reason_label(reasons, reason) if reason else None
    filters = " · ".join(x for x in (feature, label) if x)
    return f"{what}{' · ' + filters if filters else ''} · {period_label}"
