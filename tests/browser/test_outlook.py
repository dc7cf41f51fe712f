"""Outlook tab in chromium against gunicorn over the demo warehouse: the ranked list is
the churn_risk view (read directly), a click opens the customer's outlook, the CSV holds
exactly the rows shown, the forecast chart draws its bands, filters live in the URL."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

RISK_SQL = """
select r.organisation_id, o.organisation_name, r.feature, r.risk_score, r.risk_band, r.reasons
from "04_PRESENTATION".churn_risk as r
join "04_PRESENTATION".organisations as o using (organisation_id)
"""


def read_csv(download) -> list[dict]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")  # AG Grid writes a BOM
    return list(csv.DictReader(io.StringIO(text)))


def shown_rows(page) -> list[dict]:
    """The grid's rendered rows in order: customer id (from its link), feature, score."""
    return page.evaluate("""() => [...document.querySelectorAll('#outlook-risk-body .ag-center-cols-container .ag-row')]
        .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))
        .map(row => ({
            id: Number(row.querySelector('a[href^="/customer/"]').getAttribute('href').split('/').pop()),
            feature: row.querySelector('[col-id="feature"]').innerText.trim(),
            score: Number(row.querySelector('[col-id="risk_score"]').innerText.trim()),
        }))""")


def call_first_rows(page) -> list[dict]:
    """The first view's short list: customer id (from its link), feature, score."""
    return page.evaluate("""() => [...document.querySelectorAll('#outlook-call-first tbody tr')]
        .map(row => ({
            id: Number(row.querySelector('a[href^="/customer/"]').getAttribute('href').split('/').pop()),
            feature: row.cells[2].innerText.trim(),
            score: Number(row.cells[3].innerText.trim()),
        }))""")


def test_first_view_lists_the_highest_risks_without_loading_the_grid(page, view, screenshot):
    risk = view(RISK_SQL)
    grid_scripts = []
    page.on("request", lambda r: grid_scripts.append(r.url) if "/dash_ag_grid/" in r.url else None)
    page.goto("/?tab=outlook")
    page.locator("#outlook-call-first tbody tr").first.wait_for()
    page.wait_for_function("() => document.querySelector('#outlook-forecast .main-svg')")
    page.wait_for_load_state("networkidle")
    assert grid_scripts == []  # the full list is further down: its script waits for a scroll

    top = call_first_rows(page)
    expected = risk.sort_values("risk_score", ascending=False)["risk_score"].astype(int).tolist()[:5]
    assert [row["score"] for row in top] == expected
    by_pair = risk.set_index(["organisation_id", "feature"])["risk_score"]
    assert all(by_pair[(row["id"], row["feature"])] == row["score"] for row in top)
    first = risk[(risk["organisation_id"] == top[0]["id"]) & (risk["feature"] == top[0]["feature"])].iloc[0]
    assert first["reasons"] in page.locator("#outlook-call-first tbody tr").first.inner_text()
    screenshot(page, "outlook_first_view")

    # The link under the short list takes the reader to the whole list, which then loads.
    page.locator("#outlook-call-first").get_by_role("link", name=re.compile(f"{len(risk):,} pairs")).click()
    page.locator("#outlook-risk-body .ag-row").first.wait_for()
    assert len(shown_rows(page)) >= 5
    assert len([url for url in grid_scripts if "dash_ag_grid.v" in url]) == 1

    page.locator("#outlook-call-first a[href^='/customer/']").first.click()
    page.wait_for_url(re.compile(rf"/customer/{top[0]['id']}$"))
    page.locator("#customer-outlook-body table.outlook-risk").wait_for()


