"""Shared widgets and formatting: every tab builds its page from these.

Rules for components (this module and every `components/<tab>.py`):

- Pure functions from data (DataFrames, plain values) to Dash components or plotly
  figures. No queries, no callbacks, no module state. IDs come from components/ids.py.
- A tab module exposes `KEY` (the `?tab=` value), `LABEL` (the nav text) and
  `layout(params: UrlParams) -> Component`: the tab's static skeleton, with every
  URL-bound control (see ids.url_param) set from `params` and data areas empty,
  wrapped in `loading(...)`. The tab's callbacks fill the data areas; they fire when
  the skeleton is inserted.
- Numbers: `fmt_int` (thousands separators), dates: `fmt_date` (UK, "5 Apr 2026"),
  weeks: `fmt_week` ("2026-W14, from Mon 30 Mar 2026"). Figures are plain dicts
  (`figure(data, **layout)`; `stacked_subplots` for panels one above the other,
  `update_axes` and `merge` for plotly's update_* methods): `themed(fig)` for the
  house theme (Okabe-Ito colour-blind-safe colours, UK separators, projector-sized
  text), `OPTION_COLOURS` for entitlement options, and `graph(id, ...)` /
  `graph_config(filename)` so the PNG download is named after the chart and its
  filters: callbacks return `figure` and `config` together. `graph` puts the chart in a
  <figure> named by `caption` and described by `described_by` (IDs of the sentences
  stating its numbers): the chart's text alternative for screen readers.
- Controls: `control(label, widget)` gives a filter its visible label as the name of a
  group (Dash's dropdowns and date pickers cannot be pointed at by `<label for>`).
- Tables: `data_grid(name, frame, columns, file_name=...)` gives a dash-ag-grid with a
  "Download CSV" button that exports exactly the rows (after the grid's own filter
  and sort) and the columns shown, headers as shown, raw values (no thousands
  separators), to `file_name` (build it with `file_slug`). AG Grid writes a UTF-8
  byte-order mark first (Excel needs it); readers must strip it. Column helpers:
  `col_text`, `col_int`, `col_date`, `col_customer` (a link to /customer/<id>).
- States: `empty_state(msg)` when a valid question has no rows; `error_state(msg)`
  for a `WarehouseError` (pass `str(err)`) or an invalid input; `stale_notice(s)` above
  results the runner served from their last good copy during an outage (pass
  `queries.request_state.request_staleness()`; None when fresh). Never a traceback, never a
  blank area: each tab catches errors in its own callbacks.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from urllib.parse import parse_qs, urlencode

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import dcc, html

from components import ids

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",
)
GREY = "#9A9A9A"
OPTION_COLOURS = {
    "Off": "#D9D9D9",
    "SMS Lite": "#56B4E9",
    "SMS Plus": "#0072B2",
    "On": "#009E73",
}
UNKNOWN_COLOUR = "#FFFFFF"
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def reason_label(reasons: pd.DataFrame | None, reason: str) -> str:
    """The words every page uses for unpaid reason `reason`: its label in `reasons` (the
    warehouse's unpaid_reasons view, from queries.unpaid.reason_definitions()), else the
    code spelled out."""
    if reasons is not None:
        # A plain scan: the table has a handful of rows, and pages label every event row.
        for code, label in zip(reasons["reason"].tolist(), reasons["label"].tolist()):
            if code == reason:
                return str(label)
    return str(reason).replace("_", " ").capitalize()


# ---------------------------------------------------------------- URL parameters
class UrlParams:
    """The query string of the current URL, read-only. Values are strings."""

    def __init__(self, values: Mapping[str, Sequence[str]] | None = None):
        self._values = {k: list(v) for k, v in (values or {}).items() if v}

    @classmethod
    def from_search(cls, search: str | None) -> UrlParams:
        return cls(parse_qs((search or "").lstrip("?"), keep_blank_values=False))

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._values.get(name)
        return values[0] if values else default


def to_search(values: Mapping[str, str | Sequence[str] | None]) -> str:
    """`?a=1&b=x&b=y` from a mapping; None and empty values are left out; `tab` first,
    then names in alphabetical order, so one view has exactly one URL."""
    pairs: list[tuple[str, str]] = []
    for name in sorted(values, key=lambda n: (n != "tab", n)):
        value = values[name]
        if value is None or value == "" or value == []:
            continue
        for item in [value] if isinstance(value, str) else value:
            if item not in (None, ""):
                pairs.append((name, str(item)))
    return "?" + urlencode(pairs) if pairs else ""


# ---------------------------------------------------------------- formatting
def fmt_int(value) -> str:
    """1234567 -> '1,234,567'; missing -> '–'."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "–"
    return f"{round(float(value)):,}"


def fmt_date(value, weekday: bool = False) -> str:
    """A date in UK style: '5 Apr 2026' (or 'Sun 5 Apr 2026')."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "–"
    day = pd.Timestamp(value).date()
    text = f"{day.day} {day:%b %Y}"
    return f"{day:%a} {text}" if weekday else text


def iso_week_label(week_start) -> str:
    """'2026-W14' for the Monday 30 Mar 2026."""
    year, week, _ = pd.Timestamp(week_start).date().isocalendar()
    return f"{year}-W{week:02d}"


def fmt_week(week_start) -> str:
    """'2026-W14 (30 Mar – 5 Apr 2026)'."""
    start = pd.Timestamp(week_start).date()
    end = start + dt.timedelta(days=6)
    return f"{iso_week_label(start)} ({start.day} {start:%b} – {fmt_date(end)})"


def shorten(value, limit: int = 60) -> str:
    """`value` as text for a message, cut to `limit` characters ("…" marks the cut), so a
    hostile or mistyped input is named without being echoed at length."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_slug(*parts) -> str:
    """A file name stem from a chart/table name and its filters: 'access_SMS-Plus_2026-04-05'."""
    cleaned = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, (dt.date, pd.Timestamp)):
            part = pd.Timestamp(part).date().isoformat()
        text = re.sub(r"[^A-Za-z0-9._-]+", "-", str(part)).strip("-")
        if text:
            cleaned.append(text)
    return "_".join(cleaned) or "export"


