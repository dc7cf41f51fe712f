"""Security headers on every response, and a content security policy Dash really runs
under: scripts from this origin plus the hashes of Dash's own inline scripts, no
'unsafe-inline' and no 'unsafe-eval' for scripts.

The browser test opens every page in chromium under that policy, listens for
`securitypolicyviolation` events and console errors, and checks that charts are
drawn, grid values formatted (dash-ag-grid's function strings) and the clientside
callback registered; a negative control proves the listener sees a violation.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from serving_support import browser_fixtures

from serving.security import content_security_policy

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_every_kind_of_response_carries_the_headers(demo_app):
    client = demo_app.server.test_client()
    responses = {
        "page": client.get("/"),
        "deep link": client.get("/customer/1042?weeks=13"),
        "layout": client.get("/_dash-layout"),
        "dependencies": client.get("/_dash-dependencies"),
        "asset": client.get("/assets/02-app.css"),
        "script": client.get("/assets/print.js"),
        "health": client.get("/healthz"),
        "bad request": client.post("/_dash-update-component", json={}),
        "too large": client.post("/_dash-update-component", data="x" * 300_000,
                                 content_type="application/json"),
    }
    for kind, response in responses.items():
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (kind, name)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], kind


def test_script_policy_allows_exactly_dashs_inline_scripts(demo_app):
    response = demo_app.server.test_client().get("/")
    policy = directives(response.headers["Content-Security-Policy"])
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert policy["object-src"] == ["'none'"] and policy["default-src"] == ["'self'"]
    html = response.get_data(as_text=True)
    without_comments = re.sub(r"<!--.*?-->", "", html, flags=re.DOTALL)
    inline = [m.group(2) for m in re.finditer(r"<script([^>]*)>(.*?)</script>", without_comments, re.DOTALL)
              if "src=" not in m.group(1) and "application/json" not in m.group(1)]
    assert inline, "Dash writes at least its renderer's start line inline"
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts, body[:80]
    assert set(demo_app.csp_hashes()) <= set(scripts)


def test_answers_with_data_are_not_cached_but_assets_are(demo_app):
    client = demo_app.server.test_client()
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/assets/02-app.css").headers.get("Cache-Control", "")


def test_hsts_only_over_https(demo_app):
    client = demo_app.server.test_client()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://dashboard.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_behind_a_trusted_proxy_https_is_recognised(demo_app, make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dashboard.example"}
    assert "Strict-Transport-Security" not in demo_app.server.test_client().get(
        "/healthz", headers=forwarded).headers, "forwarded headers believed without a proxy"
    proxied = make_app(ACCURX_PROXY_HOPS="1")
    response = proxied.server.test_client().get("/healthz", headers=forwarded)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_policy_text():
    policy = content_security_policy(["'sha256-abc'"])
    assert "script-src 'self' 'sha256-abc'" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy


PAGES = [
    ("/", ".js-plotly-plot .scatterlayer .trace"),
    ("/?tab=entitlements&customer={customer}", "#entitlements-body table td.feature"),
    ("/?tab=usage&period=all", ".js-plotly-plot .bars .point path"),
    ("/?tab=unpaid&period=all", ".js-plotly-plot .bars .point path"),
    ("/?tab=churn", ".js-plotly-plot .bars .point path"),
    ("/customer/{customer}", ".js-plotly-plot .bars .point path"),
]
LISTEN = """document.addEventListener('securitypolicyviolation', e =>
  (window.__cspViolations = window.__cspViolations || []).push(
    e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || '')));"""


@pytest.mark.browser
def test_dash_runs_under_the_policy_in_chromium(demo_warehouse, busy_customer, artifacts_dir,
                                                browser):
    problems, drawn = [], {}
    with browser_fixtures.serve_app(demo_warehouse.db_path, workers=1) as base_url:
        context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 900})
        try:
            context.set_default_timeout(30_000)
            context.add_init_script(LISTEN)
            page = context.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            for path, mark in PAGES:
                url = path.format(customer=busy_customer)
                page.goto(url)
                page.wait_for_selector(mark, state="attached")
                page.wait_for_load_state("networkidle")
                drawn[url] = page.locator(".js-plotly-plot .main-svg").count()
                problems += [f"{url}: {v}" for v in page.evaluate("window.__cspViolations || []")]
            page.screenshot(path=str(artifacts_dir / "csp_customer_page.png"))
            # dash-ag-grid's valueFormatter function strings ran (no eval needed): "5 Oct 2026"
            page.goto("/?tab=unpaid&period=all")
            browser_fixtures.scroll_to_grid(page, "#unpaid-customers-body")  # drawn when scrolled near
            last = page.locator("#unpaid-customers-body .ag-row[row-index='0'] [col-id='last_date']")
            formatted = last.text_content()
            clientside = page.evaluate(
                "Object.keys((window.dash_clientside || {})._dashprivate_clientside_funcs || {}).length")
            problems += [f"unpaid: {v}" for v in page.evaluate("window.__cspViolations || []")]

            # Negative control: the listeners do see what the policy refuses.
            seen_before_control = len(problems)
            page.evaluate("""() => { const s = document.createElement('script');
                s.textContent = 'window.__injected = 1'; document.body.appendChild(s);
                try { setTimeout('window.__evaluated = 1', 0); } catch (e) {} }""")
            page.wait_for_timeout(300)
            refused = page.evaluate("window.__cspViolations || []")
            injected = page.evaluate("[window.__injected, window.__evaluated]")
        finally:
            context.close()
    control, problems = problems[seen_before_control:], problems[:seen_before_control]
    assert not problems, "\n".join(problems)
    assert any("Content Security Policy" in message for message in control), control
    assert all(count >= 1 for url, count in drawn.items() if "entitlements" not in url), drawn
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", formatted.strip()), formatted
    assert clientside >= 1, "the print button's clientside callback did not register"
    assert any("script-src" in v for v in refused) and injected == [None, None], refused


@pytest.fixture
def artifacts_dir():
    path = browser_fixtures.ARTIFACTS
    path.mkdir(parents=True, exist_ok=True)
    return path
