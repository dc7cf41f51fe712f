"""Security headers on every response, and no caching of answers.

The content security policy allows scripts from this origin only, plus the exact
inline scripts Dash writes into the page (the renderer's start line and the
clientside callbacks), by their hashes (`dash.Dash.csp_hashes()`): no 'unsafe-inline'
and no 'unsafe-eval' for scripts (tests/serving/test_security.py checks in chromium
that every page works under it with no violation: charts drawn with the partial
plotly bundle, dash-ag-grid's formatter strings, the clientside print callback).
Styles keep 'unsafe-inline': without it chromium refuses dozens of <style> elements
and style attributes per page (AG Grid, plotly.js, React). Everything is served from
this origin (no CDN).

Dash's answers (`/_dash-layout`, `/_dash-update-component`) carry customer data, so
neither the browser nor a proxy may keep them (`Cache-Control: no-store`); the
fingerprinted scripts and assets keep their own caching headers.
"""

from __future__ import annotations

from collections.abc import Iterable

import flask

# Dash endpoints whose answers are data; `/_dash-dependencies` only lists callbacks.
_DATA_ENDPOINTS = ("/_dash-layout", "/_dash-update-component")


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The policy, with `script_hashes` (CSP source expressions such as
    "'sha256-...'") allowed as inline scripts."""
    return "; ".join([
        "default-src 'self'",
        " ".join(["script-src 'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ])


def headers(script_hashes: Iterable[str] = ()) -> dict[str, str]:
    """Every header added to every response."""
    return {
        "Content-Security-Policy": content_security_policy(script_hashes),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def install(server: flask.Flask, script_hashes: Iterable[str] = ()) -> None:
    """Add the headers to every response of `server` (errors and redirects included)."""
    fixed = headers(script_hashes)

    @server.after_request
    def add_security_headers(response: flask.Response) -> flask.Response:
        for name, value in fixed.items():
            response.headers.setdefault(name, value)
        if flask.request.is_secure:
            # Only over HTTPS (behind a proxy: when it says so and ProxyFix trusts it).
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if flask.request.path.endswith(_DATA_ENDPOINTS):
            response.headers["Cache-Control"] = "no-store"
        return response
