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
   from `params.get("<name>")`. Values are strings; None means "not in the URL" (use
   the default).
   That is all: the query string then carries it as `?tab=<key>&<name>=<value>`.
2. Parse and validate the value in the tab's callbacks with the parsers of
   callbacks/parsers.py (`parse_iso_date`, `parse_iso_week`, `parse_int`), showing a
   message in words for an invalid one. Don't "fix" the control from a data callback.
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

from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.registry import callback
from components import ids, layout
from components.common import UrlParams, to_search

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


# ---------------------------------------------------------------- links for tab callbacks
def customer_href(organisation_id) -> str:
    """The path of a customer's page."""
    return f"/customer/{organisation_id}"
