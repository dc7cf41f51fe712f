"""The customer page, /customer/<id>: everything about one customer for a renewal meeting.

Entitlement timeline, usage against customers with the same entitlement, active
users, unpaid usage, entitlement changes, and the outlook: the customer's churn risk per
feature with its reasons and each feature's usage forecast (`outlook_section`, its own
area so a warehouse without the outlook still shows the rest). No names or e-mail addresses of users:
users appear as counts (and in the unpaid-event list as "User 1", "User 2"... or, for
viewers allowed by serving/personal_data.py, as ids). Prints to PDF cleanly
(assets/03-print.css).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from dash import dcc, html

from components import ids, outlook
from components.common import (
    GREY,
    LABEL_PAD,
    OKABE_ITO,
    UrlParams,
    chart_figure,
    col_date,
    col_datetime,
    col_text,
    control,
    data_grid,
    dates,
    empty_figure,
    empty_state,
    error_state,
    figure,
    file_slug,
    fit_rows,
    fmt_date,
    fmt_int,
    graph_config,
    label_px,
    loading,
    merge,
    option_colour,
    ordered_options,
    reason_label,
    section,
    stacked_subplots,
    subplot_axes,
    text_colour_on,
    themed,
    update_axes,
    whole_number_ticks,
)

PERIODS = {"13": "Last 13 weeks", "26": "Last 26 weeks", "52": "Last 52 weeks", "": "All data"}


def layout(organisation_id: str, params: UrlParams):
    weeks = params.get("weeks")
    period = weeks if weeks in PERIODS else ""
    return html.Div([
        dcc.Store(id=ids.CUSTOMER_ID, data=organisation_id),
        html.Div([
            control("Period", dcc.RadioItems(
                id=ids.CUSTOMER_WEEKS, value=period, inline=True,
                options=[{"label": label, "value": key} for key, label in PERIODS.items()],
                className="form-check-row", inputClassName="form-check-input",
                labelClassName="form-check-label",
            ), class_name="d-flex align-items-center flex-wrap customer-period"),
            html.Button("Print / save as PDF", id=ids.CUSTOMER_PRINT, n_clicks=0, type="button",
                        className="btn btn-outline-secondary btn-sm"),
        ], className="controls no-print justify-content-between"),
        loading(html.Div(id=ids.CUSTOMER_BODY)),
        loading(html.Div(id=ids.CUSTOMER_OUTLOOK_BODY)),
        dcc.Store(id=ids.CUSTOMER_OUTLOOK_FOR),
        # Never shown: it makes the page load dcc.Graph's code (an async chunk, loaded when
        # the first graph mounts) with the page. The charts come in the callbacks' answers:
        # without it the timeline waited for that chunk, and the sections' charts, asked
        # for once the timeline's answer is in, could be drawn before it.
        dcc.Graph(id=ids.CUSTOMER_GRAPH_CODE, style={"display": "none"},
                  config={"staticPlot": True, "responsive": False}),
    ], className="customer-page")


# ---------------------------------------------------------------- filled by callbacks
def bad_id_page(message: str):
    return html.Div([
        error_state(message, title="Customer not found"),
        html.P(["Find a customer on the ", dcc.Link("Entitlements tab", href="/?tab=entitlements"),
                " (search by name or id)."]),
    ])


def period_start(last_export: dt.date, weeks: str | None) -> dt.date | None:
    """The Monday starting the last `weeks` ISO weeks up to the last export (None: all)."""
    if not weeks:
        return None
    last_monday = last_export - dt.timedelta(days=last_export.weekday())
    return last_monday - dt.timedelta(weeks=int(weeks) - 1)


def header(organisation: pd.Series, days: pd.DataFrame, changes: pd.DataFrame,
           unpaid: pd.DataFrame, since: dt.date | None):
    """Name, id, region, data extent and the current options."""
    latest = (days.sort_values("date").groupby("feature").tail(1)
              if len(days) else days)
    badges = [
        html.Span(
            [html.Strong(f"{row.feature}: "), row.selected_option,
             html.Span(f" (on {fmt_date(row.date)})", className="small")],
            className="badge rounded-pill me-2 mb-1 text-wrap",
            style={"background": option_colour(row.selected_option),
                   "color": text_colour_on(option_colour(row.selected_option)),
                   "fontSize": ".95rem", "fontWeight": 400},
        )
        for row in latest.sort_values("feature").itertuples()
    ]
    period_text = f"since {fmt_date(since)}" if since else "in all the data"
    facts = html.Dl(id=ids.CUSTOMER_FACTS, children=[
        html.Dt("Customer id"), html.Dd(str(organisation["organisation_id"])),
        html.Dt("Region"), html.Dd(organisation["region"] if pd.notna(organisation["region"]) else "Unknown"),
        html.Dt("In the exports"), html.Dd(f"{fmt_date(organisation['first_export_date'])} to "
                                           f"{fmt_date(organisation['last_export_date'])}"),
        html.Dt("Entitlement changes"), html.Dd(f"{fmt_int(len(changes))} {period_text}"),
        html.Dt("Unpaid feature events"), html.Dd(f"{fmt_int(unpaid['events'].sum() if len(unpaid) else 0)} {period_text}"),
    ])
    return html.Section([
        html.H1(organisation["organisation_name"], className="page-title mb-2"),
        html.Div([html.Span("Latest known options: ", className="fw-semibold me-1"), *badges]
                 if badges else "No feature is known for this customer.", className="mb-3"),
        facts,
    ], className="page-section customer-header")


def _runs(days: pd.DataFrame) -> pd.DataFrame:
    """Consecutive known days with the same option, per feature (a gap ends a run)."""
    if days.empty:
        return pd.DataFrame(columns=["feature", "selected_option", "start", "end"])
    frame = (days.assign(date=pd.to_datetime(days["date"])).sort_values(["feature", "date"])
             .reset_index(drop=True))
    new_run = (
        (frame["feature"] != frame["feature"].shift())
        | (frame["selected_option"] != frame["selected_option"].shift())
        | (frame["date"] - frame["date"].shift() != pd.Timedelta(days=1))
    ).to_numpy()
    # Rows are in date order within a feature: a run starts at its first row and ends
    # on the row before the next run starts (plain arrays: a pandas groupby cost more).
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:] - 1, len(frame) - 1)
    return pd.DataFrame({"feature": frame["feature"].to_numpy()[starts],
                         "selected_option": frame["selected_option"].to_numpy()[starts],
                         "start": frame["date"].to_numpy()[starts],
                         "end": frame["date"].to_numpy()[ends]})


def timeline_figure(days: pd.DataFrame, name: str) -> dict:
    """One row per feature; bars coloured by option over the known days (gaps = unknown)."""
    runs = _runs(days)
    if runs.empty:
        return empty_figure("No entitlement is known in this period.")
    features = sorted(runs["feature"].unique(), reverse=True)
    traces = []
    for option in ordered_options(runs["selected_option"]):
        rows = runs[runs["selected_option"] == option]
        lengths = (rows["end"] - rows["start"]).dt.days + 1
        traces.append({
            "type": "bar", "y": rows["feature"].tolist(), "x": (lengths * 86_400_000).tolist(),
            "base": dates(rows["start"]), "orientation": "h", "name": option,
            "marker": {"color": option_colour(option), "line": {"color": "#6c757d", "width": 0.5}},
            "customdata": [list(run) for run in zip(rows["start"].dt.strftime("%-d %b %Y"),
                                                    rows["end"].dt.strftime("%-d %b %Y"),
                                                    lengths.tolist())],
            "hovertemplate": f"{option}<br>" + "%{customdata[0]} – %{customdata[1]} "
                             "(%{customdata[2]} days)<extra>%{y}</extra>",
        })
    fig = fit_rows(themed(figure(traces), f"Entitlements over time<br><sup>{name}</sup>"),
                   rows=len(features), per_row=55)
    # Room for the feature names up front (see label_px): plotly would widen the margin
    # and draw the chart again.
    merge(fig["layout"], {"barmode": "overlay", "bargap": 0.35, "legend": {"title": {"text": "Option"}},
                          "margin": {"l": label_px(features) + LABEL_PAD}})
    update_axes(fig, "x", type="date", tickformat="%-d %b %Y")
    update_axes(fig, "y", categoryorder="array", categoryarray=features, tickformat=None, rangemode=None)
    return fig


def usage_figure(usage: pd.DataFrame, name: str) -> dict:
    """Weekly events per feature (solid) against the median of customers with the same
    feature and option that week (dashed)."""
    if usage.empty:
        return empty_figure("No feature was enabled or used in this period.")
    features = sorted(usage["feature"].unique())
    fig = figure(**stacked_subplots(features, vertical_spacing=0.08, shared_xaxes=True))
    for row, feature in enumerate(features, start=1):
        data = usage[usage["feature"] == feature].sort_values("week_start")
        option = data["option"].fillna("unknown").tolist()
        weeks = dates(data["week_start"])
        fig["data"].append({
            "type": "scatter", "x": weeks, "y": data["events"].tolist(), "mode": "lines+markers",
            "name": name, "legendgroup": "customer", "showlegend": row == 1,
            "line": {"color": OKABE_ITO[0], "width": 2.5}, "marker": {"size": 5}, "customdata": option,
            "hovertemplate": "Week of %{x|%-d %b %Y}: %{y:,} events (option %{customdata})<extra></extra>",
            **subplot_axes(row),
        })
        fig["data"].append({
            "type": "scatter", "x": weeks, "y": data["peer_median_events"].tolist(), "mode": "lines",
            "name": "Median of customers with the same option", "legendgroup": "peers",
            "showlegend": row == 1, "line": {"color": OKABE_ITO[1], "width": 2, "dash": "dash"},
            "customdata": [list(pair) for pair in zip(option, data["peer_count"].fillna(0).astype(int).tolist())],
            "hovertemplate": "Week of %{x|%-d %b %Y}: median %{y:,.1f} events of "
                             "%{customdata[1]} customers with %{customdata[0]}<extra></extra>",
            **subplot_axes(row),
        })
    themed(fig, f"Weekly feature events against similar customers<br><sup>{name}</sup>",
           height=170 + 210 * len(features))
    update_axes(fig, "x", tickformat="%-d %b %Y")
    update_axes(fig, "y", rangemode="tozero")
    return fig


def users_figure(usage: pd.DataFrame, name: str) -> dict:
    """Active users of the customer per week, and users who sent each feature's events."""
    if usage.empty:
        return empty_figure("No feature was enabled or used in this period.")
    active = usage.groupby("week_start", as_index=False)["users_with_access"].max()
    traces = [{
        "type": "scatter", "x": dates(active["week_start"]), "y": active["users_with_access"].tolist(),
        "mode": "lines", "name": "Active users", "line": {"color": GREY, "width": 3},
        "hovertemplate": "Week of %{x|%-d %b %Y}: %{y:,} active users<extra></extra>",
    }]
    for index, feature in enumerate(sorted(usage["feature"].unique())):
        data = usage[usage["feature"] == feature].sort_values("week_start")
        traces.append({
            "type": "scatter", "x": dates(data["week_start"]), "y": data["active_users"].tolist(),
            "mode": "lines", "name": f"Users sending {feature} events",
            "line": {"color": OKABE_ITO[index % 6], "width": 2},
            "hovertemplate": "Week of %{x|%-d %b %Y}: %{y:,} users<extra>" + feature + "</extra>",
        })
    fig = themed(figure(traces), f"Users per week<br><sup>{name}</sup>", height=380)
    update_axes(fig, "x", tickformat="%-d %b %Y")
    return fig


