"""Churn tab in chromium against gunicorn: changes chart, a heatmap that really draws
with the partial plotly bundle, the cancellations CSV, a shared URL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def read_csv(download) -> list[list[str]]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")  # AG Grid writes a BOM
    return list(csv.reader(io.StringIO(text)))


def heatmap_labels(page) -> list[str]:
    return page.evaluate(
        "() => document.querySelector('#churn-retention .js-plotly-plot').data"
        ".filter(t => t.type === 'heatmap').flatMap(t => t.y)")


def test_churn_loads_with_real_numbers_and_a_drawn_heatmap(page, screenshot, demo_warehouse, show_grid):
    manifest = demo_warehouse.manifest
    page.goto("/?tab=churn")
    # Some months have no change of a kind: their bars are drawn with zero height.
    page.wait_for_selector("#churn-monthly .bars .point path >> visible=true")
    page.wait_for_selector("#churn-retention .hm image")
    show_grid(page, "#churn-cancellations-body")
    summary = page.locator("#churn-summary").inner_text()
    assert f"Confirmed cancellations\n{manifest['cancellations_by_confirmation']['confirmed']}" in summary
    assert f"Provisional cancellations\n{manifest['cancellations_by_confirmation']['provisional']}" in summary
    box = page.locator("#churn-retention .hm image").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 20  # the heatmap is drawn, not empty axes
    assert any(label.endswith("on before data") for label in heatmap_labels(page))
    screenshot(page, "churn_overview")

    with page.expect_download() as info:
        page.locator("#churn-cancellations-body").get_by_role("button", name="Download CSV").click()
    assert info.value.suggested_filename == "churn_cancellations_all-features.csv"
    rows = read_csv(info.value)
    assert len(rows) == 1 + manifest["entitlement_changes_by_type"]["cancellation"]
    assert rows[0][:4] == ["Customer", "Region", "Feature", "Cancelled on"]
    status = rows[0].index("Status")
    assert sum(r[status] == "Provisional" for r in rows[1:]) == manifest["cancellations_by_confirmation"]["provisional"]


def test_shared_url_restores_feature_and_cohort_view(page, screenshot, demo_warehouse, show_grid):
    page.goto("/?tab=churn&feature=Video&cohorts=new")
    page.wait_for_selector("#churn-retention .hm image")
    show_grid(page, "#churn-dormant-body")
    labels = heatmap_labels(page)
    assert labels and not any(label.endswith("on before data") for label in labels)
    assert "Only cohorts that started in the data" in page.locator(".controls").inner_text()
    dormant = page.locator("#churn-dormant-body").inner_text()
    for organisation_id in demo_warehouse.manifest["notes"]["planted_never_users"]["Video"]:
        assert page.locator(f"#churn-dormant-body a[href='/customer/{organisation_id}']").count() == 1
    assert "never used in the data" in dormant
    page.locator("#churn-dormant-body").scroll_into_view_if_needed()
    screenshot(page, "churn_video_new_cohorts")


def test_unknown_feature_is_explained(page):
    page.goto("/?tab=churn&feature=Fax")
    page.wait_for_selector("#churn-summary .state-error")
    assert "no feature “Fax”" in page.locator("#churn-summary").inner_text()
