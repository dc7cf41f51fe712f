"""Every component ID of the app, in one place.

Conventions (the smoke test in tests/test_app.py enforces uniqueness):

- A constant per single widget, named `<TAB>_<WHAT>` (`ACCESS_TREND`, `USAGE_TABLE`),
  value a kebab-case string starting with the tab key (`"access-trend"`). Tab keys:
  access, entitlements, usage, unpaid, churn, outlook, customer. Never write an ID literal in a
  component or callback: import it from here.
- Repeated widgets (one card per feature, one grid per table) use dictionary IDs built
  by the functions below, so one MATCH/ALL callback serves them all.
- A control whose value belongs in the URL gets its ID from `url_param(name, prop)`;
  that is the whole registration (see callbacks/navigation.py). `name` is the query
  string key, `prop` the property holding the value: "value" (dropdowns, inputs,
  radio items), "date" (DatePickerSingle) or "data" (dcc.Store). The value must be a
  string, a list of strings, or None. Names are global: two tabs may both use
  `feature`, but never on the same page, and a name means the same thing everywhere.
- A grid made with `components.common.data_grid(name, ...)` owns `grid(name)` and
  `grid_export(name)`; `name` is unique across the app and starts with the tab key.
"""

from __future__ import annotations

import json

# --- shell (components/layout.py, callbacks/navigation.py)
URL = "url"
PAGE = "page"
NAV = "nav"
PAGE_KEY = "page-key"  # dcc.Store: which page/tab is rendered, so filter changes don't re-render it

URL_PARAM_PROPS = ("value", "date", "data")


def url_param(name: str, prop: str = "value") -> dict:
    """ID of a control whose `prop` is kept in the URL query string as `name`."""
    if prop not in URL_PARAM_PROPS:
        raise ValueError(f"URL-bound prop must be one of {URL_PARAM_PROPS}, not {prop!r}")
    return {"type": f"url-param-{prop}", "param": name}


def url_param_pattern(prop: str, name) -> dict:
    """Wildcard form of url_param for callbacks (`name` is ALL or MATCH)."""
    return {"type": f"url-param-{prop}", "param": name}


def dom_id(component_id) -> str:
    """The id attribute Dash gives a component in the page (dictionary IDs become JSON
    with sorted keys), for `<label htmlFor=...>` and aria references."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def label_of(component_id) -> str:
    """The ID of the visible label of control `component_id` (components.common.control)."""
    if isinstance(component_id, dict):
        return "label-" + "-".join(str(component_id[key]) for key in sorted(component_id))
    return f"{component_id}-label"


def chart_caption(graph_id: str) -> str:
    """The <figcaption> naming chart `graph_id` (components.common.graph)."""
    return f"{graph_id}-caption"


def grid(name: str) -> dict:
    """The dash-ag-grid of table `name`."""
    return {"type": "grid", "name": name}


def grid_export(name: str) -> dict:
    """The 'Download CSV' button of table `name`."""
    return {"type": "grid-export", "name": name}


# --- tab 1: access
ACCESS_DATE = url_param("date", "date")
ACCESS_PICK = url_param("pick")  # "<feature>|<option>" whose trend and customers are shown
ACCESS_DATE_NOTE = "access-date-note"
ACCESS_CARDS = "access-cards"
ACCESS_TREND = "access-trend"
ACCESS_CUSTOMERS_TITLE = "access-customers-title"
ACCESS_CUSTOMERS_BODY = "access-customers-body"
ACCESS_CUSTOMERS_GRID = "access-customers"  # grid name


def access_card(feature: str, option: str) -> dict:
    """A clickable KPI card of one enabled (feature, option)."""
    return {"type": "access-card", "feature": feature, "option": option}


# --- tab 2: entitlements
ENTITLEMENTS_CUSTOMER = url_param("customer")
ENTITLEMENTS_WEEK = url_param("week")
ENTITLEMENTS_WEEK_OPTIONS = "entitlements-week-options"  # <datalist> of the weeks in the data
ENTITLEMENTS_PREVIOUS_WEEK = "entitlements-previous-week"
ENTITLEMENTS_NEXT_WEEK = "entitlements-next-week"
ENTITLEMENTS_BODY = "entitlements-body"
ENTITLEMENTS_HINT = "entitlements-hint"

# --- tabs 3-5: owned by their tab's engineer; add constants here, prefixed by the tab key
USAGE_BODY = "usage-body"

# Filters shared by tabs 3-5: one URL name, one meaning, one ID (never two on one page).
# `period`: "last-4-weeks" | "last-quarter" | "all" | "YYYY-MM-DD..YYYY-MM-DD" (whole ISO
# weeks; see callbacks/filters.py). `feature`: a feature name; absent = every feature.
PERIOD = url_param("period", "data")
FEATURE = url_param("feature")


def period_preset(tab: str) -> dict:
    """The preset buttons (last 4 weeks, last quarter, all) of `tab`'s period control."""
    return {"type": "period-preset", "tab": tab}


