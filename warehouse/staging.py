"""Copy-on-write for the embedded DuckDB warehouse file.

Rule of this module: nobody writes into the live warehouse file. `load` and `build` write
into a private copy at `<dir>/.build/<same file name>` and swap it in with `os.replace`,
so a dashboard holding the live file open (read-only) never blocks them and never sees a
half-written warehouse; a failure leaves the previous file serving. The file name stays
the same because DuckDB views store the database name, which is the file's stem.

One process at a time may stage a given warehouse: an advisory lock file serialises
`load` and `build` on the same path.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


class WarehouseError(Exception):
    """A failure to report to the user as one clear message (no traceback)."""


def staging_dir(live_path: Path) -> Path:
    """The private folder beside the live file where new versions are written."""
    return live_path.parent / ".build"


def staging_path(live_path: Path) -> Path:
    """`<dir>/.build/<same file name>`: same stem, so stored view SQL stays valid."""
    return staging_dir(live_path) / live_path.name


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def remove_database_file(db_path: Path) -> None:
    """Delete a DuckDB file and its write-ahead log, if present."""
    for path in (db_path, wal_path(db_path)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def live_warehouse_path(db_path: Path) -> Path:
    """The real file behind `db_path` (symlinks resolved): the one path `load` and `build`
    lock, stage beside and swap, however the warehouse was named on the command line."""
    return db_path.resolve()


def copy_live_to_stage(live_path: Path, stage: Path) -> None:
    """Start the staged warehouse as a byte copy of the live file (and its WAL, if any).

    Raises WarehouseError when a copy fails (a full disk, say), after removing the
    partial staging file.
    """
    try:
        shutil.copyfile(live_path, stage)
        if wal_path(live_path).exists():
            shutil.copyfile(wal_path(live_path), wal_path(stage))
    except OSError as exc:
        remove_database_file(stage)
        reason = exc.strerror or type(exc).__name__
        raise WarehouseError(
            f"cannot copy {live_path} to the staging folder {stage.parent}: {reason}"
        ) from exc


@contextlib.contextmanager
def exclusive_stage(live_path: Path) -> Iterator[Path]:
    """Hold the staging lock for `live_path`; yield the (emptied) staging file path.

    Raises WarehouseError when another load/build of the same warehouse is running.
    """
    stage_dir = staging_dir(live_path)
    stage_dir.mkdir(parents=True, exist_ok=True)
    lock_path = stage_dir / (live_path.name + ".lock")
    with open(lock_path, "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WarehouseError(
                f"another load or build of {live_path} is running (lock {lock_path})"
            ) from exc
        stage = staging_path(live_path)
        remove_database_file(stage)
        try:
            yield stage
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def swap_in(stage: Path, live_path: Path) -> None:
    """Atomically make the staged file the live warehouse.

    Readers that already opened the old file keep reading it (same inode) until they
    reconnect. A stale WAL of the old file must not be replayed onto the new one.
    """
    if wal_path(stage).exists():
        raise WarehouseError(f"staged warehouse {stage} was not checkpointed; not swapping it in")
    with contextlib.suppress(FileNotFoundError):
        wal_path(live_path).unlink()
    os.replace(stage, live_path)