# ---------------------------------------------------------------- figures
# Figures are plain plotly dicts ({"data": [...], "layout": {...}}), which dcc.Graph
# draws as they are: building go.Figure objects validated every property in Python
# and was most of a callback's time. Nested names are spelled out ("title": {"text":
# ...}), never plotly.py's "title_text" shorthand, which plotly.js does not read.
THEME = {
    "layout": {
        "font": {"family": FONT_FAMILY, "size": 15, "color": "#212529"},
        "title": {"font": {"size": 17}, "x": 0, "xanchor": "left", "xref": "paper",
                   "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}},
        "colorway": list(OKABE_ITO),
        "separators": ".,",
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 78, "b": 50},
        "hoverlabel": {"font": {"size": 14}},
        # Below the chart: never over the title or subplot titles, and kept in a PNG.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom", "yref": "container"},
        "xaxis": {"showgrid": False, "linecolor": "#6c757d", "ticks": "outside", "automargin": True},
        "yaxis": {"gridcolor": "#E5E5E5", "zerolinecolor": "#BDBDBD", "automargin": True,
                   "rangemode": "tozero", "tickformat": ","},
    }
}


def figure(data: list[dict] | None = None, **layout) -> dict:
    """A plotly figure as a plain dict: traces `data` (each with its "type") and `layout`."""
    return {"data": list(data or []), "layout": layout}


def merge(target: dict, updates: Mapping) -> dict:
    """`updates` merged into `target` (nested dicts merged, other values replaced, None
    removes the key so the template's value applies), as plotly's `update_layout` does;
    returns `target`."""
    for key, value in updates.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value
    return target


def update_axes(fig: dict, axis: str, row: int | None = None, **props) -> dict:
    """Merge `props` into every `axis` ("x" or "y") axis of `fig`, or only into the one of
    subplot `row` (as `fig.update_xaxes(..., row=row)`); returns `fig`."""
    layout = fig["layout"]
    if row is not None:
        names = [f"{axis}axis{row if row > 1 else ''}"]
    else:
        names = [name for name in layout if re.fullmatch(f"{axis}axis[0-9]*", name)] or [f"{axis}axis"]
    for name in names:
        merge(layout.setdefault(name, {}), props)
    return fig