def period_range(tab: str) -> dict:
    """The date-range picker of `tab`'s period control."""
    return {"type": "period-range", "tab": tab}


def period_note(tab: str) -> dict:
    """The sentence under `tab`'s period control saying which weeks are shown."""
    return {"type": "period-note", "tab": tab}


# tab 3: usage leaderboard
USAGE_METRIC = url_param("metric")
USAGE_ORDER = url_param("order")  # "least" | "most"
USAGE_TOP = url_param("top")
USAGE_SUMMARY = "usage-summary"
USAGE_CHART = "usage-chart"
USAGE_LEADERBOARD_GRID = "usage-leaderboard"  # grid name
USAGE_GO = "usage-go"  # dcc.Location (refresh="callback-nav") that opens a clicked customer

# tab 4: unpaid usage
UNPAID_REASON = url_param("reason")
UNPAID_CUSTOMER = url_param("customer", "data")  # organisation id whose events are listed
UNPAID_SUMMARY = "unpaid-summary"
UNPAID_WEEKLY = "unpaid-weekly"
UNPAID_BY_REASON = "unpaid-by-reason"
UNPAID_REASON_NOTES = "unpaid-reason-notes"
UNPAID_CUSTOMERS_BODY = "unpaid-customers-body"
UNPAID_CUSTOMERS_GRID = "unpaid-customers"  # grid name
UNPAID_EVENTS_TITLE = "unpaid-events-title"
UNPAID_EVENTS_BODY = "unpaid-events-body"
UNPAID_EVENTS_GRID = "unpaid-events"  # grid name
UNPAID_EVENTS_CLOSE = "unpaid-events-close"

# tab 5: churn
CHURN_COHORTS = url_param("cohorts")  # "all" | "new" | "censored"
CHURN_SUMMARY = "churn-summary"
CHURN_MONTHLY = "churn-monthly"
# dcc.Store: the feature filter the monthly chart was last drawn for; the retention heatmap
# waits for it, so the first chart is drawn and shown before the heavier heatmaps.
CHURN_MONTHLY_DRAWN = "churn-monthly-drawn"
CHURN_RETENTION = "churn-retention"
CHURN_CANCELLATIONS_BODY = "churn-cancellations-body"
CHURN_CANCELLATIONS_GRID = "churn-cancellations"  # grid name
CHURN_DORMANT_BODY = "churn-dormant-body"
CHURN_DORMANT_GRID = "churn-dormant"  # grid name

# tab 6: outlook (churn risk, usage forecasts, how far to trust them)
OUTLOOK_BAND = url_param("band")  # "high" | "medium" | "low"; absent = every band
OUTLOOK_RISK_SUMMARY = "outlook-risk-summary"
OUTLOOK_RISK_BODY = "outlook-risk-body"
OUTLOOK_CALL_FIRST = "outlook-call-first"  # the first view's few highest risks
OUTLOOK_RISK_LIST = "outlook-risk-list"  # the section of the whole list (an anchor)
OUTLOOK_RISK_GRID = "outlook-risk"  # grid name
OUTLOOK_FORECAST = "outlook-forecast"
OUTLOOK_FORECAST_SUMMARY = "outlook-forecast-summary"
OUTLOOK_TRUST_BODY = "outlook-trust-body"

# --- customer page (/customer/<id>)
CUSTOMER_BODY = "customer-body"
CUSTOMER_ID = "customer-id"  # dcc.Store: the id from the path
CUSTOMER_WEEKS = url_param("weeks")  # how many recent weeks the trends show
CUSTOMER_PRINT = "customer-print"
CUSTOMER_FACTS = "customer-facts"  # the header's facts: the charts' description
CUSTOMER_TIMELINE = "customer-timeline"
# dcc.Store written with the header and timeline: the customer and period they show; the
# sections below (CUSTOMER_SECTIONS) are asked for once it is in (callbacks/customer.py).
CUSTOMER_SHOWN = "customer-shown"
CUSTOMER_SECTIONS = "customer-sections"
CUSTOMER_GRAPH_CODE = "customer-graph-code"  # a hidden graph: loads dcc.Graph's code with the page
CUSTOMER_USAGE = "customer-usage"
CUSTOMER_USERS = "customer-users"
CUSTOMER_UNPAID = "customer-unpaid"
CUSTOMER_UNPAID_GRID = "customer-unpaid-events"
CUSTOMER_CHANGES_GRID = "customer-changes"
CUSTOMER_OUTLOOK_BODY = "customer-outlook-body"
CUSTOMER_OUTLOOK_FOR = "customer-outlook-for"  # dcc.Store: the customer the outlook area shows
CUSTOMER_OUTLOOK_FORECAST = "customer-outlook-forecast"
CUSTOMER_OUTLOOK_SUMMARY = "customer-outlook-summary"
