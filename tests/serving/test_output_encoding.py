"""What the app writes out cannot be turned against its readers: chart messages that
quote a URL are inert text, CSV cells are not spreadsheet formulas, messages on the
page name no server folder, and a log line cannot be forged or split by a request."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from serving_support import page_callbacks
from test_auth import sign_in_env

import app as app_module
from components.common import CSV_CELL_CALLBACK, data_grid, empty_figure
from queries.errors import WarehouseError
from serving.observability import LogLineFormatter

REPO_ROOT = Path(__file__).resolve().parents[2]
LINK = '<a href="https://evil.example/login">Sign in again</a>'


def annotation_texts(node) -> list[str]:
    """The text of every figure annotation inside a callback response."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "annotations" and isinstance(value, list):
                found += [a.get("text", "") for a in value if isinstance(a, dict)]
            else:
                found += annotation_texts(value)
    elif isinstance(node, list):
        for item in node:
            found += annotation_texts(item)
    return found


def test_a_chart_message_is_text_not_markup():
    text = empty_figure(f"There is no feature “{LINK}” in the data.")["layout"]["annotations"][0]["text"]
    assert "<a" not in text and "&lt;a href=&quot;https://evil.example/login&quot;&gt;" in text


def test_a_link_in_a_url_parameter_reaches_no_chart_as_a_link(demo_app):
    client = demo_app.server.test_client()
    texts = []
    for tab in ("churn", "usage", "unpaid"):
        for _, response in page_callbacks(demo_app, client, f"/?tab={tab}&feature={quote(LINK)}"):
            if response.status_code == 200:
                texts += annotation_texts(response.get_json())
    quoting = [t for t in texts if "evil.example" in t]
    assert quoting, "no chart quoted the parameter: the test does not reach an annotation"
    assert not any("<a" in t for t in quoting), quoting


def test_grids_export_csv_through_the_formula_guard():
    grid = data_grid("test", pd.DataFrame({"name": ["x"]}), [{"field": "name"}], file_name="t")
    ag = grid.children[1]
    assert ag.csvExportParams["processCellCallback"] == CSV_CELL_CALLBACK
    assert CSV_CELL_CALLBACK["function"].startswith("neutraliseFormula(")


def test_the_formula_guard_prefixes_formulas_and_leaves_numbers(tmp_path):
    """assets/dashAgGridComponentFunctions.js's neutraliseFormula, run by node."""
    script = tmp_path / "guard.js"
    script.write_text(
        "global.window = {}; global.React = {createElement: () => null};\n"
        f"require({json.dumps(str(REPO_ROOT / 'assets' / 'dashAgGridComponentFunctions.js'))});\n"
        "const f = window.dashAgGridFunctions.neutraliseFormula;\n"
        "const cases = ['=HYPERLINK(\"http://evil.example\")', '+1', '-2+3', '@SUM(A1)', '\\t=1',\n"
        "               'Plain name', '', 'a=b', -3, 4.5, null];\n"
        "console.log(JSON.stringify(cases.map(f)));\n")
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(out.stdout) == [
        '\'=HYPERLINK("http://evil.example")', "'+1", "'-2+3", "'@SUM(A1)", "'\t=1",
        "Plain name", "", "a=b", -3, 4.5, None]


def test_the_not_built_message_names_no_server_folder(broken_app):
    backend = broken_app.server.extensions["accurx_runner"].backend
    with pytest.raises(WarehouseError) as raised:
        backend.identity()
    message = str(raised.value)
    assert "has not been built yet" in message
    assert str(backend.path.parent) not in message and "/" not in message.replace("`make run`", "")


def _captured(logger_name: str = "accurx"):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogLineFormatter())
    logging.getLogger(logger_name).addHandler(handler)
    return stream, handler


def test_a_forged_line_in_the_sign_in_error_stays_one_escaped_line(make_app, oidc_provider):
    app = make_app(**sign_in_env(oidc_provider))
    stream, handler = _captured()
    try:
        forged = "denied\n2026-12-03 09:00:00 INFO accurx.auth signed in: admin\x1b[2K"
        response = app.server.test_client().get(f"/auth/callback?error={quote(forged)}&state=x")
    finally:
        logging.getLogger("accurx").removeHandler(handler)
    assert response.status_code == 400
    lines = [line for line in stream.getvalue().splitlines() if "sign-in refused" in line]
    assert len(lines) == 1, stream.getvalue()
    assert "denied\\n2026-12-03" in lines[0] and "\\x1b[2K" in lines[0]
    assert "\x1b" not in stream.getvalue()
    assert not any(line.startswith("2026-12-03 09:00:00 INFO") for line in stream.getvalue().splitlines())


def test_the_app_logs_through_the_escaping_formatter(monkeypatch):
    accurx, root = logging.getLogger("accurx"), logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(accurx, "handlers", [])
    app_module._configure_logging("INFO")
    assert [type(h.formatter) for h in accurx.handlers] == [LogLineFormatter]
