"""Fingerprinted scripts and assets are cached for a year (serving/static_caching.py);
unfingerprinted addresses and data never are."""

from __future__ import annotations

import re

import brotli

from app import create_app
from serving.static_caching import IMMUTABLE


def _app(tmp_path):
    # No warehouse is needed to serve the page and its files.
    return create_app({"ACCURX_DUCKDB_PATH": str(tmp_path / "missing.duckdb"),
                       "ACCURX_WAREHOUSE": "duckdb"})


def test_every_script_and_stylesheet_of_the_page_is_immutable(tmp_path):
    client = _app(tmp_path).server.test_client()
    page = client.get("/").get_data(as_text=True)
    addresses = re.findall(r'(?:src|href)="(/(?:_dash-component-suites|assets)/[^"]+)"', page)
    assert any(a.startswith("/_dash-component-suites/") for a in addresses)
    assert any(a.startswith("/assets/") for a in addresses)
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        assert response.headers["Cache-Control"] == IMMUTABLE, address


def test_an_address_without_its_fingerprint_is_not_kept_for_a_year(tmp_path):
    client = _app(tmp_path).server.test_client()
    page = client.get("/").get_data(as_text=True)
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', page).group(1)
    plain = re.sub(r"\.v[\w-]+m[0-9a-fA-F]+\.", ".", suite)
    assert plain != suite
    css = re.search(r'href="(/assets/[^"?]+)\?m=[^"]+"', page).group(1)
    for address in (plain, css):
        response = client.get(address)
        assert response.status_code == 200, address
        assert "immutable" not in response.headers.get("Cache-Control", ""), address
    assert client.post("/_dash-update-component", json={}).headers["Cache-Control"] == "no-store"


def test_a_browser_that_accepts_brotli_and_zstd_gets_brotli(tmp_path):
    client = _app(tmp_path).server.test_client()
    page = client.get("/").get_data(as_text=True)
    plotly = re.search(r'src="(/assets/plotly[^"]+)"', page).group(1)
    plain = client.get(plotly).get_data()
    response = client.get(plotly, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.get_data()) == plain
    # Smaller than flask-compress's default brotli quality (4) gives.
    assert len(response.get_data()) < len(brotli.compress(plain, quality=4))