def unpaid_figure(by_reason: pd.DataFrame, reasons: pd.DataFrame, name: str) -> dict:
    """Unpaid feature events by reason (stacked by feature)."""
    if by_reason.empty:
        return empty_figure("No unpaid feature use in this period.")
    order = (by_reason.groupby("reason")["events"].sum().sort_values().index.tolist())
    labels = [reason_label(reasons, r) for r in order]
    traces = []
    for index, feature in enumerate(sorted(by_reason["feature"].unique())):
        data = by_reason[by_reason["feature"] == feature].set_index("reason").reindex(order)
        traces.append({
            "type": "bar", "y": labels, "x": data["events"].fillna(0).tolist(), "orientation": "h",
            "name": feature, "marker": {"color": OKABE_ITO[(index + 2) % 6]},
            "hovertemplate": "%{y}: %{x:,} events<extra>" + feature + "</extra>",
        })
    fig = fit_rows(themed(figure(traces), f"Unpaid feature events by reason<br><sup>{name}</sup>"),
                   rows=len(order), per_row=45)
    fig["layout"]["barmode"] = "stack"
    merge(fig["layout"], {"margin": {"l": label_px(labels) + LABEL_PAD}})  # as the timeline's
    whole_number_ticks(fig, by_reason.groupby("reason")["events"].sum().max())
    update_axes(fig, "y", tickformat=None, rangemode=None)
    return fig


