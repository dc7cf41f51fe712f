"""The dashboard as a user meets it, served by gunicorn on 127.0.0.1 against the
benchmark's demo warehouse:

- first load of each tab and of a customer's page in headless chromium (Debian's,
  1440x900, a fresh profile per page): bytes transferred (as encoded on the wire, i.e.
  compressed) and time from navigation to the first chart drawn, with an empty HTTP
  cache and again with the cache that first load left (a returning user), once the
  server has finished warming its response cache after start (serving/warm_up.py).
  Transfer is counted before anyone scrolls; the page is then scrolled to its end and
  what that loads is reported apart (grids below the first view load dash-ag-grid's
  script when scrolled near: assets/lazy-ag-grid.js);
- the same first chart as seen from inside the page: the frame it was first visible in;
- settled: when the last response arrived or the last long main-thread task (a chart
  drawn, a grid built) ended, whichever is later, after the first chart;
- the Churn tab opened by its link from the Access tab (as in a meeting): first chart
  and settled, from the click;
- every Dash callback request the page sent, captured and replayed with `requests`:
  median time per tab on a fresh server (cold: nothing cached) and again (cached).

The captured callback requests are saved for the load benchmark (bench_load.py) and
the per-callback benchmark (bench_callbacks.py: cold and cached time of each callback).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from benchmarks.bench_warehouse import ensure_built
from benchmarks.common import REPO_ROOT, write_results
from config import load_settings


def _browser_fixtures():
    """The browser tests' server and chromium settings (tests/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "browser_conftest", REPO_ROOT / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _browser_fixtures()
CHROMIUM, CHROMIUM_ARGS, serve_app = _fixtures.CHROMIUM, _fixtures.CHROMIUM_ARGS, _fixtures.serve_app

TABS = {
    "access": "/?tab=access",
    "entitlements": None,  # with the first customer: the tab opens empty without one
    "usage": "/?tab=usage",
    "unpaid": "/?tab=unpaid",
    "churn": "/?tab=churn",
    "outlook": "/?tab=outlook",
    "customer": None,  # filled with the first customer of the warehouse
}
CAPTURE_FILE = "captured_callbacks.json"
FIRST_CONTENT = ".js-plotly-plot .main-svg, .ag-center-cols-container .ag-row, main table tbody tr, table tbody tr"


def _first_customer(db_path: Path) -> int:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute('select min(organisation_id) from "04_PRESENTATION".organisations').fetchone()[0]


VIEWPORT = {"width": 1440, "height": 900}
# In the page from the document's start: long main-thread tasks (the Long Tasks API keeps
# none for an observer registered later), and the frame in which the first chart or grid
# row was first visible (checked before each frame is painted). Playwright's own wait
# polls from outside at growing intervals (up to 500 ms) and cannot look while a long task
# runs, so its first_chart_ms can come up to a second after the chart was on screen.
PAGE_PROBES = """
window.__benchLongTasks = [];
new PerformanceObserver(list => list.getEntries().forEach(entry =>
    window.__benchLongTasks.push(entry.startTime + entry.duration))).observe({type: "longtask"});
window.__benchWatch = selector => {
    window.__benchFirst = null;
    const look = () => {
        const element = document.querySelector(selector);
        if (element && element.checkVisibility({visibilityProperty: true})
                && element.getBoundingClientRect().width > 0) {
            window.__benchFirst = performance.now();
        } else {
            requestAnimationFrame(look);
        }
    };
    requestAnimationFrame(look);
};
""" + f"window.__benchWatch({json.dumps(FIRST_CONTENT)});"
# ms (page clock) when the page settled: its last response or last long task, whichever later.
SETTLED = """(since) => Math.max(since,
    ...performance.getEntriesByType("resource").map(entry => entry.responseEnd),
    ...window.__benchLongTasks) - since"""
# Tabs also opened by their link from the Access tab: link text, the tab's first chart.
CLICKS = {"churn": ("Churn", "#churn-monthly .main-svg")}


def _rounded(ms: float | None, since: float = 0) -> int | None:
    return None if ms is None else round(ms - since)


