"""Every tab's main callback during a warehouse outage: the previous results, marked stale.

The fault is real, as in tests/queries/backends/test_duckdb_backend.py: after a first good answer
the app's DuckDB file is moved away, so every query of the second call fails
("not_built") and the runner serves its last good copy. Each callback must then render
exactly what it rendered before, plus `components.common.stale_notice` saying so.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable

import pytest
from plotly.io.json import to_json_plotly

from app import create_app
from callbacks import access, churn, customer, entitlements, unpaid, usage
from queries.request_state import request_staleness

NOTICE_CLASS = "state-stale"


def tab_calls(organisation_id: int) -> dict[str, Callable[[], object]]:
    """Each tab's main callback with its default filters (one customer for the pages of one)."""
    return {
        "access": lambda: access.show_access_cards(None, None),
        "entitlements": lambda: entitlements.show_entitlements(str(organisation_id), None),
        "usage": lambda: usage.show_leaderboard(None, None, None, None, None),
        "unpaid": lambda: unpaid.show_unpaid_overview(None, None, None),
        "churn": lambda: churn.show_churn_changes(None),
        "customer": lambda: customer.show_customer(str(organisation_id), None),
    }


def rendered(output) -> object:
    """A callback's output as the JSON Dash sends to the page (components and figures)."""
    return json.loads(to_json_plotly(output))


def notices(node) -> list[dict]:
    """Every stale notice in rendered output."""
    if isinstance(node, list):
        return [found for child in node for found in notices(child)]
    if not isinstance(node, dict):
        return []
    if NOTICE_CLASS in str(node.get("props", {}).get("className", "")).split():
        return [node]
    return [found for value in node.values() for found in notices(value)]


def without_notices(node):
    """Rendered output with each stale notice replaced by None (what a fresh call returns)."""
    if isinstance(node, list):
        return [without_notices(child) for child in node]
    if not isinstance(node, dict):
        return node
    if notices(node) == [node]:
        return None
    return {key: without_notices(value) for key, value in node.items()}


def text_of(node) -> str:
    """The text rendered output shows (its components' children), space-separated."""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, list):
        return " ".join(text_of(child) for child in node)
    if isinstance(node, dict) and "props" in node:
        return text_of(node["props"].get("children"))
    return ""


@pytest.fixture(scope="module")
def before_and_during_outage(demo_warehouse, views, tmp_path_factory) -> dict:
    """{tab: (output, its request_staleness(), the same after the file went away, its
    request_staleness())}: a first good answer, then the same call during the outage."""
    db_path = tmp_path_factory.mktemp("stale-notice") / "accurx.duckdb"
    shutil.copyfile(demo_warehouse.db_path, db_path)
    app = create_app({"ACCURX_WAREHOUSE": "duckdb", "ACCURX_DUCKDB_PATH": str(db_path)})
    daily = views("org_feature_daily")
    days_known = daily.groupby("organisation_id")["date"].nunique().sort_values(kind="stable")
    calls = tab_calls(int(days_known.index[-1]))

    def request(call):
        """One callback request: its own application context, as Dash gives it."""
        with app.server.app_context():
            return rendered(call()), request_staleness()

    fresh = {tab: request(call) for tab, call in calls.items()}
    os.replace(db_path, db_path.with_suffix(".away"))
    during = {tab: request(call) for tab, call in calls.items()}
    return {tab: (*fresh[tab], *during[tab]) for tab in calls}


@pytest.mark.parametrize("tab", list(tab_calls(0)))
def test_tab_shows_its_previous_results_with_a_stale_notice(tab, before_and_during_outage):
    fresh, fresh_staleness, stale, staleness = before_and_during_outage[tab]
    assert fresh_staleness is None and notices(fresh) == []
    assert "state-error" not in json.dumps(fresh) and any(c.isdigit() for c in text_of(fresh))

    assert staleness is not None and staleness.kind == "not_built"
    (notice,) = notices(stale)
    assert " ".join(text_of(notice).split()).startswith(
        "Showing results from less than a minute ago: the warehouse file is missing.")
    assert "state-error" not in json.dumps(stale)
    assert without_notices(stale) == fresh  # the same numbers, charts and grids as before
