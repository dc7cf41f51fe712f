"""`python -m warehouse load`: raw CSV files into schema 01_RAW, kept as text.

Hand-made files pin the edge cases the generator does not: unreadable CSV, gzip,
header spelling, lineage. Errors are checked through the public command line (exit
status and message); contents through a read-only DuckDB connection.
"""

from __future__ import annotations

import gzip
import hashlib
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


def run_load(raw_dir: Path, db_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warehouse", "load", str(raw_dir), "--db", str(db_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
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
        (
            EVENT_HEADER + "Login,2026-01-05 08:00:00,x\n" + 'Login,2026-01-05,"{""a"":1\n',
            3,
            "quote",
        ),
        (EVENT_HEADER + "Login,2026-01-05 08:00:00,x\nLogin,2026-01-05,x,extra\n", 3, "Columns"),
        ("EVENT_NAME,PAYLOAD\nLogin,x\n", 1, "EVENT_TIMESTAMP"),
        ("", 1, "header"),
    ],
    ids=["unterminated-quote", "too-many-columns", "missing-column", "empty-file"],
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
