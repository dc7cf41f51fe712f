"""Tab 2 Entitlements in chromium, served by gunicorn over the demo warehouse."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@pytest.fixture(scope="module")
def customer(view):
    """The organisation known on the most days, its name and its known days."""
    counts = view('select organisation_id, count(distinct date) as n from "04_PRESENTATION".org_feature_daily '
                  "group by organisation_id order by n desc, organisation_id limit 1")
    organisation_id = int(counts["organisation_id"].iloc[0])
    name = view('select organisation_name from "04_PRESENTATION".organisations where organisation_id = ?',
                [organisation_id])["organisation_name"].iloc[0]
    days = view('select date, feature, selected_option from "04_PRESENTATION".org_feature_daily '
                "where organisation_id = ?", [organisation_id])
    days["date"] = pd.to_datetime(days["date"]).dt.date
    return organisation_id, name, days


def week_input(page):
    return page.locator('input[list="entitlements-week-options"]')


def unknown_cells(page) -> int:
    return page.locator(".week-grid td.unknown").count()


def test_pick_customer_and_week_shows_the_grid(page, customer, screenshot):
    organisation_id, _, days = customer
    page.goto("/?tab=entitlements")
    page.locator(".dash-dropdown").first.click()
    page.keyboard.type(str(organisation_id))
    page.get_by_role("option", name=re.compile(re.escape(f"({organisation_id})"))).click()
    page.wait_for_url(re.compile(rf"customer={organisation_id}"))
    page.locator(".week-grid").wait_for()
    assert "the latest week in the data" in page.locator("#entitlements-body").inner_text()

    monday = max(days["date"]) - dt.timedelta(days=max(days["date"]).weekday() + 21)
    week_input(page).fill(iso_week(monday))
    week_input(page).press("Enter")
    page.wait_for_url(re.compile(rf"week={iso_week(monday)}"))
    page.locator("#entitlements-body", has_text=f"Week {iso_week(monday)}").wait_for()
    in_week = days[(days["date"] >= monday) & (days["date"] <= monday + dt.timedelta(days=6))]
    features = days["feature"].nunique()
    assert page.locator(".week-grid tbody tr").count() == features
    assert unknown_cells(page) == 7 * features - len(in_week)
    for row in in_week.itertuples():
        cell = page.locator(".week-grid tbody tr", has_text=row.feature).locator("td").nth(1 + row.date.weekday())
        assert row.selected_option in cell.inner_text()
    screenshot(page, "entitlements_week")

    page.get_by_title("Previous week").click()
    previous = iso_week(monday - dt.timedelta(days=7))
    page.wait_for_url(re.compile(rf"week={previous}"))
    page.locator("#entitlements-body", has_text=f"Week {previous}").wait_for()
    page.go_back()
    page.locator("#entitlements-body", has_text=f"Week {iso_week(monday)}").wait_for()


def test_shared_url_restores_the_same_grid(new_page, app_url, customer):
    organisation_id, name, days = customer
    monday = max(days["date"]) - dt.timedelta(days=max(days["date"]).weekday() + 7)
    url = f"/?tab=entitlements&customer={organisation_id}&week={iso_week(monday)}"
    texts = []
    for _ in range(2):
        page = new_page(app_url)
        page.goto(url)
        page.locator(".week-grid").wait_for()
        texts.append(page.locator(".week-grid").inner_text())
        assert name in page.locator("#entitlements-body").inner_text()
    assert texts[0] == texts[1]


@pytest.mark.parametrize("query,message", [
    ("customer=999999", "There is no customer with id 999999"),
    ("customer={id}&week=2026-W99", "does not exist"),
    ("customer={id}&week=2019-W10", "is outside the data"),
    ("customer={id}&week=last%20week", "is not an ISO week"),
])
def test_bad_inputs_are_explained(page, customer, query, message, screenshot):
    page.goto("/?tab=entitlements&" + query.format(id=customer[0]))
    alert = page.locator(".state-error")
    alert.wait_for()
    assert message in alert.inner_text()
    if "W99" in query:
        screenshot(page, "entitlements_bad_week")


def test_customer_page_link(page, customer):
    organisation_id, name, _ = customer
    page.goto(f"/?tab=entitlements&customer={organisation_id}")
    page.get_by_role("link", name="Open the customer page →").click()
    page.wait_for_url(re.compile(rf"/customer/{organisation_id}$"))
    page.locator("h1", has_text=name).wait_for()
