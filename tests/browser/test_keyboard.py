"""Every control reachable and usable with the keyboard alone (Playwright's keyboard:
Tab, Enter, Space, arrows, typing), with a visible focus ring."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from components.layout import TAB_MODULES

MAX_TABS = 60  # more Tab presses than any page needs to reach its controls


def tab_to(page, target, limit: int = MAX_TABS) -> None:
    """Press Tab until keyboard focus is on (or inside) `target`; fail after `limit`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement || e.contains(document.activeElement)"):
            return
    active = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    pytest.fail(f"{target} not reached in {limit} Tab presses; focus is on {active}")


def focus_ring(page) -> dict:
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
    }""")


def assert_visible_focus(page) -> None:
    ring = focus_ring(page)
    assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus ring: {ring}"


def ready_for_keys(page) -> None:
    """Wait until an opened dropdown has put focus on an option and painted twice.

    Dash's dropdown moves focus into its list on the frames after it opens; a key
    pressed in between (sooner than a person could) is lost."""
    page.wait_for_function("() => document.activeElement.closest('[role=option]') !== null")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def settled(page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator("main h1").first.wait_for()


def test_every_tab_is_reached_and_opened_with_the_keyboard(page):
    settled(page, "/?tab=access")
    for module in TAB_MODULES:
        link = page.locator("nav").get_by_role("link", name=re.compile(rf"^{module.LABEL}\b"))
        tab_to(page, link, limit=10)
        assert_visible_focus(page)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"tab={module.KEY}"))
        page.locator("main h1", has_text=module.QUESTION).wait_for()
        current = page.locator("nav").get_by_role("link", name=re.compile(r"\(current page\)$"))
        assert current.inner_text().startswith(module.LABEL) and current.count() == 1


def test_a_dropdown_opens_and_picks_with_the_keyboard(page):
    settled(page, "/?tab=usage")
    group = page.get_by_role("group", name="Measure")
    button = group.locator("button.dash-dropdown")
    tab_to(page, group)
    # Dash's focus target hands focus to the dropdown's button at once.
    assert button.evaluate("e => e === document.activeElement")
    assert_visible_focus(page)
    shown = button.inner_text().strip()
    page.keyboard.press("Enter")
    options = page.get_by_role("option")
    options.first.wait_for()
    labels = [text.strip() for text in options.all_inner_texts()]
    assert shown in labels and len(labels) > 1
    target = labels[(labels.index(shown) + 1) % len(labels)]
    ready_for_keys(page)
    page.keyboard.press("ArrowDown")
    expect(page.locator("[role=option]:focus-within")).to_have_text(target)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"metric="))
    expect(button).to_have_text(target)
    assert options.count() == 0
    assert button.evaluate("e => e === document.activeElement"), "focus left the dropdown"


def radio_focus_ring(page) -> dict:
    """The outline of the focused radio's visible part: the button face of a preset
    (its input is hidden, Bootstrap's .btn-check) or the radio itself."""
    return page.evaluate("""() => {
        const input = document.activeElement;
        const shown = input.classList.contains('btn-check')
            ? input.closest('label').querySelector('.btn') : input;
        const style = getComputedStyle(shown);
        return {style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
    }""")


def enter_radio_group(page, group) -> None:
    """Tab into a radio group: one Tab stop, on its checked radio (native radio groups)."""
    tab_to(page, group)
    assert page.evaluate("() => document.activeElement.type === 'radio' && "
                         "document.activeElement.checked"), "Tab did not land on the checked radio"
    ring = radio_focus_ring(page)
    assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus ring: {ring}"


def test_a_period_preset_is_chosen_with_the_keyboard(page):
    settled(page, "/?tab=unpaid")
    first, preset = page.get_by_role("radio", name="Last 4 weeks"), page.get_by_role("radio", name="Last quarter")
    assert first.is_checked()
    enter_radio_group(page, page.get_by_role("group", name="Period"))
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"period=last-quarter"))
    assert preset.is_checked() and not first.is_checked()
    assert preset.evaluate("e => e === document.activeElement")


