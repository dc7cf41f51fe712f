"""How much of the machine `load` and `build` let DuckDB take: memory, threads, spill folder.

The module's rule: every DuckDB connection that loads or builds the warehouse runs under
`memory_limit` and `threads` from the environment, spilling to a folder beside its stage
file, so a large warehouse is built in bounded memory instead of DuckDB's default (80% of
the machine's RAM, every core). dbt-duckdb gets the same values through `profiles.yml`
(`settings:` and, for the spill folder, `config_options:`, keyed by the same variables
with the same defaults).

- ACCURX_DUCKDB_MEMORY_LIMIT: DuckDB's `memory_limit` (default 2GB), e.g. '1GB', '500MB'.
- ACCURX_DUCKDB_THREADS: DuckDB's `threads` (default 2), a whole number >= 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from warehouse.staging import WarehouseError

MEMORY_LIMIT_VAR = "ACCURX_DUCKDB_MEMORY_LIMIT"
THREADS_VAR = "ACCURX_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_THREADS = "2"


def spill_directory(database: Path) -> Path:
    """Where DuckDB spills for `database`: `<file>.tmp` beside it (DuckDB's own default
    name, so a hand run of dbt and `build` spill to the same place)."""
    return database.with_name(database.name + ".tmp")


def duckdb_limits(database: Path) -> dict[str, str]:
    """The DuckDB settings for a connection to `database`, from the environment.

    Raises WarehouseError naming the variable when a value is not one DuckDB accepts.
    """
    memory_limit = os.environ.get(MEMORY_LIMIT_VAR, "").strip() or DEFAULT_MEMORY_LIMIT
    threads = os.environ.get(THREADS_VAR, "").strip() or DEFAULT_THREADS
    if not threads.isdigit() or int(threads) < 1:
        raise WarehouseError(f"{THREADS_VAR}={threads!r}: expected a whole number >= 1")
    try:
        duckdb.connect(config={"memory_limit": memory_limit}).close()
    except duckdb.Error as exc:
        raise WarehouseError(
            f"{MEMORY_LIMIT_VAR}={memory_limit!r} is not a DuckDB memory limit "
            f"(e.g. '2GB', '500MB'): {str(exc).splitlines()[0]}"
        ) from exc
    return {
        "memory_limit": memory_limit,
        "threads": threads,
        "temp_directory": str(spill_directory(database)),
    }


def connect_limited(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `database` under `duckdb_limits`.

    Raises WarehouseError when a setting is invalid or the file cannot be opened.
    """
    limits = duckdb_limits(database)
    try:
        return duckdb.connect(str(database), config=limits)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {database}: {exc}") from exc