def _load(page, url: str, label: str) -> dict:
    """Open `url` in `page`: ms to the first chart or grid row, requests, bytes received."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    sizes, names = [], []

    def on_finished(request):
        try:
            request_sizes = request.sizes()
            size = request_sizes["responseBodySize"] + request_sizes["responseHeadersSize"]
        except Exception:  # noqa: BLE001 (a request without sizes counts as 0)
            size = 0
        sizes.append(size)
        names.append((request.url.split("?")[0].rsplit("/", 1)[-1], size))

    page.on("requestfinished", on_finished)
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    try:
        page.locator(FIRST_CONTENT).first.wait_for(state="visible", timeout=90_000)
    except PlaywrightTimeout:
        page.screenshot(path=str(REPO_ROOT / ".tmp" / f"bench-{label}-timeout.png"))
        raise RuntimeError(f"{label}: no chart or grid row within 90 s ({url})") from None
    first_chart_ms = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("networkidle", timeout=90_000)
    before_scroll = list(sizes)
    in_page_ms = _rounded(page.evaluate("window.__benchFirst"))
    settled_ms = round(max(first_chart_ms, page.evaluate(SETTLED, 0)))
    # Grids further down load their script when scrolled near (assets/lazy-ag-grid.js):
    # the figures above are before anyone scrolls; then scroll to the bottom as a reader
    # would and count what that loads.
    names_before = len(names)
    _scroll_to_bottom(page)
    page.wait_for_load_state("networkidle", timeout=90_000)
    page.remove_listener("requestfinished", on_finished)
    return {"first_chart_ms": round(first_chart_ms),
            "first_chart_in_page_ms": in_page_ms, "settled_ms": settled_ms,
            "requests": len(before_scroll),
            "requests_over_network": sum(size > 0 for size in before_scroll),
            "transfer_kib": round(sum(before_scroll) / 1024),
            "after_scrolling_to_bottom": {
                "transfer_kib": round(sum(sizes) / 1024),
                "loaded": [name for name, size in names[names_before:] if size > 0]}}


def _scroll_to_bottom(page, step: int = 600) -> None:
    """Scroll down by `step` px with the mouse wheel until the end of the page."""
    for _ in range(100):
        at_end = page.evaluate("() => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2")
        if at_end:
            break
        page.mouse.wheel(0, step)
        page.wait_for_timeout(150)
    page.wait_for_timeout(500)


def _click(page, base_url: str, link: str, first_chart: str, label: str) -> dict:
    """From the Access tab, loaded and settled in `page`: ms from a click on the nav link
    `link` to the tab's first chart (`first_chart` visible) and to settled."""
    page.goto(base_url + TABS["access"])
    page.locator(FIRST_CONTENT).first.wait_for(state="visible", timeout=90_000)
    page.wait_for_load_state("networkidle", timeout=90_000)
    clicked = page.evaluate(f"window.__benchWatch({json.dumps(first_chart)}), performance.now()")
    started = time.perf_counter()
    page.get_by_role("link", name=link, exact=True).click()
    try:
        page.locator(first_chart).first.wait_for(state="visible", timeout=90_000)
    except Exception:
        page.screenshot(path=str(REPO_ROOT / ".tmp" / f"bench-{label}-click-timeout.png"))
        raise
    first_chart_ms = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("networkidle", timeout=90_000)
    page.wait_for_timeout(1000)  # networkidle can come before the last chart is drawn
    return {"first_chart_ms": round(first_chart_ms),
            "first_chart_in_page_ms": _rounded(page.evaluate("window.__benchFirst"), clicked),
            "settled_ms": round(max(first_chart_ms, page.evaluate(SETTLED, clicked)))}