def test_ranked_list_is_the_churn_risk_view_and_opens_the_customer(page, view, screenshot, show_grid):
    risk = view(RISK_SQL)
    page.goto("/?tab=outlook")
    show_grid(page, "#outlook-risk-body")
    page.wait_for_function(  # the forecast bands are drawn (some with a real height)
        "() => [...document.querySelectorAll('#outlook-forecast .js-fill')]"
        ".some(p => p.getBBox().height > 5)")
    assert f"{len(risk):,} customer-feature pairs" in page.locator("#outlook-risk-summary").inner_text()

    shown = shown_rows(page)
    assert len(shown) >= 5
    scores = [row["score"] for row in shown]
    assert scores == sorted(scores, reverse=True)
    top = risk.sort_values("risk_score", ascending=False)["risk_score"].tolist()
    assert scores == top[:len(scores)]
    by_pair = risk.set_index(["organisation_id", "feature"])["risk_score"]
    assert all(by_pair[(row["id"], row["feature"])] == row["score"] for row in shown)

    summary = page.locator("#outlook-forecast-summary").inner_text()
    assert "typical weekly error +/-" in summary and "better than repeating last week" in summary
    backtest = view('select * from "04_PRESENTATION".churn_risk_backtest')
    trust = page.locator("#outlook-trust-body").inner_text()
    if backtest.empty:  # the small test data is shorter than one back-test window
        assert "too short to back-test" in trust
    else:
        pooled = backtest[backtest["as_of_date"].isna()].iloc[0]
        assert f"{pooled['auc']:.2f}" in trust and f"{int(pooled['cancellations']):,}" in trust
    screenshot(page, "outlook_overview")

    with page.expect_download() as info:
        page.locator("#outlook-risk-body").get_by_role("button", name="Download CSV").click()
    assert info.value.suggested_filename == "outlook_risk_all-features.csv"
    rows = read_csv(info.value)
    assert len(rows) == len(risk)
    assert list(rows[0])[:5] == ["Rank", "Customer", "Feature", "Risk score (0-100)", "Band"]
    exported = sorted((r["Customer"], r["Feature"], int(r["Risk score (0-100)"]), r["Reasons"]) for r in rows)
    expected = sorted(zip(risk["organisation_name"], risk["feature"], risk["risk_score"].astype(int),
                          risk["reasons"].fillna("")))
    assert exported == expected

    first = shown[0]
    page.locator("#outlook-risk-body .ag-row[row-index='0'] a[href^='/customer/']").click()
    page.wait_for_url(re.compile(rf"/customer/{first['id']}$"))
    outlook = page.locator("#customer-outlook-body")
    outlook.locator("table.outlook-risk").wait_for()
    mine = risk[risk["organisation_id"] == first["id"]]
    text = outlook.inner_text()
    for reasons in mine["reasons"].dropna():
        assert reasons in text
    page.wait_for_function("() => document.querySelector('#customer-outlook-forecast .main-svg')")
    outlook.scroll_into_view_if_needed()
    screenshot(page, "outlook_customer")


def test_filters_are_in_the_url_and_the_csv_holds_exactly_those_rows(page, view, screenshot, show_grid):
    risk = view(RISK_SQL)
    wanted = risk[(risk["feature"] == "SMS") & (risk["risk_band"] != "low")]
    band = "high" if (wanted["risk_band"] == "high").any() else "medium"
    wanted = wanted[wanted["risk_band"] == band]
    page.goto(f"/?tab=outlook&feature=SMS&band={band}")
    show_grid(page, "#outlook-risk-body")
    assert f"{len(wanted):,} customer-feature pairs" in page.locator("#outlook-risk-summary").inner_text()
    with page.expect_download() as info:
        page.locator("#outlook-risk-body").get_by_role("button", name="Download CSV").click()
    assert info.value.suggested_filename == f"outlook_risk_SMS_{band}.csv"
    rows = read_csv(info.value)
    assert sorted((r["Customer"], int(r["Risk score (0-100)"])) for r in rows) == sorted(
        zip(wanted["organisation_name"], wanted["risk_score"].astype(int)))
    assert {r["Band"] for r in rows} == {band.capitalize()}
    traces = page.evaluate("() => document.querySelector('#outlook-forecast .js-plotly-plot').data.length")
    assert traces == 6  # one feature: actual, two bands of two edges each, forecast

    page.get_by_role("group", name="Risk band").get_by_role("button").click()
    page.get_by_role("option", name="Low").click()
    page.wait_for_url(re.compile(r"band=low"))
    low = risk[(risk["feature"] == "SMS") & (risk["risk_band"] == "low")]
    page.locator("#outlook-risk-summary", has_text=f"{len(low):,} customer-feature pairs").wait_for()
    screenshot(page, "outlook_sms_low")


def test_unknown_band_is_explained(page):
    page.goto("/?tab=outlook&band=extreme")
    page.wait_for_selector("#outlook-risk-summary .state-error")
    assert "not a risk band" in page.locator("#outlook-risk-summary").inner_text()


def test_customer_outlook_prints(page, view, screenshot, artifacts):
    risk = view(RISK_SQL).sort_values(["risk_score", "organisation_id"], ascending=[False, True])
    organisation_id = int(risk["organisation_id"].iloc[0])
    page.goto(f"/customer/{organisation_id}")
    page.wait_for_function("() => document.querySelector('#customer-outlook-forecast .main-svg')")
    page.emulate_media(media="print")
    outlook = page.locator("#customer-outlook-body")
    assert outlook.get_by_role("heading", name="Outlook").is_visible()
    assert outlook.locator("table.outlook-risk").is_visible()
    assert risk["reasons"].iloc[0] in outlook.inner_text()
    assert not page.locator("#customer-outlook-forecast .modebar-container").is_visible()
    pdf = page.pdf(path=str(artifacts / "customer_outlook.pdf"), format="A4", print_background=True)
    assert b"%PDF" in pdf[:8]
    outlook.scroll_into_view_if_needed()
    screenshot(page, "outlook_customer_print")
