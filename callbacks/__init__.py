"""All callbacks: `register_callbacks(app)` registers them on one app.

Rule: callbacks stay thin so the logic is unit-testable: validate inputs (a message in
words, or PreventUpdate), one query call, one component/figure builder call, return.
A tab's area that cannot answer shows why in its own place (callbacks/common.py,
`shows_problems`), so a failure on one tab never breaks another. Tests call the
callback functions directly (inside `app.server.app_context()`).

Each module declares its callbacks with `callbacks.registry.callback` (the arguments of
Dash's `app.callback`); importing it only records them. `register_callbacks(app)`
registers them through Dash's public `app.callback`, once per app, so tests can build
several apps in one process.
"""

from __future__ import annotations

from callbacks import (  # noqa: F401  (imported for their @callback declarations)
    access,
    churn,
    common,
    customer,
    entitlements,
    filters,
    navigation,
    outlook,
    registry,
    unpaid,
    usage,
)


def register_callbacks(app) -> None:
    """Register every callback of this package on `app` (a fresh Dash app)."""
    registry.register_on(app)
