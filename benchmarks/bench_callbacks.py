"""Every Dash callback on its own: cold and cached server time per callback.

The request bodies are the ones chromium sent while loading every tab and the
customer page of this warehouse (captured by bench_dashboard.py into
.tmp/bench/captured_callbacks.json; when that file is missing or holds another
warehouse's pages, as a demo capture does for the large warehouse, whose first customer
differs, captured here into .tmp/bench/captured_callbacks-<scale>.json, once). Each distinct body is sent through the
Flask test client of `create_app(...)` over the benchmark's warehouse, with the headers
a browser sends:

- cold: to a freshly created app (empty query cache and response cache, no warm-up), the median of
  REPEAT fresh apps; the process itself is warmed first (imports, plotly's validators),
  as a gunicorn worker is after its first requests;
- cached: the same body again to the same app (answered from the response cache).

Wall milliseconds, and the process's CPU milliseconds of the cold request (steadier
than wall time when other tenants load the machine). The cold time is also split into
warehouse and Python: `cold_warehouse_ms` is the sum of the `ms` of the query lines the
request logged on `accurx.queries` (queries/runner.py: bind, cache look-up, DuckDB
execute and fetch, the frame's normalising), `cold_python_ms` the rest (Dash's
dispatch, the callback's own work: frames, figures, grids, JSON), each the median over
the REPEAT fresh apps; `cold_queries` lists one cold request's queries and their ms.
A callback's queries run one after another in its request thread, so the sum is wall time.

`ACCURX_BENCH_ONLY=<substring>` measures only the bodies whose callback contains it
(for iterating on a few; results then go to callbacks-<scale>-only.json).

The registered callbacks that no page load sends (clicks, downloads) are listed as
`not_exercised`: their bodies would have to be invented.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from pathlib import Path

from benchmarks.bench_dashboard import (
    CAPTURE_FILE,
    _first_customer,
    _fixtures,
    first_loads,
    page_paths,
)
from benchmarks.bench_warehouse import ensure_built
from benchmarks.common import REPO_ROOT, write_results

CALLBACK_PATH = "/_dash-update-component"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json",
           "Accept-Encoding": "gzip, deflate, br"}
REPEAT = 3
TARGET_MS = 300


def capture_bodies(db_path: Path, capture: Path) -> None:
    """Load every tab and the customer page once in chromium, recording the callback bodies."""
    capture.unlink(missing_ok=True)
    # No warm-up: its requests are not captured anyway, and at 3,000 customers it takes minutes.
    with _fixtures.serve_app(db_path, workers=1, env={"ACCURX_CAPTURE_FILE": str(capture),
                                                      "ACCURX_WARM_UP_SECONDS": "0"},
                             app_target="benchmarks.capture_app:server") as base_url:
        log_path = _fixtures.ARTIFACTS / f"gunicorn-{base_url.rsplit(':', 1)[1]}.log"
        first_loads(base_url, page_paths(db_path), log_path)


def distinct_bodies(capture: Path) -> list[dict]:
    """The captured bodies, each once, in the order first sent, with the callback they name."""
    seen, out = set(), []
    for line in capture.read_text().splitlines():
        body = json.loads(line)["body"]
        if body in seen:
            continue
        seen.add(body)
        out.append({"callback": json.loads(body)["output"], "body": body,
                    "inputs": _describe(json.loads(body))})
    return out


def _describe(request: dict) -> str:
    """The values of the URL and of the inputs that changed: what makes bodies differ."""
    parts = []
    for item in request.get("inputs", []) + request.get("state", []):
        for entry in item if isinstance(item, list) else [item]:
            if entry.get("property") in ("pathname", "search") and entry.get("value"):
                parts.append(str(entry["value"]))
    changed = request.get("changedPropIds") or []
    return " ".join(dict.fromkeys(parts)) + (f" [{', '.join(changed)}]" if changed else "")


class _QueryLines(logging.Handler):
    """Collects the `accurx.queries` lines (queries/runner.py _log) of a request."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = json.loads(record.getMessage())
        except ValueError:
            return
        if line.get("event") == "query":
            self.lines.append(line)


