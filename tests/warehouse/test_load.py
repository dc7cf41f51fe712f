"""`python -m warehouse load`: raw CSV files into schema 01_RAW, kept as text.

Hand-made files pin the edge cases the generator does not: unreadable CSV, gzip,
header spelling, lineage. Errors are checked through the public command line (exit
status and message); contents through a read-only DuckDB connection.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

EVENT_HEADER = "EVENT_NAME,EVENT_TIMESTAMP,PAYLOAD\n"
GOOD_EVENTS = (
    EVENT_HEADER
    + 'Patient Message Sent,2026-01-05 09:30:00.123456,"{""messageId"":""m1"",""organisationId"":1,""userId"":10}"\n'
    + 'Video Invite Sent,2026-01-05 10:00:00,"{""messageId"":""m2"",""organisationId"":1,""userId"":11}"\n'
)
FEATURE_CSV = (
    "export_date,filename,file_row_no,file_loaded_day,payload\n"  # lower-case header
    '2026-01-05,feature_2026-01-05.csv,1,2026-01-05,"{""organisationId"":1,""features"":[]}"\n'
)
USER_CSV = (
    "Export_Date,FileName,File_Row_No,File_Loaded_Day,Payload\n"
    '2026-01-05,user_2026-01-05.csv,1,2026-01-05,"{""userId"":10,""organisationId"":1}"\n'
)


def run_load(raw_dir: Path, db_path: Path, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", "load", str(raw_dir), "--db", str(db_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False, **popen,
    )  # fmt: skip


def raw_rows(db_path: Path, table: str, columns: str = "*") -> list[tuple]:
    """Rows of a raw table in load order."""
    order = "file_id" if table == "_LOAD_LOG" else "_FILE_ID, _SOURCE_ROW"
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f'select {columns} from "01_RAW"."{table}" order by {order}').fetchall()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "event_2026-01.csv").write_text(GOOD_EVENTS)
    (folder / "feature_2026-01.csv").write_text(FEATURE_CSV)
    (folder / "user_2026-01.csv").write_text(USER_CSV)
    (folder / "manifest.json").write_text("{}")
    return folder


def test_load_is_idempotent(raw_dir: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "accurx.duckdb"
    first = run_load(raw_dir, db_path)
    assert first.returncode == 0, first.stderr
    second = run_load(raw_dir, db_path)
    assert second.returncode == 0, second.stderr
    assert "skipped event_2026-01.csv" in second.stdout
    assert len(raw_rows(db_path, "EVENT")) == 2
    assert len(raw_rows(db_path, "FEATURE")) == 1
    assert len(raw_rows(db_path, "USER")) == 1
    assert len(raw_rows(db_path, "_LOAD_LOG", "file_name")) == 3

    # A new file is appended; the already-loaded ones are still skipped.
    (raw_dir / "event_2026-02.csv").write_text(
        EVENT_HEADER + 'Login,2026-02-01 08:00:00,"{""messageId"":""m3""}"\n'
    )
    third = run_load(raw_dir, db_path)
    assert third.returncode == 0, third.stderr
    assert [row[0] for row in raw_rows(db_path, "EVENT", "EVENT_NAME")] == [
        "Patient Message Sent", "Video Invite Sent", "Login",
    ]  # fmt: skip


def test_headers_are_case_insensitive_and_lineage_is_recorded(
    raw_dir: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "accurx.duckdb"
    assert run_load(raw_dir, db_path).returncode == 0
    assert raw_rows(db_path, "FEATURE", "EXPORT_DATE, FILENAME, _SOURCE_FILE, _SOURCE_ROW") == [
        ("2026-01-05", "feature_2026-01-05.csv", "feature_2026-01.csv", 1)
    ]
    events = raw_rows(db_path, "EVENT", "EVENT_TIMESTAMP, _SOURCE_FILE, _SOURCE_ROW")
    assert events == [
        ("2026-01-05 09:30:00.123456", "event_2026-01.csv", 1),
        ("2026-01-05 10:00:00", "event_2026-01.csv", 2),
    ]
    # The optional reference table exists (empty) without organisation*.csv.
    assert raw_rows(db_path, "ORGANISATION") == []


def test_malformed_rows_are_kept_as_text(raw_dir: Path, tmp_path: Path) -> None:
    (raw_dir / "event_2026-01.csv").write_text(
        EVENT_HEADER
        + 'Patient Message Sent,,"{""messageId"":""m1""}"\n'  # empty timestamp
        + "Patient Message Sent,not a timestamp,{not json\n"  # bad timestamp, bad JSON
        + 'Patient Message Sent,2026-06-31 09:30:00,"[1,2]"\n'  # impossible date, not an object
        + "Patient Message Sent,2026-01-05 09:30:00,\n"  # empty payload
    )
    db_path = tmp_path / "accurx.duckdb"
    result = run_load(raw_dir, db_path)
    assert result.returncode == 0, result.stderr
    assert raw_rows(db_path, "EVENT", "EVENT_TIMESTAMP, PAYLOAD") == [
        (None, '{"messageId":"m1"}'),
        ("not a timestamp", "{not json"),
        ("2026-06-31 09:30:00", "[1,2]"),
        ("2026-01-05 09:30:00", None),
    ]


def test_gzip_files_are_read(raw_dir: Path, tmp_path: Path) -> None:
    with gzip.open(raw_dir / "event_2026-03.csv.gz", "wt") as handle:
        handle.write(EVENT_HEADER + 'Login,2026-03-01 08:00:00,"{""messageId"":""gz1""}"\n')
    db_path = tmp_path / "accurx.duckdb"
    result = run_load(raw_dir, db_path)
    assert result.returncode == 0, result.stderr
    assert ("Login", "2026-03-01 08:00:00", "event_2026-03.csv.gz") in raw_rows(
        db_path, "EVENT", "EVENT_NAME, EVENT_TIMESTAMP, _SOURCE_FILE"
    )


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("EVENT_NAME,PAYLOAD\nLogin,x\n", 1, "EVENT_TIMESTAMP"),
        ("", 1, "header"),
    ],
    ids=["missing-column", "empty-file"],
)
def test_unreadable_file_fails_naming_file_and_line(
    raw_dir: Path, tmp_path: Path, content: str, line: int, reason: str
) -> None:
    db_path = tmp_path / "accurx.duckdb"
    assert run_load(raw_dir, db_path).returncode == 0
    before = file_digest(db_path)

    (raw_dir / "event_2026-04.csv").write_text(content)
    result = run_load(raw_dir, db_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error:")
    assert "event_2026-04.csv" in message
    assert f"line {line}" in message
    assert reason in message
    # All or nothing: the warehouse is untouched.
    assert file_digest(db_path) == before


def test_corrupt_gzip_fails_cleanly(raw_dir: Path, tmp_path: Path) -> None:
    (raw_dir / "event_2026-05.csv.gz").write_bytes(gzip.compress(GOOD_EVENTS.encode())[:25])
    result = run_load(raw_dir, tmp_path / "accurx.duckdb")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "event_2026-05.csv.gz" in result.stderr
    assert "line" in result.stderr
    assert not (tmp_path / "accurx.duckdb").exists()


def test_missing_raw_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = run_load(tmp_path / "nowhere", tmp_path / "accurx.duckdb")
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_lines_are_quarantined_and_the_rest_of_the_file_loads(
    raw_dir: Path, tmp_path: Path
) -> None:
    """A line that is not a CSV record of the file's columns no longer aborts the load:
    it is kept with its file, line number and text, and the good lines around it load."""
    (raw_dir / "event_2026-04.csv").write_text(
        EVENT_HEADER
        + "Login,2026-04-01 08:00:00,x\n"
        + "Login,2026-04-01,x,extra\n"  # line 3: too many columns
        + "Login,2026-04-02 08:00:00,y\n"
        + 'Login,2026-04-03,"{""a"":1\n'  # line 5: unterminated quote, to the end
    )
    db_path = tmp_path / "accurx.duckdb"
    result = run_load(raw_dir, db_path)

    assert result.returncode == 0, result.stderr
    assert "quarantined 2 malformed line(s) of event_2026-04.csv" in result.stdout
    assert ("Login", "2026-04-02 08:00:00", "event_2026-04.csv") in raw_rows(
        db_path, "EVENT", "EVENT_NAME, EVENT_TIMESTAMP, _SOURCE_FILE"
    )
    with duckdb.connect(str(db_path), read_only=True) as con:
        rejects = con.execute(
            "select SOURCE_TABLE, SOURCE_FILE, LINE_NUMBER, CSV_LINE, ERROR "
            'from "01_RAW"."_LOAD_REJECTS" order by LINE_NUMBER'
        ).fetchall()
    assert [row[:4] for row in rejects] == [
        ("EVENT", "event_2026-04.csv", 3, "Login,2026-04-01,x,extra"),
        ("EVENT", "event_2026-04.csv", 5, 'Login,2026-04-03,"{""a"":1\n'),
    ]
    assert "TOO MANY COLUMNS" in rejects[0][4]
    assert "quote" in rejects[1][4]


def test_entries_that_are_not_loaded_are_listed(raw_dir: Path, tmp_path: Path) -> None:
    (raw_dir / "archive").mkdir()
    (raw_dir / "archive" / "event_2025-12.csv").write_text(GOOD_EVENTS)
    (raw_dir / "events.txt").write_text(GOOD_EVENTS)
    (raw_dir / "usage_2026-01.csv").write_text(GOOD_EVENTS)

    result = run_load(raw_dir, tmp_path / "accurx.duckdb")

    assert result.returncode == 0, result.stderr
    not_loaded = sorted(
        line.split(":")[1].strip()
        for line in result.stdout.splitlines()
        if line.startswith("not loaded:")
    )
    assert not_loaded == ["archive/", "events.txt", "manifest.json", "usage_2026-01.csv"]
    assert "subfolder" in result.stdout
    assert len(raw_rows(tmp_path / "accurx.duckdb", "EVENT")) == 2  # the archive is not read


def test_load_through_a_symlink_takes_the_lock_build_takes(raw_dir: Path, tmp_path: Path) -> None:
    """`build` locks the real file behind a symlink; `load` must take that same lock."""
    real = tmp_path / "real" / "accurx.duckdb"
    real.parent.mkdir()
    assert run_load(raw_dir, real).returncode == 0
    link = tmp_path / "current.duckdb"
    link.symlink_to(real)
    lock_path = real.parent / ".build" / f"{real.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        (raw_dir / "event_2026-02.csv").write_text(GOOD_EVENTS.replace("m1", "m9"))
        result = run_load(raw_dir, link)
    assert result.returncode == 1
    assert "another load or build" in result.stderr
    assert link.is_symlink()


def limit_file_size(max_bytes: int):
    """preexec_fn: writes past `max_bytes` fail (EFBIG) as on a full disk, without a signal."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def test_failed_copy_is_one_line_and_leaves_no_partial_stage(raw_dir: Path, tmp_path: Path) -> None:
    db_path = tmp_path / "accurx.duckdb"
    assert run_load(raw_dir, db_path).returncode == 0
    before = file_digest(db_path)
    (raw_dir / "event_2026-02.csv").write_text(GOOD_EVENTS.replace("m1", "m9"))

    result = run_load(raw_dir, db_path, preexec_fn=limit_file_size(os.path.getsize(db_path) // 2))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot copy"), result.stderr
    assert not (tmp_path / ".build" / db_path.name).exists()
    assert file_digest(db_path) == before