def test_the_date_is_typed_or_picked_in_the_calendar_with_the_keyboard(page, view):
    days = [d.date() for d in view(
        'select distinct date from "04_PRESENTATION".org_feature_daily order by date')["date"]]
    # A day whose day before is also an export day (the calendar greys out the others).
    chosen = next(d for d in days[len(days) // 2:] if d - dt.timedelta(days=1) in days)
    settled(page, "/?tab=access")
    date_input = page.get_by_role("group", name="As of").locator("input")
    tab_to(page, date_input)
    page.keyboard.type(f"{chosen.day} {chosen:%b %Y}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"date={chosen.isoformat()}"))

    # Enter also opened the calendar on that day: arrows move the day, Enter picks it.
    page.locator("[role=dialog] td:focus").wait_for()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    previous = chosen - dt.timedelta(days=1)
    page.wait_for_url(re.compile(rf"date={previous.isoformat()}"))


def test_the_customer_search_works_with_the_keyboard(page, view):
    customer = view('select organisation_id, organisation_name from "04_PRESENTATION".organisations '
                    "order by organisation_id limit 1").iloc[0]
    settled(page, "/?tab=entitlements")
    group = page.get_by_role("group", name="Customer")
    tab_to(page, group)
    name = str(customer["organisation_name"])
    # The first key opens the dropdown, whose search box takes focus a frame later: keys
    # typed in between can be lost, so the rest is typed once the box has focus.
    page.keyboard.type(name[0])
    page.wait_for_function("() => document.activeElement.matches('input.dash-dropdown-search')")
    page.keyboard.type(name[1:])
    expect(page.locator("input.dash-dropdown-search")).to_have_value(name)
    option = page.get_by_role("option", name=re.compile(re.escape(str(customer["organisation_name"]))))
    option.first.wait_for(timeout=60_000)  # the server's search answers; slow on a busy CI machine
    page.keyboard.press("ArrowDown")  # from the search box into the list
    page.wait_for_function("() => document.activeElement.closest('[role=option]') !== null")
    focused = page.evaluate("() => document.activeElement.value")
    assert focused.isdigit(), f"focus is on {focused!r}, not an organisation id"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"customer={focused}\b"))
    page.locator("main h3", has_text=str(page.evaluate(
        "() => document.querySelector('.dash-dropdown').innerText")).split(" (")[0]).first.wait_for()


def test_the_week_buttons_are_named_and_usable_with_the_keyboard(page, view):
    customer = int(view('select organisation_id from "04_PRESENTATION".organisations '
                        "order by organisation_id limit 1").iloc[0, 0])
    settled(page, f"/?tab=entitlements&customer={customer}")
    previous = page.get_by_role("button", name="Previous week", exact=True)
    tab_to(page, previous)
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"week=\d{4}-W\d{2}"))


def test_cards_and_both_exports_work_with_the_keyboard(page):
    settled(page, "/?tab=access")
    card = page.locator("button.kpi-card", has_text="SMS · SMS Lite")
    tab_to(page, card)
    assert_visible_focus(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"pick=SMS%7CSMS\+Lite"))
    # The customer list is below the fold: its grid is drawn when the keyboard's focus
    # brings its Download CSV button into view (assets/lazy-ag-grid.js).
    page.locator(".data-grid, .lazy-grid-placeholder").first.wait_for(state="attached")
    page.locator(".js-plotly-plot .gtitle", has_text="SMS · SMS Lite").wait_for()

    png = page.get_by_role("button", name="Download plot as a PNG")
    tab_to(page, png)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".png")

    csv_button = page.get_by_role("button", name="Download CSV")
    tab_to(page, csv_button)
    assert_visible_focus(page)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith(".csv")
    page.locator(".data-grid .ag-row").first.wait_for()  # the focus brought the grid near: drawn


def test_the_customer_page_controls_work_with_the_keyboard(page, view):
    customer = int(view('select organisation_id from "04_PRESENTATION".organisations '
                        "order by organisation_id limit 1").iloc[0, 0])
    settled(page, f"/customer/{customer}")
    weeks, every = page.get_by_role("radio", name="Last 13 weeks"), page.get_by_role("radio", name="All data")
    assert every.is_checked()
    enter_radio_group(page, page.get_by_role("group", name="Period"))
    page.keyboard.press("ArrowRight")  # from the last radio of the group round to the first
    page.wait_for_url(re.compile(r"weeks=13"))
    assert weeks.is_checked() and not every.is_checked()
    tab_to(page, page.get_by_role("button", name="Print / save as PDF"))
    assert_visible_focus(page)
