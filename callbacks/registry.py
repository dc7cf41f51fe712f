"""Where the callbacks of this package are declared, until an app registers them.

`@callback(...)` and `clientside_callback(...)` take exactly the arguments of Dash's
`app.callback` and `app.clientside_callback`, but only record them: the decorated
function stays the plain function (tests call it directly), and
`register_on(app)` registers every recorded callback on one app through Dash's public
`app.callback` / `app.clientside_callback`. So each app made by `app.create_app` gets
its own callbacks, and importing a callbacks module builds nothing.

(`dash.callback` would put them in Dash's process-wide registry, which the first app
to serve a request takes for itself, leaving a second app in the process without any.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SERVER_SIDE: list[tuple[Callable, tuple, dict]] = []
_CLIENT_SIDE: list[tuple[Any, tuple, dict]] = []


def callback(*args, **kwargs) -> Callable[[Callable], Callable]:
    """Decorator: record `func` as a callback with Dash's `app.callback(*args, **kwargs)`."""
    def record(func: Callable) -> Callable:
        _SERVER_SIDE.append((func, args, kwargs))
        return func
    return record


def clientside_callback(clientside_function, *args, **kwargs) -> None:
    """Record a browser-side callback (arguments of Dash's `app.clientside_callback`)."""
    _CLIENT_SIDE.append((clientside_function, args, kwargs))


def register_on(app) -> None:
    """Register every recorded callback on `app` (a Dash app without them)."""
    for func, args, kwargs in _SERVER_SIDE:
        app.callback(*args, **kwargs)(func)
    for clientside_function, args, kwargs in _CLIENT_SIDE:
        app.clientside_callback(clientside_function, *args, **kwargs)
