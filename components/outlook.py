"""Tab 6, Outlook: what is coming: who may cancel a feature, what usage to expect, and how
far to trust both (METRICS.md section 5).

Who may cancel: the churn_risk pairs ranked by score, with the warehouse's reasons in
words. What usage to expect: per feature, the actual weeks and the 12 forecast weeks
with their 80% and 95% bands, the model and its training date on the chart and its
back-test in words (against the naive "last week again" forecast). How far to trust
the risk score: its back-test on past dates. The customer page draws the same forecast
chart for one customer (`forecast_figure`, `forecast_sentences`).
"""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from components import ids
from components.common import (
    GREY,
    OKABE_ITO,
    UrlParams,
    col_customer,
    col_int,
    col_text,
    control,
    data_grid,
    dates,
    empty_state,
    error_state,
    figure,
    file_slug,
    fmt_date,
    fmt_int,
    graph,
    kpi_card,
    loading,
    merge,
    section,
    stacked_subplots,
    subplot_axes,
    themed,
    update_axes,
)
from components.filters import feature_control

KEY = "outlook"
LABEL = "Outlook"
QUESTION = "What is coming: who may cancel a feature, and what usage to expect?"

BANDS = {"high": "High", "medium": "Medium", "low": "Low"}
BAND_COLOURS = {"high": "#D55E00", "medium": "#E69F00", "low": "#009E73"}
CALL_FIRST_ROWS = 5  # the first view's short list; the grid further down holds every pair
NAIVE = "naive"
INSUFFICIENT = "insufficient_history"
# The back-test protocol of METRICS.md section 5: each origin forecasts 4 weeks.
BACKTEST_HORIZON_WEEKS = 4
OLDER_WAREHOUSE = ("This warehouse was built before the outlook existed; rebuild it with "
                   "`python -m warehouse build`.")
ACTUAL_COLOUR = OKABE_ITO[7]
FORECAST_COLOUR = OKABE_ITO[0]
BAND_80 = "rgba(0, 114, 178, 0.30)"
BAND_95 = "rgba(0, 114, 178, 0.13)"


def layout(params: UrlParams):
    """The tab's skeleton; controls from the URL, data areas filled by callbacks/outlook.py."""
    band = params.get("band")
    band_choices = [{"label": label, "value": key} for key, label in BANDS.items()]
    if band and band not in BANDS:
        band_choices.append({"label": f"{band} (unknown)", "value": band, "disabled": True})
    controls = html.Div(
        [
            feature_control(params),
            control("Risk band", dcc.Dropdown(
                id=ids.OUTLOOK_BAND, value=band, options=band_choices, clearable=True,
                searchable=False, placeholder="Every band", style={"minWidth": "12rem"})),
        ],
        className="controls no-print",
    )
    return html.Div([
        html.H1(QUESTION, className="page-title"),
        controls,
        # The first view answers "whom to call first" in a plain table and draws the
        # forecast; the full ranked list is a grid further down, so that the page does not
        # wait for the grid's script (loaded when scrolled near, assets/lazy-ag-grid.js).
        section(
            "Who may cancel",
            loading(html.Div([html.Div(id=ids.OUTLOOK_RISK_SUMMARY),
                              html.Div(id=ids.OUTLOOK_CALL_FIRST)])),
            subtitle="Every customer and feature enabled on the latest complete day, highest "
                     "risk first. The score (0-100) adds points for low utilisation, falling "
                     "use, weeks without use and recent downgrades or cancellations, using only "
                     "data up to that day; the reasons say which added points. The filters "
                     "apply; click a customer to open its page.",
        ),
        section(
            "What usage to expect",
            loading(graph(ids.OUTLOOK_FORECAST, filename="outlook_forecast",
                          caption="Weekly feature events: the actual weeks and the 12 forecast "
                                  "weeks with their 80% and 95% bands",
                          described_by=(ids.OUTLOOK_FORECAST_SUMMARY,))),
            loading(html.Div(id=ids.OUTLOOK_FORECAST_SUMMARY)),
            subtitle="Feature events per ISO week, all customers together. The shaded bands are "
                     "where the next weeks should fall 80% and 95% of the time. The accuracy "
                     "comes from a back-test: the model refitted on the weeks before each of 8 "
                     "recent Mondays and compared with the 4 weeks that followed.",
            class_name="print-break",
        ),
        section(
            "Every customer and feature by risk",
            loading(html.Div(id=ids.OUTLOOK_RISK_BODY)),
            subtitle="The whole ranked list of the filters above, with utilisation, trend and "
                     "last use; sort or filter its columns, and Download CSV for exactly the "
                     "rows shown.",
            class_name="print-break",
            section_id=ids.OUTLOOK_RISK_LIST,
        ),
        section(
            "How far to trust the risk score",
            loading(html.Div(id=ids.OUTLOOK_TRUST_BODY)),
            subtitle="The same score computed as of past dates, from the data known then, "
                     "checked against the confirmed cancellations of the 91 days after each.",
        ),
    ])


