"""All callbacks, registered with `dash.callback` when their modules are imported.

Rule: callbacks stay thin so the logic is unit-testable: validate inputs (a message in
words, or PreventUpdate), one query call, one component/figure builder call, return.
Each tab's callbacks catch `queries.errors.WarehouseError` and render
`components.common.error_state(str(err))` in that tab's own area, so a failure on one
tab never breaks another. Tests call the decorated functions directly (inside
`app.server.app_context()`).

`dash.callback` puts callbacks in a process-wide registry that the first Dash app to
serve a request takes for itself; `attach(app)` gives every app made by
`app.create_app` its own copy, so tests can build several apps in one process.
"""

from __future__ import annotations

from dash import _callback

from callbacks import (  # noqa: F401  (imported for their @callback registrations)
    access,
    churn,
    common,
    customer,
    entitlements,
    filters,
    navigation,
    unpaid,
    usage,
)

_CALLBACK_MAP = dict(_callback.GLOBAL_CALLBACK_MAP)
_CALLBACK_LIST = list(_callback.GLOBAL_CALLBACK_LIST)
_INLINE_SCRIPTS = list(_callback.GLOBAL_INLINE_SCRIPTS)
_callback.GLOBAL_CALLBACK_MAP.clear()
_callback.GLOBAL_CALLBACK_LIST.clear()
_callback.GLOBAL_INLINE_SCRIPTS.clear()


def attach(app) -> None:
    """Register every callback of this package on `app` (a fresh Dash app)."""
    app.callback_map.update(_CALLBACK_MAP)
    app._callback_list.extend(_CALLBACK_LIST)
    app._inline_scripts.extend(_INLINE_SCRIPTS)
