"""The customer page /customer/<id> in chromium, served by gunicorn over the demo warehouse."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest


@pytest.fixture(scope="module")
def customer(view):
    """The organisation with the most entitlement changes (so every section has rows)."""
    busiest = view('select organisation_id, count(*) as n from "04_PRESENTATION".feature_entitlement_changes '
                   "group by organisation_id order by n desc, organisation_id limit 1")
    organisation_id = int(busiest["organisation_id"].iloc[0])
    name = view('select organisation_name from "04_PRESENTATION".organisations where organisation_id = ?',
                [organisation_id])["organisation_name"].iloc[0]
    return organisation_id, name


def test_customer_page_renders_every_section(page, customer, view, screenshot):
    organisation_id, name = customer
    page.goto(f"/customer/{organisation_id}")
    page.locator("h1", has_text=name).wait_for()
    for heading in ("Entitlement timeline", "Usage against customers with the same entitlement",
                    "Users", "Unpaid usage", "Entitlement changes"):
        page.get_by_role("heading", name=heading, exact=True).wait_for()
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4")
    changes = view('select count(*) as n from "04_PRESENTATION".feature_entitlement_changes '
                   "where organisation_id = ?", [organisation_id])["n"].iloc[0]
    assert f"{changes} in all the data" in page.locator(".customer-header").inner_text()
    assert "@" not in page.locator("#customer-body").inner_text()
    screenshot(page, "customer_page")

    with page.expect_download() as download_info:
        page.locator(".page-section", has_text="Entitlement changes").get_by_role(
            "button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"customer_{organisation_id}_changes.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == changes
    assert list(rows[0]) == ["Date", "Feature", "Change", "From", "To", "Cancellation"]


def test_period_is_in_the_url_and_restored(page, customer):
    organisation_id, name = customer
    page.goto(f"/customer/{organisation_id}")
    page.locator("h1", has_text=name).wait_for()
    page.get_by_text("Last 13 weeks").click()
    page.wait_for_url(re.compile(r"weeks=13"))
    page.locator(".customer-header", has_text="since").wait_for()
    page.reload()
    page.locator(".customer-header", has_text="since").wait_for()
    assert page.locator("input[type=radio]:checked").evaluate("e => e.value") == "13"


def test_access_drilldown_links_to_the_customer_page(page, screenshot, show_grid):
    page.goto("/?tab=access&pick=SMS%7CSMS+Lite")
    link = show_grid(page).locator(".customer-link").first
    name = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/customer/\d+$"))
    page.locator("h1", has_text=name).wait_for()
    page.go_back()
    show_grid(page).locator(".customer-link").first.wait_for()


def test_customer_page_prints_without_navigation(page, customer, screenshot, artifacts):
    organisation_id, _ = customer
    page.goto(f"/customer/{organisation_id}")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4")
    page.emulate_media(media="print")
    assert not page.locator(".app-header").is_visible()
    assert not page.get_by_role("button", name="Print / save as PDF").is_visible()
    assert not page.get_by_role("button", name="Download CSV").first.is_visible()
    screenshot(page, "customer_print")
    pdf = page.pdf(path=str(artifacts / "customer.pdf"), format="A4", print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3


@pytest.mark.parametrize("path,message", [
    ("/customer/999999", "There is no customer with id 999999"),
    ("/customer/abc", "is not a customer id"),
])
def test_unknown_customer_is_explained(page, path, message, screenshot):
    page.goto(path)
    alert = page.locator(".state-error")
    alert.wait_for()
    assert message in alert.inner_text()
    if "999999" in path:
        screenshot(page, "customer_unknown")


def test_sections_and_outlook_follow_the_top_once(page, customer):
    """The top of the page (header, timeline) is answered first; the sections and the
    outlook are asked for once it is in, once each; a period change asks for the top and
    the sections again, and leaves the outlook (the same customer) as drawn."""
    organisation_id, name = customer
    sent = []  # (output, HTTP status) of every callback answer
    page.on("response", lambda response: sent.append(
        (json.loads(response.request.post_data)["output"], response.status))
        if urlsplit(response.url).path == "/_dash-update-component" else None)
    page.goto(f"/customer/{organisation_id}")
    page.locator("h1", has_text=name).wait_for()
    page.wait_for_function("() => document.querySelectorAll('#customer-body .js-plotly-plot .main-svg').length >= 4"
                           " && document.querySelector('#customer-outlook-body .js-plotly-plot')")
    page.wait_for_load_state("networkidle")
    outputs = [output for output, _ in sent]
    top = outputs.index("customer-body.children")
    sections = [i for i, output in enumerate(outputs) if output == "customer-sections.children"]
    outlook = [i for i, output in enumerate(outputs) if "customer-outlook-body.children" in output]
    assert len(sections) == 1 and len(outlook) == 1 and top < sections[0] and top < outlook[0]
    page.evaluate("() => { document.querySelector('#customer-outlook-body .js-plotly-plot').dataset.seen = 'yes'; }")

    sent.clear()
    page.get_by_text("Last 13 weeks").click()
    page.wait_for_url(re.compile(r"weeks=13"))
    page.locator("#customer-sections .page-section", has_text="last 13 weeks").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # a loop would keep sending
    answered = [(output, status) for output, status in sent]
    assert [o for o, _ in answered].count("customer-body.children") == 1
    assert [o for o, _ in answered].count("customer-sections.children") == 1
    assert [status for output, status in answered if "customer-outlook-body" in output] == [204]
    assert page.locator("#customer-outlook-body .js-plotly-plot").get_attribute("data-seen") == "yes"
    assert page.locator(".customer-header", has_text="since").count() == 1