def subplot_axes(row: int) -> dict:
    """The axis references of a trace drawn in subplot `row` of `stacked_subplots`."""
    suffix = str(row) if row > 1 else ""
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def stacked_subplots(titles: Sequence[str], vertical_spacing: float, shared_xaxes: bool = False,
                     row_heights: Sequence[float] | None = None) -> dict:
    """The layout of plotly's `make_subplots(rows=len(titles), cols=1, ...)`: one subplot
    per title, top to bottom, each titled; with `shared_xaxes` only the bottom one shows
    its tick labels and the others follow its range."""
    rows = len(titles)
    weights = list(row_heights) if row_heights else [1] * rows
    usable = 1 - vertical_spacing * (rows - 1)
    layout: dict = {"annotations": []}
    top = 1.0
    for row, (title, weight) in enumerate(zip(titles, weights), start=1):
        height = usable * weight / sum(weights)
        bottom = 0.0 if row == rows else top - height
        refs = subplot_axes(row)
        suffix = refs["xaxis"][1:]
        xaxis = {"anchor": f"y{suffix}", "domain": [0.0, 1.0]}
        if shared_xaxes and row < rows:
            xaxis.update(matches=f"x{rows if rows > 1 else ''}", showticklabels=False)
        layout[f"xaxis{suffix}"] = xaxis
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [bottom, top]}
        layout["annotations"].append({
            "font": {"size": 16}, "showarrow": False, "text": title, "x": 0.5,
            "xanchor": "center", "xref": "paper", "y": top, "yanchor": "bottom", "yref": "paper"})
        top = bottom - vertical_spacing
    return layout


# Plotly's automargin widens a margin that is too narrow for an axis's tick labels or a
# colour bar, and then draws the whole figure again, on every draw of new data. A margin
# reserved up front for the widest label spares that second pass (measured in chromium
# on the Churn tab's charts: a draw of the retention heatmaps 171-179 -> 80-102 ms, of
# the monthly changes 92-110 -> 40-57 ms). Estimates, wide on purpose: the theme's
# fonts average about 0.52 em a character; one that runs wider only brings automargin's
# redraw back, never clips.
CHAR_EM = 0.6
LABEL_PAD = 24  # px plotly puts beside a tick label (standoff and automargin's own pad)
TITLE_PX = 28  # px a rotated axis title takes beside its tick labels


def label_px(labels: Iterable, size: float | None = None) -> int:
    """A generous width, in px, of the widest of `labels` at font `size` (default: the
    theme's); 0 without labels."""
    size = size or THEME["layout"]["font"]["size"]
    return math.ceil(max((len(str(label)) for label in labels), default=0) * CHAR_EM * size)


def themed(fig: dict, title: str | None = None, height: int | None = None) -> dict:
    """Apply the house theme to a figure dict (room for the legend below when there is
    one); returns the same figure."""
    legend_shown = sum(1 for trace in fig["data"] if trace.get("showlegend") is not False) > 1
    layout = fig["layout"]
    layout["template"] = THEME
    if title is not None:
        merge(layout, {"title": {"text": title}})
    if height is not None:
        layout["height"] = height
    layout["showlegend"] = legend_shown
    merge(layout, {"margin": {"b": 105 if legend_shown else 50}})
    return fig


def fit_rows(fig: dict, rows: int, per_row: int, padding: int = 40) -> dict:
    """Make a themed figure tall enough for `per_row` px per category row (plus
    `padding`) between its margins, whatever room the title and legend take; returns it."""
    margin = {**THEME["layout"]["margin"], **fig["layout"].get("margin", {})}
    fig["layout"]["height"] = margin["t"] + margin["b"] + padding + per_row * rows
    return fig


def whole_number_ticks(fig: dict, largest: float, axis: str = "x") -> None:
    """Ticks 0, 1, 2... (not 0.5) on a count axis whose largest value is small."""
    if largest < 8:
        update_axes(fig, axis, dtick=1, tick0=0)


