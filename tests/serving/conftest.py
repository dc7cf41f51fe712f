"""Fixtures for the serving tests (sign-in, headers, health, input checks, personal data).

- `demo_app` (session): `create_app` over the session's demo warehouse, no sign-in.
- `make_app(**env)`: a fresh app over the demo warehouse with extra settings.
- `busy_customer` (session): the id of the customer with the most unpaid events (its
  pages show the most: unpaid events with user ids, every section of the customer page).
- `oidc_provider` (session): oidc-provider-mock served on 127.0.0.1 (base URL), with
  the users of `serving_support.USERS`; its authorize form signs in whoever's `sub`
  is posted.
- `serve_app`: tests/browser/conftest.py's gunicorn server (loaded from its file, so
  both folders serve the app the same way).
"""

from __future__ import annotations

import threading

import duckdb
import pytest
import werkzeug.serving
from serving_support import USERS, browser_fixtures

from app import create_app


@pytest.fixture(scope="session")
def make_app(demo_warehouse):
    def make(**env):
        return create_app({"ACCURX_DUCKDB_PATH": str(demo_warehouse.db_path),
                           "ACCURX_WAREHOUSE": "duckdb", **env})
    return make


@pytest.fixture(scope="session")
def demo_app(make_app):
    return make_app()


@pytest.fixture(scope="session")
def busy_customer(demo_warehouse) -> int:
    con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
    try:
        return int(con.execute(
            'select organisation_id from "04_PRESENTATION".unpaid_usage_events '
            "group by 1 order by count(*) desc, 1 limit 1").fetchone()[0])
    finally:
        con.close()


@pytest.fixture(scope="session")
def oidc_provider():
    """oidc-provider-mock on 127.0.0.1; yields its base URL (the issuer)."""
    import oidc_provider_mock

    provider = oidc_provider_mock.app(
        user_claims=[oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in USERS.items()])
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def serve_app():
    return browser_fixtures.serve_app
