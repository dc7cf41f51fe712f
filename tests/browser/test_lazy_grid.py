"""Grids load dash-ag-grid's script when they are about to be seen (assets/lazy-ag-grid.js):
a grid below the first view shows a placeholder of its own size until the reader
scrolls near it; a grid in the first view loads at once; printing, the customer page's
Print button and Download CSV draw the grids without scrolling."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

VIEWPORT = {"width": 1440, "height": 900}  # the benchmark's (benchmarks/bench_dashboard.py)
NEAR_PX = 300  # assets/lazy-ag-grid.js

BOXES = """() => Array.from(document.querySelectorAll('.grid-block')).map(block => {
    const grid = block.lastElementChild, box = grid.getBoundingClientRect();
    return {id: grid.id, cls: grid.className, top: box.top + window.scrollY, height: box.height,
            width: box.width, busy: grid.getAttribute('aria-busy'),
            rows: grid.querySelectorAll('.ag-center-cols-container .ag-row').length};
})"""


@pytest.fixture
def open_page(browser, app_url):
    """open_page(path) -> (page, urls of dash-ag-grid's scripts requested), at 1440x900."""
    contexts = []

    def open_(path: str, viewport: dict = VIEWPORT):
        context = browser.new_context(viewport=viewport, base_url=app_url, accept_downloads=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        grid_scripts = []
        page.on("request", lambda request: grid_scripts.append(request.url)
                if "/dash_ag_grid/" in request.url else None)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        return page, grid_scripts

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def busy_customer(view):
    """The customer with the most entitlement changes: its page has both grids."""
    busiest = view('select organisation_id, count(*) as n from "04_PRESENTATION".feature_entitlement_changes '
                   "group by organisation_id order by n desc, organisation_id limit 1")
    return int(busiest["organisation_id"].iloc[0])


def _placeholders(page) -> list[dict]:
    page.locator(".lazy-grid-placeholder").first.wait_for()
    boxes = page.evaluate(BOXES)
    assert boxes and all(box["cls"] == "lazy-grid-placeholder" for box in boxes), boxes
    return boxes


def _drawn(page, count: int) -> list[dict]:
    page.wait_for_function(
        """n => document.querySelectorAll('.lazy-grid-placeholder').length === 0 &&
               document.querySelectorAll('.data-grid').length === n &&
               Array.from(document.querySelectorAll('.data-grid'))
                    .every(g => g.querySelector('.ag-center-cols-container .ag-row'))""", arg=count)
    return page.evaluate(BOXES)


@pytest.mark.parametrize("path", ["/?tab=unpaid", "customer"])
def test_grids_below_the_first_view_load_when_scrolled_near_without_moving(open_page, busy_customer, path,
                                                                          screenshot):
    page, grid_scripts = open_page(f"/customer/{busy_customer}" if path == "customer" else path)
    before = _placeholders(page)
    assert min(box["top"] for box in before) > VIEWPORT["height"] + NEAR_PX, before  # below the fold
    assert grid_scripts == []  # nothing loaded for them yet
    assert all(box["busy"] == "true" and box["height"] > 100 for box in before), before
    assert page.evaluate("() => window.scrollY") == 0

    page.locator(".lazy-grid-placeholder").first.scroll_into_view_if_needed()
    after = _drawn(page, len(before))
    assert len([url for url in grid_scripts if "dash_ag_grid.v" in url]) == 1  # once for every grid
    for placeholder, grid in zip(before, after, strict=True):
        # The grid takes the placeholder's place and size: nothing below it moves.
        assert grid["id"] == placeholder["id"]
        assert grid["top"] == pytest.approx(placeholder["top"], abs=1), (placeholder, grid)
        assert grid["height"] == pytest.approx(placeholder["height"], abs=1), (placeholder, grid)
        assert grid["width"] == pytest.approx(placeholder["width"], abs=1), (placeholder, grid)
    screenshot(page, f"lazy_grid_{'customer' if path == 'customer' else 'unpaid'}_drawn")


def test_a_grid_in_the_first_view_loads_at_once(open_page):
    # Outlook's ranked list is below its forecast; a tall (portrait) screen shows it at once.
    tall = {"width": 1440, "height": 3000}
    page, grid_scripts = open_page("/?tab=outlook", viewport=tall)
    (grid,) = _drawn(page, 1)
    assert grid["top"] < tall["height"]
    assert page.evaluate("() => window.scrollY") == 0  # nobody scrolled
    assert len([url for url in grid_scripts if "dash_ag_grid.v" in url]) == 1


def test_printing_draws_every_grid_without_scrolling(open_page, busy_customer, artifacts, screenshot):
    page, grid_scripts = open_page(f"/customer/{busy_customer}")
    count = len(_placeholders(page))
    assert grid_scripts == []
    page.emulate_media(media="print")  # the print media query starts the load
    _drawn(page, count)
    assert page.evaluate("() => window.scrollY") == 0
    screenshot(page, "lazy_grid_customer_print")
    pdf = page.pdf(path=str(artifacts / "customer_grids.pdf"), format="A4", print_background=True)
    assert b"%PDF" in pdf[:8]


def test_print_button_waits_for_every_grid(open_page, busy_customer):
    page, _ = open_page(f"/customer/{busy_customer}")
    count = len(_placeholders(page))
    page.evaluate("""() => { window.print = () => { window.__printed = {
        placeholders: document.querySelectorAll('.lazy-grid-placeholder').length,
        grids_with_rows: Array.from(document.querySelectorAll('.data-grid'))
            .filter(g => g.querySelector('.ag-center-cols-container .ag-row')).length}; }; }""")
    page.get_by_role("button", name="Print / save as PDF").click()
    page.wait_for_function("() => window.__printed")
    assert page.evaluate("() => window.__printed") == {"placeholders": 0, "grids_with_rows": count}


def test_csv_of_a_grid_not_yet_drawn(open_page, busy_customer, view):
    """Download CSV asked of a grid still a placeholder (the click sent without scrolling)
    loads the grid and downloads every row."""
    page, _ = open_page(f"/customer/{busy_customer}")
    _placeholders(page)
    changes = view('select count(*) as n from "04_PRESENTATION".feature_entitlement_changes '
                   "where organisation_id = ?", [busy_customer])["n"].iloc[0]
    button = page.locator(".page-section", has_text="Entitlement changes").get_by_role("button", name="Download CSV")
    with page.expect_download() as download_info:
        button.dispatch_event("click")
    download = download_info.value
    assert download.suggested_filename == f"customer_{busy_customer}_changes.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == changes
    assert page.evaluate("() => window.scrollY") == 0