def older_warehouse_state() -> html.Div:
    """The message of every outlook area on a warehouse built before the outlook."""
    return error_state(OLDER_WAREHOUSE, title="No outlook in this warehouse")


def file_name(kind: str, feature: str | None, *extra) -> str:
    """'outlook_risk_SMS_high', 'outlook_forecast_all-features'."""
    return file_slug(kind, feature or "all-features", *extra)


# ---------------------------------------------------------------- words
def percent(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def trend_words(trend) -> str:
    """The last 4 weeks' events against 2 months earlier: '-45%', '+20%', or why none."""
    if trend is None or pd.isna(trend):
        return "no use to compare"
    return f"{trend - 1:+.0%}"


def last_use_words(weeks) -> str:
    """'this week', '1 week ago', '5 weeks ago' or 'never'."""
    if weeks is None or pd.isna(weeks):
        return "never"
    weeks = int(weeks)
    if weeks == 0:
        return "this week"
    return f"{weeks} week{'s' if weeks != 1 else ''} ago"


# ---------------------------------------------------------------- who may cancel
def risk_summary(ranking: pd.DataFrame, feature: str | None, band: str | None) -> html.P:
    """'68 customer-feature pairs as of 30 Oct 2026: 9 high, 14 medium, 45 low risk.'"""
    counts = ranking["risk_band"].value_counts()
    as_of = ranking["as_of_date"].max()
    parts = ", ".join(f"{fmt_int(counts.get(key, 0))} {key}" for key in BANDS if key in counts)
    scope = " · ".join(x for x in (feature, band and f"{BANDS.get(band, band)} band") if x)
    return html.P(
        f"{fmt_int(len(ranking))} customer-feature pairs as of {fmt_date(as_of)}"
        f"{f' ({scope})' if scope else ''}: {parts} risk.",
        className="mb-2")


def band_badge(band: str) -> html.Span:
    """'High' in dark ink, outlined in the band's colour: no band colour reaches a 4.5:1
    contrast behind small text in either ink (orange #D55E00: 4.0 dark, 3.8 white)."""
    colour = BAND_COLOURS.get(band, GREY)
    return html.Span(BANDS.get(band, band), className="badge band-badge",
                     style={"border": f"2px solid {colour}", "borderLeftWidth": "8px"})


def call_first(ranking: pd.DataFrame, rows: int = CALL_FIRST_ROWS) -> html.Div:
    """The `rows` highest risks as a plain table (customer linked to its page, feature,
    score, band, reasons), and where the rest of the list is."""
    top = ranking.head(rows)
    header = html.Thead(html.Tr([html.Th(h, scope="col") for h in (
        "Rank", "Customer", "Feature", "Risk score (0-100)", "Band", "Reasons")]))
    body = html.Tbody([html.Tr([
        html.Td(fmt_int(rank)),
        html.Th(dcc.Link(r.organisation_name, href=f"/customer/{r.organisation_id}"), scope="row"),
        html.Td(r.feature),
        html.Td(fmt_int(r.risk_score)),
        html.Td(band_badge(r.risk_band)),
        html.Td(r.reasons or "Nothing added points"),
    ]) for rank, r in enumerate(top.itertuples(), start=1)])
    shown = "the" if len(top) == len(ranking) else f"the {len(top)}"
    table = html.Table([html.Caption(f"Call first: {shown} highest risk{'s' if len(top) != 1 else ''}",
                                     className="small"), header, body],
                       className="table table-sm align-middle caption-top outlook-call-first mb-1")
    rest = html.P([
        "All " if len(top) < len(ranking) else "",
        html.A(f"{fmt_int(len(ranking))} pair{'s' if len(ranking) != 1 else ''} with utilisation, "
               "trend and last use", href=f"#{ids.OUTLOOK_RISK_LIST}"),
        " are in the list below the forecast, with CSV export.",
    ], className="small mb-0 no-print")
    return html.Div([table, rest])


def risk_grid(ranking: pd.DataFrame, file_name: str):
    """The ranked pairs: customer (a link to its page), feature, score, band, reasons,
    utilisation, trend, last use. The CSV holds the rows shown, as shown."""
    frame = ranking.assign(
        rank=range(1, len(ranking) + 1),
        band=ranking["risk_band"].map(BANDS).fillna(ranking["risk_band"]),
        utilisation_pct=[None if pd.isna(u) else round(100 * u) for u in ranking["utilisation"]],
        trend=[trend_words(t) for t in ranking["usage_trend"]],
        last_use=[last_use_words(w) for w in ranking["weeks_since_last_event"]],
        row_key=ranking["organisation_id"].astype(str) + "|" + ranking["feature"],
    )
    wrap = {"wrapHeaderText": True, "autoHeaderHeight": True}
    columns = [
        col_int("rank", "Rank", maxWidth=80, minWidth=70, **wrap),
        col_customer(minWidth=190, **wrap),
        col_text("feature", "Feature", wrapText=True, autoHeight=True, **wrap),
        col_int("risk_score", "Risk score (0-100)", **wrap),
        col_text("band", "Band", maxWidth=120, **wrap),
        col_text("reasons", "Reasons", minWidth=320, flex=3, wrapText=True, autoHeight=True,
                 cellStyle={"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"}, **wrap),
        col_int("utilisation_pct", "Utilisation, last 4 weeks (%)", minWidth=100, **wrap),
        col_text("trend", "Events, last 4 weeks vs 2 months before", minWidth=100, **wrap),
        col_text("last_use", "Last use", minWidth=100, **wrap),
    ]
    fields = [c["field"] for c in columns] + ["organisation_id", "row_key"]
    colours = [{"condition": f"params.data.band === '{BANDS[key]}'",
                "style": {"borderLeft": f"6px solid {colour}"}}
               for key, colour in BAND_COLOURS.items()]
    return data_grid(ids.OUTLOOK_RISK_GRID, frame[fields], columns, file_name=file_name,
                     row_id="row_key", height=600, row_style={"styleConditions": colours})


# ---------------------------------------------------------------- what usage to expect
def _model_row(accuracy: pd.DataFrame, feature: str, naive: bool = False) -> pd.Series | None:
    rows = accuracy[accuracy["feature"] == feature]
    rows = rows[(rows["model"] == NAIVE) if naive else (rows["model"] != NAIVE)]
    return rows.iloc[0] if len(rows) else None


def low_confidence(accuracy: pd.DataFrame, feature: str) -> bool:
    """True when the model did no better than "last week again" in its back-test (MASE >= 1)."""
    row = _model_row(accuracy, feature)
    return row is not None and pd.notna(row["mase"]) and row["mase"] >= 1


def accuracy_words(accuracy: pd.DataFrame, feature: str) -> str:
    """'typical weekly error +/- 129 events (WAPE 9%); 24% better than repeating last
    week; the 80% band held 1 of 4 weeks', or why there is no such figure."""
    row = _model_row(accuracy, feature)
    if row is None or pd.isna(row["origins"]) or int(row["origins"]) == 0:
        return "not back-tested yet: too few weeks of history before the back-test weeks"
    weeks = int(row["origins"]) * BACKTEST_HORIZON_WEEKS
    wape = "no events in those weeks" if pd.isna(row["wape"]) else f"WAPE {row['wape']:.0%}"
    error = f"{row['mae']:.1f}" if row["mae"] < 9.95 else fmt_int(row["mae"])
    parts = [f"typical weekly error +/- {error} event{'' if error == '1' else 's'} ({wape})"]
    mase = row["mase"]
    if pd.isna(mase):
        parts.append("no comparison with repeating last week (it was exact: no use in those weeks)")
    elif round(mase - 1, 2) == 0:
        parts.append("about as good as repeating last week"
                     + (": low confidence" if mase >= 1 else ""))
    elif mase < 1:
        parts.append(f"{1 - mase:.0%} better than repeating last week")
    else:
        parts.append(f"{mase - 1:.0%} worse than repeating last week: low confidence")
    if pd.notna(row["coverage_80"]):
        parts.append(f"the 80% band held {round(row['coverage_80'] * weeks)} of {weeks} weeks")
    return "; ".join(parts)


def _weekly_actuals(actuals: pd.DataFrame, feature: str, through) -> pd.Series:
    """The feature's events per week from its first row to `through`, absent weeks 0."""
    rows = actuals[actuals["feature"] == feature]
    if rows.empty:
        return pd.Series(dtype=float)
    series = rows.assign(week_start=pd.to_datetime(rows["week_start"])).groupby("week_start")["events"].sum()
    end = pd.Timestamp(through) if through is not None and pd.notna(through) else series.index.max()
    weeks = pd.date_range(series.index.min(), end, freq="7D")
    return series.reindex(weeks, fill_value=0)


def ever_used(actuals: pd.DataFrame, forecast: pd.DataFrame, feature: str) -> bool:
    """True when the feature has any actual events or any non-zero forecast bound."""
    events = actuals.loc[actuals["feature"] == feature, "events"]
    upper = forecast.loc[forecast["feature"] == feature, "upper_95"]
    return bool((events.fillna(0) > 0).any() or (upper.fillna(0) > 0).any())


def _forecast_title(forecast: pd.DataFrame, accuracy: pd.DataFrame, feature: str) -> str:
    rows = forecast[forecast["feature"] == feature]
    if rows.empty:
        return f"{feature}: no forecast yet"
    model = rows["model"].iloc[0]
    trained = fmt_date(rows["trained_through"].max() + pd.Timedelta(days=6))
    if model == INSUFFICIENT:
        return f"{feature}: not enough history to forecast (fewer than 12 weeks); data to {trained}"
    flag = " · LOW CONFIDENCE (MASE ≥ 1)" if low_confidence(accuracy, feature) else ""
    return f"{feature} · {model}, trained on weeks to {trained}{flag}"


def forecast_figure(actuals: pd.DataFrame, forecast: pd.DataFrame, accuracy: pd.DataFrame,
                    features: list[str], title: str, height_per_feature: int = 300) -> dict:
    """One panel per feature with forecast rows (`forecast_sentences` names the others):
    the actual weekly events (solid), the forecast (dashed) and its 80% and 95% bands
    (shaded), the model, training date and low confidence in the panel's title."""
    forecast_rows = [f for f in features if (forecast["feature"] == f).any()]
    # A feature nobody used and nothing is expected of (no event maps to Patient Triage,
    # say) would be a flat panel at 0: its sentence says so instead.
    features = [f for f in forecast_rows if ever_used(actuals, forecast, f)] or forecast_rows[:1] or features[:1]
    titles = [_forecast_title(forecast, accuracy, f) for f in features]
    height = max(340, height_per_feature * len(features) + 150)
    # About 90 px between panels, whatever the height: room for the dates and the next title.
    spacing = min(0.3, 90 / max(height - 215, 1)) if len(features) > 1 else 0.0
    fig = figure(**stacked_subplots(titles, vertical_spacing=spacing))
    legend = set()

    def add(row: int, **trace) -> None:
        """A scatter trace in panel `row`, in the legend once per name (unless it says)."""
        name = trace["name"]
        if "showlegend" not in trace:
            trace["showlegend"] = name not in legend
            legend.add(name)
        trace.setdefault("legendgroup", name)
        fig["data"].append({"type": "scatter", **subplot_axes(row), **trace})

    for row, feature in enumerate(features, start=1):
        future = forecast[(forecast["feature"] == feature) & forecast["forecast"].notna()]
        through = forecast.loc[forecast["feature"] == feature, "trained_through"].max()
        weekly = _weekly_actuals(actuals, feature, through if pd.notna(through) else None)
        if len(weekly):
            add(row, x=dates(weekly.index), y=weekly.to_numpy().tolist(), name="Actual",
                mode="lines", line={"color": ACTUAL_COLOUR, "width": 2},
                hovertemplate="Week of %{x|%-d %b %Y}: %{y:,.0f} events<extra>" + feature + "</extra>")
        largest = max([weekly.max() if len(weekly) else 0,
                       future["upper_95"].max() if len(future) else 0])
        if not largest or largest < 8:
            update_axes(fig, "y", row=row, dtick=1, tick0=0, range=[0, max(largest or 0, 1) * 1.05])
        if future.empty:
            continue
        weeks = dates(future["week_start"])
        for level, colour in (("95", BAND_95), ("80", BAND_80)):
            lower = future[f"lower_{level}"].tolist()
            add(row, x=weeks, y=lower, name=f"{level}% band", showlegend=False,
                mode="lines", line={"width": 0}, hoverinfo="skip")
            add(row, x=weeks, y=future[f"upper_{level}"].tolist(), name=f"{level}% band",
                mode="lines",
                line={"width": 0}, fill="tonexty", fillcolor=colour, customdata=lower,
                hovertemplate=f"{level}% band: %{{customdata:,.0f}} to %{{y:,.0f}}<extra></extra>")
        add(row, x=weeks, y=future["forecast"].tolist(), name="Forecast", mode="lines+markers",
            line={"color": FORECAST_COLOUR, "width": 2, "dash": "dash"}, marker={"size": 5},
            hovertemplate="Week of %{x|%-d %b %Y}: %{y:,.0f} events expected<extra>"
                          + feature + "</extra>")
    themed(fig, title=title, height=height)
    merge(fig["layout"], {"showlegend": True, "margin": {"t": 110, "b": 105}, "hovermode": "x unified"})
    update_axes(fig, "y", title={"text": "Events per week"}, tickformat=",d")
    update_axes(fig, "x", tickformat="%b %Y")
    for annotation in fig["layout"]["annotations"]:
        annotation.update(font={"size": 14}, xanchor="left", x=0)
    return fig


def forecast_sentences(actuals: pd.DataFrame, forecast: pd.DataFrame, accuracy: pd.DataFrame,
                       features: list[str]) -> html.Div:
    """The chart's numbers in words, one line per feature (the chart's description)."""
    items = []
    for feature in features:
        rows = forecast[forecast["feature"] == feature]
        if rows.empty:
            items.append(html.Li([html.Strong(f"{feature}: "), ("no forecast yet: this warehouse "
                                  "build has no weekly series of it.")]))
            continue
        trained = fmt_date(rows["trained_through"].max() + pd.Timedelta(days=6))
        if (rows["model"] == INSUFFICIENT).all():
            items.append(html.Li([html.Strong(f"{feature}: "),
                                  (f"not enough history to forecast: fewer than 12 weeks of use "
                                  f"up to {trained}. A forecast appears once it has 12 weeks.")]))
            continue
        model = rows["model"].iloc[0]
        low = " Low confidence: use it as a rough guide only." if low_confidence(accuracy, feature) else ""
        if not ever_used(actuals, forecast, feature):
            low += " No use of it in these weeks, so the chart leaves it out."
        items.append(html.Li([
            html.Strong(f"{feature}: "),
            (f"{model}, trained on the weeks to {trained}. Next {len(rows)} weeks: "
            f"{fmt_int(rows['forecast'].sum())} events expected, "
            f"{fmt_int(rows['forecast'].iloc[0])} in the week of {fmt_date(rows['week_start'].iloc[0])} "
            f"(80%: {fmt_int(rows['lower_80'].iloc[0])} to {fmt_int(rows['upper_80'].iloc[0])}). "
            f"Accuracy: {accuracy_words(accuracy, feature)}.{low}"),
        ], className="outlook-low-confidence" if low else None))
    return html.Div(html.Ul(items, className="mb-0"), className="small mt-2")


# ---------------------------------------------------------------- how far to trust it
def _auc_interval(row: pd.Series) -> str:
    if pd.isna(row["auc_lower_95"]) or pd.isna(row["auc_upper_95"]):
        return "no interval"
    return f"95% interval {row['auc_lower_95']:.2f} to {row['auc_upper_95']:.2f}"


def trust_meaning(pooled: pd.Series) -> str:
    """One plain sentence on what the pooled back-test means."""
    auc, lower = pooled["auc"], pooled["auc_lower_95"]
    if pd.isna(auc):
        return ("The back-test dates had no cancellation (or nothing but cancellations), so "
                "the score's ranking cannot be checked yet.")
    if pd.notna(lower) and lower > 0.5:
        lift = ""
        if pd.notna(pooled["precision_at_20"]) and pooled["base_rate"] > 0:
            lift = (f", and its top 20 held {pooled['precision_at_20'] / pooled['base_rate']:.1f} "
                    "times the average share of cancellations")
        return (f"On past dates, a customer who went on to cancel scored higher than one who "
                f"did not {auc:.0%} of the time (a coin toss would be 50%){lift}: use the list "
                "to decide whom to call first, not as a certainty.")
    return ("The interval includes 0.5: on past dates the score did not tell the customers "
            "who went on to cancel from the others better than chance, so read its reasons as "
            "prompts to look, not as a prediction.")


def trust_block(backtest: pd.DataFrame):
    """The pooled back-test as three figures and a sentence, then every back-test date."""
    pooled_rows = backtest[backtest["as_of_date"].isna()]
    dated = backtest[backtest["as_of_date"].notna()]
    if pooled_rows.empty or dated.empty:
        return empty_state("The data is too short to back-test the risk score yet: a back-test "
                           "date needs 13 complete weeks of data before it and 119 days after "
                           "it (to know which cancellations were confirmed).")
    pooled = pooled_rows.iloc[0]
    auc = "–" if pd.isna(pooled["auc"]) else f"{pooled['auc']:.2f}"
    cards = html.Div([
        kpi_card("AUC (0.5 = chance, 1 = perfect)", auc, subtitle=_auc_interval(pooled),
                 accent=OKABE_ITO[0]),
        kpi_card("Cancelled among the top 20", percent(pooled["precision_at_20"]),
                 subtitle=f"against a base rate of {percent(pooled['base_rate'])}",
                 accent=OKABE_ITO[5]),
        kpi_card("Cancellations counted", fmt_int(pooled["cancellations"]),
                 subtitle=f"among {fmt_int(pooled['pairs'])} customer-feature pairs on "
                          f"{len(dated)} date{'s' if len(dated) != 1 else ''}",
                 accent=OKABE_ITO[1]),
    ], className="kpi-grid mb-3")
    table = html.Table([
        html.Caption("Each back-test date", className="small"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in (
            "As of", "Pairs", "Cancellations", "Base rate", "AUC", "AUC 95% interval",
            "Cancelled among the top 20")])),
        html.Tbody([html.Tr([
            html.Td(fmt_date(r.as_of_date)), html.Td(fmt_int(r.pairs)),
            html.Td(fmt_int(r.cancellations)), html.Td(percent(r.base_rate)),
            html.Td("–" if pd.isna(r.auc) else f"{r.auc:.2f}"),
            html.Td("–" if pd.isna(r.auc_lower_95) else f"{r.auc_lower_95:.2f} to {r.auc_upper_95:.2f}"),
            html.Td(percent(r.precision_at_20)),
        ]) for r in dated.itertuples()]),
    ], className="table table-sm small w-auto")
    return html.Div([cards, html.P(trust_meaning(pooled), className="fw-semibold"), table])

