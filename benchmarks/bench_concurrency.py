"""Concurrent dashboard queries in one process: N threads (a gthread worker's callbacks
running in parallel) each run a shuffled mix of the app's real queries (churn, customer,
access; cache off) against the demo warehouse, with the DuckDB backend of this tree
("after") or of an earlier commit ("before", loaded from `git show REV:...`), each in its
own fresh process, alternated back to back. Reports p50/p95/max per-query latency, the
total wall time and the load average. Benchmarks report; they never assert.

    python -m benchmarks.bench_concurrency --db data/accurx.duckdb --before 9faa930 --pairs 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, write_results

BACKEND = "queries/backends/duckdb.py"


def _use_backend_of(rev: str) -> None:
    """Replace this process's DuckDB backend with the one committed at `rev`."""
    source = subprocess.run(["git", "show", f"{rev}:{BACKEND}"], cwd=REPO_ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"duckdb_backend_{rev}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("queries.backends.duckdb", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["queries.backends.duckdb"] = module
    spec.loader.exec_module(module)


def _cases(as_of: dt.date, org_ids: list[int]):
    from queries import access, churn, customer

    since_week = as_of - dt.timedelta(days=as_of.weekday()) - dt.timedelta(weeks=12)
    since_day = as_of - dt.timedelta(days=90)
    cases = [
        ("churn.changes_by_month", lambda: churn.changes_by_month(None)),
        ("churn.retention_cohorts", lambda: churn.retention_cohorts(None)),
        ("churn.cancellations_with_usage", lambda: churn.cancellations_with_usage(None)),
        ("churn.dormant_entitled", lambda: churn.dormant_entitled(None, as_of)),
        ("access.access_on_date", lambda: access.access_on_date(as_of)),
        ("access.customers_with_access", lambda: access.customers_with_access(as_of, "SMS", "SMS Plus")),
        ("access.all_trends", lambda: access.all_trends()),
    ]
    for org in org_ids:
        cases += [
            ("customer.entitlement_days", lambda org=org: customer.entitlement_days(org)),
            ("customer.usage_against_peers", lambda org=org: customer.usage_against_peers(org, since_week)),
            ("customer.unpaid_by_reason", lambda org=org: customer.unpaid_by_reason(org, since_day)),
            ("customer.recent_unpaid_events", lambda org=org: customer.recent_unpaid_events(org, since_day)),
            ("customer.entitlement_changes", lambda org=org: customer.entitlement_changes(org)),
        ]
    return cases


def measure(db: Path, threads: int, rounds: int, before: str | None, seed: int,
            limit: int | None = None) -> dict:
    sys.path.insert(0, str(REPO_ROOT))
    if before:
        _use_backend_of(before)
    elif limit:
        import queries.backends.duckdb as backend

        backend.MAX_CONCURRENT_QUERIES = limit  # read when the file's first backend is made
    from app import create_app

    logging.getLogger("accurx").setLevel(logging.WARNING)  # one line per query: not here
    app = create_app({"ACCURX_DUCKDB_PATH": str(db), "CACHE_TYPE": "NullCache",
                      "ACCURX_STATEMENT_TIMEOUT_SECONDS": "120", "ACCURX_WARM_UP_SECONDS": "0"})
    with app.server.app_context():
        from queries import organisations

        extent = organisations.data_extent().iloc[0]
        as_of = dt.date.fromisoformat(str(extent["latest_complete_date"])[:10])
        org_ids = organisations.all_organisations()["organisation_id"].head(40).tolist()
        cases = _cases(as_of, org_ids[:3])
        for _, call in cases[:8]:  # connection open, catalog loaded, before the clock starts
            call()
    latencies: list[tuple[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker(n: int) -> None:
        order = [case for _ in range(rounds) for case in cases]
        random.Random(seed + n).shuffle(order)
        with app.server.app_context():
            start.wait()
            for name, call in order:
                t0 = time.perf_counter()
                try:
                    call()
                except Exception as exc:  # noqa: BLE001 - a benchmark reports, never stops
                    with lock:
                        errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    latencies.append((name, (time.perf_counter() - t0) * 1000))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    load_before = os.getloadavg()
    start.wait()
    t0 = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - t0
    ms = sorted(v for _, v in latencies)
    quantiles = statistics.quantiles(ms, n=100)
    def p50(prefix: str) -> float:
        return round(statistics.median(v for name, v in latencies if name.startswith(prefix)), 1)

    return {
        "backend": f"before ({before})" if before else
                   f"after (this tree, {limit or 'default'} at once)",
        "threads": threads, "queries": len(ms), "errors": len(errors), "first_errors": errors[:3],
        "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(quantiles[94], 1),
        "max_ms": round(ms[-1], 1), "wall_s": round(wall, 2),
        "p50_ms_by_kind": {kind: p50(kind) for kind in ("churn.", "access.", "customer.")},
        "p50_ms_churn_dormant_entitled": p50("churn.dormant_entitled"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=REPO_ROOT / "data" / "accurx.duckdb")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", default=None, help="commit whose DuckDB backend is 'before'")
    parser.add_argument("--pairs", type=int, default=0,
                        help="run PAIRS before/after pairs, each in a fresh process, and write results")
    parser.add_argument("--limits", default="",
                        help="comma-separated MAX_CONCURRENT_QUERIES to run 'after' with (default: "
                             "the module's)")
    parser.add_argument("--only", choices=["before", "after"], help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args.db.resolve(), args.threads, args.rounds,
                                 args.before if args.only == "before" else None, args.seed,
                                 args.limit)))
        return
    runs = []
    for pair in range(args.pairs):
        limits = [int(n) for n in args.limits.split(",") if n] or [None]
        for side, limit in [("before", None)] + [("after", n) for n in limits]:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_concurrency", "--only", side,
                 "--db", str(args.db), "--threads", str(args.threads), "--rounds", str(args.rounds),
                 "--seed", str(args.seed), "--before", args.before or "HEAD",
                 *(["--limit", str(limit)] if limit else [])],
                cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
            result = {"pair": pair + 1, **json.loads(out.strip().splitlines()[-1])}
            runs.append(result)
            print(json.dumps(result), flush=True)
    path = write_results("concurrency-demo", {
        "runs": runs,
        "command": " ".join(["python -m benchmarks.bench_concurrency", *sys.argv[1:]]),
        "note": "per-query latency of N threads each running a shuffled mix of churn, customer "
                "and access queries, cache off, one process; before/after alternated",
    })
    print(path)


if __name__ == "__main__":
    main()