def _chart(graph_id: str, chart: dict, filename: str) -> html.Figure:
    """The chart in a <figure> named by its title and described by the page's header facts."""
    title = (chart["layout"].get("title", {}).get("text") or "Chart").replace("<br>", " ")
    return chart_figure(
        dcc.Graph(id=graph_id, figure=chart, config=graph_config(filename), className="chart"),
        caption=title, described_by=(ids.CUSTOMER_FACTS,))


def page_top(organisation: pd.Series, since: dt.date | None, weeks: str | None,
             days: pd.DataFrame, by_reason: pd.DataFrame, changes: pd.DataFrame):
    """The top of the customer page for the period starting `since` (None: all data): the
    header and the entitlement timeline, then the area the other sections are drawn into
    (`sections`, by their own callback once this is shown: see callbacks/customer.py),
    with the store that asks for them."""
    name = str(organisation["organisation_name"])
    return html.Div([
        header(organisation, days, changes, by_reason, since),
        section(
            "Entitlement timeline",
            _chart(ids.CUSTOMER_TIMELINE, timeline_figure(days, name),
                   _slug(organisation["organisation_id"], weeks, "entitlements")),
            subtitle="Each bar is a run of known days with one option; a gap is a day without an "
                     "export for this customer (nothing is guessed).",
        ),
        dcc.Store(id=ids.CUSTOMER_SHOWN,
                  data={"customer": str(organisation["organisation_id"]), "weeks": weeks}),
        loading(html.Div(id=ids.CUSTOMER_SECTIONS)),
    ])


