"""Production concerns around the Dash app: sign-in, health endpoints, security headers,
who sees personal data, well-formed callback requests, one log line per callback.

Rule of this package: nothing here knows about questions, views or figures. `install`
is called once by the app factory, after the callbacks are attached.

Nothing here reads the environment: `install` receives config.py's `ServingSettings`
(sign-in, proxy hops, readiness age, personal-data viewers, response cache). With
`proxy_hops` (ACCURX_PROXY_HOPS) reverse proxies whose X-Forwarded-For/-Proto/-Host
headers are believed, the app knows behind a TLS-terminating proxy that it is served
over https (sign-in callback URL, HSTS).
"""

from __future__ import annotations

import dash
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ServingSettings
from serving import (
    auth,
    dash_requests,
    health,
    observability,
    personal_data,
    response_cache,
    security,
    static_caching,
)


def install(app: dash.Dash, readiness_probe: health.ReadinessProbe, settings: ServingSettings) -> None:
    """Wrap `app` for production, as `settings` say."""
    server = app.server
    hops = settings.proxy_hops
    if hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # Order matters: sign-in decides first (a refused request goes no further), then the
    # callback timer starts, then the request's shape is checked, and only then may a
    # rendered response be reused.
    security.install(server, app.csp_hashes())
    static_caching.install(server)
    health.install(server, readiness_probe, settings.ready_max_data_age_days)
    if settings.sign_in is not None:
        auth.install(server, settings.sign_in)
    personal_data.install(server, settings.pii_viewer_groups,
                          sign_in_enabled=settings.sign_in is not None)
    observability.install(app)
    dash_requests.install(app)
    if settings.response_cache:
        response_cache.install(app)
