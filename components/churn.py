"""Tab 5, Churn: do we lose features: cancellations, downgrades, retention cohorts?

Entitlement changes per month (gains up, losses down; provisional and reversed
cancellations drawn apart from confirmed ones), retention cohorts as a heatmap
(cohorts that started before the data are marked, or can be hidden), the customers who
cancelled with their usage before, and the customers entitled but silent for 28 days:
the next churn risks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from dash import dcc, html
from plotly.colors import sequential

from components import ids
from components.common import (
    LABEL_PAD,
    TITLE_PX,
    UrlParams,
    col_customer,
    col_date,
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
    iso_dates,
    kpi_card,
    label_px,
    loading,
    merge,
    section,
    stacked_subplots,
    subplot_axes,
    themed,
    update_axes,
)
from components.filters import feature_control

KEY = "churn"
LABEL = "Churn"
QUESTION = "Do we lose features: cancellations, downgrades, retention cohorts?"

# (change_type, status) -> legend label, colour, pattern, sign (gains up, losses down)
SERIES: dict[tuple[str, str | None], tuple[str, str, str, int]] = {
    ("activation", None): ("Activation", "#009E73", "", 1),
    ("reactivation", None): ("Reactivation", "#56B4E9", "", 1),
    ("upgrade", None): ("Upgrade", "#0072B2", "", 1),
    ("downgrade", None): ("Downgrade", "#E69F00", "", -1),
    ("cancellation", "confirmed"): ("Cancellation, confirmed", "#D55E00", "", -1),
    ("cancellation", "provisional"): ("Cancellation, provisional", "#D55E00", "/", -1),
    ("cancellation", "reversed"): ("Cancellation, reversed", "#9A9A9A", "x", -1),
}
COHORT_VIEWS = {
    "all": "All cohorts (started before the data marked)",
    "new": "Only cohorts that started in the data",
    "censored": "Only customers on before the data",
}
DEFAULT_COHORTS = "all"
CENSORED_SUFFIX = " · on before data"
COLOURBAR_PX = 140  # right margin for the retention colour bar (plotly widens it to 130 px)
# plotly.py's Cividis, as go.Heatmap(colorscale="Cividis") sent it (plotly.js's own
# "Cividis" has other stops).
CIVIDIS = [[index / (len(sequential.Cividis) - 1), colour] for index, colour in enumerate(sequential.Cividis)]


def layout(params: UrlParams):
    """The tab's skeleton; controls from the URL, data areas filled by callbacks/churn.py."""
    cohorts = params.get("cohorts")
    cohort_choices = [{"label": label, "value": key} for key, label in COHORT_VIEWS.items()]
    if cohorts and cohorts not in COHORT_VIEWS:
        cohort_choices.append({"label": f"{cohorts} (unknown)", "value": cohorts, "disabled": True})
    controls = html.Div(
        [
            feature_control(params),
            control("Retention cohorts", dcc.Dropdown(
                id=ids.CHURN_COHORTS, value=cohorts, options=cohort_choices, clearable=False,
                searchable=False, placeholder=COHORT_VIEWS[DEFAULT_COHORTS],
                style={"minWidth": "24rem"})),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        section(
            "Changes per month",
            controls,
            loading(html.Div(id=ids.CHURN_SUMMARY)),
            loading(graph(ids.CHURN_MONTHLY, filename="churn_changes",
                          caption="Entitlement gains and losses per month",
                          described_by=(ids.CHURN_SUMMARY,))),
            subtitle="Comparing consecutive known days of a customer and feature. Gains above "
                     "the line, losses below. A cancellation is confirmed when the feature stayed "
                     "off for the 28 days after it, reversed when it came back within 28 days "
                     "(that return also counts as a reactivation), provisional when the data "
                     "ends less than 28 days after it.",
        ),
        section(
            "Retention by cohort",
            loading([
                # Written with the monthly chart; the heatmap waits for it (see
                # callbacks/churn.py). In this loading area, so that the area stays hidden
                # (and its spinner shows) while the monthly chart it waits for loads. Not
                # null in the layout: a memory store resets a null to undefined when it
                # mounts, which would ask for the heatmap once more.
                dcc.Store(id=ids.CHURN_MONTHLY_DRAWN, data=""),
                graph(ids.CHURN_RETENTION, filename="churn_retention",
                      caption="Retention by cohort: the share of each month's new customers "
                              "still with the feature k months later",
                      described_by=(ids.CHURN_SUMMARY,)),
            ]),
            subtitle="A customer's cohort is the month of its first day with the feature on. "
                     "Retained k months later: the feature is on on the customer's last known day "
                     "of that month. Customers whose first day in the data already had it on "
                     "started before the data (left-censored): their cohort month is only when "
                     "the data begins, so they are marked “on before data”.",
        ),
        section(
            "Customers who cancelled",
            loading(html.Div(id=ids.CHURN_CANCELLATIONS_BODY)),
            subtitle="Each cancellation with the customer's usage of that feature in the 4 and "
                     "12 whole weeks (Monday to Sunday) before the week it cancelled in.",
        ),
        section(
            "Entitled but dormant: the next churn risks",
            loading(html.Div(id=ids.CHURN_DORMANT_BODY)),
            subtitle="Customers with the feature on on their latest known day and no event of "
                     "it in the last 28 days of data.",
        ),
    ])


