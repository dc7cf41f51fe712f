"""The app builds; every callback is registered; every page's component IDs are unique;
importing app.py builds nothing and wsgi.py is what gunicorn serves."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from dash.development.base_component import Component

from app import create_app
from callbacks import registry
from components import ids, layout
from components.common import UrlParams


def _component_ids(node, found: list) -> list:
    if isinstance(node, Component):
        if getattr(node, "id", None) is not None:
            found.append(node.id)
        for prop in ("children",) + tuple(getattr(node, "_children_props", ())):
            _component_ids(getattr(node, prop, None), found)
    elif isinstance(node, (list, tuple)):
        for child in node:
            _component_ids(child, found)
    return found


def _key(component_id) -> str:
    return json.dumps(component_id, sort_keys=True) if isinstance(component_id, dict) else component_id


def _pages():
    yield "shell", layout.shell()
    for module in layout.TAB_MODULES:
        yield f"tab {module.KEY}", layout.page("/", UrlParams({"tab": [module.KEY]}))
    yield "customer", layout.page("/customer/1", UrlParams())
    yield "missing", layout.page("/nowhere", UrlParams())


@pytest.fixture(scope="module")
def app():
    return create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})


def test_every_callback_module_registers_on_each_app(app):
    second = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})
    declared = len(registry._SERVER_SIDE) + len(registry._CLIENT_SIDE)
    assert len(app.callback_map) == declared > 25
    assert set(second.callback_map) == set(app.callback_map)
    names = {cb["callback"].__name__ for cb in app.callback_map.values() if "callback" in cb}
    assert {"render_page", "write_controls_to_url", "export_grid_csv"} <= names


@pytest.mark.parametrize("name,page", list(_pages()), ids=[n for n, _ in _pages()])
def test_component_ids_unique_on_every_page(name, page):
    shell_ids = _component_ids(layout.shell(), [])
    page_ids = shell_ids + ([] if name == "shell" else _component_ids(page, []))
    keys = [_key(i) for i in page_ids]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates, f"{name}: duplicate component IDs {duplicates}"


def test_id_constants_are_unique():
    values = [
        _key(value) for name, value in vars(ids).items()
        if name.isupper() and isinstance(value, (str, dict)) and name != "URL_PARAM_PROPS"
    ]
    assert len(values) == len(set(values))


def test_every_callback_id_exists_in_some_layout(app):
    """Concrete (non-pattern) IDs used by callbacks exist in the shell or some page."""
    known = set()
    for _, page in _pages():
        known.update(_key(i) for i in _component_ids(page, []) if isinstance(i, str))
    known.update(_dynamic_ids())
    for callback in app.callback_map.values():
        for dep in callback["inputs"] + callback["state"]:
            if not dep["id"].startswith("{"):
                assert dep["id"] in known, f"callback input {dep['id']} is in no layout"


def _dynamic_ids() -> set:
    """IDs that data callbacks create inside a page (not in the static skeletons): the
    customer page's top (callbacks/customer.py, show_customer) brings the store that its
    sections and outlook wait for, and the sections' area."""
    import pandas as pd

    from components import customer

    organisation = pd.Series({"organisation_id": 1, "organisation_name": "A", "region": None,
                              "first_export_date": "2026-01-01", "last_export_date": "2026-02-01"})
    top = customer.page_top(organisation, None, "",
                            pd.DataFrame(columns=["date", "feature", "selected_option"]),
                            pd.DataFrame(columns=["reason", "feature", "events"]),
                            pd.DataFrame(columns=["change_date"]))
    return {_key(i) for i in _component_ids(top, []) if isinstance(i, str)}


def test_index_page_served(app):
    response = app.server.test_client().get("/")
    assert response.status_code == 200
    assert b"01-bootstrap.min.css" in response.data
    assert b"cdn" not in response.data.lower()


REPO_ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    env = {"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_importing_app_builds_nothing():
    done = _python("import dash\n"
                   "def refuse(*args, **kwargs):\n"
                   "    raise SystemExit('importing app.py built a Dash app')\n"
                   "dash.Dash.__init__ = refuse\n"
                   "import app, callbacks, components.layout\n"
                   "print('nothing built')")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "nothing built"


def test_wsgi_serves_the_app():
    done = _python("import wsgi\n"
                   "print(wsgi.server.test_client().get('/').status_code)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "200"


def test_parallel_first_requests_for_scripts_all_succeed(app):
    """A new app's first requests, all at once for the page's scripts (as a browser makes
    them), each get their script: create_app prepared Dash's script registry."""
    page = app.server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="(/_dash-component-suites/[^"]+)"', page)
    assert len(scripts) >= 5
    fresh = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})

    def fetch(path):
        return fresh.server.test_client().get(path).status_code

    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        statuses = list(pool.map(fetch, scripts))
    assert statuses == [200] * len(scripts)
