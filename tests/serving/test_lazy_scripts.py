"""dash-ag-grid's bundle is left out of the page and served when a grid asks for it
(serving/lazy_scripts.py, assets/lazy-ag-grid.js); tests/browser/test_access.py checks
in a browser that a grid still appears."""

from __future__ import annotations

import html
import re
from pathlib import Path

import dash_ag_grid

from app import create_app
from serving.lazy_scripts import BUNDLE, META_NAME
from serving.static_caching import IMMUTABLE


def _client(tmp_path):
    app = create_app({"ACCURX_DUCKDB_PATH": str(tmp_path / "missing.duckdb"), "ACCURX_WAREHOUSE": "duckdb"})
    return app.server.test_client()


def test_the_page_names_the_bundle_in_a_meta_tag_not_a_script(tmp_path):
    client = _client(tmp_path)
    page = client.get("/").get_data(as_text=True)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert not [src for src in scripts if "dash_ag_grid" in src], scripts
    assert any("/assets/lazy-ag-grid.js" in src for src in scripts), scripts
    (address,) = re.findall(rf'<meta name="{META_NAME}" content="([^"]+)"', page)
    address = html.unescape(address)
    assert address.startswith("/_dash-component-suites/dash_ag_grid/dash_ag_grid.v")

    response = client.get(address)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.get_data() == (Path(dash_ag_grid.__file__).parent / BUNDLE).read_bytes()



def test_no_page_loads_dash_bootstrap_components(tmp_path):
    """The app draws Bootstrap's markup with Dash's own components (its CSS is in assets/),
    so dash-bootstrap-components' bundle is neither imported nor written into any page."""
    import sys

    client = _client(tmp_path)
    assert "dash_bootstrap_components" not in sys.modules
    for address in ("/", "/?tab=unpaid", "/?tab=entitlements", "/customer/1"):
        page = client.get(address).get_data(as_text=True)
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
        assert any("dash_core_components" in src for src in scripts), scripts
        assert not [src for src in scripts if "bootstrap" in src], scripts
    assert client.get("/_dash-component-suites/dash_bootstrap_components/"
                      "_components/dash_bootstrap_components.min.js").status_code == 404