# ---------------------------------------------------------------- changes per month
def summary_cards(changes: pd.DataFrame):
    """Totals over every month: cancellations by status, downgrades, gains."""
    def total(change_type: str, status: str | None = None) -> int:
        rows = changes[changes["change_type"] == change_type]
        if status is not None:
            rows = rows[rows["status"] == status]
        return int(rows["changes"].sum())

    gains = total("activation") + total("reactivation") + total("upgrade")
    return html.Div([
        kpi_card("Confirmed cancellations", fmt_int(total("cancellation", "confirmed")),
                 subtitle="off for the 28 days after", accent="#D55E00"),
        kpi_card("Provisional cancellations", fmt_int(total("cancellation", "provisional")),
                 subtitle="less than 28 days of data after", accent="#D55E00"),
        kpi_card("Reversed cancellations", fmt_int(total("cancellation", "reversed")),
                 subtitle="back on within 28 days", accent="#9A9A9A"),
        kpi_card("Downgrades", fmt_int(total("downgrade")), accent="#E69F00"),
        kpi_card("Activations, reactivations, upgrades", fmt_int(gains), accent="#009E73"),
    ], className="kpi-grid mb-3")


def monthly_figure(changes: pd.DataFrame, features: list[str], title: str) -> dict:
    """One panel per feature: changes per month, gains up, losses down."""
    shown = [f for f in features if f in set(changes["feature"])]
    months = pd.date_range(changes["month"].min(), changes["month"].max(), freq="MS")
    month_days = dates(months)
    # One table of counts, (feature, change type, status) x month: filtering the frame
    # per panel and series was most of this chart's time.
    table = (changes.assign(status=changes["status"].fillna(""))
             .groupby(["feature", "change_type", "status", "month"])["changes"].sum()
             .unstack("month", fill_value=0).reindex(columns=months, fill_value=0))
    counts_of = dict(zip(table.index, table.to_numpy(dtype="int64")))
    none = np.zeros(len(months), dtype="int64")
    traces, in_legend = [], set()
    for row, feature in enumerate(shown, start=1):
        for (change_type, status), (label, colour, pattern, sign) in SERIES.items():
            counts = counts_of.get((feature, change_type, status or ""), none)
            if not counts.any():
                continue
            traces.append({
                "type": "bar", "x": month_days, "y": (sign * counts).tolist(), "name": label,
                "legendgroup": label, "showlegend": label not in in_legend,
                "marker": {"color": colour, "line": {"color": colour, "width": 1},
                           **({"pattern": {"shape": pattern, "fillmode": "overlay",
                                           "fgcolor": "white", "size": 7}} if pattern else {})},
                "customdata": counts.tolist(),
                "hovertemplate": f"{feature} · %{{x|%b %Y}}<br>{label}: %{{customdata:,}}<extra></extra>",
                **subplot_axes(row),
            })
            in_legend.add(label)
    fig = figure(traces, **stacked_subplots(shown, vertical_spacing=0.08, shared_xaxes=True))
    busiest_month = changes.groupby(["feature", "month"])["changes"].sum().groupby(level="feature").max()
    # Room for the longest tick label (no month's gains or losses exceed its changes; a
    # digit more for a tick rounded up past them) and the axis title: see label_px.
    widest_tick = f"-{int(busiest_month[shown].max()) * 10:,}"
    themed(fig, title, height=max(360, 250 * len(shown) + 120))
    merge(fig["layout"], {"barmode": "relative", "bargap": 0.25,
                          "margin": {"t": 110, "l": label_px([widest_tick]) + LABEL_PAD + TITLE_PX}})
    update_axes(fig, "y", title={"text": "Changes"}, tickformat=",d", rangemode="normal",
                zeroline=True, zerolinecolor="#6c757d", zerolinewidth=1.5)
    update_axes(fig, "x", tickformat="%b %Y", dtick="M1")
    for row, feature in enumerate(shown, start=1):
        if busiest_month[feature] <= 6:
            update_axes(fig, "y", row=row, dtick=1)  # whole changes, not 0.2 steps
    return fig


