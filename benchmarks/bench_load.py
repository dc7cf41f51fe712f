"""Many simulated users against gunicorn on 127.0.0.1, replaying the callback requests a
real browser sent (captured by bench_dashboard.py).

Each user loops: pick a page, send its callbacks one after another, think 2 s. Bounded
in time (DURATION_S per run) and in count; only loopback traffic. Runs: 10 and 50 users,
cold (fresh server), warm (same server again, 30 s later) and after warm-up (once the
server's warm-up after start has ended), with the workers' shared file cache (the
default without REDIS_URL, gunicorn.conf.py), a per-process cache (CACHE_TYPE=simple)
and Redis; then 50 users with the response cache off (serving/response_cache.py: what it
contributes), and 50 users who each open the customer pages of any of the warehouse's
customers (the captured customer's id replaced by a random one per page load), so most
customer requests are new to the caches, with each of the first two caches.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import requests

from benchmarks.bench_dashboard import CAPTURE_FILE, _first_customer, _fixtures
from benchmarks.bench_dashboard import run as run_dashboard_bench
from benchmarks.bench_warehouse import ensure_built
from benchmarks.common import write_results

DURATION_S = 30
THINK_S = 2.0
MAX_REQUESTS_PER_USER = 2000
WORKERS = 3


def _load_pages(capture: Path) -> list[list[str]]:
    """The captured callback bodies, grouped into page loads (runs between layout calls)."""
    bodies = [json.loads(line)["body"] for line in capture.read_text().splitlines() if line]
    pages, current = [], []
    for body in bodies:
        if '"url.pathname"' in body and current:
            pages.append(current)
            current = []
        current.append(body)
    if current:
        pages.append(current)
    return pages


def _for_customer(page: list[str], captured: int, customer: int) -> list[str]:
    """The page's callback bodies with the captured customer's id replaced by another's
    (the id appears in the URL path or query, and as a control or store value)."""
    patterns = ((f"/customer/{captured}", f"/customer/{customer}"),
                (f"customer={captured}", f"customer={customer}"),
                (f'"value":"{captured}"', f'"value":"{customer}"'))
    out = []
    for body in page:
        for old, new in patterns:
            body = body.replace(old, new)
        out.append(body)
    return out


def _user(base_url: str, pages: list[list[str]], stop: float, seed: int, out: list, errors: list,
          customers: tuple[int, list[int]] | None = None):
    rng = random.Random(seed)
    session = requests.Session()
    sent = 0
    while time.monotonic() < stop and sent < MAX_REQUESTS_PER_USER:
        page = rng.choice(pages)
        if customers is not None:
            captured, choices = customers
            page = _for_customer(page, captured, rng.choice(choices))
        for body in page:
            started = time.perf_counter()
            try:
                response = session.post(f"{base_url}/_dash-update-component", data=body,
                                        headers={"Content-Type": "application/json"}, timeout=30)
                ok = response.status_code in (200, 204)
            except requests.RequestException:
                ok = False
            out.append((time.perf_counter() - started) * 1000)
            if not ok:
                errors.append(1)
            sent += 1
        time.sleep(THINK_S * rng.uniform(0.5, 1.5))


def _run_users(base_url: str, pages, users: int, customers=None) -> dict:
    latencies, errors = [], []
    stop = time.monotonic() + DURATION_S
    threads = [threading.Thread(target=_user, args=(base_url, pages, stop, i, latencies, errors,
                                                    customers))
               for i in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1) if ordered else None

    return {"users": users, "requests": len(latencies), "errors": len(errors),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": pct(50), "p95_ms": pct(95),
            "p99_ms": pct(99), "mean_ms": round(statistics.mean(latencies), 1) if latencies else None}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_warm_up(base_url: str, quiet_s: float = 10.0, limit_s: float = 300.0) -> None:
    """Until the server's warm-up has ended: at least one warm-up that ran (any outcome but
    "another worker warms this build") in its log and no new outcome for `quiet_s` (each
    worker with a per-process cache warms its own copy; with a shared cache one warms and
    the others log at once that they leave it to that one, which ends later).
    "cold" and "warm" overlap the warm-up; this phase measures the state it leaves."""
    log_path = _fixtures.ARTIFACTS / f"gunicorn-{base_url.rsplit(':', 1)[1]}.log"
    deadline = time.monotonic() + limit_s
    seen, changed = 0, time.monotonic()
    while time.monotonic() < deadline:
        lines = [line for line in log_path.read_text().splitlines() if '"event": "warm_up"' in line]
        ran = [line for line in lines if "another worker warms this build" not in line]
        ended = len(lines) if ran else 0
        if ended != seen:
            seen, changed = ended, time.monotonic()
        elif seen and time.monotonic() - changed >= quiet_s:
            return
        time.sleep(1)


def run(bench_dir: Path, scale: str, seed: int) -> Path:
    db_path = ensure_built(bench_dir, scale, seed)
    capture = bench_dir / CAPTURE_FILE
    if not capture.exists():
        run_dashboard_bench(bench_dir, scale, seed)
    pages = _load_pages(capture)
    results = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        every_customer = [row[0] for row in con.execute(
            'select organisation_id from "04_PRESENTATION".organisations order by 1').fetchall()]
    customers = (_first_customer(db_path), every_customer)
    redis_port = _free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    redis_env = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    per_process = {"CACHE_TYPE": "simple"}
    scenarios = [
        ("file (shared by the workers)", {}, (10, 50), None),
        ("per-process", per_process, (10, 50), None),
        ("redis", redis_env, (10, 50), None),
        ("file, response cache off", {"ACCURX_RESPONSE_CACHE": "0"}, (50,), None),
        (f"file, any of {len(every_customer)} customers", {}, (50,), customers),
        (f"per-process, any of {len(every_customer)} customers", per_process, (50,), customers),
    ]
    try:
        time.sleep(0.5)
        for cache_name, env, user_counts, scenario_customers in scenarios:
            for users in user_counts:
                if "REDIS_URL" in env:
                    subprocess.run(["redis-cli", "-p", str(redis_port), "flushall"],
                                   stdout=subprocess.DEVNULL, check=False)
                with _fixtures.serve_app(db_path, env=env, workers=WORKERS) as base_url:
                    for phase in ("cold", "warm", "after warm-up"):
                        if phase == "after warm-up":
                            _wait_for_warm_up(base_url)
                        row = {"cache": cache_name, "phase": phase,
                               **_run_users(base_url, pages, users, scenario_customers)}
                        results.append(row)
                        print(f"{cache_name:34} {phase:13} {users:3} users: {row['rps']:6} req/s "
                              f"p50 {row['p50_ms']} p95 {row['p95_ms']} p99 {row['p99_ms']} ms, "
                              f"{row['errors']} errors of {row['requests']}")
    finally:
        redis.terminate()
        redis.wait(timeout=10)
    return write_results(f"load-{scale}", {
        "scale": scale, "workers": WORKERS, "duration_s": DURATION_S, "think_s": THINK_S,
        "pages_replayed": len(pages), "runs": results,
        "command": f"python -m benchmarks.run load --scale {scale} --seed {seed}",
    })
