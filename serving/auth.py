"""OpenID Connect sign-in in front of every route, Dash's `_dash-*` endpoints included.

Works with any standard OIDC issuer (Microsoft Entra ID, Google). Configuration, read
from the environment (or the app factory's overrides):

| variable | meaning |
|---|---|
| OIDC_ISSUER | the issuer URL (its `/.well-known/openid-configuration` is read); unset = no sign-in |
| OIDC_CLIENT_ID, OIDC_CLIENT_SECRET | the app's registration with the issuer (required with an issuer) |
| SECRET_KEY | signs the session cookie; required with an issuer, the same for every worker |
| OIDC_ALLOWED_GROUPS | comma-separated group names or ids; unset = every signed-in user |
| OIDC_GROUPS_CLAIM | the claim holding the groups (default `groups`) |
| OIDC_REDIRECT_URI | the callback URL registered with the issuer, when the app is behind a proxy (default: this host's `/auth/callback`) |
| OIDC_SESSION_HOURS | sign in again after this many hours (default 10) |
| OIDC_SCOPE | scopes asked for (default `openid`: the app needs only the subject and groups) |

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

import flask
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth

log = logging.getLogger("accurx.auth")

# Reachable without a session: the health probes and the sign-in round trip itself.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/auth/callback", "/logout"})
# Never a page: Dash's endpoints, its scripts and the app's static files.
_NOT_PAGES = ("/_dash-", "/_reload-hash", "/_favicon.ico", "/assets/", "/static/")
SESSION_KEY = "user"
# Where to go after sign-in is kept in the session cookie (4 kB in all): a real address
# of this app is a few hundred characters.
MAX_NEXT_LENGTH = 2000


class SignInConfigError(ValueError):
    """Sign-in is half configured; the message names the missing variable."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    secret_key: str
    allowed_groups: frozenset[str] = frozenset()
    groups_claim: str = "groups"
    redirect_uri: str | None = None
    session_hours: float = 10
    scope: str = "openid"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        """Settings from the environment mapping, or None when sign-in is not configured.

        Raises SignInConfigError when the issuer is set but something it needs is not."""
        issuer = (env.get("OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        client_id = (env.get("OIDC_CLIENT_ID") or "").strip()
        client_secret = env.get("OIDC_CLIENT_SECRET") or ""
        if not client_id or not client_secret:
            raise SignInConfigError("OIDC_ISSUER is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required")
        secret_key = env.get("SECRET_KEY") or ""
        if len(secret_key) < 16:
            # A per-process random key would break sign-in as soon as two workers serve one user.
            raise SignInConfigError("OIDC_ISSUER is set, so SECRET_KEY (at least 16 characters, "
                                    "the same for every worker) is required")
        try:
            hours = float(env.get("OIDC_SESSION_HOURS") or 10)
        except ValueError:
            raise SignInConfigError("OIDC_SESSION_HOURS must be a number of hours") from None
        if hours <= 0:
            raise SignInConfigError("OIDC_SESSION_HOURS must be positive")
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=client_id,
            client_secret=client_secret,
            secret_key=secret_key,
            allowed_groups=split_list(env.get("OIDC_ALLOWED_GROUPS")),
            groups_claim=(env.get("OIDC_GROUPS_CLAIM") or "groups").strip(),
            redirect_uri=(env.get("OIDC_REDIRECT_URI") or "").strip() or None,
            session_hours=hours,
            scope=(env.get("OIDC_SCOPE") or "openid").strip(),
        )

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies unless the app's own URL is plain http (local tests)."""
        return urlparse(self.redirect_uri or self.issuer).scheme != "http"


def split_list(text: str | None) -> frozenset[str]:
    """'a, b,,c' -> {'a', 'b', 'c'}."""
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


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


def install(server: flask.Flask, settings: OidcSettings) -> None:
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