# ---------------------------------------------------------------- retention
def cohort_rows(cohorts: pd.DataFrame, view: str) -> pd.DataFrame:
    """The cohorts of a view ('all', 'new', 'censored') with a row label each."""
    if view == "new":
        cohorts = cohorts[~cohorts["is_left_censored"].astype(bool)]
    elif view == "censored":
        cohorts = cohorts[cohorts["is_left_censored"].astype(bool)]
    labels = [
        f"{pd.Timestamp(month):%b %Y}{CENSORED_SUFFIX if censored else ''}"
        for month, censored in zip(cohorts["cohort_month"], cohorts["is_left_censored"])
    ]
    return cohorts.assign(cohort=labels)


def retention_figure(cohorts: pd.DataFrame, features: list[str], title: str) -> dict:
    """One heatmap per feature: cohort (rows, oldest on top) x months since start,
    coloured by retention rate, the rate written in each cell."""
    shown = [f for f in features if f in set(cohorts["feature"])]
    by_feature = dict(tuple(cohorts.groupby("feature", sort=False)))
    heights = [max(2, by_feature[f]["cohort"].nunique()) for f in shown]
    fig = figure(**stacked_subplots(shown, vertical_spacing=0.12, row_heights=heights))
    for row, feature in enumerate(shown, start=1):
        data = by_feature[feature].sort_values(["cohort_month", "is_left_censored"], ascending=[True, False])
        order = list(dict.fromkeys(data["cohort"]))
        months = list(range(int(data["months_since_start"].max()) + 1))
        # One grid per measure: cohort x month, the first row of each cell, filled from
        # plain arrays (pandas pivots and per-cell access were most of this chart's time).
        cells = data.drop_duplicates(["cohort", "months_since_start"])
        at = (pd.Index(order).get_indexer(cells["cohort"]), cells["months_since_start"].to_numpy(dtype=int))
        rate, size, kept = (np.full((len(order), len(months)), np.nan) for _ in range(3))
        for grid, measure in ((rate, "retention_rate"), (size, "cohort_size"), (kept, "retained")):
            grid[at] = cells[measure].to_numpy(dtype=float)
        text = [["" if np.isnan(v) else f"{v:.0%}" for v in cells] for cells in rate]
        custom = [[["" if np.isnan(n) else f"{int(k):,} of {int(n):,}"] for k, n in zip(ks, ns)]
                  for ks, ns in zip(kept, size)]
        fig["data"].append({
            "type": "heatmap", "z": np.where(np.isnan(rate), None, rate).tolist(),
            "x": [str(m) for m in months], "y": order, "text": text,
            "texttemplate": "%{text}", "textfont": {"size": 13}, "customdata": custom,
            "zmin": 0, "zmax": 1, "colorscale": CIVIDIS, "showscale": row == 1, "xgap": 2, "ygap": 2,
            "colorbar": {"title": {"text": "Retained"}, "tickformat": ".0%", "len": 0.6,
                         "y": 1, "yanchor": "top"},
            "hovertemplate": (f"{feature}<br>Cohort %{{y}}<br>Month %{{x}} after start: %{{z:.0%}}"
                              "<br>%{customdata[0]} customers<extra></extra>"),
            "hoverongaps": False, **subplot_axes(row),
        })
        update_axes(fig, "y", row=row, autorange="reversed", type="category")
        update_axes(fig, "x", row=row, type="category",
                    title={"text": "Months since the cohort started"})
    themed(fig, title, height=max(320, sum(heights) * 34 + 150 * len(shown)))
    # Room for the cohort labels and the colour bar up front (see label_px).
    merge(fig["layout"], {"margin": {"l": label_px(cohorts["cohort"].unique()) + LABEL_PAD,
                                     "r": COLOURBAR_PX}})
    update_axes(fig, "y", tickformat="", gridcolor="rgba(0,0,0,0)")
    update_axes(fig, "x", showgrid=False)
    return fig


