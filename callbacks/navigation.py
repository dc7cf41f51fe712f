"""URL <-> page and controls: the URL is the single source of a view's state.

How it works (nothing here needs changing to add a tab or a filter):

- `render_page` builds the page for the URL's path and `?tab=`; it re-renders only when
  that page changes (a filter change keeps the page, so focus and charts stay).
- `sync_url_and_controls` keeps every URL-bound control and the query string equal:
  a control changed by the user rewrites the query string (a browser history entry,
  so back/forward work); a URL changed by back/forward, a pasted link or a callback
  sets the controls. It is the only callback that writes URL-bound controls.

How a tab registers its URL parameters:

1. Give each stateful control the ID `ids.url_param("<name>", "<prop>")` (prop
   "value", "date" or "data") and set its initial value in the tab's `layout(params)`
   from `params.get("<name>")` (or `get_list` for multi-selects). Values are strings
   (or lists of strings); None means "not in the URL" (use the default).
   That is all: the query string then carries it as `?tab=<key>&<name>=<value>`.
2. Parse and validate the value in the tab's callbacks with the helpers below
   (`parse_iso_date`, `parse_iso_week`, `parse_int`), showing a message in words for
   an invalid one. Don't "fix" the control from a data callback.
3. To change a URL-bound value from a click (a bar, a card, a row), write the URL, not
   the control: `Output(ids.URL, "search", allow_duplicate=True)` returning
   `with_params(search, name=value)` (use `prevent_initial_call=True`). To go to a
   customer's page link to `customer_href(id)` (grids: `common.col_customer`).

Tabs link to each other with `/?tab=<key>`; parameters of one tab are not carried to
another.
"""

from __future__ import annotations

import datetime as dt
import re

from dash import ALL, Input, Output, State, callback, ctx, no_update
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
def render_page(pathname, search, rendered_key):
    """The page for the URL, unless that page is already shown."""
    params = UrlParams.from_search(search)
    key = layout.page_key(pathname, params)
    if key == rendered_key:
        raise PreventUpdate
    return layout.page(pathname, params), key, layout.nav_links(key)


@callback(
    Output(ids.URL, "search", allow_duplicate=True),
    Output(ids.url_param_pattern("value", ALL), "value"),
    Output(ids.url_param_pattern("date", ALL), "date"),
    Output(ids.url_param_pattern("data", ALL), "data"),
    Input(ids.URL, "search"),
    Input(ids.url_param_pattern("value", ALL), "value"),
    Input(ids.url_param_pattern("date", ALL), "date"),
    Input(ids.url_param_pattern("data", ALL), "data"),
    prevent_initial_call=True,
)
def sync_url_and_controls(search, values, dates, datas):
    """Query string -> controls when the URL changed, controls -> query string otherwise."""
    controls = [
        (item["id"]["param"], current)
        for items, currents in (
            (ctx.inputs_list[1], values), (ctx.inputs_list[2], dates), (ctx.inputs_list[3], datas),
        )
        for item, current in zip(items, currents)
    ]
    if ctx.triggered_id == ids.URL:
        params = UrlParams.from_search(search)
        updates = []
        for items, currents in ((ctx.inputs_list[1], values), (ctx.inputs_list[2], dates),
                                (ctx.inputs_list[3], datas)):
            out = []
            for item, current in zip(items, currents):
                wanted = (params.get_list(item["id"]["param"]) if isinstance(current, list)
                          else params.get(item["id"]["param"]))
                out.append(no_update if _same(wanted, current) else wanted)
            updates.append(out)
        return no_update, *updates
    return (
        _search_for_controls(search, controls),
        [no_update] * len(values), [no_update] * len(dates), [no_update] * len(datas),
    )


def _same(wanted, current) -> bool:
    if wanted in (None, "", []) and current in (None, "", []):
        return True
    return wanted == current


def _search_for_controls(search: str | None, controls: list[tuple[str, object]]):
    params = UrlParams.from_search(search)
    values: dict = {"tab": params.get("tab")}
    for name, value in controls:
        values[name] = value
    new_search = to_search(values)
    return no_update if new_search == (search or "") else new_search


# ---------------------------------------------------------------- helpers for tab callbacks
def with_params(search: str | None, **changes) -> str:
    """The query string `search` with `changes` applied (None removes a parameter)."""
    params = UrlParams.from_search(search)
    values = {name: params.get_list(name) for name in params.names()}
    values.update(changes)
    return to_search(values)


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
