"""Usage tab in chromium against gunicorn: real numbers, bar and row clicks open the
customer page (Back restores the leaderboard), CSV = the rows shown, shared URLs."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

BARS = "#usage-chart .bars .point path"


def read_csv(download) -> list[list[str]]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")  # AG Grid writes a BOM
    return list(csv.reader(io.StringIO(text)))


def chart_customer_ids(page) -> list[int]:
    """The organisation ids of the chart's rows, in rank order (from the hit-area trace)."""
    return page.evaluate(
        "() => document.querySelector('#usage-chart .js-plotly-plot').data[0].customdata.map(c => c[0])")


def open_leaderboard(page, query: str, show_grid):
    page.goto("/" + query)
    page.wait_for_selector(BARS)
    show_grid(page, "#usage-body")  # below the chart: scroll to it


def test_leaderboard_loads_with_real_numbers_and_exports_the_rows_shown(page, screenshot, show_grid):
    open_leaderboard(page, "?tab=usage&period=all", show_grid)
    summary = page.locator("#usage-summary").inner_text()
    assert re.search(r"\d+ customer-feature pairs were paid for", summary)
    assert "never used it in the period" in summary  # the demo plants customers who never use
    assert page.locator(BARS).count() >= 20
    screenshot(page, "usage_leaderboard_all")
    with page.expect_download() as info:
        page.locator("#usage-body").get_by_role("button", name="Download CSV").click()
    download = info.value
    assert re.fullmatch(r"usage_leaderboard_all-features_events_least_top20_\d{4}-\d\d-\d\d_to_\d{4}-\d\d-\d\d\.csv",
                        download.suggested_filename)
    rows = read_csv(download)
    assert rows[0][:4] == ["Rank", "Customer", "Region", "Feature"]
    assert len(rows) == 1 + 20
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 21)]
    assert rows[1][rows[0].index("Never used")] == "yes"


def test_bar_click_opens_the_customer_and_back_restores_the_leaderboard(page, screenshot, show_grid):
    query = "?tab=usage&feature=SMS&metric=events-per-day&order=most&period=last-quarter&top=10"
    open_leaderboard(page, query, show_grid)
    url = page.url
    second = chart_customer_ids(page)[1]
    page.locator(BARS).nth(1).click(force=True)  # the hit area of rank 2
    page.wait_for_url(f"**/customer/{second}")
    page.wait_for_function("() => document.querySelector('#customer-body')?.innerText.trim().length > 0")
    screenshot(page, "usage_to_customer")
    page.go_back()
    page.wait_for_url(url)
    page.wait_for_selector(BARS)
    assert "The 10 highest by events per entitled day" in page.locator("#usage-chart").inner_text()
    assert chart_customer_ids(page)[1] == second


def test_grid_row_click_opens_the_customer(page, show_grid):
    open_leaderboard(page, "?tab=usage&period=all&order=most", show_grid)
    first = chart_customer_ids(page)[0]
    page.locator("#usage-body .ag-row[row-index='0'] [col-id='region']").click()
    page.wait_for_url(f"**/customer/{first}")


def test_shared_url_restores_the_view_and_presets_write_the_url(page, screenshot, show_grid):
    query = "?tab=usage&feature=Video&metric=adoption&order=most&period=last-quarter&top=10"
    open_leaderboard(page, query, show_grid)
    assert "The 10 highest by adoption · Video" in page.locator("#usage-chart").inner_text()
    assert "10 rows" in page.locator("#usage-body").inner_text()
    controls = page.locator(".controls").inner_text()
    assert "Adoption" in controls and "Most first" in controls and "Top 10" in controls
    assert page.locator(".period-presets label:has(input:checked)").inner_text() == "Last quarter"
    assert "Last quarter:" in page.locator(".period-note").inner_text()
    screenshot(page, "usage_shared_url")
    page.hover("#usage-chart")
    with page.expect_download() as info:
        page.locator("#usage-chart").get_by_role("button", name="Download plot as a PNG").click()
    assert re.fullmatch(r"usage_leaderboard_Video_adoption_most_top10_\d{4}-\d\d-\d\d_to_\d{4}-\d\d-\d\d\.png",
                        info.value.suggested_filename)
    page.get_by_text("Last 4 weeks", exact=True).click()
    page.wait_for_url(re.compile(r"period=last-4-weeks"))
    page.wait_for_function("() => document.querySelector('.period-note').innerText.startsWith('Last 4 weeks')")
    page.go_back()
    page.wait_for_url(re.compile(r"period=last-quarter"))
    page.wait_for_function("() => document.querySelector('.period-note').innerText.startsWith('Last quarter')")


def test_bad_input_is_explained_on_the_page(page):
    page.goto("/?tab=usage&period=2026-10-01..2026-09-01&top=7")
    page.wait_for_selector("#usage-summary .state-error")
    assert "after it ends on" in page.locator("#usage-summary").inner_text()
    page.goto("/?tab=usage&feature=Fax")
    page.wait_for_selector("#usage-summary .state-error")
    assert "no feature “Fax”" in page.locator("#usage-summary").inner_text()


def test_missing_warehouse_is_explained_on_the_tab_and_the_nav_still_works(new_page, serve, tmp_path):
    with serve(tmp_path / "missing.duckdb", workers=1) as url:
        page = new_page(url)
        page.goto("/?tab=usage")
        page.wait_for_selector("#usage-summary .state-error")
        assert "has not been built yet" in page.locator("#usage-summary").inner_text()
        page.get_by_role("link", name="Churn").click()
        page.wait_for_selector("#churn-summary .state-error")
        assert "has not been built yet" in page.locator("#churn-summary").inner_text()


def test_dates_picked_in_the_calendar_become_the_period(page, show_grid):
    open_leaderboard(page, "?tab=usage", show_grid)
    page.locator("input.dash-datepicker-start-date").click()
    calendar = page.locator(".dash-datepicker-calendar-wrapper")
    calendar.locator("td", has_text="12").first.click()
    calendar.locator("td", has_text="25").first.click()
    page.wait_for_url(re.compile(r"period=\d{4}-\d\d-12\.\.\d{4}-\d\d-25"))
    page.wait_for_function("() => document.querySelector('.period-note').innerText.startsWith('Chosen dates')")
    assert page.locator(".period-presets label:has(input:checked)").inner_text() == "Custom dates"
    page.go_back()
    page.wait_for_function("() => document.querySelector('.period-note').innerText.startsWith('Last 4 weeks')")
