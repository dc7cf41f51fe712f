"""Production concerns around the Dash app: sign-in, health endpoints, security headers,
who sees personal data, well-formed callback requests, one log line per callback.

Rule of this package: nothing here knows about questions, views or figures. `install`
is called once by the app factory, after the callbacks are attached.

Environment (besides config.py's): see serving/auth.py for OIDC_* and SECRET_KEY,
serving/personal_data.py for ACCURX_PII_VIEWER_GROUPS, serving/response_cache.py
for ACCURX_RESPONSE_CACHE, serving/health.py for
ACCURX_READY_MAX_DATA_AGE_DAYS, and ACCURX_PROXY_HOPS: the number of reverse proxies
(load balancer, ingress) in front of gunicorn whose X-Forwarded-For/-Proto/-Host
headers are believed (default 0: none), so that behind a TLS-terminating proxy the
app knows it is served over https (sign-in callback URL, HSTS).
"""

from __future__ import annotations

from collections.abc import Mapping

import dash
from werkzeug.middleware.proxy_fix import ProxyFix

from serving import (
    auth,
    dash_requests,
    health,
    observability,
    personal_data,
    response_cache,
    security,
)


class ServingConfigError(ValueError):
    """A serving setting has a value the app cannot use; the message names the variable."""


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ServingConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ServingConfigError(f"{name} must not be negative")
    return value


def install(app: dash.Dash, readiness_probe: health.ReadinessProbe, env: Mapping[str, str]) -> None:
    """Wrap `app` for production. Raises ServingConfigError / auth.SignInConfigError."""
    server = app.server
    hops = _optional_int(env, "ACCURX_PROXY_HOPS")
    if hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # Order matters: sign-in decides first (a refused request goes no further), then the
    # callback timer starts, then the request's shape is checked, and only then may a
    # rendered response be reused.
    security.install(server, app.csp_hashes())
    health.install(server, readiness_probe,
                   _optional_int(env, "ACCURX_READY_MAX_DATA_AGE_DAYS"))
    oidc = auth.OidcSettings.from_env(env)
    if oidc is not None:
        auth.install(server, oidc)
    personal_data.install(server, env, sign_in_enabled=oidc is not None)
    observability.install(app)
    dash_requests.install(app)
    response_cache.install(app, env)
