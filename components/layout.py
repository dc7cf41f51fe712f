"""The page shell: header, tab navigation, and which layout each URL gets.

Routes:
  `/` or `/?tab=<key>`      one of the six question tabs (default: access)
  `/customer/<id>`          everything about one customer
Anything else gets a "page not found" message with links back.

Tabs are the modules in TAB_MODULES, in nav order; each exposes `KEY`, `LABEL` and
`layout(params)` (see components/common.py). Replacing a placeholder tab means
replacing its module; this file does not change.
"""

from __future__ import annotations

import re

from dash import dcc, html

from components import access, churn, customer, entitlements, ids, outlook, unpaid, usage
from components.common import UrlParams, error_state, shorten, to_search

TAB_MODULES = (access, entitlements, usage, unpaid, churn, outlook)
TABS = {module.KEY: module for module in TAB_MODULES}
DEFAULT_TAB = access.KEY
CUSTOMER_PATH = re.compile(r"^/customer/(?P<id>[^/]*)/?$")

# Dash's page template with the page language declared (screen readers pick their voice
# from it; axe's html-has-lang). The placeholders are Dash's documented ones.
INDEX_STRING = """<!DOCTYPE html>
<html lang="en-GB">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>
"""


def shell() -> html.Div:
    """The layout served at every URL; callbacks/navigation.py fills `ids.PAGE`."""
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.PAGE_KEY),
            html.Header(
                html.Div(
                    [
                        html.A("Accurx feature analytics", href="/", className="brand"),
                        html.Nav(nav_links(None), id=ids.NAV, className="main-nav",
                                 **{"aria-label": "Questions"}),
                    ],
                    className="container-xl d-flex flex-wrap align-items-center gap-3",
                ),
                className="app-header no-print",
            ),
            html.Div(html.Main(id=ids.PAGE, className="page"), className="container-xl"),
        ],
        className="app",
    )


def default_urls(customer_ids) -> list[str]:
    """The URL of every tab's default view, then of every customer's page in the order
    given: what the response cache is warmed with after a build (serving/warm_up.py)."""
    return (["/", *("/" + to_search({"tab": module.KEY}) for module in TAB_MODULES)]
            + [f"/customer/{int(customer_id)}" for customer_id in customer_ids])


def page_key(pathname: str | None, params: UrlParams) -> str:
    """Identifies the rendered page: the tab, or the customer path. Filters are not part
    of it, so changing a filter updates controls in place instead of re-rendering."""
    path = pathname or "/"
    if path == "/":
        tab = params.get("tab") or DEFAULT_TAB
        return f"tab:{tab}"
    match = CUSTOMER_PATH.match(path)
    if match:
        return f"customer:{match.group('id')}"
    return f"missing:{path}"


def page(pathname: str | None, params: UrlParams):
    """The layout for a URL (pure; data areas are filled by the page's callbacks)."""
    key = page_key(pathname, params)
    kind, _, value = key.partition(":")
    if kind == "tab":
        module = TABS.get(value)
        if module is None:
            return not_found(f"There is no tab called “{shorten(value)}”.")
        return html.Div(module.layout(params), className=f"tab-page tab-{module.KEY}")
    if kind == "customer":
        return customer.layout(value, params)
    return not_found(f"There is no page at {shorten(pathname)}.")


def nav_links(active_key: str | None) -> list:
    """The tab links; `active_key` is a page key from `page_key`."""
    links = []
    for module in TAB_MODULES:
        active = active_key == f"tab:{module.KEY}"
        links.append(
            dcc.Link(
                # dcc.Link takes no aria-current: the current page is said in words.
                [module.LABEL, html.Span(" (current page)", className="visually-hidden")]
                if active else module.LABEL,
                href="/" + to_search({"tab": module.KEY}),
                className="nav-link" + (" active" if active else ""),
                title=module.QUESTION if hasattr(module, "QUESTION") else None,
            )
        )
    return links


def not_found(message: str):
    return html.Div(
        [
            error_state(message, title="Page not found"),
            html.P(["Go to ", dcc.Link("the dashboard", href="/"), "."]),
        ],
        className="mt-4",
    )
