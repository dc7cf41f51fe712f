"""Command line of the warehouse: `python -m warehouse demo|load|build ...`.

The rule here: each subcommand lives in its own module with a `main(argv) -> int`; this
module only dispatches and turns a `WarehouseError` into one clear line on stderr and
exit status 1 (no traceback). `demo` is imported lazily so `load`/`build` work without it.
"""

from __future__ import annotations

import os
import sys

from warehouse.staging import WarehouseError

USAGE = """usage: python -m warehouse COMMAND [ARGS]

commands:
  demo --out RAW_DIR [--scale small|demo|large] [--seed N]   write demo raw CSVs + manifest.json
  load RAW_DIR --db PATH                                       load raw CSVs into schema 01_RAW
  build --db PATH [--target duckdb]                            dbt build into a fresh file, swap it in
        [--select NODE ...]                                    only those dbt nodes: a partial warehouse
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "demo":
            from warehouse import demo

            return demo.main(rest)
        if command == "load":
            from warehouse import load

            return load.main(rest)
        if command == "build":
            from warehouse import build

            return build.main(rest)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2