def empty_figure(message: str = "") -> dict:
    """A blank chart carrying a centred message (used until data arrives or when empty)."""
    return figure(
        template=THEME,
        xaxis={"visible": False}, yaxis={"visible": False},
        # Escaped: the message may quote a URL parameter, and plotly renders tags in
        # annotations (an <a href> would become a link). Wrapped first, so no line
        # break falls inside an entity.
        annotations=[{"text": "<br>".join(escape(line) for line in textwrap.wrap(message, 80)),
                      "showarrow": False, "font": {"size": 16, "color": "#6c757d"}}]
        if message else [],
        height=320,
    )


def dates(values) -> list[str | None]:
    """Days (dates or midnight timestamps) as ISO strings, as plotly.js reads dates;
    missing ones as None. (numpy's day strings: pandas' strftime cost ~10x more.)"""
    days = np.datetime_as_string(np.asarray(values, dtype="datetime64[D]"), unit="D")
    return [None if day == "NaT" else day for day in days.tolist()]


def graph_config(filename: str) -> dict:
    """dcc.Graph config: PNG download named `filename` (no extension), no plotly logo."""
    return {
        "displaylogo": False,
        "responsive": True,
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }


def graph(graph_id, figure: dict | None = None, filename: str = "chart",
          height: int | None = None, caption: str = "Chart",
          described_by: Sequence[str] = ()) -> html.Figure:
    """A chart area; its callback should return `figure` and `config=graph_config(...)`.

    The chart sits in a <figure> named by `caption` (a visually hidden <figcaption>: the
    chart draws its own title) and described by the elements `described_by` (IDs), the
    sentence(s) of the page that state the chart's numbers in words, kept up to date by
    the callbacks that fill them. That is the chart's text alternative."""
    extra = {"style": {"height": f"{height}px"}} if height else {}
    chart = dcc.Graph(
        id=graph_id,
        figure=figure if figure is not None else empty_figure(),
        config=graph_config(filename),
        className="chart",
        **extra,
    )
    return chart_figure(chart, caption, described_by)


def chart_figure(chart: dcc.Graph, caption: str, described_by: Sequence[str] = ()) -> html.Figure:
    """`chart` in a <figure> named by `caption` and described by the IDs `described_by`."""
    caption_id = ids.chart_caption(chart.id)
    aria = {"aria-labelledby": caption_id}
    if described_by:
        aria["aria-describedby"] = " ".join(described_by)
    return html.Figure(
        [html.Figcaption(caption, id=caption_id, className="visually-hidden"), chart],
        className="chart-figure", **aria,
    )


def control(label: str, widget, class_name: str = "control", **div_props) -> html.Div:
    """A filter control with its visible label, as a group named by the label.

    Dash 4's dropdown, date pickers and radio items name their inner element themselves
    (from the value or placeholder), so `<label for>` cannot reach them; a screen reader
    says the group's name as focus enters it ("Measure, group, Events, button")."""
    label_id = ids.label_of(widget.id)
    return html.Div([html.Label(label, id=label_id), widget], className=class_name,
                    role="group", **{"aria-labelledby": label_id}, **div_props)


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def text_colour_on(background: str, ink: str = "#212529", light: str = "#ffffff") -> str:
    """`ink` or `light`, whichever contrasts more with `background` (WCAG contrast ratio)."""
    lum = _luminance(background)
    def ratio(other: str) -> float:
        high, low = sorted((lum, _luminance(other)), reverse=True)
        return (high + 0.05) / (low + 0.05)
    return ink if ratio(ink) >= ratio(light) else light


# ---------------------------------------------------------------- states and layout pieces
def loading(children, **kwargs) -> dcc.Loading:
    """Spinner over `children` while their callback runs (not shown for fast answers)."""
    return dcc.Loading(children, type="circle", delay_show=250, color=OKABE_ITO[0], **kwargs)


def empty_state(message: str) -> html.Div:
    """'Nothing to show' in words: a valid question whose answer has no rows."""
    return html.Div(message, className="alert alert-secondary state state-empty", role="status")


def error_state(message: str, title: str = "This part of the page could not be shown") -> html.Div:
    """An error in words, confined to the area that failed."""
    return html.Div(
        [html.Strong(title), html.Div(message)],
        className="alert alert-danger state state-error", role="alert",
    )


