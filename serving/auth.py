"""OpenID Connect sign-in in front of every route, Dash's `_dash-*` endpoints included.

Works with any standard OIDC issuer (Microsoft Entra ID, Google). Its settings
(OIDC_*, SECRET_KEY) are read by config.py into `config.SignInSettings`, the table of
variables is there.

Without an issuer, sign-in is off: that is the embedded demo on 127.0.0.1. Where the
data would leave this machine (Snowflake, or a non-loopback bind) the app refuses to
start without sign-in unless ACCURX_ALLOW_ANONYMOUS=1 (config.check_exposure).

Signed-out page requests (GET of anything but Dash's own endpoints and files) are
redirected to `/login`, which sends the browser to the issuer and, after sign-in, back
to the page asked for; every other request (Dash callbacks and layout, scripts,
assets, any POST) gets 401, so the page can't half-work. A signed-in user outside the
allowed groups gets 403. At the callback, an account outside OIDC_ALLOWED_DOMAINS
(its `hd` claim, and its e-mail's domain when the issuer sends one) or
OIDC_ALLOWED_TENANTS (its `tid` claim) gets no session at all (403).

A session is confirmed with the issuer again after OIDC_RECHECK_MINUTES (at most 60):
the user goes through the issuer once more (silently while their session there
lasts), so group membership and the account itself are at most an hour old; the
session keeps its id and sign-in time, and still ends OIDC_SESSION_HOURS after the
sign-in. `/logout` ends the session on the server too: its id goes into a revocation
list in the shared cache (Redis), which every worker consults on every request, so a
copy of the cookie is worth nothing after sign-out. An open page whose session ends learns it from those answers:
assets/session.js shows a banner linking to `/login?next=<the page's address>` (only a
path of this site is accepted as `next`, see `same_site_path`). The session cookie
(signed, HttpOnly, SameSite=Lax) holds only the subject, the groups, the sign-in
time, the time of the last check with the issuer and a random session id: no tokens,
no name, no e-mail address.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta

import flask
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth

from config import SignInSettings
from queries import runner as query_runner
from serving.warm_up import is_warm_up_request

log = logging.getLogger("accurx.auth")

# Reachable without a session: the health probes and the sign-in round trip itself.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/auth/callback", "/logout"})
# Never a page: Dash's endpoints, its scripts and the app's static files.
_NOT_PAGES = ("/_dash-", "/_reload-hash", "/_favicon.ico", "/assets/", "/static/")
SESSION_KEY = "user"
# A session due for its membership re-check waits here ({sub, at, sid}) while the
# browser goes to the issuer and back, so the same session (its sign-out id and its
# sign-in time) continues when the same user comes back.
RECHECK_KEY = "recheck"
# Signed-out session ids, in the cache every worker shares (REDIS_URL).
REVOKED_PREFIX = "session-revoked:"
# Where to go after sign-in is kept in the session cookie (4 kB in all): a real address
# of this app is a few hundred characters.
MAX_NEXT_LENGTH = 2000


def current_user() -> dict | None:
    """The signed-in user ({sub, groups, at}: subject, group names, sign-in time) or None."""
    if not flask.has_request_context():
        return None
    user = flask.session.get(SESSION_KEY)
    return user if isinstance(user, dict) else None


def same_site_path(target: object) -> str | None:
    """`target` if it is a path on this site ("/", "/customer/1042?weeks=13"), else None.

    Refused: anything not starting with one "/" ("https://x", "//x", "x"), backslashes
    (browsers read "/\\x" as "//x"), spaces and control characters (browsers drop a tab
    or newline, so "/<tab>/x" would become "//x"), and anything over MAX_NEXT_LENGTH."""
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_NEXT_LENGTH:
        return None
    if target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    return target


def _remember_return_path(target: str) -> None:
    """Return to `target` after sign-in if it is a path of this site, else to "/"."""
    path = same_site_path(target)
    if path is None:
        flask.session.pop("next", None)
    else:
        flask.session["next"] = path


def _claim_domain(value: object) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def account_refusal(settings: SignInSettings, claims: dict) -> str | None:
    """Why the account of these ID-token/userinfo `claims` may not sign in at all
    (domain or tenant not allowed), or None. Groups are checked on every request."""
    if settings.allowed_domains:
        if _claim_domain(claims.get("hd")) not in settings.allowed_domains:
            return "domain"
        email = claims.get("email")
        if email is not None:
            domain = str(email).rpartition("@")[2].lower()
            if domain not in settings.allowed_domains or claims.get("email_verified") is False:
                return "email_domain"
    if settings.allowed_tenants and _claim_domain(claims.get("tid")) not in settings.allowed_tenants:
        return "tenant"
    return None


def _is_page_request(request: flask.Request) -> bool:
    return request.method == "GET" and not request.path.startswith(_NOT_PAGES)


def _refuse(status: int, message: str, page: bool) -> flask.Response:
    if page:
        return flask.Response(message, status=status, mimetype="text/plain")
    response = flask.jsonify(error=message)
    response.status_code = status
    return response


def install(server: flask.Flask, settings: SignInSettings) -> None:
    """Require a signed-in (and, if configured, group-member) user on every route."""
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="accurx_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    oauth = OAuth(server)
    oauth.register(
        name="oidc",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.scope},
    )
    max_age = settings.session_hours * 3600
    recheck_after = settings.recheck_minutes * 60

    def revoked(sid: object) -> bool:
        return not isinstance(sid, str) or bool(
            query_runner.current_runner().cache.get(REVOKED_PREFIX + sid))

    @server.before_request
    def require_sign_in():
        request = flask.request
        if request.path in PUBLIC_PATHS or is_warm_up_request():
            return None  # the warm-up's in-process requests render what anyone may see
        page = _is_page_request(request)
        user = current_user()
        now = time.time()
        if user is not None and (now - float(user.get("at", 0)) > max_age or revoked(user.get("sid"))):
            flask.session.pop(SESSION_KEY, None)
            user = None
        if user is not None and now - float(user.get("checked", 0)) > recheck_after:
            # Due for its re-check with the issuer: the same session resumes after it.
            flask.session.pop(SESSION_KEY, None)
            flask.session[RECHECK_KEY] = {k: user[k] for k in ("sub", "at", "sid")}
            user = None
        if user is None:
            if not page:
                return _refuse(401, "Sign-in required", page=False)
            _remember_return_path(request.full_path if request.query_string else request.path)
            return flask.redirect("/login")
        if settings.allowed_groups and not settings.allowed_groups & set(user.get("groups", [])):
            return _refuse(403, "You are signed in, but not a member of a group allowed to use "
                                "this dashboard. Ask for access, then sign in again.", page)
        return None

    @server.route("/login")
    def login():
        # ?next= comes from an open page whose session ended (assets/session.js).
        if "next" in flask.request.args:
            _remember_return_path(flask.request.args["next"])
        redirect_uri = settings.redirect_uri or flask.url_for("auth_callback", _external=True)
        try:
            return oauth.oidc.authorize_redirect(redirect_uri)
        except Exception as exc:  # noqa: BLE001  (the issuer's metadata could not be read)
            log.warning("sign-in provider unreachable: %s", type(exc).__name__)
            return _refuse(503, "The sign-in service cannot be reached; try again in a minute.", page=True)

    @server.route("/auth/callback")
    def auth_callback():
        try:
            token = oauth.oidc.authorize_access_token()
            claims = dict(token.get("userinfo") or {})
            if settings.groups_claim not in claims:
                claims.update(oauth.oidc.userinfo(token=token))
        except OAuthError as exc:
            log.warning("sign-in refused: %s", exc.error)
            return _refuse(400, "Sign-in did not complete. Go back to the dashboard to try again.", page=True)
        except Exception as exc:  # noqa: BLE001  (the issuer failed during the exchange)
            log.warning("sign-in failed: %s", type(exc).__name__)
            return _refuse(503, "The sign-in service did not answer; try again in a minute.", page=True)
        groups = claims.get(settings.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        target = same_site_path(flask.session.get("next")) or "/"
        previous = flask.session.get(RECHECK_KEY)
        flask.session.clear()  # nothing from before sign-in survives it
        refusal = account_refusal(settings, claims)
        if refusal is not None:
            log.warning('{"event": "sign_in", "allowed": false, "refused": "%s"}', refusal)
            return _refuse(403, "This account may not use this dashboard: sign in with your "
                                "organisation's account.", page=True)
        now = time.time()
        sub = str(claims["sub"])
        resumed = (isinstance(previous, dict) and previous.get("sub") == sub
                   and now - float(previous.get("at", 0)) <= max_age and not revoked(previous.get("sid")))
        flask.session.permanent = True
        flask.session[SESSION_KEY] = {
            "sub": sub,
            "groups": [str(g) for g in groups],
            "at": float(previous["at"]) if resumed else now,
            "checked": now,
            "sid": previous["sid"] if resumed else secrets.token_urlsafe(18),
        }
        allowed = not settings.allowed_groups or bool(settings.allowed_groups & {str(g) for g in groups})
        log.info('{"event": "sign_in", "groups": %d, "allowed": %s, "recheck": %s}',
                 len(groups), str(allowed).lower(), str(resumed).lower())
        return flask.redirect(target)

    @server.route("/logout")
    def logout():
        user = current_user() or flask.session.get(RECHECK_KEY)
        if isinstance(user, dict) and isinstance(user.get("sid"), str):
            # Kept as long as any copy of the cookie could still be accepted.
            query_runner.current_runner().cache.set(REVOKED_PREFIX + user["sid"], 1,
                                                     timeout=int(max_age) + 60)
        flask.session.clear()
        return flask.Response(
            '<!doctype html><title>Signed out</title><p>You are signed out of the dashboard. '
            '<a href="/login">Sign in again</a></p>',
            mimetype="text/html",
        )
