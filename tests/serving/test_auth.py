"""OIDC sign-in in front of every route: the real authorization-code flow against
oidc-provider-mock on 127.0.0.1, the app served by gunicorn (two workers sharing
SECRET_KEY), a `requests.Session` as the browser.

Signed out: pages redirect to /login, Dash's endpoints, scripts and assets get 401.
Signed in: pages and real callbacks work. Outside the allowed group: 403. The health
probes stay public. After sign-in the user is back on the page asked for, or on the
`/login?next=` path, never on another site. In chromium, a session that ends while
the page is open (expired, or replaced by a user outside the allowed groups) shows a
banner saying why, and signing in again returns to the same view. In-process tests
cover the failure paths (forged state, issuer down, expired or forged session,
half-done configuration).
"""

from __future__ import annotations

import contextlib
import threading
import time
from urllib.parse import quote, urljoin, urlparse

import flask
import pytest
import requests
import werkzeug.serving
from serving_support import (
    ALLOWED_DOMAIN,
    ALLOWED_GROUP,
    ALLOWED_TENANT,
    browser_fixtures,
    build_callback_body,
    callback_key,
    signed_in_user,
)

from config import ConfigError, load_settings
from serving.auth import MAX_NEXT_LENGTH, same_site_path

SECRET = "test-secret-key-of-the-dashboard-0123456789"


def sign_in_env(issuer: str, **extra) -> dict[str, str]:
    return {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "accurx-dashboard",
            "OIDC_CLIENT_SECRET": "client-secret", "SECRET_KEY": SECRET,
            "OIDC_ALLOWED_GROUPS": ALLOWED_GROUP, **extra}


@pytest.fixture(scope="module")
def signed_app_url(serve_app, demo_warehouse, oidc_provider):
    with serve_app(demo_warehouse.db_path, env=sign_in_env(oidc_provider)) as url:
        yield url


def sign_in(base_url: str, issuer: str, sub: str, start: str = "/",
            browser: requests.Session | None = None, refused: bool = False) -> tuple[requests.Session, str]:
    """Run the authorization-code flow as a browser would, from the page `start` (or
    from `/login?...` itself); returns the session and the address the app sent the
    user back to (with `refused`: the text of the app's 403 at the callback)."""
    browser = browser or requests.Session()
    login_path = start
    if not start.startswith("/login"):
        first = browser.get(base_url + start, allow_redirects=False)
        assert first.status_code == 302 and first.headers["Location"] == "/login"
        login_path = "/login"
    login = browser.get(base_url + login_path, allow_redirects=False)
    assert login.status_code == 302
    authorize = login.headers["Location"]
    assert authorize.startswith(issuer + "/oauth2/authorize?")
    form = browser.get(authorize)
    assert form.status_code == 200 and "sub" in form.text
    consent = browser.post(authorize, data={"sub": sub}, allow_redirects=False)
    assert consent.status_code == 302
    back = consent.headers["Location"]
    assert back.startswith(base_url + "/auth/callback?") and "code=" in back
    done = browser.get(back, allow_redirects=False)
    if refused:
        assert done.status_code == 403, done.text
        return browser, done.text
    assert done.status_code == 302, done.text
    return browser, done.headers["Location"]


def leaderboard_body(app) -> dict:
    key = callback_key(app, "show_leaderboard")
    return build_callback_body(app, key, ["all", None, None, None, None])


def test_signed_out_pages_redirect_and_everything_else_gets_401(signed_app_url):
    anonymous = requests.Session()
    for path in ("/", "/?tab=usage&period=all", "/customer/1042", "/nowhere"):
        response = anonymous.get(signed_app_url + path, allow_redirects=False)
        assert response.status_code == 302 and response.headers["Location"] == "/login", path
        assert "Content-Security-Policy" in response.headers
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/02-app.css",
                 "/assets/plotly-dashboard-4.1.1.min.js", "/_favicon.ico",
                 "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"):
        response = anonymous.get(signed_app_url + path, allow_redirects=False)
        assert response.status_code == 401, path
        assert response.json() == {"error": "Sign-in required"}
    callback = anonymous.post(signed_app_url + "/_dash-update-component",
                              json={"output": "page.children"}, allow_redirects=False)
    assert callback.status_code == 401
    assert anonymous.get(signed_app_url + "/healthz").json() == {"status": "ok"}
    assert anonymous.get(signed_app_url + "/readyz").status_code == 200


