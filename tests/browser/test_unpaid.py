"""Unpaid usage tab in chromium against gunicorn: real numbers, a customer's events on
click, CSV = the rows shown, a shared URL restores the drill-down."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def read_csv(download) -> list[list[str]]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")  # AG Grid writes a BOM
    return list(csv.reader(io.StringIO(text)))


def test_unpaid_usage_loads_and_drills_into_a_customer(page, screenshot, demo_warehouse, show_grid):
    total = sum(demo_warehouse.manifest["unpaid_events_by_reason"].values())
    page.goto("/?tab=unpaid&period=all")
    page.wait_for_selector("#unpaid-weekly .bars .point path", state="attached")
    page.wait_for_selector("#unpaid-by-reason .bars .point path", state="attached")
    show_grid(page, "#unpaid-customers-body")
    assert f"{total:,}" in page.locator("#unpaid-summary").inner_text()
    assert "Unexplained" in page.locator("#unpaid-reason-notes").inner_text()
    screenshot(page, "unpaid_overview")

    # AG Grid sets content-visibility: auto, so an off-screen grid has no innerText: read the DOM
    first = page.locator("#unpaid-customers-body .ag-row[row-index='0']")
    name = first.locator("[col-id='organisation_name']").text_content()
    count = int(first.locator("[col-id='unpaid_events']").text_content().replace(",", ""))
    first.locator("[col-id='organisation_name']").click()
    page.wait_for_url(re.compile(r"customer=\d+"))
    show_grid(page, "#unpaid-events-body")
    assert name in page.locator("#unpaid-events-title").inner_text()
    assert f"{count:,} rows" in page.locator("#unpaid-events-body").inner_text()
    page.locator("#unpaid-events-body .ag-row").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the grid paint once it is in view
    screenshot(page, "unpaid_customer_events", full_page=False)

    with page.expect_download() as info:
        page.locator("#unpaid-events-body").get_by_role("button", name="Download CSV").click()
    download = info.value
    assert re.fullmatch(r"unpaid_events_customer-\d+_all-features_all-reasons_.+\.csv", download.suggested_filename)
    rows = read_csv(download)
    assert rows[0][:2] == ["Time", "User ID"] and "Reason" in rows[0]
    assert not any("mail" in header.lower() or "name" in header.lower() for header in rows[0])
    assert len(rows) == 1 + count

    shared = page.url
    again = page.context.new_page()
    again.goto(shared)
    show_grid(again, "#unpaid-events-body")
    assert name in again.locator("#unpaid-events-title").inner_text()

    page.locator("#unpaid-events-close").click()
    page.wait_for_function("() => !window.location.search.includes('customer=')")
    assert "Click a customer" in page.locator("#unpaid-events-body").inner_text()


def test_reason_filter_and_its_csv(page, demo_warehouse, show_grid):
    staff = demo_warehouse.manifest["unpaid_events_by_reason"]["accurx_staff"]
    page.goto("/?tab=unpaid&period=all&reason=accurx_staff")
    show_grid(page, "#unpaid-customers-body")
    assert f"{staff:,}" in page.locator("#unpaid-summary").inner_text()
    with page.expect_download() as info:
        page.locator("#unpaid-customers-body").get_by_role("button", name="Download CSV").click()
    rows = read_csv(info.value)
    assert "accurx_staff" in info.value.suggested_filename
    column = rows[0].index("Unpaid events")
    assert sum(int(r[column]) for r in rows[1:]) == staff


def test_unknown_reason_is_explained(page):
    page.goto("/?tab=unpaid&reason=bogus")
    page.wait_for_selector("#unpaid-summary .state-error")
    assert "“bogus” is not a reason" in page.locator("#unpaid-summary").inner_text()