def first_loads(base_url: str, paths: dict[str, str], log_path: Path) -> tuple[dict, dict]:
    """Per tab, in a fresh browser profile (1440x900): the first load with an empty HTTP
    cache (transfer bytes, requests, ms to first chart), then the same URL again in a
    new tab of the same profile (its HTTP cache warm); and the server's callback log
    lines (serving/observability.py) written while the first load ran."""
    from playwright.sync_api import sync_playwright

    results, callbacks = {}, {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for tab, path in paths.items():
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(PAGE_PROBES)
            log_offset = log_path.stat().st_size
            page = context.new_page()
            results[tab] = _load(page, base_url + path, tab)
            time.sleep(1.0)  # let the last callback's log line reach the file
            callbacks[tab] = _callback_lines(log_path, log_offset)
            page.close()
            results[tab]["warm_browser_cache"] = _load(context.new_page(), base_url + path, tab)
            if tab in CLICKS:  # warm browser cache, as after the Access tab's first load
                results[tab]["click_from_access"] = _click(context.new_page(), base_url, *CLICKS[tab], tab)
            context.close()
        browser.close()
    return results, callbacks


def _warm_up_line(log_path: Path, timeout: float) -> dict | None:
    """The server's warm-up report (serving/warm_up.py), waiting up to `timeout` s for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if '"event": "warm_up"' in line and '"another worker' not in line:
                return json.loads(line[line.index("{"):])
        time.sleep(0.5)
    return None


def _callback_lines(log_path: Path, offset: int) -> list[dict]:
    with open(log_path) as log:
        log.seek(offset)
        text = log.read()
    lines = []
    for line in text.splitlines():
        if '"event": "callback"' in line:
            lines.append(json.loads(line[line.index("{"):]))
    return lines


def querying_callbacks(lines: list[dict]) -> set[str]:
    """The callbacks that sent queries during a page load."""
    return {line["callback"] for line in lines if line.get("queries")}


def summarise(lines: list[dict], querying_names: set[str]) -> dict:
    """Median and total server time of a page load's callbacks; "querying" are the
    callbacks named (those that queried on the cold load: on the cached load they may
    be answered from the response cache without any query)."""
    querying = [line["ms"] for line in lines if line.get("callback") in querying_names]
    every = [line["ms"] for line in lines]
    return {"callbacks": len(every), "querying_callbacks": len(querying),
            "median_ms_querying": round(statistics.median(querying), 1) if querying else None,
            "median_ms_all": round(statistics.median(every), 1) if every else None,
            "total_ms": round(sum(every), 1),
            "cache_hits": sum(line.get("cache_hits", 0) for line in lines),
            "cache_misses": sum(line.get("cache_misses", 0) for line in lines),
            "response_cache_hits": sum(line.get("response_cache") == "hit" for line in lines)}


def page_paths(db_path: Path) -> dict[str, str]:
    """The path loaded for every tab and the customer page (the warehouse's first customer)."""
    org = _first_customer(db_path)
    return {**TABS, "entitlements": f"/?tab=entitlements&customer={org}", "customer": f"/customer/{org}"}


def run(bench_dir: Path, scale: str, seed: int) -> Path:
    db_path = ensure_built(bench_dir, scale, seed)
    paths = page_paths(db_path)
    capture = bench_dir / CAPTURE_FILE
    capture.unlink(missing_ok=True)
    # One worker, so the second pass really finds the first pass's results in its cache.
    with serve_app(db_path, workers=1, env={"ACCURX_CAPTURE_FILE": str(capture)},
                   app_target="benchmarks.capture_app:server") as base_url:
        log_path = _fixtures.ARTIFACTS / f"gunicorn-{base_url.rsplit(':', 1)[1]}.log"
        # The meeting starts once the build is live and warmed (ACCURX_WARM_UP_SECONDS,
        # read from the same environment as the server's).
        budget = load_settings().warm_up_seconds
        warm_up = _warm_up_line(log_path, timeout=budget + 60) if budget else None
        cold_loads, cold_lines = first_loads(base_url, paths, log_path)
        warm_loads, warm_lines = first_loads(base_url, paths, log_path)
    names = {tab: querying_callbacks(lines) for tab, lines in cold_lines.items()}
    cold = {tab: summarise(lines, names[tab]) for tab, lines in cold_lines.items()}
    cached = {tab: summarise(lines, names.get(tab, set())) for tab, lines in warm_lines.items()}
    print(f"warm-up after start: {warm_up}")
    for tab in paths:
        again = cold_loads[tab]["warm_browser_cache"]
        click = cold_loads[tab].get("click_from_access")
        clicked = (f"; from the Access tab's link: first chart {click['first_chart_ms']} ms (in the "
                   f"page {click['first_chart_in_page_ms']} ms), settled {click['settled_ms']} ms"
                   ) if click else ""
        print(f"{tab:13} first chart {cold_loads[tab]['first_chart_ms']:6} ms empty browser cache "
              f"(in the page {cold_loads[tab]['first_chart_in_page_ms']} ms, settled "
              f"{cold_loads[tab]['settled_ms']} ms) "
              f"({cold_loads[tab]['transfer_kib']:5} KiB in {cold_loads[tab]['requests']} requests), "
              f"{again['first_chart_ms']:6} ms warm browser cache ({again['transfer_kib']} KiB, "
              f"{again['requests_over_network']} of {again['requests']} requests over the network); "
              f"after scrolling to the bottom {cold_loads[tab]['after_scrolling_to_bottom']['transfer_kib']} KiB "
              f"(then loaded: {', '.join(cold_loads[tab]['after_scrolling_to_bottom']['loaded']) or 'nothing'}); "
              f"second server pass {warm_loads[tab]['first_chart_ms']} ms; querying callbacks median "
              f"{cold[tab]['median_ms_querying']} ms first pass, {cached[tab]['median_ms_querying']} ms second; "
              f"response-cache hits {cold[tab]['response_cache_hits']}/{cold[tab]['callbacks']} first pass"
              f"{clicked}")
    return write_results(f"dashboard-{scale}", {
        "scale": scale, "paths": paths, "warm_up": warm_up, "first_load_cold_server": cold_loads,
        "first_load_cached_server": warm_loads, "callbacks_cold": cold, "callbacks_cached": cached,
        "command": f"python -m benchmarks.run dashboard --scale {scale} --seed {seed}",
        "note": "fresh browser profile per tab, 1440x900: first load with an empty HTTP cache, "
                "then again in the same profile (`warm_browser_cache`); the first pass starts "
                "after the server's warm-up report (`warm_up`, null when warming is off); "
                "gunicorn with 1 worker; "
                "callback times are the server's own per-callback log lines; transfer = "
                "encoded (compressed) body + headers as chromium received them, counted "
                "before anyone scrolls (network idle after the first chart); "
                "`after_scrolling_to_bottom` is the total once the page is then scrolled to "
                "its end (grids load their script when scrolled near) and what that loaded"
                "; first_chart_in_page_ms = the frame the first chart was visible in, seen from "
                "the page (first_chart_ms is Playwright's wait, which polls from outside); "
                "settled_ms = the last response or long main-thread task before scrolling "
                "(ms from navigation); "
                "click_from_access = the tab opened by its nav link from the loaded Access tab "
                "(warm browser cache; ms from the click)",
    })


if __name__ == "__main__":
    print(run(REPO_ROOT / ".tmp" / "bench", "small", 7))