def test_signed_in_user_gets_pages_scripts_and_real_callbacks(signed_app_url, oidc_provider, demo_app):
    browser, landing = sign_in(signed_app_url, oidc_provider, "alice")
    assert landing == "/"
    page = browser.get(signed_app_url + "/")
    assert page.status_code == 200 and "_dash-renderer" in page.text
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/02-app.css"):
        assert browser.get(signed_app_url + path).status_code == 200, path

    render = build_callback_body(demo_app, callback_key(demo_app, "render_page"),
                                 ["/", "?tab=usage&period=all", None])
    rendered = browser.post(signed_app_url + "/_dash-update-component", json=render)
    assert rendered.status_code == 200 and "usage-chart" in rendered.text
    # Several requests, so both gunicorn workers serve this session.
    for _ in range(4):
        answer = browser.post(signed_app_url + "/_dash-update-component", json=leaderboard_body(demo_app))
        assert answer.status_code == 200
    assert '"rowData"' in answer.text and "organisation_name" in answer.text


def test_session_cookie_holds_no_token_name_or_email(signed_app_url, oidc_provider):
    browser, _ = sign_in(signed_app_url, oidc_provider, "alice")
    cookie = next(c for c in browser.cookies if c.name == "accurx_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    signer = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(_flask_with_secret())
    session = signer.loads(cookie.value)
    assert set(session) <= {"user", "_permanent"}
    assert set(session["user"]) == {"sub", "groups", "at", "checked", "sid"}
    assert session["user"]["sub"] == "alice" and session["user"]["groups"] == [ALLOWED_GROUP]
    assert "example.org" not in str(session) and "Alice" not in str(session)


def _flask_with_secret() -> flask.Flask:
    reader = flask.Flask("session-reader")
    reader.secret_key = SECRET
    return reader


def test_the_page_asked_for_is_the_page_after_sign_in(signed_app_url, oidc_provider):
    _, landing = sign_in(signed_app_url, oidc_provider, "alice", start="/?tab=churn&feature=SMS")
    assert landing == "/?tab=churn&feature=SMS"
    _, landing = sign_in(signed_app_url, oidc_provider, "alice", start="/customer/1042")
    assert landing == "/customer/1042"


def test_no_redirect_to_another_site_after_sign_in(signed_app_url, oidc_provider):
    _, landing = sign_in(signed_app_url, oidc_provider, "alice", start="//evil.example/x")
    assert urlparse(urljoin(signed_app_url, landing)).netloc == urlparse(signed_app_url).netloc


@pytest.mark.parametrize("target", [
    "/", "/?tab=usage&period=all", "/customer/1042?weeks=13", "/?tab=churn&feature=SMS%20Plus",
])
def test_a_path_of_this_site_is_a_return_address(target):
    assert same_site_path(target) == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "http:/evil.example", "//evil.example/x", "///evil.example",
    "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "/ /evil.example",
    "javascript:alert(1)", "evil.example/x", "", None, 42, "/" + "x" * MAX_NEXT_LENGTH,
])
def test_no_other_site_or_odd_text_is_a_return_address(target):
    assert same_site_path(target) is None


def test_login_returns_to_the_path_it_is_given(signed_app_url, oidc_provider):
    view = "/?tab=churn&feature=SMS"
    _, landing = sign_in(signed_app_url, oidc_provider, "alice", start="/login?next=" + quote(view, safe=""))
    assert landing == view
    for elsewhere in ("https://evil.example/x", "//evil.example/x", "/\\evil.example/x"):
        _, landing = sign_in(signed_app_url, oidc_provider, "alice",
                             start="/login?next=" + quote(elsewhere, safe=""))
        assert landing == "/", elsewhere


def test_user_outside_the_allowed_groups_gets_403(signed_app_url, oidc_provider, demo_app):
    browser, _ = sign_in(signed_app_url, oidc_provider, "bob")
    page = browser.get(signed_app_url + "/", allow_redirects=False)
    assert page.status_code == 403 and "not a member of a group" in page.text
    callback = browser.post(signed_app_url + "/_dash-update-component", json=leaderboard_body(demo_app))
    assert callback.status_code == 403 and "not a member" in callback.json()["error"]
    assert browser.get(signed_app_url + "/assets/02-app.css").status_code == 403
    assert browser.get(signed_app_url + "/healthz").status_code == 200