def _post(client, body: str) -> tuple[float, float, int, int]:
    """Wall and CPU milliseconds of one request (CPU time of the whole process, DuckDB's
    threads included: on a shared, loaded machine it moves far less than wall time)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.post(CALLBACK_PATH, data=body, headers=HEADERS)
    ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu_started) * 1000
    return ms, cpu_ms, response.status_code, len(response.get_data())


def measure(db_path: Path, bodies: list[dict]) -> tuple[list[dict], list[str]]:
    """Cold and cached milliseconds of every body; the registered callbacks not sent."""

    from app import create_app

    # No warm-up: a fresh app would render every page into its response cache in the
    # background (serving/warm_up.py), competing with the request measured, and "cold"
    # means nothing cached.
    overrides = {"ACCURX_DUCKDB_PATH": str(db_path), "ACCURX_WAREHOUSE": "duckdb",
                 "ACCURX_LOG_LEVEL": "WARNING", "ACCURX_WARM_UP_SECONDS": "0"}
    warm = create_app(overrides)
    logging.getLogger("accurx").setLevel(logging.WARNING)
    query_log = logging.getLogger("accurx.queries")
    lines = _QueryLines()
    warm_client = warm.server.test_client()
    for item in bodies:  # warm the process, not the caches measured below
        _post(warm_client, item["body"])
    registered = sorted(warm.callback_map)
    results = []
    for item in bodies:
        cold, cold_cpu, cached, status, size = [], [], [], set(), 0
        warehouse, python, queries = [], [], []
        for _ in range(REPEAT):
            client = create_app(overrides).server.test_client()
            query_log.setLevel(logging.INFO)
            query_log.propagate = False  # collected here, not printed
            query_log.addHandler(lines)
            lines.lines = []
            try:
                ms, cpu_ms, code, size = _post(client, item["body"])
            finally:
                query_log.removeHandler(lines)
                query_log.setLevel(logging.WARNING)
                query_log.propagate = True
            in_warehouse = sum(line["ms"] for line in lines.lines)
            warehouse.append(in_warehouse)
            python.append(ms - in_warehouse)
            queries = [f"{line['question']}.{line['query']} {line['ms']} ms {line['cache']}"
                       for line in lines.lines]
            cold.append(ms)
            cold_cpu.append(cpu_ms)
            status.add(code)
            ms, _, code, _ = _post(client, item["body"])
            cached.append(ms)
            status.add(code)
        results.append({"callback": item["callback"], "inputs": item["inputs"],
                        "cold_ms": round(statistics.median(cold), 1),
                        "cold_cpu_ms": round(statistics.median(cold_cpu), 1),
                        "cold_warehouse_ms": round(statistics.median(warehouse), 1),
                        "cold_python_ms": round(statistics.median(python), 1),
                        "cold_queries": queries,
                        "cached_ms": round(statistics.median(cached), 1),
                        "cold_samples_ms": [round(x, 1) for x in cold],
                        "status": sorted(status), "response_bytes": size})
    sent = {item["callback"] for item in bodies}
    return results, [key for key in registered if key not in sent]


def per_callback(results: list[dict]) -> dict:
    """Per callback: its slowest body's cold and cached medians (and how many bodies)."""
    out: dict[str, dict] = {}
    for row in results:
        entry = out.setdefault(row["callback"], {"bodies": 0, "cold_ms": 0.0, "cold_cpu_ms": 0.0,
                                                 "cold_warehouse_ms": 0.0, "cold_python_ms": 0.0,
                                                 "cached_ms": 0.0, "response_bytes": 0})
        entry["bodies"] += 1
        if row["cold_ms"] >= entry["cold_ms"]:  # the split of the slowest body
            entry["cold_warehouse_ms"] = row["cold_warehouse_ms"]
            entry["cold_python_ms"] = row["cold_python_ms"]
        entry["cold_ms"] = max(entry["cold_ms"], row["cold_ms"])
        entry["cold_cpu_ms"] = max(entry["cold_cpu_ms"], row["cold_cpu_ms"])
        entry["cached_ms"] = max(entry["cached_ms"], row["cached_ms"])
        entry["response_bytes"] = max(entry["response_bytes"], row["response_bytes"])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["cold_ms"]))


def run(bench_dir: Path, scale: str, seed: int) -> Path:
    db_path = ensure_built(bench_dir, scale, seed)
    capture = bench_dir / CAPTURE_FILE
    customer_page = f'"/customer/{_first_customer(db_path)}"'
    if not capture.exists() or customer_page not in capture.read_text().replace('\\"', '"'):
        capture = bench_dir / f"captured_callbacks-{scale}.json"
        if not capture.exists() or customer_page not in capture.read_text().replace('\\"', '"'):
            capture_bodies(db_path, capture)
    bodies = distinct_bodies(capture)
    only = os.environ.get("ACCURX_BENCH_ONLY", "")
    if only:
        bodies = [item for item in bodies if only in item["callback"]]
    results, not_exercised = measure(db_path, bodies)
    summary = per_callback(results)
    for name, entry in summary.items():
        print(f"{entry['cold_ms']:8.1f} ms cold ({entry['cold_cpu_ms']:6.1f} ms CPU, "
              f"{entry['cold_warehouse_ms']:6.1f} wh + {entry['cold_python_ms']:6.1f} py) "
              f"{entry['cached_ms']:6.1f} ms cached "
              f"{entry['response_bytes']:8} B  {name[:90]}")
    over = [name for name, entry in summary.items() if entry["cold_ms"] > TARGET_MS]
    print(f"{len(summary)} callbacks measured ({len(bodies)} bodies), {len(over)} over "
          f"{TARGET_MS} ms cold; not sent by any page load: {len(not_exercised)}")
    return write_results(f"callbacks-{scale}" + ("-only" if only else ""), {
        "scale": scale, "per_callback": summary, "bodies": results,
        "not_exercised": not_exercised, "over_target": over, "target_ms": TARGET_MS,
        "command": (f"ACCURX_BENCH_ONLY={only} " if only else "")
        + f"python -m benchmarks.run callbacks --scale {scale} --seed {seed}",
        "note": f"Flask test client of create_app(); cold = first request to a fresh app "
                f"(median of {REPEAT}; cold_cpu_ms its process CPU time), cached = the same request again; per callback the "
                f"slowest of its captured bodies; response_bytes as sent (compressed)",
    })


if __name__ == "__main__":
    print(run(REPO_ROOT / ".tmp" / "bench", "demo", 42))
