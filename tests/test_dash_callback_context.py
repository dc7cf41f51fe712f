"""tests/dash_callback_context.py (the one use of Dash's private API) still fits Dash."""

from __future__ import annotations

from importlib.metadata import version

from dash import ctx
from dash_callback_context import DASH_VERSION, call_in_context


def test_written_for_the_installed_dash():
    installed = version("dash")
    assert installed == DASH_VERSION, (
        f"Dash is {installed}, tests/dash_callback_context.py was written for {DASH_VERSION}: "
        "check that its two private imports still exist and still feed dash.ctx (the test "
        "below), then update DASH_VERSION.")


def test_the_context_reaches_dash_ctx():
    def seen():
        return ctx.triggered_id, ctx.triggered[0]["value"], ctx.inputs_list, ctx.outputs_list

    got = call_in_context(seen, triggered_inputs=[{"prop_id": '{"a":1,"b":"x"}.value', "value": 7}],
                          inputs_list=[{"id": "i", "property": "value"}],
                          outputs_list=[{"id": "o", "property": "children"}])
    assert got == ({"a": 1, "b": "x"}, 7, [{"id": "i", "property": "value"}],
                   [{"id": "o", "property": "children"}])
