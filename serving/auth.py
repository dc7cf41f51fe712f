"""OpenID Connect sign-in in front of every route, Dash's `_dash-*` endpoints included.

Works with any standard OIDC issuer (Microsoft Entra ID, Google). Its settings
(OIDC_*, SECRET_KEY) are read by config.py into `config.SignInSettings`, the table of
variables is there.

Without an issuer, sign-in is off: that is the embedded demo, which then only binds to
127.0.0.1 (see `scripts/serve.sh`).

Signed-out page requests (GET of anything but Dash's own endpoints and files) are
redirected to `/login`, which sends the browser to the issuer and, after sign-in, back
to the page asked for; every other request (Dash callbacks and layout, scripts,
assets, any POST) gets 401, so the page can't half-work. A signed-in user outside the
allowed groups gets 403. An open page whose session ends learns it from those answers:
assets/session.js shows a banner linking to `/login?next=<the page's address>` (only a
path of this site is accepted as `next`, see `same_site_path`). The session cookie
(signed, HttpOnly, SameSite=Lax) holds only the subject, the groups and the sign-in
time: no tokens, no name, no e-mail address.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import flask
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth

from config import SignInSettings

log = logging.getLogger("accurx.auth")

# Reachable without a session: the health probes and the sign-in round trip itself.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/auth/callback", "/logout"})
# Never a page: Dash's endpoints, its scripts and the app's static files.
_NOT_PAGES = ("/_dash-", "/_reload-hash", "/_favicon.ico", "/assets/", "/static/")
SESSION_KEY = "user"
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

    @server.before_request
    def require_sign_in():
        request = flask.request
        if request.path in PUBLIC_PATHS:
            return None
        page = _is_page_request(request)
        user = current_user()
        if user is not None and time.time() - float(user.get("at", 0)) > max_age:
            flask.session.pop(SESSION_KEY, None)
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
        flask.session.clear()  # nothing from before sign-in survives it
        flask.session.permanent = True
        flask.session[SESSION_KEY] = {
            "sub": str(claims["sub"]),
            "groups": [str(g) for g in groups],
            "at": time.time(),
        }
        allowed = not settings.allowed_groups or bool(settings.allowed_groups & {str(g) for g in groups})
        log.info('{"event": "sign_in", "groups": %d, "allowed": %s}', len(groups), str(allowed).lower())
        return flask.redirect(target)

    @server.route("/logout")
    def logout():
        flask.session.clear()
        return flask.Response(
            '<!doctype html><title>Signed out</title><p>You are signed out of the dashboard. '
            '<a href="/login">Sign in again</a></p>',
            mimetype="text/html",
        )