def _slug(organisation_id, weeks: str | None, what: str) -> str:
    return file_slug("customer", organisation_id, what, weeks and f"{weeks}w")


def sections(organisation: pd.Series, weeks: str | None, usage: pd.DataFrame,
             by_reason: pd.DataFrame, recent: pd.DataFrame, changes: pd.DataFrame,
             reasons: pd.DataFrame):
    """The customer page's sections below the timeline, for the period `weeks`; `reasons`
    words the unpaid reasons (queries.unpaid.reason_definitions())."""
    name = str(organisation["organisation_name"])
    period = PERIODS.get(weeks or "", "All data").lower()
    slug = lambda what: _slug(organisation["organisation_id"], weeks, what)
    recent_rows = recent.assign(reason=[reason_label(reasons, r) for r in recent["reason"]])
    return html.Div([
        section(
            "Usage against customers with the same entitlement",
            _chart(ids.CUSTOMER_USAGE, usage_figure(usage, name), slug("usage")),
            subtitle="Feature events per ISO week (unpaid ones included). The dashed line is the "
                     "median of all customers with the same feature and option that week (on "
                     "their last known day of the week), this customer included.",
            class_name="print-break",
        ),
        section(
            "Users",
            _chart(ids.CUSTOMER_USERS, users_figure(usage, name), slug("users")),
            subtitle="Active users: users with status Active in the customer's user export on its "
                     "last known day of the week (shown for weeks with an enabled feature). No "
                     "names or e-mail addresses are shown.",
        ),
        section(
            "Unpaid usage",
            _chart(ids.CUSTOMER_UNPAID, unpaid_figure(by_reason, reasons, name), slug("unpaid_by_reason")),
            html.H3("Latest unpaid events", className="h6 mt-3"),
            data_grid(
                ids.CUSTOMER_UNPAID_GRID, recent_rows[[
                    "event_timestamp", "event_name", "feature", "required_options", "org_option",
                    "reason", "user_id"]],
                [col_datetime("event_timestamp", "Time", minWidth=170), col_text("event_name", "Event"),
                 col_text("feature", "Feature"), col_text("required_options", "Needs"),
                 col_text("org_option", "Customer's option"), col_text("reason", "Reason", minWidth=280),
                 col_text("user_id", "User id")],
                file_name=slug("unpaid_events"), page_size=20,
            ) if len(recent) else empty_state(f"No unpaid feature use ({period})."),
            subtitle=f"Feature events the customer's entitlement did not allow ({period}), by the "
                     "first reason that applies. At most the latest 200 events are listed.",
            class_name="print-break",
        ),
        section(
            "Entitlement changes",
            data_grid(
                ids.CUSTOMER_CHANGES_GRID,
                changes.assign(cancellation_status=changes["cancellation_status"].fillna("")),
                [col_date("change_date", "Date"), col_text("feature", "Feature"),
                 col_text("change_type", "Change"), col_text("from_option", "From"),
                 col_text("to_option", "To"), col_text("cancellation_status", "Cancellation")],
                file_name=slug("changes"),
            ) if len(changes) else empty_state(f"No entitlement change ({period})."),
            subtitle="Comparing consecutive known days. A cancellation is confirmed when the "
                     "feature stays off for the 28 days after it, reversed when it comes back "
                     "within them, provisional while the data does not reach 28 days past it.",
        ),
    ])


