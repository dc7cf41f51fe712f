"""Tab 1 Access in chromium, served by gunicorn over the demo warehouse."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest

PICK = "SMS|SMS Plus"


@pytest.fixture(scope="module")
def latest(view, demo_warehouse):
    return demo_warehouse.manifest["latest_complete_date"]


@pytest.fixture(scope="module")
def sms_plus_customers(view, latest):
    return view(
        'select d.organisation_id, o.organisation_name from "04_PRESENTATION".org_feature_daily d '
        'join "04_PRESENTATION".organisations o using (organisation_id) '
        "where d.date = ?::date and d.feature = 'SMS' and d.selected_option = 'SMS Plus'",
        [latest],
    )


def card(page, feature: str, option: str):
    return page.locator("button.kpi-card", has_text=f"{feature} · {option}")


def test_first_load_shows_real_numbers_and_is_measured(page, view, latest, screenshot, artifacts):
    transferred = []
    page.on("requestfinished", lambda request: transferred.append(
        request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]))
    started = time.perf_counter()
    page.goto("/")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=30_000)
    first_chart_s = time.perf_counter() - started
    page.wait_for_selector("button.kpi-card")
    page.wait_for_load_state("networkidle")
    screenshot(page, "access_first_load")

    expected = view(
        'select feature, selected_option, org_count, active_user_count '
        'from "04_PRESENTATION".feature_access_daily where date = ?::date and org_count > 0',
        [latest],
    )
    assert len(expected) > 0
    for row in expected.itertuples():
        text = card(page, row.feature, row.selected_option).inner_text()
        assert f"{row.org_count:,}" in text and f"{row.active_user_count:,} active users" in text
    assert "latest complete date" in page.locator(".notice").first.inner_text()

    total_kb = sum(transferred) / 1024
    (artifacts / "first_load.json").write_text(json.dumps(
        {"transfer_kb": round(total_kb), "first_chart_s": round(first_chart_s, 2),
         "requests": len(transferred)}, indent=1))
    assert total_kb < 3_000, f"first load moved {total_kb:.0f} KB"


def test_card_click_lists_customers_and_csv_holds_the_rows_shown(page, sms_plus_customers, latest, screenshot,
                                                                 show_grid):
    grid_scripts = []
    page.on("request", lambda request: grid_scripts.append(request.url) if "dash_ag_grid" in request.url else None)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    assert grid_scripts == []  # no grid on the first view: its script is not loaded (serving/lazy_scripts.py)
    card(page, "SMS", "SMS Plus").click()
    page.wait_for_url(re.compile(r"pick=SMS%7CSMS\+Plus"))
    title = page.locator("#access-customers-title")
    title.filter(has_text=f"({len(sms_plus_customers)})").wait_for()
    grid = show_grid(page)  # the list is below the cards and chart: scroll to it
    assert grid.locator(".ag-center-cols-container .ag-row").count() == len(sms_plus_customers)
    assert len([url for url in grid_scripts if "dash_ag_grid.v" in url]) == 1  # loaded once, when needed
    page.locator(".js-plotly-plot .gtitle", has_text="SMS · SMS Plus").wait_for()
    screenshot(page, "access_drilldown")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"access_customers_SMS_SMS-Plus_{latest}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")  # AG Grid writes a BOM
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["Customer", "Customer ID", "Region", "Active users"]
    assert {int(r["Customer ID"]) for r in rows} == set(sms_plus_customers["organisation_id"])
    assert {r["Customer"] for r in rows} == set(sms_plus_customers["organisation_name"])


def test_png_download_is_named_after_chart_and_filter(page):
    page.goto("/?tab=access&pick=SMS%7CSMS+Lite")
    chart = page.locator(".js-plotly-plot").first
    chart.locator(".gtitle", has_text="SMS · SMS Lite").wait_for()
    chart.hover()
    with page.expect_download() as download_info:
        chart.get_by_role("button", name="Download plot as a PNG").click()
    assert download_info.value.suggested_filename == "access_trend_SMS_SMS-Lite.png"


def test_shared_url_restores_the_view_and_back_works(new_page, app_url, view, screenshot):
    dates = view('select distinct date from "04_PRESENTATION".org_feature_daily order by date')
    chosen = str(dates["date"].iloc[len(dates) // 2].date())
    url = f"/?tab=access&date={chosen}&pick=Video%7COn"
    first = new_page(app_url)
    first.goto(url)
    first.locator("#access-customers-title", has_text="Video · On").wait_for()
    title = first.locator("#access-customers-title").inner_text()
    expected = view(
        "select count(*) as n from \"04_PRESENTATION\".org_feature_daily "
        "where date = ?::date and feature = 'Video' and selected_option = 'On'", [chosen])
    assert f"({int(expected['n'].iloc[0])})" in title

    second = new_page(app_url)
    second.goto(url)
    second.locator("#access-customers-title", has_text="Video · On").wait_for()
    assert second.locator("#access-customers-title").inner_text() == title
    assert second.locator(".dash-dropdown", has_text="Video · On").count() == 1
    screenshot(second, "access_shared_url")

    card(second, "SMS", "SMS Lite").click()
    second.wait_for_url(re.compile(r"pick=SMS%7CSMS\+Lite"))
    second.locator("#access-customers-title", has_text="SMS · SMS Lite").wait_for()
    second.go_back()
    second.locator("#access-customers-title", has_text="Video · On").wait_for()
    assert "pick=Video" in second.url


def test_a_missing_warehouse_shows_words_not_a_blank_page(new_page, serve, tmp_path, screenshot):
    with serve(tmp_path / "missing.duckdb", workers=1) as url:
        page = new_page(url)
        page.goto("/")
        page.locator(".state-error").first.wait_for()
        assert "has not been built yet" in page.locator(".state-error").first.inner_text()
        screenshot(page, "access_no_warehouse")
        page.goto("/?tab=entitlements&customer=1")
        page.locator(".state-error").first.wait_for()
        assert page.locator("nav").inner_text().count("Access") == 1


def test_typed_date_goes_into_the_url(page, view):
    dates = view('select distinct date from "04_PRESENTATION".org_feature_daily order by date')
    chosen = dates["date"].iloc[len(dates) // 3].date()
    page.goto("/?tab=access")
    date_input = page.locator("input.dash-datepicker-input")
    date_input.wait_for()
    date_input.fill(f"{chosen.day} {chosen:%b %Y}")
    date_input.press("Enter")
    page.wait_for_url(re.compile(rf"date={chosen.isoformat()}"))
    page.locator(".notice", has_text=f"Showing {chosen:%a} {chosen.day} {chosen:%b %Y}").wait_for()
