"""Tab 3, Usage: which customers use their features least, and which most?

A leaderboard of customers over whole weeks, for one feature or every feature, by one
of four metrics, least or most first: a bar chart and a grid, both leading to the
customer's page. Only customers with an enabled day of the feature in the period (they
pay for it) are ranked; one that never used it scores 0 and so comes first among the
least. The ranking rules are spelled out on the page (`ranking_explained`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from dash import dcc, html

from components import ids
from components.common import (
    GREY,
    LABEL_PAD,
    UrlParams,
    col_customer,
    col_int,
    col_text,
    control,
    data_grid,
    figure,
    file_slug,
    fmt_int,
    graph,
    label_px,
    loading,
    merge,
    notice,
    section,
    themed,
    update_axes,
)
from components.filters import feature_control, period_controls, period_note

KEY = "usage"
LABEL = "Usage"
QUESTION = "Which customers use their features least, and which most?"


@dataclass(frozen=True)
class Metric:
    label: str          # control and axis
    column: str         # leaderboard column
    short: str          # grid header
    d3_format: str      # chart ticks and grid cells
    explanation: str


METRICS: dict[str, Metric] = {
    "events": Metric(
        "Events", "events", "Events", ",d",
        "feature events in the period (every deduplicated event: staff and unpaid ones too).",
    ),
    "events-per-user": Metric(
        "Events per active user", "events_per_active_user", "Events per active user per week",
        ",.1f",
        "events ÷ active user-weeks, i.e. events per active user per week (a user is active "
        "in a week when they sent at least one event of the feature).",
    ),
    "adoption": Metric(
        "Adoption", "adoption", "Adoption (active ÷ with access)", ".0%",
        "active user-weeks ÷ user-weeks with access. Users with access are the customer's "
        "active users on its last known day of each week, when the feature was on that day "
        "(0 otherwise). It can pass 100% when Accurx staff or users of another "
        "organisation used the feature, or it was switched off by the week's last day.",
    ),
    "events-per-day": Metric(
        "Events per entitled day", "events_per_entitled_day", "Events per entitled day", ",.2f",
        "events ÷ days on which the feature was on (known days only).",
    ),
}
DEFAULT_METRIC = "events"
ORDERS = {"least": "Least first", "most": "Most first"}
DEFAULT_ORDER = "least"
TOP_CHOICES = (10, 20, 50, 100)
DEFAULT_TOP = 20
MAX_TOP = 100
FEATURE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


def feature_colour(feature: str, features: list[str]) -> str:
    position = features.index(feature) if feature in features else len(features)
    return FEATURE_COLOURS[position % len(FEATURE_COLOURS)]


def _choices(known: dict[str, str], chosen: str | None) -> list[dict]:
    """Dropdown choices; an unknown value from a link is kept (disabled) to be explained."""
    choices = [{"label": label, "value": key} for key, label in known.items()]
    if chosen and chosen not in known:
        choices.append({"label": f"{chosen} (unknown)", "value": chosen, "disabled": True})
    return choices


def layout(params: UrlParams):
    """The tab's skeleton; controls from the URL, data areas filled by callbacks/usage.py.

    A URL-bound control holds exactly the URL's value (None when absent; its placeholder
    names the default), so opening the tab does not rewrite its URL."""
    metric, order, top = params.get("metric"), params.get("order"), params.get("top")
    dropdown = {"clearable": False, "searchable": False}
    top_labels = {str(n): f"Top {n}" for n in TOP_CHOICES}
    if top and top.isdigit() and 1 <= int(top) <= MAX_TOP:
        top_labels.setdefault(top, f"Top {top}")
    controls = html.Div(
        [
            *period_controls(KEY, params),
            feature_control(params),
            control("Measure", dcc.Dropdown(
                id=ids.USAGE_METRIC, value=metric, **dropdown,
                options=_choices({k: m.label for k, m in METRICS.items()}, metric),
                placeholder=METRICS[DEFAULT_METRIC].label, style={"minWidth": "15rem"})),
            control("Order", dcc.Dropdown(
                id=ids.USAGE_ORDER, value=order, **dropdown,
                options=_choices(ORDERS, order), placeholder=ORDERS[DEFAULT_ORDER],
                style={"minWidth": "10rem"}), style={"minWidth": "10rem"}),
            control("How many", dcc.Dropdown(
                id=ids.USAGE_TOP, value=top, **dropdown, options=_choices(top_labels, top),
                placeholder=f"Top {DEFAULT_TOP}", style={"minWidth": "8rem"}),
                style={"minWidth": "8rem"}),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        dcc.Location(id=ids.USAGE_GO, refresh="callback-nav"),
        section(
            "Leaderboard",
            controls,
            period_note(KEY),
            loading(html.Div(id=ids.USAGE_SUMMARY)),
            loading(graph(ids.USAGE_CHART, filename="usage_leaderboard",
                          caption="Leaderboard chart: the customers ranked by the measure chosen",
                          described_by=(ids.USAGE_SUMMARY,))),
            loading(html.Div(id=ids.USAGE_BODY)),
            subtitle="Customers that pay for a feature, ranked by how much they use it. "
                     "Click a bar or a customer to open their page; Back returns here.",
        ),
        section("How the ranking works", ranking_explained()),
    ])


# ---------------------------------------------------------------- ranking
@dataclass(frozen=True)
class Ranking:
    rows: pd.DataFrame           # the top rows, in rank order, with `rank` and `score`
    ranked: int                  # customer-feature pairs that could be ranked
    never_used: int              # of those, pairs with no event at all in the period
    not_entitled: int            # pairs with events but no enabled day (not ranked)
    undefined: int               # entitled pairs whose metric is undefined (not ranked)
    silent_features: tuple[str, ...] = ()  # ranked features without a single event (any customer)


def rank_leaderboard(frame: pd.DataFrame, metric: str, order: str, top: int) -> Ranking:
    """The `top` customer-feature pairs by `metric`, least or most first.

    Ranked: pairs with at least one enabled day in the period. A pair without any event
    scores 0 (it paid and used nothing). A pair whose metric is undefined (usage with a
    zero denominator) is left out and counted. Ties: least first -> fewer events, then
    more enabled days (paid longer for the same use), then name; most first -> more
    events, then name."""
    column = METRICS[metric].column
    entitled = frame[frame["is_entitled"].astype(bool)]
    not_entitled = int((~frame["is_entitled"].astype(bool)).sum())
    defined = entitled[entitled[column].notna()].assign(score=lambda f: f[column].astype(float))
    if order == "least":
        keys, ascending = ["score", "events", "days_enabled", "organisation_name", "feature"], \
            [True, True, False, True, True]
    else:
        keys, ascending = ["score", "events", "organisation_name", "feature"], [False, False, True, True]
    ordered = defined.sort_values(keys, ascending=ascending, kind="mergesort")
    rows = ordered.head(top).reset_index(drop=True)
    rows.insert(0, "rank", range(1, len(rows) + 1))
    events_by_feature = frame.groupby("feature")["events"].sum()
    return Ranking(
        rows=rows,
        ranked=len(defined),
        never_used=int((defined["events"] == 0).sum()),
        not_entitled=not_entitled,
        undefined=len(entitled) - len(defined),
        silent_features=tuple(sorted(
            f for f in defined["feature"].unique() if events_by_feature.get(f, 0) == 0)),
    )


def row_label(row, every_feature: bool) -> str:
    name = f"{row['organisation_name']}"
    return f"{name} · {row['feature']}" if every_feature else name


def summary(ranking: Ranking, metric: str, order: str, feature: str | None, period_label: str):
    """One paragraph: what is ranked, how many never used it, who is left out and why."""
    if feature:
        paid = (f"{fmt_int(ranking.ranked)} customer{'s' if ranking.ranked != 1 else ''} paid for "
                f"{feature} in {period_label} (at least one day with it on).")
    else:
        paid = (f"{fmt_int(ranking.ranked)} customer-feature pairs were paid for in {period_label} "
                "(at least one day with the feature on): a customer appears once per feature.")
    parts = [paid + f" Showing the {fmt_int(len(ranking.rows))} "
             + ("lowest" if order == "least" else "highest")
             + f" by {METRICS[metric].label.lower()}."]
    if ranking.never_used:
        parts.append(
            f"{fmt_int(ranking.never_used)} of them never used it in the period (no event at all): "
            "they score 0 and are listed first among the least, marked “never used”."
        )
    left_out = []
    if ranking.not_entitled:
        left_out.append(
            f"{fmt_int(ranking.not_entitled)} used it without a single day with it on "
            "(unpaid usage: see the Unpaid usage tab)"
        )
    if ranking.undefined:
        left_out.append(
            f"{fmt_int(ranking.undefined)} used it but had no user with access in any week, "
            "so their adoption is undefined"
        )
    if left_out:
        parts.append("Not ranked: " + "; ".join(left_out) + ".")
    if ranking.silent_features:
        names = ", ".join(ranking.silent_features)
        parts.append(
            f"Nobody sent a single {names} event in the period: if that feature has no usage rule "
            "yet (events that count as its use), every customer of it scores 0."
        )
    return notice(" ".join(parts), color="light")


def _value_text(value: float, metric: str, events: int) -> str:
    if events == 0:
        return "0 · never used"
    fmt = METRICS[metric].d3_format
    if fmt.endswith("%"):
        return f"{value:.0%}"
    if fmt.endswith(".1f"):
        return f"{value:,.1f}"
    if fmt.endswith(".2f"):
        return f"{value:,.2f}"
    return f"{int(value):,}"


def leaderboard_figure(ranking: Ranking, metric: str, order: str, feature: str | None,
                       features: list[str], period_label: str) -> dict:
    """Horizontal bars in rank order (rank 1 on top), coloured by feature. Each row also
    has a transparent full-width bar so a zero score can still be clicked."""
    rows = ranking.rows
    info = METRICS[metric]
    every_feature = feature is None
    labels = [f"{r['rank']}. {row_label(r, every_feature)}" for _, r in rows.iterrows()]
    top_score = float(rows["score"].max()) if len(rows) else 0.0
    reach = top_score * 1.3 if top_score > 0 else 1.0
    traces = [{
        "type": "bar", "x": [reach] * len(rows), "y": labels, "orientation": "h",
        "customdata": rows[["organisation_id"]].values.tolist(),
        "marker": {"color": "rgba(0,0,0,0)"}, "hoverinfo": "none", "showlegend": False, "name": "",
    }]
    for name in sorted(rows["feature"].unique(), key=lambda f: (f not in features, f)):
        mask = rows["feature"] == name
        part = rows[mask]
        texts = [_value_text(s, metric, e) for s, e in zip(part["score"], part["events"])]
        traces.append({
            "type": "bar", "x": part["score"].tolist(), "y": [labels[i] for i in part.index],
            "orientation": "h", "name": name, "marker": {"color": feature_colour(name, features)},
            "customdata": part[["organisation_id", "events", "days_enabled"]].values.tolist(),
            "text": texts, "textposition": "outside", "cliponaxis": False,
            "hovertemplate": (f"%{{y}}<br>{info.label}: %{{x:{info.d3_format}}}<br>"
                              "Events: %{customdata[1]:,}<br>Enabled days: %{customdata[2]:,}"
                              "<br>Click to open the customer<extra></extra>"),
        })
    title = (f"The {len(rows)} {'lowest' if order == 'least' else 'highest'} by {info.label.lower()}"
             f"{' · ' + feature if feature else ''} · {period_label}")
    fig = themed(figure(traces), title, height=max(320, 30 * len(rows) + 130))
    merge(fig["layout"], {"barmode": "overlay", "showlegend": every_feature, "bargap": 0.25,
                          # Room for the row labels (13 px, two spaces after) and the axis
                          # title up front (see label_px): plotly would widen the margins
                          # and draw the chart again.
                          "margin": {"l": label_px([f"{label}  " for label in labels], size=13) + LABEL_PAD,
                                     "r": 40, "t": 80, "b": 100}, "clickmode": "event"})
    update_axes(fig, "y", autorange="reversed", tickfont={"size": 13}, ticksuffix="  ")
    update_axes(fig, "x", title={"text": info.label}, tickformat=info.d3_format, range=[0, reach],
                showgrid=True, gridcolor="#E5E5E5", zeroline=True, zerolinecolor=GREY)
    if top_score == 0:
        update_axes(fig, "x", tickvals=[0])  # everyone shown scored 0: one tick, not 0,0,0,1,1
    elif info.d3_format == ",d" and reach < 8:
        update_axes(fig, "x", dtick=1)
    return fig


def _col_number(field: str, header: str, d3_format: str, **extra) -> dict:
    return {
        "field": field, "headerName": header, "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": f"params.value == null ? 'undefined' : d3.format('{d3_format}')(params.value)"},
        **extra,
    }


def leaderboard_grid(ranking: Ranking, metric: str, feature: str | None, file_name: str):
    """The ranked rows, exportable as CSV (ratios exported as plain numbers)."""
    info = METRICS[metric]
    frame = ranking.rows.assign(
        region=ranking.rows["region"].fillna("Unknown"),
        row_key=ranking.rows["organisation_id"].astype(str) + "|" + ranking.rows["feature"],
        never_used=ranking.rows["events"].eq(0).map({True: "yes", False: ""}),
    )
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    columns = [
        col_int("rank", "Rank", maxWidth=100, minWidth=95, **wrap),
        col_customer(**wrap),
        col_text("region", "Region", **wrap),
        col_text("feature", "Feature", **wrap),
        _col_number("score", info.short, info.d3_format, **wrap),
        *([] if metric == "events" else [col_int("events", "Events", **wrap)]),
        col_int("active_user_weeks", "Active user-weeks", **wrap),
        col_int("user_weeks_with_access", "User-weeks with access", **wrap),
        col_int("days_enabled", "Days with it on", **wrap),
        col_text("never_used", "Never used", maxWidth=120, **wrap),
    ]
    fields = [c["field"] for c in columns] + ["organisation_id", "row_key"]
    return data_grid(ids.USAGE_LEADERBOARD_GRID, frame[fields], columns, file_name=file_name,
                     row_id="row_key", height=520)


def file_name(kind: str, feature: str | None, metric: str, order: str, top: int, period_part: str) -> str:
    """'usage_leaderboard_SMS_events_least_top20_2026-06-29_to_2026-07-26'."""
    return file_slug(kind, feature or "all-features", metric, order, f"top{top}", period_part)


def ranking_explained():
    """The ranking rules in words (they are also the docstring of rank_leaderboard)."""
    items = [
        html.Li([html.Strong("Period: "), ("whole ISO weeks (Monday to Sunday), because usage is "
                 "counted per week. Presets count back from the latest week of data.")]),
        html.Li([html.Strong("Who is ranked: "), ("customers with at least one day with the "
                 "feature on in the period, i.e. who paid for it. Customers who used a feature "
                 "without any such day are not ranked here: that is unpaid usage.")]),
        html.Li([html.Strong("Customers who pay and never use: "), ("no event in the period "
                 "means a score of 0 on every measure, whatever the denominator, so they come "
                 "first among the least and are marked “never used”.")]),
        *[html.Li([html.Strong(f"{m.label}: "), m.explanation]) for m in METRICS.values()],
        html.Li([html.Strong("Undefined: "), ("a customer with events but no user with access in "
                 "any week (for example no user export) has no adoption; it is left out and "
                 "counted above the chart. The other measures always have a denominator for a "
                 "ranked customer.")]),
        html.Li([html.Strong("Ties: "), ("least first: fewer events, then more days with the "
                 "feature on (paid longer for the same use), then name. Most first: more "
                 "events, then name.")]),
    ]
    return html.Ul(items, className="mb-0")
