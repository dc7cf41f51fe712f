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
from components.common import UrlParams, shorten, to_search

_ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+Z-]{0,20})?\s*$")
_WHOLE_NUMBER = re.compile(r"^\s*[0-9]{1,15}\s*$")
# Dates the app can mean: anything outside is a typo or an attack (and near year 9999
# adding a week no longer fits in a date).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
# A real address of this app is a few hundred characters at most.
MAX_URL_PART = 2000


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
    rendered = rendered if isinstance(rendered, dict) else None
    if not _url_part(pathname) or not _url_part(search):
        key = "missing:"
        return (layout.not_found("This address is not one of the dashboard's pages."),
                {"key": key, "search": ""}, layout.nav_links(key))
    params = UrlParams.from_search(search)
    key = layout.page_key(pathname, params)
    if rendered and rendered.get("key") == key and rendered.get("search") == (search or ""):
        raise PreventUpdate
    return layout.page(pathname, params), {"key": key, "search": search or ""}, layout.nav_links(key)


def _url_part(value) -> bool:
    """A path or query string the browser could really have: text (or nothing), not huge."""
    return value is None or (isinstance(value, str) and len(value) <= MAX_URL_PART)


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
    if not ctx.triggered or not isinstance(rendered, dict) or not _url_part(search):
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
    """'2026-04-05' (a time after it is ignored) -> date; None/'' -> None.
    Raises ValueError with a readable message for anything else."""
    if text in (None, ""):
        return None
    match = _ISO_DATE.match(text) if isinstance(text, str) else None
    try:
        day = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"“{shorten(text)}” is not a date; write it as YYYY-MM-DD, e.g. 2026-04-05.")
    check_day_in_range(day)
    return day


def check_day_in_range(day: dt.date) -> None:
    """Raises ValueError unless FIRST_DAY <= day <= LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is not a date the data could cover: choose dates "
                         f"between {FIRST_DAY.year} and {LAST_DAY.year}.")


def parse_iso_week(text: str | None) -> dt.date | None:
    """'2026-W14' (or '2026W14', '2026-w14') -> the Monday of that ISO week; None/'' -> None.

    Raises ValueError with a readable message for anything else."""
    if text in (None, ""):
        return None
    match = _ISO_WEEK.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f"“{shorten(text)}” is not an ISO week; write it as YEAR-Wnn, e.g. 2026-W14."
        )
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]
        raise ValueError(
            f"“{shorten(text)}” does not exist: {year} has weeks 1 to {weeks_in_year}."
        ) from None
    check_day_in_range(monday)
    return monday


def parse_int(text, what: str = "number") -> int | None:
    """'42' (or 42) -> 42; None/'' -> None. Only whole numbers from 0, written in ASCII
    digits (no sign, no '1_000', no '1e3'). Raises ValueError naming `what` otherwise."""
    if text in (None, ""):
        return None
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text < 10**15:
        return text
    if isinstance(text, str) and _WHOLE_NUMBER.match(text):
        return int(text)
    raise ValueError(f"“{shorten(text)}” is not a valid {what}: use a whole number such as 1042.")
