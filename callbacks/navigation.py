"""URL <-> page and controls: the URL is the single source of a view's state.

How it works (nothing here needs changing to add a tab or a filter):

- `render_page` builds the page from the URL (path, `?tab=` and every parameter): on
  first load, a pasted link, back/forward, a tab link.
- `write_controls_to_url` runs when a URL-bound control changes (by the user or by a
  callback) and writes the query string, a new browser history entry. It also records
  that query string as "already rendered", so render_page leaves the page alone: the
  control's own dependants update it in place (no flicker, focus kept).

How a tab registers its URL parameters:

1. Give each stateful control the ID `ids.url_param("<name>", "<prop>")` (prop
   "value", "date" or "data") and set its initial value in the tab's `layout(params)`
   from `params.get("<name>")` (or `get_list` for multi-selects). Values are strings
   (or lists of strings); None means "not in the URL" (use the default).
   That is all: the query string then carries it as `?tab=<key>&<name>=<value>`.
2. Parse and validate the value in the tab's callbacks with the helpers below
   (`parse_iso_date`, `parse_iso_week`, `parse_int`), showing a message in words for
   an invalid one. Don't "fix" the control from a data callback.
3. To change a URL-bound value from a click (a bar, a card, a button), write the
   control's value from that click callback (`Output(ids.X, "value")`, with
   `prevent_initial_call=True` and a PreventUpdate unless `ctx.triggered` holds a real
   click); the URL follows by itself. One callback per control: if two widgets set the
   same control, handle both in that one callback. Never write `ids.URL` "search"
   from a tab. To go to a customer's page, link to `customer_href(id)` (grids:
   `common.col_customer`).

Tabs link to each other with `/?tab=<key>`; parameters of one tab are not carried to
another.
"""

from __future__ import annotations

import datetime as dt
import re

from dash import ALL, Input, Output, State, callback, ctx
from dash.exceptions import PreventUpdate

from components import ids, layout
from components.common import UrlParams, to_search

_ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


@callback(
    Output(ids.PAGE, "children"),
    Output(ids.PAGE_KEY, "data"),
    Output(ids.NAV, "children"),
    Input(ids.URL, "pathname"),
    Input(ids.URL, "search"),
    State(ids.PAGE_KEY, "data"),
)
def render_page(pathname, search, rendered):
    """The page for the URL, unless it is already shown with exactly this query string
    (which is the case when the URL was just written from the page's own controls)."""
    params = UrlParams.from_search(search)
    key = layout.page_key(pathname, params)
    if rendered and rendered.get("key") == key and rendered.get("search") == (search or ""):
        raise PreventUpdate
    return layout.page(pathname, params), {"key": key, "search": search or ""}, layout.nav_links(key)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Output(ids.PAGE_KEY, "data", allow_duplicate=True),
    Input(ids.url_param_pattern("value", ALL), "value"),
    Input(ids.url_param_pattern("date", ALL), "date"),
    Input(ids.url_param_pattern("data", ALL), "data"),
    State(ids.URL, "search"),
    State(ids.PAGE_KEY, "data"),
    prevent_initial_call=True,
)
def write_controls_to_url(values, dates, datas, search, rendered):
    """A URL-bound control changed: rewrite the query string (a new history entry).

    Not when the controls were just inserted by render_page: they came from the URL."""
    if not ctx.triggered or not rendered:
        raise PreventUpdate
    params = UrlParams.from_search(search)
    wanted: dict = {"tab": params.get("tab")}
    for items, currents in ((ctx.inputs_list[0], values), (ctx.inputs_list[1], dates),
                            (ctx.inputs_list[2], datas)):
        for item, current in zip(items, currents):
            wanted[item["id"]["param"]] = current
    new_search = to_search(wanted)
    if new_search == (search or ""):
        raise PreventUpdate
    return new_search, {**rendered, "search": new_search}


# ---------------------------------------------------------------- helpers for tab callbacks
def customer_href(organisation_id) -> str:
    """The path of a customer's page."""
    return f"/customer/{organisation_id}"


def parse_iso_date(text: str | None) -> dt.date | None:
    """'2026-04-05' -> date; None/'' -> None. Raises ValueError with a readable message."""
    if text in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise ValueError(f"“{text}” is not a date; write it as YYYY-MM-DD, e.g. 2026-04-05.") from None


def parse_iso_week(text: str | None) -> dt.date | None:
    """'2026-W14' (or '2026W14', '2026-w14') -> the Monday of that ISO week; None/'' -> None.

    Raises ValueError with a readable message for anything else."""
    if text in (None, ""):
        return None
    match = _ISO_WEEK.match(str(text))
    if not match:
        raise ValueError(
            f"“{text}” is not an ISO week; write it as YEAR-Wnn, e.g. 2026-W14."
        )
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]
        raise ValueError(
            f"“{text}” does not exist: {year} has weeks 1 to {weeks_in_year}."
        ) from None


def parse_int(text, what: str = "number") -> int | None:
    """'42' -> 42; None/'' -> None. Raises ValueError naming `what` otherwise."""
    if text in (None, ""):
        return None
    try:
        return int(str(text).strip())
    except ValueError:
        raise ValueError(f"“{text}” is not a valid {what}.") from None