def test_sign_out_ends_the_session(signed_app_url, oidc_provider):
    browser, _ = sign_in(signed_app_url, oidc_provider, "alice")
    assert browser.get(signed_app_url + "/_dash-layout").status_code == 200
    assert "signed out" in browser.get(signed_app_url + "/logout").text
    assert browser.get(signed_app_url + "/_dash-layout").status_code == 401


@pytest.mark.browser
def test_sign_in_in_chromium_then_the_dashboard_draws(signed_app_url, oidc_provider, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(signed_app_url + "/?tab=usage&period=all")
        assert page.url.startswith(oidc_provider + "/oauth2/authorize")
        page.locator("button[name=sub][value=alice]").click()
        page.wait_for_url(signed_app_url + "/?tab=usage&period=all")
        page.wait_for_selector("#usage-chart .bars .point path", state="attached")
        browser_fixtures.scroll_to_grid(page, "#usage-body")  # below the chart: drawn when scrolled near
    finally:
        context.close()


# ---------------------------------------------------------------- a session ending in an open page
USAGE = "/?tab=usage&period=all"
USAGE_BARS = "#usage-chart .bars .point path"
LISTEN_FOR_CSP = """document.addEventListener('securitypolicyviolation', e =>
  (window.__cspViolations = window.__cspViolations || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


def session_cookie(user: dict) -> str:
    """The value of a session cookie for `user`, signed as the app signs it."""
    signer = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(_flask_with_secret())
    return signer.dumps({"user": user, "_permanent": True})


def open_signed_in(context, url: str, sub: str, lands_on: str | None = None):
    """A new page of `context` that opened `url`, signed in as `sub` in chromium and
    was sent back to `lands_on` (default: `url`)."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.locator(f"button[name=sub][value={sub}]").click()
    page.wait_for_url(lands_on or url)
    return page


@pytest.mark.browser
def test_an_expired_session_says_so_and_signing_in_returns_to_the_same_view(
        signed_app_url, oidc_provider, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        context.add_init_script(LISTEN_FOR_CSP)
        url = signed_app_url + USAGE
        page = open_signed_in(context, url, "alice")
        page.wait_for_selector(USAGE_BARS, state="attached")
        assert page.locator("#session-banner").count() == 0

        # The session ends as it does after OIDC_SESSION_HOURS: signed, but too old.
        expired = {"sub": "alice", "groups": [ALLOWED_GROUP], "at": time.time() - 11 * 3600}
        context.clear_cookies(name="accurx_session")
        context.add_cookies([{"name": "accurx_session", "value": session_cookie(expired),
                              "url": signed_app_url, "httpOnly": True, "sameSite": "Lax"}])
        page.get_by_text("Last 4 weeks", exact=True).click()
        banner = page.locator("#session-banner")
        banner.wait_for()
        assert "Your sign-in has expired" in banner.inner_text()
        assert banner.get_attribute("role") == "alert"
        assert page.url == url  # the refused change never reached the address
        browser_fixtures.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(browser_fixtures.ARTIFACTS / "session_expired_banner.png"))

        banner.get_by_role("link", name="Sign in again").click()
        page.wait_for_url(lambda address: address.startswith(oidc_provider + "/oauth2/authorize"))
        page.locator("button[name=sub][value=alice]").click()
        page.wait_for_url(url)
        page.wait_for_selector(USAGE_BARS, state="attached")
        assert page.locator("#session-banner").count() == 0
        assert page.evaluate("window.__cspViolations || []") == []
    finally:
        context.close()


@pytest.mark.browser
def test_signed_in_outside_the_allowed_groups_the_open_page_says_why(signed_app_url, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        url = signed_app_url + USAGE
        page = open_signed_in(context, url, "alice")
        page.wait_for_selector(USAGE_BARS, state="attached")
        # Another tab signs in as bob, who is not in the allowed group: the cookie is his now.
        other = open_signed_in(context, signed_app_url + "/login", "bob", lands_on=signed_app_url + "/")
        assert "not a member of a group" in other.locator("body").inner_text()

        page.get_by_text("Last 4 weeks", exact=True).click()
        banner = page.locator("#session-banner")
        banner.wait_for()
        assert banner.get_attribute("data-status") == "403"
        assert "not as a member of a group allowed" in banner.inner_text()
        page.screenshot(path=str(browser_fixtures.ARTIFACTS / "session_forbidden_banner.png"))
    finally:
        context.close()


# ---------------------------------------------------------------- in-process failure paths
@pytest.fixture(scope="module")
def local_app(make_app, oidc_provider):
    return make_app(**sign_in_env(oidc_provider))


def test_a_forged_callback_is_refused_not_a_500(local_app):
    client = local_app.server.test_client()
    response = client.get("/auth/callback?code=stolen&state=forged")
    assert response.status_code == 400 and "did not complete" in response.text
    assert client.get("/_dash-layout").status_code == 401


def test_behind_a_tls_proxy_the_callback_address_is_https(make_app, oidc_provider):
    app = make_app(**sign_in_env(oidc_provider), ACCURX_PROXY_HOPS="1")
    response = app.server.test_client().get("/login", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "dashboard.example"})
    assert response.status_code == 302
    assert "redirect_uri=https%3A%2F%2Fdashboard.example%2Fauth%2Fcallback" in response.headers["Location"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_unreachable_issuer_gives_503(make_app):
    app = make_app(**sign_in_env("http://127.0.0.1:9"))
    response = app.server.test_client().get("/login")
    assert response.status_code == 503 and "cannot be reached" in response.text


def test_an_expired_session_must_sign_in_again(local_app):
    client = local_app.server.test_client()
    with client.session_transaction() as session:
        session["user"] = signed_in_user("alice", [ALLOWED_GROUP])
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["user"] = {**signed_in_user("alice", [ALLOWED_GROUP]), "at": time.time() - 11 * 3600}
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").headers["Location"] == "/login"


def test_a_session_signed_with_another_key_is_ignored(local_app):
    forger = _flask_with_secret()
    forger.secret_key = "someone-elses-key-0123456789abcdef"
    signer = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = signer.dumps({"user": {"sub": "mallory", "groups": [ALLOWED_GROUP], "at": time.time()}})
    client = local_app.server.test_client()
    client.set_cookie("accurx_session", forged)
    assert client.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize("env,words", [
    ({"OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID"),
    ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"OIDC_SESSION_HOURS": "soon"}, "OIDC_SESSION_HOURS"),
])
def test_half_configured_sign_in_refuses_to_start(env, words):
    with pytest.raises(ConfigError, match=words):
        load_settings({**sign_in_env("https://login.example"), **env}, environ={})


def test_without_an_issuer_the_demo_stays_open(demo_app):
    assert load_settings(environ={}).serving.sign_in is None
    client = demo_app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200


# ---------------------------------------------------------------- who may sign in (issue 10.2)
@contextlib.contextmanager
def served(app):
    """`app` served in this process on a free loopback port (one process, threads: its
    own cache is the cache every request sees); yields the base URL."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def test_only_accounts_of_the_allowed_domain_may_sign_in(make_app, oidc_provider):
    app = make_app(**sign_in_env(oidc_provider, OIDC_ALLOWED_GROUPS="", OIDC_SCOPE="openid email",
                                 OIDC_ALLOWED_DOMAINS=ALLOWED_DOMAIN))
    with served(app) as url:
        browser, landing = sign_in(url, oidc_provider, "dave")
        assert landing == "/" and browser.get(url + "/_dash-layout").status_code == 200
        # alice has no hosted domain (a personal account), erin another one, and frank's
        # e-mail address is not of the domain although his hosted domain is.
        for sub in ("alice", "erin", "frank"):
            browser, text = sign_in(url, oidc_provider, sub, refused=True)
            assert "may not use this dashboard" in text, sub
            assert browser.get(url + "/_dash-layout").status_code == 401, sub


def test_only_accounts_of_the_allowed_tenant_may_sign_in(make_app, oidc_provider):
    app = make_app(**sign_in_env(oidc_provider, OIDC_ALLOWED_GROUPS="",
                                 OIDC_ALLOWED_TENANTS=ALLOWED_TENANT.upper()))
    with served(app) as url:
        browser, _ = sign_in(url, oidc_provider, "dave")
        assert browser.get(url + "/_dash-layout").status_code == 200
        for sub in ("erin", "alice"):  # another tenant; no tenant at all
            browser, _ = sign_in(url, oidc_provider, sub, refused=True)
            assert browser.get(url + "/_dash-layout").status_code == 401, sub


# ---------------------------------------------------------------- sessions end (issue 10.10)
def test_a_copy_of_the_cookie_is_worthless_after_sign_out(make_app, oidc_provider):
    app = make_app(**sign_in_env(oidc_provider))
    with served(app) as url:
        browser, _ = sign_in(url, oidc_provider, "alice")
        saved = browser.cookies.get("accurx_session")
        assert "signed out" in browser.get(url + "/logout").text
        replay = requests.Session()
        replay.cookies.set("accurx_session", saved)
        assert replay.get(url + "/_dash-layout").status_code == 401
        assert replay.get(url + "/", allow_redirects=False).headers["Location"] == "/login"
        again, _ = sign_in(url, oidc_provider, "alice")  # a new sign-in is a new session
        assert again.get(url + "/_dash-layout").status_code == 200


def test_sign_out_in_one_worker_ends_the_session_in_another(make_app, oidc_provider, tmp_path):
    from test_redis_cache import running_redis

    with running_redis(tmp_path) as redis_url:
        one, two = (make_app(**sign_in_env(oidc_provider), REDIS_URL=redis_url) for _ in range(2))
        first, second = one.server.test_client(), two.server.test_client()
        with first.session_transaction() as session:
            session["user"] = signed_in_user("alice", [ALLOWED_GROUP])
        cookie = first.get_cookie("accurx_session").value
        second.set_cookie("accurx_session", cookie)
        assert second.get("/_dash-layout").status_code == 200
        assert first.get("/logout").status_code == 200
        assert second.get("/_dash-layout").status_code == 401


def test_membership_is_checked_with_the_issuer_again_within_the_hour(make_app, oidc_provider):
    requests.put(f"{oidc_provider}/users/gina", json={"groups": [ALLOWED_GROUP]}, timeout=10).raise_for_status()
    app = make_app(**sign_in_env(oidc_provider, OIDC_RECHECK_MINUTES="0.02"))
    with served(app) as url:
        browser, _ = sign_in(url, oidc_provider, "gina", start="/?tab=churn")
        assert browser.get(url + "/_dash-layout").status_code == 200
        first = _session_of(browser)["user"]
        requests.put(f"{oidc_provider}/users/gina", json={"groups": ["accurx-former-staff"]},
                     timeout=10).raise_for_status()
        time.sleep(1.5)  # past OIDC_RECHECK_MINUTES
        assert browser.get(url + "/_dash-layout").status_code == 401
        # The page goes through the issuer again, which now says gina left the group.
        _, landing = sign_in(url, oidc_provider, "gina", start="/?tab=churn", browser=browser)
        assert landing == "/?tab=churn"
        assert browser.get(url + "/_dash-layout").status_code == 403
        after = _session_of(browser)["user"]
        assert after["groups"] == ["accurx-former-staff"]
        assert after["sid"] == first["sid"] and after["at"] == first["at"]  # the same session
        assert after["checked"] > first["checked"]


def _session_of(browser: requests.Session) -> dict:
    signer = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(_flask_with_secret())
    return signer.loads(browser.cookies.get("accurx_session"))


def test_a_session_not_checked_for_an_hour_goes_back_to_the_issuer(local_app):
    client = local_app.server.test_client()
    with client.session_transaction() as session:
        session["user"] = {**signed_in_user("alice", [ALLOWED_GROUP]), "checked": time.time() - 59 * 60}
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["user"] = {**signed_in_user("alice", [ALLOWED_GROUP]), "checked": time.time() - 61 * 60}
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/?tab=usage").headers["Location"] == "/login"


@pytest.mark.parametrize("minutes", ["0", "61", "soon"])
def test_membership_cannot_go_unchecked_for_more_than_an_hour(minutes):
    with pytest.raises(ConfigError, match="OIDC_RECHECK_MINUTES"):
        load_settings({**sign_in_env("https://login.example"), "OIDC_RECHECK_MINUTES": minutes}, environ={})
