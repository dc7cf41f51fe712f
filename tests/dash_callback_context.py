"""Calling a callback function directly as Dash would, with `dash.ctx` filled in.

The only place in the project that uses Dash's private API, and only in tests: Dash
has no public way to set the callback context outside a request, and its own testing
guide (https://dash.plotly.com/testing, "Callback tests") does exactly this.
Written for Dash 4.4.1 (`DASH_VERSION`); tests/test_dash_callback_context.py fails on
any other version, so an upgrade re-checks these two imports and the context's keys
(`triggered_inputs`, `inputs_list`, `states_list`, `outputs_list`) before anything
else can silently go wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import copy_context

from dash._callback_context import context_value
from dash._utils import AttributeDict

DASH_VERSION = "4.4.1"


def call_in_context(func: Callable, *args, triggered_inputs: list[dict] | None = None,
                    inputs_list: list | None = None, states_list: list | None = None,
                    outputs_list: list | None = None):
    """`func(*args)` with `dash.ctx` as Dash builds it from a request: `triggered_inputs`
    is a list of {"prop_id": "<id>.<prop>", "value": ...}. Returns what `func` returns
    (exceptions, PreventUpdate included, propagate)."""
    context = AttributeDict(triggered_inputs=triggered_inputs or [], inputs_list=inputs_list or [],
                            states_list=states_list or [], outputs_list=outputs_list or [])

    def run():
        context_value.set(context)
        return func(*args)

    return copy_context().run(run)