# ---------------------------------------------------------------- customers
STATUS_LABELS = {"confirmed": "Confirmed", "provisional": "Provisional", "reversed": "Reversed"}


def cancellations_grid(cancellations: pd.DataFrame, file_name: str):
    """Every cancellation with the usage before it, latest first."""
    first = pd.to_datetime(cancellations["first_export_date"])
    # The 12 weeks before the cancellation reach back before the data: say so (the
    # sentence built only for those rows, the comparison for all at once).
    short = (first > pd.to_datetime(cancellations["change_date"]) - pd.Timedelta(days=91)).to_numpy()
    history = np.full(len(cancellations), "", dtype=object)
    history[short] = [f"data starts {fmt_date(day)}" for day in first[short]]
    frame = cancellations.assign(
        region=cancellations["region"].fillna("Unknown"),
        status=cancellations["status"].map(STATUS_LABELS).fillna(cancellations["status"]),
        history=history,
        row_key=cancellations["organisation_id"].astype(str) + "|" + cancellations["feature"]
        + "|" + iso_dates(cancellations["change_date"]),
    )
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    columns = [
        col_customer(**wrap),
        col_text("region", "Region", **wrap),
        col_text("feature", "Feature", **wrap),
        col_date("change_date", "Cancelled on", minWidth=130, **wrap),
        col_text("from_option", "Had", **wrap),
        col_text("status", "Status", **wrap),
        col_int("events_4_weeks", "Events, 4 weeks before", **wrap),
        col_int("events_12_weeks", "Events, 12 weeks before", **wrap),
        col_int("peak_active_users_4_weeks", "Most active users in a week (4 weeks before)", **wrap),
        col_text("history", "Shorter history", minWidth=190, **wrap),
    ]
    fields = [c["field"] for c in columns] + ["organisation_id", "row_key"]
    return data_grid(ids.CHURN_CANCELLATIONS_GRID, frame[fields], columns, file_name=file_name,
                     row_id="row_key", height=460)


def dormant_grid(dormant: pd.DataFrame, data_end: dt.date, file_name: str):
    """Entitled customers without an event in the last 28 days, longest silent first."""
    last = pd.to_datetime(dormant["last_event_date"])
    frame = dormant.assign(
        region=dormant["region"].fillna("Unknown"),
        last_event_date=last,
        days_silent=[None if pd.isna(d) else (data_end - d.date()).days for d in last],
        never=last.isna().map({True: "never used in the data", False: ""}),
        row_key=dormant["organisation_id"].astype(str) + "|" + dormant["feature"],
    )
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    columns = [
        col_customer(**wrap),
        col_text("region", "Region", **wrap),
        col_text("feature", "Feature", **wrap),
        col_text("selected_option", "Option", **wrap),
        col_date("latest_known_day", "Latest known day", **wrap),
        col_date("last_event_date", "Last used", **wrap),
        col_int("days_silent", f"Days without use (to {fmt_date(data_end)})", **wrap),
        col_text("never", "Note", minWidth=200, **wrap),
    ]
    fields = [c["field"] for c in columns] + ["organisation_id", "row_key"]
    return data_grid(ids.CHURN_DORMANT_GRID, frame[fields], columns, file_name=file_name,
                     row_id="row_key", height=420)


def dormant_block(dormant: pd.DataFrame, data_end: dt.date, feature: str | None, file_name: str):
    """The dormant customers' grid with a sentence, or why there are none."""
    window_start = data_end - dt.timedelta(days=27)
    if dormant.empty:
        what = feature or "a feature"
        return empty_state(f"Every customer with {what} on used it between {fmt_date(window_start)} "
                           f"and {fmt_date(data_end)} (the last 28 days of data): nobody is dormant.")
    never = int(pd.to_datetime(dormant["last_event_date"]).isna().sum())
    return html.Div([
        html.P(f"{fmt_int(len(dormant))} customer-feature pairs had no event from "
               f"{fmt_date(window_start)} to {fmt_date(data_end)} (the last 28 days of data) "
               f"although the feature is on; {fmt_int(never)} never used it at all in the data.",
               className="mb-2"),
        dormant_grid(dormant, data_end, file_name),
    ])


def file_name(kind: str, feature: str | None, *extra) -> str:
    """'churn_cancellations_SMS'."""
    return file_slug(kind, feature or "all-features", *extra)
