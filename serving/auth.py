"""OpenID Connect sign-in in front of every route, Dash's `_dash-*` endpoints included.

Works with any standard OIDC issuer (Microsoft Entra ID, Google): configure
`OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` (and `SECRET_KEY` for the
session cookie), optionally `OIDC_ALLOWED_GROUPS` (comma-separated group names or
ids, read from the token's `groups` claim, or `OIDC_GROUPS_CLAIM`).

Without an issuer, sign-in is off: that is the embedded demo, which then only binds to
127.0.0.1 (see `scripts/serve.sh`).

Signed-out browser page requests are redirected to the provider; signed-out API
requests (Dash callbacks, downloads) get 401 so the page can't half-work. A signed-in
user outside the allowed groups gets 403. The session cookie holds only the subject,
display name and groups: no tokens, no email.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

import flask
from authlib.integrations.flask_client import OAuth

log = logging.getLogger(__name__)

# Reachable without a session: the health probes and the sign-in round trip itself.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/auth/callback", "/logout"})


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    allowed_groups: frozenset[str] = frozenset()
    groups_claim: str = "groups"
    scope: str = "openid email profile"

    @classmethod
    def from_env(cls, env) -> OidcSettings | None:
        """Settings from the environment mapping, or None when sign-in is not configured.

        Raises ValueError when the issuer is set but the client credentials are not.
        """
        issuer = (env.get("OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        client_id = (env.get("OIDC_CLIENT_ID") or "").strip()
        client_secret = env.get("OIDC_CLIENT_SECRET") or ""
        if not client_id or not client_secret:
            raise ValueError("OIDC_ISSUER is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required")
        groups = frozenset(
            g.strip() for g in (env.get("OIDC_ALLOWED_GROUPS") or "").split(",") if g.strip()
        )
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=client_id,
            client_secret=client_secret,
            allowed_groups=groups,
            groups_claim=(env.get("OIDC_GROUPS_CLAIM") or "groups").strip(),
        )


def _is_api_request(request: flask.Request) -> bool:
    path = request.path
    return (
        path.startswith("/_dash-")
        or path.startswith("/_reload-hash")
        or request.method != "GET"
        or request.accept_mimetypes.best == "application/json"
    )


def current_user() -> dict | None:
    """The signed-in user's public claims ({sub, name, groups}) or None."""
    return flask.session.get("user")


def install(server: flask.Flask, settings: OidcSettings, secret_key: str | None) -> None:
    """Require a signed-in (and, if configured, group-member) user on every route."""
    if not secret_key:
        # A random key still works for one process; several workers need a shared one.
        log.warning("SECRET_KEY is not set: sessions will not survive a restart or span workers")
        secret_key = secrets.token_hex(32)
    server.secret_key = secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=urlparse(settings.issuer).scheme == "https",
    )
    oauth = OAuth(server)
    oauth.register(
        name="oidc",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.scope},
    )

    @server.before_request
    def require_sign_in():
        request = flask.request
        if request.path in PUBLIC_PATHS:
            return None
        user = current_user()
        if user is None:
            if _is_api_request(request):
                return flask.jsonify(error="Sign-in required"), 401
            flask.session["next"] = request.full_path if request.query_string else request.path
            return flask.redirect("/login")
        if settings.allowed_groups and not settings.allowed_groups & set(user.get("groups", [])):
            return flask.Response(
                "You are signed in, but not a member of a group allowed to use this dashboard.",
                status=403, mimetype="text/plain",
            )
        return None

    @server.route("/login")
    def login():
        redirect_uri = flask.url_for("auth_callback", _external=True)
        return oauth.oidc.authorize_redirect(redirect_uri)

    @server.route("/auth/callback")
    def auth_callback():
        token = oauth.oidc.authorize_access_token()
        claims = token.get("userinfo") or oauth.oidc.userinfo(token=token)
        groups = claims.get(settings.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        flask.session["user"] = {
            "sub": str(claims["sub"]),
            "name": str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
            "groups": [str(g) for g in groups],
        }
        log.info("sign-in", extra={"event": "sign_in", "groups_count": len(groups)})
        target = flask.session.pop("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        return flask.redirect(target)

    @server.route("/logout")
    def logout():
        flask.session.clear()
        return flask.redirect("/")
