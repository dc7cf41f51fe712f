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


def test_no_other_module_reaches_into_dash():
    """Dash's private names (its underscore modules, the app's private callback list, its
    server set-up method) appear in no Python file but tests/dash_callback_context.py."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    private = re.compile("dash" + r"\._|\._callback" + "_list|_setup_" + "server")
    allowed = {root / "tests" / "dash_callback_context.py"}
    skipped = {".venv", ".tmp", ".git", "node_modules", "target", "dbt_packages"}
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path not in allowed and not skipped & set(path.relative_to(root).parts)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if private.search(line)
    ]
    assert not offenders, f"Dash's private API used in {offenders}"
