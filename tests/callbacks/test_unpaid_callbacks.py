"""callbacks/unpaid.py called directly: real numbers, the drill-down, bad input in words."""

from __future__ import annotations

import pytest
from dash.development.base_component import Component

from app import create_app
from callbacks import unpaid


def find_grid(node):
    """The first dash-ag-grid in a component tree."""
    if isinstance(node, Component):
        if type(node).__name__ == "AgGrid":
            return node
        return find_grid(getattr(node, "children", None))
    if isinstance(node, (list, tuple)):
        for child in node:
            found = find_grid(child)
            if found is not None:
                return found
    return None


def test_overview_and_reasons_show_real_numbers(app, demo_warehouse, text_of):
    total = sum(demo_warehouse.manifest["unpaid_events_by_reason"].values())
    with app.server.app_context():
        summary, figure, config = unpaid.show_unpaid_overview("all", None, None)
        reasons_fig, _, notes = unpaid.show_unpaid_reasons("all", None, None)
    assert f"{total:,}" in text_of(summary)
    assert sum(figure["data"][0]["y"]) == total
    assert config["toImageButtonOptions"]["filename"].startswith("unpaid_weekly_all-features_all-reasons_")
    assert sum(sum(t["y"]) for t in reasons_fig["data"]) == total
    assert "Accurx staff" in text_of(notes) and "None of the above" in text_of(notes)


def test_customers_then_one_customers_events(app, text_of):
    with app.server.app_context():
        grid = find_grid(unpaid.show_unpaid_customers("all", None, None, None))
        top = grid.rowData[0]
        title, body, close_class = unpaid.show_unpaid_events("all", None, None, str(top["organisation_id"]))
    events = find_grid(body)
    assert len(events.rowData) == min(top["unpaid_events"], 5000)
    assert top["organisation_name"] in text_of(title) and "d-none" not in close_class
    assert {c["field"] for c in events.columnDefs} >= {"event_timestamp", "user_id", "reason", "org_option"}
    assert f"customer-{top['organisation_id']}" in events.csvExportParams["fileName"]


def test_no_customer_chosen_asks_for_a_click(app, text_of):
    with app.server.app_context():
        _, body, close_class = unpaid.show_unpaid_events("all", None, None, None)
    assert "Click a customer" in text_of(body) and "d-none" in close_class


@pytest.mark.parametrize("args,words", [
    (("all", None, "bogus", None), "“bogus” is not a reason"),
    (("all", "Fax", None, None), "no feature “Fax”"),
    (("2026-10-01..2026-09-01", None, None, None), "after it ends on"),
])
def test_bad_filters_are_explained(app, args, words, text_of):
    with app.server.app_context():
        summary, _, _ = unpaid.show_unpaid_overview(*args[:3])
        customers = unpaid.show_unpaid_customers(*args)
    assert words in text_of(summary) and words in text_of(customers)


@pytest.mark.parametrize("customer,words", [("abc", "not a valid customer id"),
                                             ("999999", "no customer with id 999999")])
def test_bad_customer_is_explained(app, customer, words, text_of):
    with app.server.app_context():
        _, body, _ = unpaid.show_unpaid_events("all", None, None, customer)
    assert words in text_of(body)


def test_missing_warehouse_is_an_error_on_the_tab(text_of):
    broken = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})
    with broken.server.app_context():
        summary, _, _ = unpaid.show_unpaid_overview(None, None, None)
    assert "has not been built yet" in text_of(summary)