def fmt_age(seconds: float) -> str:
    """An age in words: 'less than a minute', '12 minutes', '3 hours', '2 days'."""
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def stale_notice(staleness) -> html.Div | None:
    """'Showing results from 12 minutes ago: the warehouse is not answering.' for results
    served from their last good copy, or None when `staleness` is None (fresh results).

    `staleness` is a `queries.errors.Staleness` (duck-typed: `age_seconds`, `reason`);
    callbacks pass `queries.request_state.request_staleness()` and put the notice above the data
    it qualifies."""
    if staleness is None:
        return None
    return html.Div(
        [html.Strong(f"Showing results from {fmt_age(staleness.age_seconds)} ago: "),
         f"{staleness.reason}. They will update by themselves when it answers again."],
        className="alert alert-warning state state-stale py-2 px-3 mb-3", role="status",
    )


def notice(message, color: str = "info") -> html.Div:
    """A short explanatory line (e.g. which date 'currently' means)."""
    return html.Div(message, className=f"alert alert-{color} notice py-2 px-3 mb-3")


def section(title: str, *children, subtitle=None, class_name: str = "",
            section_id: str | None = None) -> html.Section:
    """A titled block of a page; sections start a new page when printed. `section_id`
    makes it a link target."""
    header = [html.H2(title, className="h5 section-title")]
    if subtitle:
        header.append(html.P(subtitle, className="text-muted small mb-2"))
    extra = {"id": section_id} if section_id else {}
    return html.Section([*header, *children], className=f"page-section {class_name}".strip(), **extra)


def kpi_card(title: str, value, subtitle=None, card_id=None, footer=None,
             selected: bool = False, accent: str | None = None):
    """A number with its label. With `card_id` it is a button (clickable, keyboard-focusable)."""
    body = [
        html.Div(title, className="kpi-title"),
        html.Div(value, className="kpi-value"),
    ]
    if subtitle:
        body.append(html.Div(subtitle, className="kpi-subtitle"))
    if footer:
        body.append(html.Div(footer, className="kpi-footer"))
    class_name = "kpi-card card" + (" kpi-selected" if selected else "")
    style = {"borderTopColor": accent} if accent else None
    if card_id is None:
        return html.Div(body, className=class_name, style=style)
    return html.Button(body, id=card_id, n_clicks=0, className=class_name + " kpi-clickable",
                       style=style, **{"aria-pressed": "true" if selected else "false"})


# ---------------------------------------------------------------- grids
def col_text(field: str, header: str, **extra) -> dict:
    return {"field": field, "headerName": header, **extra}


def col_int(field: str, header: str, **extra) -> dict:
    return {
        "field": field, "headerName": header, "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": "params.value == null ? '' : d3.format(',')(params.value)"},
        **extra,
    }


def col_date(field: str, header: str, **extra) -> dict:
    """A column of ISO date strings shown as '5 Apr 2026' (exported as ISO)."""
    return {
        "field": field, "headerName": header,
        "valueFormatter": {"function": "params.value ? d3.timeFormat('%-d %b %Y')(d3.timeParse('%Y-%m-%d')(params.value)) : ''"},
        **extra,
    }


def col_datetime(field: str, header: str, **extra) -> dict:
    """A column of 'YYYY-MM-DD HH:MM:SS' strings shown as '5 Apr 2026 14:03' (exported as is)."""
    return {
        "field": field, "headerName": header,
        "valueFormatter": {"function": "params.value ? d3.timeFormat('%-d %b %Y %H:%M')(d3.timeParse('%Y-%m-%d %H:%M:%S')(params.value.slice(0, 19))) : ''"},
        **extra,
    }


def col_customer(field: str = "organisation_name", header: str = "Customer",
                 id_field: str = "organisation_id", **extra) -> dict:
    """A customer's name linking to its page (see assets/dashAgGridComponentFunctions.js)."""
    return {
        "field": field, "headerName": header, "cellRenderer": "CustomerLink",
        "cellRendererParams": {"idField": id_field}, "minWidth": 220, **extra,
    }


def iso_dates(values: pd.Series, with_time: bool = False) -> pd.Series:
    """Datetimes as 'YYYY-MM-DD' (or 'YYYY-MM-DD HH:MM:SS') strings, missing as None.
    Through numpy's datetime64 to text, not `Series.dt.strftime` (a Python call per value)."""
    stamps = pd.to_datetime(values)
    missing = stamps.isna().to_numpy()
    unit = "datetime64[s]" if with_time else "datetime64[D]"
    text = stamps.to_numpy(dtype="datetime64[ns]").astype(unit).astype(str).astype(object)
    if with_time:
        text = np.array([value.replace("T", " ") for value in text], dtype=object)
    text[missing] = None
    return pd.Series(text, index=values.index, dtype=object)