# ---------------------------------------------------------------- outlook
def risk_table(risk: pd.DataFrame) -> html.Table:
    """The customer's risk per enabled feature, highest first, with its reasons."""
    header = html.Thead(html.Tr([html.Th(h, scope="col") for h in (
        "Feature", "Band", "Risk score (0-100)", "Reasons", "Utilisation, last 4 weeks",
        "Events, last 4 weeks vs 2 months before", "Last use")]))
    rows = [html.Tr([
        html.Th(r.feature, scope="row"),
        html.Td(outlook.band_badge(r.risk_band)),
        html.Td(fmt_int(r.risk_score)),
        html.Td(r.reasons or "Nothing added points"),
        html.Td(outlook.percent(r.utilisation)),
        html.Td(outlook.trend_words(r.usage_trend)),
        html.Td(outlook.last_use_words(r.weeks_since_last_event)),
    ]) for r in risk.itertuples()]
    return html.Table([header, html.Tbody(rows)], className="table table-sm align-middle outlook-risk")


def outlook_section(organisation_id, name: str, risk: pd.DataFrame, forecast: pd.DataFrame,
                    actuals: pd.DataFrame, accuracy: pd.DataFrame) -> html.Section:
    """Churn risk per feature with its reasons, and each feature's forecast band beside
    its usage (this customer's own series)."""
    as_of = fmt_date(risk["as_of_date"].max()) if len(risk) else None
    features = sorted(set(forecast["feature"]) | set(risk["feature"]))
    if len(forecast):
        chart = chart_figure(
            dcc.Graph(id=ids.CUSTOMER_OUTLOOK_FORECAST,
                      figure=outlook.forecast_figure(
                          actuals, forecast, accuracy, features,
                          f"Weekly events: actual and the next 12 weeks<br><sup>{name}</sup>",
                          height_per_feature=240),
                      config=graph_config(file_slug("customer", organisation_id, "forecast")),
                      className="chart"),
            caption="This customer's weekly feature events and the 12 forecast weeks with "
                    "their 80% and 95% bands",
            described_by=(ids.CUSTOMER_OUTLOOK_SUMMARY,))
        sentences = html.Div(outlook.forecast_sentences(actuals, forecast, accuracy, features),
                             id=ids.CUSTOMER_OUTLOOK_SUMMARY)
    else:
        chart = empty_state("No forecast for this customer: it has no feature usage series.")
        sentences = None
    return section(
        "Outlook",
        html.H3(f"Risk of cancelling, as of {as_of}" if as_of else "Risk of cancelling",
                className="h6"),
        risk_table(risk) if len(risk) else empty_state(
            "No risk score: no feature of this customer was enabled on the latest complete day."),
        html.H3("Usage to expect", className="h6 mt-3"),
        chart,
        sentences,
        subtitle="Which features this customer may cancel and why (higher score = likelier), "
                 "and the weekly events to expect, from the warehouse's models. The risk uses "
                 "only data up to the latest complete day; the forecast learned from complete "
                 "weeks only. See the Outlook tab for how far to trust each.",
        class_name="print-break",
    )
