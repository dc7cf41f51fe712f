"""The demo data generator (`warehouse.demo`): determinism, the raw file layout, the
manifest's internal consistency, every planted fault, and a few checks that read the CSV
files back with Python's csv/json and compare them with the manifest.

The rule: assert properties of the data and agreement with the manifest, never
hard-coded counts. Everything runs on the small scale (a few seconds).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.demo import generate, main

SCALE = "small"
SEED = int(os.environ.get("ACCURX_TEST_SEED", "7"))  # as in tests/conftest.py
CONTRACT_OPTIONS = {
    "sms": {"off", "sms lite", "sms plus"},
    "video": {"off", "on"},
    "self book individual": {"off", "on"},
}
CANONICAL_OPTIONS = {"Off", "SMS Lite", "SMS Plus", "On"}
HEADERS = {
    "event": ["EVENT_NAME", "EVENT_TIMESTAMP", "PAYLOAD"],
    "feature": ["EXPORT_DATE", "FILENAME", "FILE_ROW_NO", "FILE_LOADED_DAY", "PAYLOAD"],
    "user": ["EXPORT_DATE", "FILENAME", "FILE_ROW_NO", "FILE_LOADED_DAY", "PAYLOAD"],
    "organisation": ["ORGANISATION_ID", "ORGANISATION_NAME", "ODS_CODE", "REGION"],
}
REQUIRED_KEYS = {"event": ("messageId", "organisationId", "userId"),
                 "feature": ("organisationId",), "user": ("userId", "organisationId")}
DATE_COLUMNS = {"event": (), "feature": ("EXPORT_DATE", "FILE_LOADED_DAY"),
                "user": ("EXPORT_DATE", "FILE_LOADED_DAY")}
TABLE_NAMES = {"event": "EVENT", "feature": "FEATURE", "user": "USER"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


@dataclass
class Row:
    file: str
    position: int  # 1-based row position within its file
    columns: dict[str, str]
    payload: dict | None  # None when PAYLOAD is not a JSON object
    quarantine: str | None  # reason by METRICS.md section 4, decided from the text alone


def open_text(path: Path):
    return gzip.open(path, "rt", newline="") if path.suffix == ".gz" else path.open(newline="")


def raw_files(raw_dir: Path, prefix: str) -> list[Path]:
    return sorted(p for p in raw_dir.iterdir()
                  if p.name.startswith(prefix) and p.name.endswith((".csv", ".csv.gz")))


def parses(text: str, timestamp: bool) -> bool:
    try:
        if timestamp:
            dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
        else:
            dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def read_rows(raw_dir: Path, prefix: str) -> list[Row]:
    rows = []
    for path in raw_files(raw_dir, prefix):
        with open_text(path) as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == HEADERS[prefix], path.name
            for position, columns in enumerate(reader, start=1):
                try:
                    payload = json.loads(columns["PAYLOAD"])
                except json.JSONDecodeError:
                    payload = None
                if not isinstance(payload, dict):
                    payload = None
                rows.append(Row(path.name, position, columns, payload, _reason(prefix, columns, payload)))
    return rows


def _reason(prefix: str, columns: dict[str, str], payload: dict | None) -> str | None:
    if payload is None:
        return "invalid_json"
    if any(payload.get(key) is None for key in REQUIRED_KEYS[prefix]):
        return "missing_key"
    if prefix == "event" and not parses(columns["EVENT_TIMESTAMP"], timestamp=True):
        return "unparseable_date"
    if any(not parses(columns[c], timestamp=False) for c in DATE_COLUMNS[prefix]):
        return "unparseable_date"
    return None


@dataclass
class Generated:
    raw_dir: Path
    manifest: dict
    events: list[Row]
    features: list[Row]
    users: list[Row]

    def clean(self, table: str) -> list[Row]:
        return [r for r in getattr(self, table) if r.quarantine is None]

    def feature_organisations(self) -> set[int]:
        return {int(r.payload["organisationId"]) for r in self.clean("features")}


def digest(raw_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(raw_dir.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Generated:
    raw_dir = tmp_path_factory.mktemp("demo") / "raw"
    assert main(["--out", str(raw_dir), "--scale", SCALE, "--seed", str(SEED)]) == 0
    manifest = json.loads((raw_dir / "manifest.json").read_text())
    data = Generated(raw_dir, manifest, read_rows(raw_dir, "event"),
                     read_rows(raw_dir, "feature"), read_rows(raw_dir, "user"))
    known = data.feature_organisations()
    for row in data.events:  # the last quarantine reason needs every FEATURE row first
        if row.quarantine is None and int(row.payload["organisationId"]) not in known:
            row.quarantine = "unknown_organisation"
    return data


# ------------------------------------------------------------------ determinism and CLI


def test_same_seed_writes_identical_bytes(generated, tmp_path):
    again = tmp_path / "again"
    generate(again, SCALE, SEED)
    assert digest(again) == digest(generated.raw_dir)


def test_different_seed_writes_different_data(generated, tmp_path):
    other = tmp_path / "other"
    manifest = generate(other, SCALE, SEED + 1)
    assert manifest["seed"] == SEED + 1
    mine, theirs = digest(generated.raw_dir), digest(other)
    assert [name for name in mine if name.startswith("event") and mine[name] != theirs.get(name)]


def test_rerun_into_a_used_directory_leaves_no_stale_files(tmp_path):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "event_1999-01.csv").write_text("EVENT_NAME,EVENT_TIMESTAMP,PAYLOAD\n")
    (raw_dir / "notes.txt").write_text("kept")
    manifest = generate(raw_dir, SCALE, SEED)
    names = {p.name for p in raw_dir.iterdir()}
    assert "event_1999-01.csv" not in names and "notes.txt" in names
    assert names - {"notes.txt"} == set(manifest["notes"]["files"]) | {"manifest.json"}


FEATURE_OF_EVENT = {"Patient Message Sent": "SMS", "Batch Message Sent": "SMS",
                    "Video Invite Sent": "Video", "Self-Book Invite Sent": "Self Book Individual"}


def test_churn_signal_lowers_usage_before_the_planted_cancellations(generated):
    signal = generated.manifest["churn_signal"]
    assert signal["enabled"] and 0 < len(signal["planted"]) <= signal["cancellations"]
    daily = Counter()
    for row in generated.clean("events"):
        feature = FEATURE_OF_EVENT.get(row.columns["EVENT_NAME"])
        if feature is not None:
            daily[(row.payload["organisationId"], feature, row.columns["EVENT_TIMESTAMP"][:10])] += 1
    start = dt.date.fromisoformat(generated.manifest["start_date"])
    low = before = low_days = before_days = 0
    for plant in signal["planted"]:
        decline = dt.date.fromisoformat(plant["decline_start"])
        cancel = dt.date.fromisoformat(plant["cancellation_date"])
        normal_days = min(28, (decline - start).days)
        if normal_days < 7:
            continue  # no normal week to compare with inside the window
        key = (plant["organisation_id"], plant["feature"])
        for offset in range(-28, 0):  # the last 4 weeks before the cancellation: at the low
            low += daily[(*key, (cancel + dt.timedelta(days=offset)).isoformat())]
            low_days += 1
        for offset in range(1, normal_days + 1):
            before += daily[(*key, (decline - dt.timedelta(days=offset)).isoformat())]
            before_days += 1
    assert before_days and low_days
    assert low / low_days < 0.5 * before / before_days


def test_no_churn_signal_changes_only_the_events(generated, tmp_path):
    off = tmp_path / "off"
    assert main(["--out", str(off), "--scale", SCALE, "--seed", str(SEED), "--no-churn-signal"]) == 0
    manifest = json.loads((off / "manifest.json").read_text())
    assert manifest["churn_signal"]["enabled"] is False and manifest["churn_signal"]["planted"] == []
    assert manifest["churn_signal"]["cancellations"] == generated.manifest["churn_signal"]["cancellations"]
    mine, theirs = digest(generated.raw_dir), digest(off)
    changed = {name for name in mine if mine[name] != theirs[name]}
    assert changed and all(name.startswith(("event", "manifest")) for name in changed)


def test_bad_arguments_return_argparse_status(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--scale", "enormous"]) == 2
    assert main([]) == 2
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ layout


def test_raw_directory_layout(generated):
    names = [p.name for p in generated.raw_dir.iterdir()]
    for prefix in ("event", "feature", "user"):
        assert raw_files(generated.raw_dir, prefix), prefix
    assert "organisation.csv" in names and "manifest.json" in names
    assert any(name.endswith(".csv.gz") for name in names)
    assert sorted(names) == sorted(generated.manifest["notes"]["files"] + ["manifest.json"])


def test_headers_and_organisation_reference(generated):
    with (generated.raw_dir / "organisation.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADERS["organisation"]
    assert len(rows) - 1 == generated.manifest["organisation_rows"]
    ids = [int(r[0]) for r in rows[1:]]
    assert len(ids) == len(set(ids))
    assert any(r[3] == "" for r in rows[1:]), "an organisation without region"
    assert generated.feature_organisations() - set(ids), "a customer missing from the reference"


def test_gzip_files_are_readable(generated):
    for path in generated.raw_dir.glob("*.csv.gz"):
        with gzip.open(path, "rt", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == HEADERS[path.name.split("_")[0]]


def test_clean_rows_use_iso_dates_timestamps_and_json_objects(generated):
    for row in generated.clean("events"):
        assert ISO_TIMESTAMP.match(row.columns["EVENT_TIMESTAMP"])
    for table in ("features", "users"):
        for row in generated.clean(table):
            assert ISO_DATE.match(row.columns["EXPORT_DATE"])
            assert ISO_DATE.match(row.columns["FILE_LOADED_DAY"])
            assert int(row.columns["FILE_ROW_NO"]) >= 1


def test_data_window_is_fixed(generated):
    m = generated.manifest
    start, end = dt.date.fromisoformat(m["start_date"]), dt.date.fromisoformat(m["end_date"])
    assert 100 <= (end - start).days + 1 <= 140
    dates = {dt.date.fromisoformat(r.columns["EXPORT_DATE"]) for r in generated.clean("features")}
    assert min(dates) == start and max(dates) == end
    event_days = {r.columns["EVENT_TIMESTAMP"][:10] for r in generated.clean("events")}
    assert min(event_days) >= m["start_date"] and max(event_days) <= m["end_date"]


# ------------------------------------------------------------------ manifest consistency


def test_manifest_shape(generated):
    m = generated.manifest
    assert set(m) == {
        "seed", "scale", "start_date", "end_date", "tables", "organisation_rows",
        "quarantine_by_reason", "feature_events", "unpaid_events_by_reason",
        "entitlement_changes_by_type", "cancellations_by_confirmation", "latest_complete_date",
        "organisations_with_feature_rows", "paying_never_using", "churn_signal", "notes"}
    assert (m["seed"], m["scale"]) == (SEED, SCALE)
    assert set(m["unpaid_events_by_reason"]) == {
        "no_entitlement_snapshot", "accurx_staff", "entitlement_changed_nearby",
        "user_from_other_org", "legacy_client", "unexplained"}
    assert set(m["entitlement_changes_by_type"]) == {
        "activation", "reactivation", "upgrade", "downgrade", "cancellation"}
    assert set(m["cancellations_by_confirmation"]) == {"confirmed", "reversed", "provisional"}


def test_manifest_counts_add_up(generated):
    m = generated.manifest
    for table, counts in m["tables"].items():
        assert counts["raw_rows"] == (counts["modeled_rows"] + counts["duplicate_rows"]
                                      + counts["quarantined_rows"]), table
        assert sum(m["quarantine_by_reason"][table].values()) == counts["quarantined_rows"]
    assert m["cancellations_by_confirmation"] and (
        sum(m["cancellations_by_confirmation"].values())
        == m["entitlement_changes_by_type"]["cancellation"])
    by_feature = m["notes"]["entitlement_changes_by_feature"]
    for change_type, n in m["entitlement_changes_by_type"].items():
        assert sum(f[change_type] for f in by_feature.values()) == n
    assert sum(m["unpaid_events_by_reason"].values()) < m["feature_events"]
    assert m["feature_events"] < m["tables"]["EVENT"]["modeled_rows"]


def test_every_planted_fault_is_present(generated):
    m = generated.manifest
    for table, reasons in m["quarantine_by_reason"].items():
        for reason, n in reasons.items():
            assert n > 0, (table, reason)
    for table, counts in m["tables"].items():
        assert counts["duplicate_rows"] > 0, table
    for reason, n in m["unpaid_events_by_reason"].items():
        assert n > 0, reason
    for change_type, n in m["entitlement_changes_by_type"].items():
        assert n > 0, change_type
    for state, n in m["cancellations_by_confirmation"].items():
        assert n > 0, state
    for feature in ("SMS", "Video", "Self Book Individual"):
        cohorts = m["notes"]["cohort_organisations_by_censoring"][feature]
        assert cohorts["left_censored"] > 0 and cohorts["uncensored"] > 0, feature
    assert m["paying_never_using"]
    assert m["latest_complete_date"] < m["end_date"], "the last export date is incomplete"


# ------------------------------------------------------------------ files against manifest


def test_raw_row_counts_match_manifest(generated):
    for table, rows in (("EVENT", generated.events), ("FEATURE", generated.features),
                        ("USER", generated.users)):
        assert len(rows) == generated.manifest["tables"][table]["raw_rows"], table


def test_quarantine_reasons_match_manifest(generated):
    for attr, table in (("events", "EVENT"), ("features", "FEATURE"), ("users", "USER")):
        found = Counter(r.quarantine for r in getattr(generated, attr) if r.quarantine)
        assert dict(found) == {k: v for k, v in
                               generated.manifest["quarantine_by_reason"][table].items() if v}


def test_event_dedup_keeps_the_earliest_and_counts_match(generated):
    by_id = defaultdict(list)
    for row in generated.clean("events"):
        by_id[row.payload["messageId"]].append(row)
    counts = generated.manifest["tables"]["EVENT"]
    assert len(by_id) == counts["modeled_rows"]
    assert sum(len(rows) - 1 for rows in by_id.values()) == counts["duplicate_rows"]
    later = read_first = 0
    for rows in by_id.values():
        if len(rows) > 1:
            stamps = [r.columns["EVENT_TIMESTAMP"] for r in rows]
            assert len({json.dumps(r.payload, sort_keys=True) for r in rows}) == 1
            later += len(set(stamps)) > 1
            read_first += stamps[0] > min(stamps)
    assert later > 0, "duplicates with a later timestamp"
    assert read_first > 0, "a later duplicate read before the earliest"
    quarantined_ids = {r.payload.get("messageId") for r in generated.events
                       if r.quarantine in ("unparseable_date", "unknown_organisation")}
    assert quarantined_ids & set(by_id), "a quarantined row shares a modeled messageId"


def test_export_dedup_counts_and_planted_tie_breaks(generated):
    for attr, table, key in (("features", "FEATURE", "organisationId"),
                             ("users", "USER", "userId")):
        groups = defaultdict(list)
        for row in generated.clean(attr):
            groups[(row.payload[key], row.columns["EXPORT_DATE"])].append(row)
        counts = generated.manifest["tables"][table]
        assert len(groups) == counts["modeled_rows"], table
        assert sum(len(g) - 1 for g in groups.values()) == counts["duplicate_rows"], table
    tie_breaks = Counter()
    for rows in (g for g in _feature_groups(generated) if len(g) > 1):
        a, b = rows[0].columns, rows[1].columns
        if a["FILE_LOADED_DAY"] != b["FILE_LOADED_DAY"]:
            tie_breaks["later FILE_LOADED_DAY"] += 1
        elif a["FILENAME"] != b["FILENAME"]:
            tie_breaks["greater FILENAME"] += 1
        else:
            tie_breaks["greater FILE_ROW_NO"] += 1
        if rows[0].payload != rows[1].payload:
            tie_breaks["copies disagree"] += 1
    assert set(tie_breaks) == {"later FILE_LOADED_DAY", "greater FILENAME",
                               "greater FILE_ROW_NO", "copies disagree"}
    redelivered = [p.name for p in raw_files(generated.raw_dir, "feature")
                   if "redeliver" in p.name]
    assert redelivered


def _feature_groups(generated: Generated) -> list[list[Row]]:
    groups = defaultdict(list)
    for row in generated.clean("features"):
        groups[(row.payload["organisationId"], row.columns["EXPORT_DATE"])].append(row)
    return list(groups.values())


def test_organisations_and_latest_complete_date_match_manifest(generated):
    m = generated.manifest
    assert len(generated.feature_organisations()) == m["organisations_with_feature_rows"]
    orgs_by_date = defaultdict(set)
    for row in generated.clean("features"):
        orgs_by_date[row.columns["EXPORT_DATE"]].add(int(row.payload["organisationId"]))
    user_dates = {row.columns["EXPORT_DATE"] for row in generated.clean("users")}
    dates = sorted(orgs_by_date)
    latest = None
    for i, date in enumerate(dates):
        before = orgs_by_date[dates[i - 1]] if i else None
        complete = i == 0 or 100 * len(before & orgs_by_date[date]) >= 95 * len(before)
        if complete and date in user_dates:
            latest = date
    assert latest == m["latest_complete_date"]
    assert dates[-1] == m["end_date"]
    missing = [d for d in _days(m["start_date"], m["end_date"]) if d not in orgs_by_date]
    assert missing, "a day without any FEATURE export"
    assert set(dates) - user_dates, "a FEATURE export date without a USER export"


def _days(start: str, end: str) -> list[str]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def test_paying_never_using_have_no_events_for_that_feature(generated):
    feature_of_event = {"Patient Message Sent": "SMS", "Batch Message Sent": "SMS",
                        "Video Invite Sent": "Video", "Self-Book Invite Sent": "Self Book Individual"}
    used = {(int(r.payload["organisationId"]), feature_of_event[r.columns["EVENT_NAME"]])
            for r in generated.clean("events") if r.columns["EVENT_NAME"] in feature_of_event}
    known = generated.feature_organisations()
    for entry in generated.manifest["paying_never_using"]:
        pair = (entry["organisation_id"], entry["feature"])
        assert pair not in used and entry["organisation_id"] in known, pair


# ------------------------------------------------------------------ realism of the content


def test_feature_options_follow_the_value_domains(generated):
    names, variants, unknown = Counter(), 0, set()
    for row in generated.clean("features"):
        for feature in row.payload["features"]:
            key = feature["Name"].strip().lower()
            option = feature["SelectedOption"]
            if key in CONTRACT_OPTIONS:
                assert option.strip().lower() in CONTRACT_OPTIONS[key], feature
                variants += option not in CANONICAL_OPTIONS
                names[key] += 1
            else:
                unknown.add(feature["Name"])
    assert set(names) == set(CONTRACT_OPTIONS)
    assert variants > 0, "spelling variants such as 'sms plus' or ' SMS Plus '"
    assert unknown, "a feature outside the contract"
    assert any(not row.payload["features"] for row in generated.clean("features"))


def test_event_payload_domains(generated):
    events = generated.clean("events")
    user_types = Counter(r.payload.get("eventUserType") for r in events)
    assert set(user_types) == {"Clinician", "Admin", "AccurxSupport"}
    versions = Counter(r.payload.get("eventVersion") for r in events)
    assert {1, 2, 3, 4, 5, None} <= set(versions)
    assert versions[1] + versions[2] < versions[3] + versions[4] + versions[5]
    names = Counter(r.columns["EVENT_NAME"] for r in events)
    assert {"Login", "Patient Record Viewed", "Patient Message Sent", "Batch Message Sent",
            "Video Invite Sent", "Self-Book Invite Sent"} <= set(names)
    attachments = {_attachment_kind(r.payload) for r in events
                   if r.columns["EVENT_NAME"] == "Patient Message Sent"}
    assert attachments == {"absent", "null", "zero", "some"}


def _attachment_kind(payload: dict) -> str:
    if "countAttachment" not in payload:
        return "absent"
    count = payload["countAttachment"]
    return "null" if count is None else "zero" if count == 0 else "some"


def test_weekly_rhythm_and_heavy_tailed_organisations(generated):
    by_weekday = Counter(dt.date.fromisoformat(r.columns["EVENT_TIMESTAMP"][:10]).weekday()
                         for r in generated.clean("events"))
    assert min(by_weekday[d] for d in range(5)) > 3 * max(by_weekday[5], by_weekday[6])
    last_day = generated.manifest["latest_complete_date"]
    members = Counter(r.payload["organisationId"] for r in generated.clean("users")
                      if r.columns["EXPORT_DATE"] == last_day)
    sizes = sorted(members.values())
    assert sizes[-1] >= 4 * sizes[len(sizes) // 2], "a few big practices, many small"


def test_users_join_leave_and_move(generated):
    history = defaultdict(list)
    for row in sorted(generated.clean("users"), key=lambda r: r.columns["EXPORT_DATE"]):
        history[row.payload["userId"]].append(
            (row.payload["organisationId"], row.payload["status"]))
    statuses = {s for rows in history.values() for _, s in rows}
    assert statuses == {"Invited", "Active", "Deactivated"}
    assert any(len({org for org, _ in rows}) > 1 for rows in history.values()), "a user moves"
    assert any(rows[0][1] == "Invited" and rows[-1][1] == "Active" for rows in history.values())
    assert any(rows[0][1] == "Active" and rows[-1][1] == "Deactivated" for rows in history.values())


def test_manifest_is_plain_json(generated):
    text = (generated.raw_dir / "manifest.json").read_text()
    assert json.loads(text) == generated.manifest
    for entry in generated.manifest["paying_never_using"]:
        assert set(entry) == {"organisation_id", "feature"}
