"""Churn tab in chromium against gunicorn: changes chart, a heatmap that really draws
with the partial plotly bundle, the cancellations CSV, a shared URL."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

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


def callback_outputs(page) -> list[str]:
    """The output of every Dash callback request the page sends from now on (a list
    that fills as they are sent)."""
    sent = []

    def record(request):
        if urlsplit(request.url).path == "/_dash-update-component" and request.method == "POST":
            sent.append(json.loads(request.post_data)["output"])

    page.on("request", record)
    return sent


def test_heatmap_follows_the_monthly_chart_and_a_feature_change_once(page, view):
    """The heatmaps are asked for after the monthly chart's answer (a store it writes),
    once per load and once per feature change (no repeated "updating"), and show the
    cohorts of the feature chosen."""
    sent = callback_outputs(page)
    page.goto("/?tab=churn")
    page.wait_for_selector("#churn-retention .hm image")
    page.wait_for_load_state("networkidle")
    monthly = [i for i, output in enumerate(sent) if "churn-monthly.figure" in output]
    retention = [i for i, output in enumerate(sent) if "churn-retention.figure" in output]
    assert len(monthly) == 1 and len(retention) == 1 and monthly[0] < retention[0]
    every = view('select distinct feature from "04_PRESENTATION".feature_retention_cohorts')
    assert len(page.evaluate("() => document.querySelector('#churn-retention .js-plotly-plot').data")) == len(every)

    sent.clear()
    page.locator(".controls .dash-dropdown").first.click()
    page.get_by_role("option", name="Video", exact=True).click()
    page.wait_for_url(re.compile(r"feature=Video"))
    page.wait_for_function("() => document.querySelector('#churn-retention .js-plotly-plot')"
                           ".layout.title.text.includes('Video')")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # a loop would keep sending
    assert sum("churn-monthly.figure" in output for output in sent) == 1
    assert sum("churn-retention.figure" in output for output in sent) == 1
    cohorts = view('select distinct cohort_month, is_left_censored from "04_PRESENTATION".feature_retention_cohorts '
                   "where feature = ?", ["Video"])
    expected = {f"{month:%b %Y}" + (" · on before data" if censored else "")
                for month, censored in zip(cohorts["cohort_month"], cohorts["is_left_censored"])}
    assert set(heatmap_labels(page)) == expected
    traces = page.evaluate("() => document.querySelector('#churn-retention .js-plotly-plot').data")
    assert len(traces) == 1  # one feature, one heatmap
