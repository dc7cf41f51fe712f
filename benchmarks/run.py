"""`make bench`: measure, write results to benchmarks/results/, never assert.

    python -m benchmarks.run [warehouse] [queries] [dashboard] [callbacks] [load]   (default: all)

- warehouse: demo-scale generate, load and build wall time and peak memory.
- queries:   latency of the dashboard's queries (one per question, for one organisation
             and for all) against the presentation views, side by side in the same run
             with the same answers from views over the raw JSON (the original design).
- dashboard: first-load transfer size and time to first chart in headless chromium;
             median callback time per tab, cold and cached.
- callbacks: every callback a page load sends, alone through the Flask test client:
             cold (fresh app) and cached time, response size.
- load:      many simulated users replaying captured callbacks against gunicorn.

Each part writes benchmarks/results/<part>.json with the machine it ran on; the
summary in benchmarks/results/README.md is written by hand from those files.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from benchmarks.common import REPO_ROOT

BENCH_DIR = REPO_ROOT / ".tmp" / "bench"
PARTS = ("warehouse", "queries", "dashboard", "callbacks", "load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # No `choices=`: argparse rejects an empty list against them (Python < 3.12), which
    # broke a plain `make bench`; the parts are checked below instead.
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help=f"parts to run, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--scale", default="demo", choices=("small", "demo", "large"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}: choose from {', '.join(PARTS)}")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for part in args.parts or PARTS:
        module = importlib.import_module(f"benchmarks.bench_{part}")
        path = module.run(BENCH_DIR, scale=args.scale, seed=args.seed)
        print(f"{part}: results in {Path(path).relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
