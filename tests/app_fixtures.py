"""Fixtures of the app's unit tests (queries, callbacks and components called directly),
loaded for every folder by tests/conftest.py.

- `warehouse_app` (session): the app built by `create_app` over the session's demo warehouse.
- `app_context`: that app's Flask application context, pushed for one test, which is
  what `queries.runner.run_query` needs (a Dash callback always has one).
- `app` (module): an app of the test module's own over the demo warehouse (its caches
  shared by that module's tests only).
- `views` (session): `views(name)` reads a whole presentation view into pandas with
  its own connection, for computing expected values independently of the app's SQL.
- `broken_app` (session): the app pointed at a warehouse file that does not exist.
- `text_of` (session): `text_of(node)`, every string inside a component tree, joined.
"""

from __future__ import annotations

import duckdb
import pytest
from dash.development.base_component import Component

from app import create_app


@pytest.fixture(scope="session")
def warehouse_app(demo_warehouse):
    return create_app({"ACCURX_DUCKDB_PATH": str(demo_warehouse.db_path), "ACCURX_WAREHOUSE": "duckdb"})


@pytest.fixture
def app_context(warehouse_app):
    with warehouse_app.server.app_context():
        yield warehouse_app


@pytest.fixture(scope="module")
def app(demo_warehouse):
    return create_app({"ACCURX_DUCKDB_PATH": str(demo_warehouse.db_path)})


@pytest.fixture(scope="session")
def broken_app(tmp_path_factory):
    missing = tmp_path_factory.mktemp("no-warehouse") / "accurx.duckdb"
    return create_app({"ACCURX_DUCKDB_PATH": str(missing), "ACCURX_WAREHOUSE": "duckdb"})


@pytest.fixture(scope="session")
def views(demo_warehouse):
    cache: dict = {}

    def read(name: str):
        if name not in cache:
            con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
            try:
                cache[name] = con.execute(f'select * from "04_PRESENTATION"."{name}"').df()
            finally:
                con.close()
        return cache[name].copy()

    return read


def _text_of(node) -> str:
    if isinstance(node, Component):
        return _text_of(getattr(node, "children", None))
    if isinstance(node, (list, tuple)):
        return " ".join(_text_of(child) for child in node)
    return "" if node is None else str(node)


@pytest.fixture(scope="session")
def text_of():
    return _text_of
