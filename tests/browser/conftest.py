"""Browser-test fixtures: the app served by gunicorn, driven by Debian's chromium.

- `serve_app(db_path, env=None)` (fixture `serve`): a context manager serving the app with gunicorn on a
  free 127.0.0.1 port against the DuckDB file `db_path` (it need not exist: that is
  how the "warehouse missing" page is tested); yields the base URL.
- `app_url` (session): the app served against the session's `demo_warehouse`.
- `browser` (session): Playwright's chromium using /usr/bin/chromium (never
  `playwright install`). Missing chromium skips the tests locally and FAILS them when
  CI=true.
- `view(sql)`: rows of the demo warehouse read directly (expected values).
- `page`: a fresh context (downloads allowed, 1400x900, base_url=app_url) and page.
- `screenshot` fixture: `screenshot(page, name)` saves tests/artifacts/<name>.png (git-ignored).
- `show_grid` fixture (the function `scroll_to_grid`): `show_grid(page, "#usage-body")` scrolls the first grid in that
  element into view, as a reader does, and waits for its first row (a grid below the
  first view is drawn when scrolled near: assets/lazy-ag-grid.js).

Every test in this folder is marked `browser` automatically.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("ACCURX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(db_path: Path | str, env: dict[str, str] | None = None, workers: int = 2,
              app_target: str = "wsgi:server"):
    """Serve `app_target` (default wsgi:server) with gunicorn (the project's config) and
    yield its base URL."""
    port = _free_port()
    log_path = ARTIFACTS / f"gunicorn-{port}.log"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "ACCURX_DUCKDB_PATH": str(db_path),
        "ACCURX_WAREHOUSE": "duckdb",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    if "REDIS_URL" not in (env or {}):
        full_env.pop("REDIS_URL", None)  # each test server uses its own in-process cache
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), app_target],
            cwd=REPO_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited {proc.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(base_url + "/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 60 s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def serve():
    """The `serve_app` context manager, for tests that need their own server."""
    return serve_app


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/ (git-ignored), created."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def app_url(demo_warehouse):
    """The app served by gunicorn against the session's demo warehouse."""
    with serve_app(demo_warehouse.db_path) as url:
        yield url


@pytest.fixture(scope="session")
def view(demo_warehouse):
    """view(sql) -> DataFrame: read the demo warehouse directly, for expected values."""
    import duckdb

    def read(sql: str, params=None):
        con = duckdb.connect(str(demo_warehouse.db_path), read_only=True)
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    return read


@pytest.fixture
def new_page(browser):
    """A factory: new_page(base_url) -> a page in a fresh context (closed after the test)."""
    contexts = []

    def make(base_url: str, **context_args):
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 900},
            base_url=base_url, **context_args,
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page, app_url):
    """A page of the app served against the demo warehouse."""
    return new_page(app_url)


def _save_screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot():
    """screenshot(page, name) saves tests/artifacts/<name>.png and returns its path."""
    return _save_screenshot


def scroll_to_grid(page, within: str = "body"):
    """Scroll the first grid (or its placeholder) in `within` into view, as a reader
    does, and wait for the grid's first row; returns the grid's locator."""
    from playwright.sync_api import Error as PlaywrightError

    scope = page.locator(within)
    box = scope.locator(".data-grid, .lazy-grid-placeholder").first
    # A callback that returns the grid's section again replaces the element (Dash mounts
    # the new one): the element found may be detached before it is scrolled to, so look
    # it up again, as a reader scrolls to whatever is there now.
    deadline = time.monotonic() + 30
    while True:
        box.wait_for(state="attached")
        try:
            box.scroll_into_view_if_needed()
            break
        except PlaywrightError as exc:
            if "not attached" not in str(exc) or time.monotonic() > deadline:
                raise
    grid = scope.locator(".data-grid").first
    grid.locator(".ag-row").first.wait_for()
    return grid


@pytest.fixture
def show_grid():
    """show_grid(page, within="body") -> the first grid in `within`, scrolled into view
    and drawn (grids below the first view load when scrolled near)."""
    return scroll_to_grid