def grid_rows(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows for a grid: dates as ISO strings, missing values as None, numbers
    as Python int/float.

    Built column by column (one list of Python values each) and zipped into records:
    `DataFrame.to_dict("records")` boxes every cell on its own, which for the grids of
    thousands of rows at 3,000 customers was most of a callback's time."""
    names = list(frame.columns)
    columns = []
    for col in names:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            present = values.dropna()
            values = iso_dates(values, with_time=not (present.dt.normalize() == present).all())
        missing = values.isna()
        values = values.astype(object)
        if missing.any():
            values = values.where(~missing, None)
        columns.append(values.tolist())
    return [dict(zip(names, row)) for row in zip(*columns)]


# Spreadsheet formula injection: a text cell starting with =, +, - or @ is written as
# text (assets/dashAgGridComponentFunctions.js, neutraliseFormula).
CSV_CELL_CALLBACK = {"function": "neutraliseFormula(params.value)"}


def data_grid(name: str, frame: pd.DataFrame, columns: list[dict], file_name: str,
              title: str | None = None, height: int = 420, row_id: str | None = None,
              page_size: int | None = None, row_style: dict | None = None) -> html.Div:
    """A sortable, filterable grid of `frame` with a 'Download CSV' button.

    The CSV holds what the grid shows: rows after its filter and sort, the visible
    columns with their headers, raw values (a text value that a spreadsheet would run as a
    formula prefixed with an apostrophe), named `<file_name>.csv`. `row_style` is AG
    Grid's getRowStyle (e.g. {"styleConditions": [...]} to highlight rows)."""
    options: dict = {"animateRows": False, "enableCellTextSelection": True,
                     "ensureDomOrder": True, "suppressCsvExport": False}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size,
                       paginationPageSizeSelector=False)
    style = {"width": "100%"}
    if len(frame) <= 12 or page_size:
        # Every row in the page's flow: nothing hidden in an inner scroll area when printed.
        options["domLayout"] = "autoHeight"
    else:
        style["height"] = f"{height}px"
    grid = dag.AgGrid(
        id=ids.grid(name),
        rowData=grid_rows(frame),
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True,
                       "useValueFormatterForExport": False, "minWidth": 110},
        dashGridOptions=options,
        columnSize="responsiveSizeToFit",
        csvExportParams={"fileName": f"{file_name}.csv", "processCellCallback": CSV_CELL_CALLBACK},
        **({"getRowId": f"params.data.{row_id} + ''"} if row_id else {}),
        **({"getRowStyle": row_style} if row_style else {}),
        style=style,
        className="data-grid",
    )
    header = html.Div(
        [
            html.Div(title, className="grid-title fw-semibold") if title else html.Div(),
            html.Div([
                html.Span(f"{len(frame):,} rows", className="text-muted small me-3"),
                html.Button("Download CSV", id=ids.grid_export(name), n_clicks=0, type="button",
                            className="btn btn-outline-primary btn-sm no-print",
                            title=f"Download the rows shown as {file_name}.csv"),
            ], className="d-flex align-items-center"),
        ],
        className="d-flex justify-content-between align-items-end mb-2",
    )
    return html.Div([header, grid], className="grid-block")


def option_colour(option: str | None) -> str:
    """The colour of an entitlement option (unknown options get a palette colour)."""
    if option is None:
        return UNKNOWN_COLOUR
    if option in OPTION_COLOURS:
        return OPTION_COLOURS[option]
    return OKABE_ITO[(sum(map(ord, option)) % 3) + 3]


def ordered_options(options: Iterable[str]) -> list[str]:
    """Options in the contract's order (Off < SMS Lite < SMS Plus; Off < On), others after."""
    rank = {"Off": 0, "SMS Lite": 1, "SMS Plus": 2, "On": 1}
    return sorted(set(options), key=lambda o: (rank.get(o, 9), o))
