"""Quarantine faults: raw rows the warehouse must quarantine, with the reason it must give.

The module's rule: every fault row is an EXTRA row (the truth it would have described is
delivered cleanly elsewhere, or never existed), so faults never change known days, events
or users. Each row's `reason` is the first reason of METRICS.md section 4 that applies;
a few rows carry two faults to pin the precedence (invalid_json > missing_key >
unparseable_date > unknown_organisation).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from warehouse.demo_files import user_payload_dict
from warehouse.demo_world import FEATURES, World

QUARANTINE_REASONS = {
    "EVENT": ("invalid_json", "missing_key", "unparseable_date", "unknown_organisation"),
    "FEATURE": ("invalid_json", "missing_key", "unparseable_date"),
    "USER": ("invalid_json", "missing_key", "unparseable_date"),
}


def message_id(prefix: str, number: int) -> str:
    """The messageId of logical event `number` (the SQL writer computes the same)."""
    h = hashlib.md5(f"{prefix}{number}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class FaultRow:
    table: str
    reason: str
    day: int  # the day the row is filed under (its export file or event month)
    text: dict[str, str]  # column -> raw text; FILENAME/FILE_ROW_NO come from the day's file
    note: str


def _iso(world: World, day: int) -> str:
    return world.calendar.iso(day)


def _ts(world: World, day: int, rng: np.random.Generator) -> str:
    seconds = int(rng.integers(8 * 3600, 18 * 3600))
    micro = int(rng.integers(0, 1_000_000))
    return f"{_iso(world, day)} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{micro:06d}"


def _feature_payload(world: World, org: int, day: int) -> dict:
    features = []
    for f, spec in enumerate(FEATURES):
        if world.exports.present[f][org, day]:
            option = int(world.entitlements.option[f][org, day])
            features.append({"Name": spec.name, "SelectedOption": spec.options[option],
                             "Options": list(spec.options)})
    return {"organisationId": int(world.orgs.ids[org]), "features": features}


def _regular_days(world: World, rng: np.random.Generator, n: int, need_user_day: bool,
                  ) -> np.ndarray:
    """Days with a complete regular export, away from every planted export fault."""
    exports = world.exports
    ok = exports.feature_day & exports.has_row.any(axis=0)
    if need_user_day:
        ok &= exports.user_day
    for day in exports.special_days.values():
        ok[max(day - 1, 0): day + 2] = False
    return rng.choice(np.flatnonzero(ok), size=n)


def _export_fault_writer(world: World, table: str, rows: list[FaultRow]):
    """`row(reason, day, payload, note, export_date=None, loaded=None)` appending a FEATURE
    or USER fault row filed under `day`'s export to `rows`; `export_date` / `loaded`
    replace that day's EXPORT_DATE / FILE_LOADED_DAY text when given."""

    def row(reason: str, day: int, payload: str, note: str, export_date: str | None = None,
            loaded: str | None = None) -> None:
        loaded_day = int(world.exports.loaded_day[day])
        rows.append(FaultRow(table, reason, day, {
            "EXPORT_DATE": _iso(world, day) if export_date is None else export_date,
            "FILE_LOADED_DAY": _iso(world, loaded_day) if loaded is None else loaded,
            "PAYLOAD": payload}, note))

    return row


def feature_faults(world: World, rng: np.random.Generator, per_reason: int) -> list[FaultRow]:
    rows = []
    days = _regular_days(world, rng, 4 * per_reason + 4, need_user_day=False)
    pick = iter(days.tolist())

    def org_on(day: int) -> int:
        return int(rng.choice(np.flatnonzero(world.exports.has_row[:, day])))

    row = _export_fault_writer(world, "FEATURE", rows)

    for i in range(per_reason):
        day = next(pick)
        payload = compact(_feature_payload(world, org_on(day), day))
        variant = i % 3
        if variant == 0:
            row("invalid_json", day, payload[: len(payload) // 2], "truncated JSON")
        elif variant == 1:
            row("invalid_json", day, "<html><body>503 Service Unavailable</body></html>", "not JSON")
        else:
            row("invalid_json", day, "[1,2]", "JSON that is not an object")
    day = next(pick)
    payload = compact(_feature_payload(world, org_on(day), day))
    row("invalid_json", day, payload[:40], "truncated JSON AND bad EXPORT_DATE", export_date="n/a")

    for i in range(per_reason):
        day = next(pick)
        body = _feature_payload(world, org_on(day), day)
        if i % 2 == 0:
            del body["organisationId"]
            row("missing_key", day, compact(body), "no organisationId")
        else:
            body["organisationId"] = None
            row("missing_key", day, compact(body), "organisationId null")
    day = next(pick)
    body = _feature_payload(world, org_on(day), day)
    del body["organisationId"]
    row("missing_key", day, compact(body), "no organisationId AND empty EXPORT_DATE", export_date="")

    bad_dates = ("", f"{_iso(world, 0)[:4]}-02-30", "n/a")
    for i in range(per_reason):
        day = next(pick)
        payload = compact(_feature_payload(world, org_on(day), day))
        if i % 4 == 3:
            row("unparseable_date", day, payload, "FILE_LOADED_DAY does not parse", loaded="tomorrow")
        else:
            row("unparseable_date", day, payload, f"EXPORT_DATE {bad_dates[i % 4]!r}",
                export_date=bad_dates[i % 4])
    # The only FEATURE row of this organisation is quarantined: its events are
    # `unknown_organisation` ("appears in a FEATURE export" means a non-quarantined row).
    day = next(pick)
    body = _feature_payload(world, org_on(day), day)
    body["organisationId"] = world.orgs.unknown_in_quarantined_feature_row
    row("unparseable_date", day, compact(body), "only FEATURE row of an otherwise unknown "
        "organisation", export_date="")
    return rows


def user_faults(world: World, rng: np.random.Generator, per_reason: int) -> list[FaultRow]:
    rows = []
    users = world.users
    days = _regular_days(world, rng, 4 * per_reason + 4, need_user_day=True)
    pick = iter(days.tolist())

    def user_on(day: int) -> int:
        return int(rng.choice(np.flatnonzero(users.created <= day)))

    row = _export_fault_writer(world, "USER", rows)

    for i in range(per_reason):
        day = next(pick)
        payload = compact(user_payload_dict(world, user_on(day), day))
        variant = i % 3
        if variant == 0:
            row("invalid_json", day, payload[: len(payload) // 3], "truncated JSON")
        elif variant == 1:
            row("invalid_json", day, "userId=104233;status=Active", "not JSON")
        else:
            row("invalid_json", day, '"Active"', "JSON that is not an object")
    day = next(pick)
    row("invalid_json", day, "{", "truncated JSON AND bad EXPORT_DATE", export_date="2026-13-01")

    for i in range(per_reason):
        day = next(pick)
        body = user_payload_dict(world, user_on(day), day)
        variant = i % 3
        if variant == 0:
            del body["userId"]
            row("missing_key", day, compact(body), "no userId")
        elif variant == 1:
            body["organisationId"] = None
            row("missing_key", day, compact(body), "organisationId null")
        else:
            body["userId"] = None
            row("missing_key", day, compact(body), "userId null")
    day = next(pick)
    body = user_payload_dict(world, user_on(day), day)
    del body["organisationId"]
    row("missing_key", day, compact(body), "no organisationId AND empty EXPORT_DATE", export_date="")

    bad_dates = ("", "2026-02-30", "not a date")
    for i in range(per_reason):
        day = next(pick)
        payload = compact(user_payload_dict(world, user_on(day), day))
        if i % 4 == 3:
            row("unparseable_date", day, payload, "FILE_LOADED_DAY does not parse", loaded="??")
        else:
            row("unparseable_date", day, payload, f"EXPORT_DATE {bad_dates[i % 4]!r}",
                export_date=bad_dates[i % 4])
    return rows


def event_faults(world: World, rng: np.random.Generator, per_reason: int, prefix: str,
                 first_fault_number: int, collide_with: int) -> list[FaultRow]:
    """Quarantined EVENT rows. Their messageIds are numbered from `first_fault_number` (after
    every logical event); one row reuses the messageId of logical event `collide_with`:
    quarantined, it is not a duplicate of that (modeled) event."""
    rows = []
    numbers = iter(range(first_fault_number, first_fault_number + 10 * per_reason + 20))
    days = _regular_days(world, rng, 5 * per_reason + 10, need_user_day=False)
    pick = iter(days.tolist())
    users = world.users

    def payload(day: int, org_id: int | None = None, number: int | None = None) -> dict:
        user = int(rng.choice(np.flatnonzero(users.created <= day)))
        org = int(users.org_on(np.array([user]), np.array([day]))[0])
        return {
            "messageId": message_id(prefix, next(numbers) if number is None else number),
            "organisationId": int(world.orgs.ids[org]) if org_id is None else org_id,
            "userId": int(users.ids[user]), "eventUserType": "Clinician", "eventVersion": 4,
            "messageType": "SMS", "messageLength": int(rng.integers(40, 400)),
            "countAttachment": 0, "hasError": False, "productOrigin": "Web",
            "sourceType": "Inbox",
        }

    def row(reason: str, day: int, body: str, note: str, ts: str | None = None,
            name: str = "Patient Message Sent") -> None:
        rows.append(FaultRow("EVENT", reason, day, {
            "EVENT_NAME": name, "EVENT_TIMESTAMP": _ts(world, day, rng) if ts is None else ts,
            "PAYLOAD": body}, note))

    for i in range(per_reason):
        day = next(pick)
        text = compact(payload(day))
        variant = i % 4
        if variant == 0:
            row("invalid_json", day, text[: len(text) // 2], "truncated JSON")
        elif variant == 1:
            row("invalid_json", day, "not json at all", "not JSON")
        elif variant == 2:
            row("invalid_json", day, "[1,2]", "JSON array, not an object")
        else:
            row("invalid_json", day, '"Patient Message Sent"', "JSON string, not an object")
    day = next(pick)
    row("invalid_json", day, compact(payload(day))[:30], "truncated JSON AND empty timestamp", ts="")

    for i in range(per_reason):
        day = next(pick)
        body = payload(day)
        variant = i % 4
        if variant == 0:
            del body["messageId"]
            note = "no messageId"
        elif variant == 1:
            body["organisationId"] = None
            note = "organisationId null"
        elif variant == 2:
            del body["userId"]
            note = "no userId"
        else:
            body["userId"] = None
            note = "userId null"
        row("missing_key", day, compact(body), note, name="Video Invite Sent")
    day = next(pick)
    body = payload(day)
    del body["messageId"]
    row("missing_key", day, compact(body), "no messageId AND unparseable timestamp",
        ts="not a timestamp")

    bad_ts = ("", "not a timestamp", "2026-06-31 09:30:00.000000", "2026-07-15 25:61:00.000000")
    for i in range(per_reason):
        day = next(pick)
        row("unparseable_date", day, compact(payload(day)), f"timestamp {bad_ts[i % 4]!r}",
            ts=bad_ts[i % 4])
    day = next(pick)
    row("unparseable_date", day, compact(payload(day, number=collide_with)),
        "empty timestamp, messageId of a modeled event (quarantined, not a duplicate)", ts="")
    day = next(pick)
    row("unparseable_date", day,
        compact(payload(day, org_id=world.orgs.unknown_never_exported)),
        "unparseable timestamp AND unknown organisation", ts="31/07/2026")

    unknown = (world.orgs.unknown_in_quarantined_feature_row, world.orgs.unknown_never_exported)
    for i in range(per_reason):
        day = next(pick)
        row("unknown_organisation", day, compact(payload(day, org_id=unknown[i % 2])),
            "organisation only in a quarantined FEATURE row" if i % 2 == 0
            else "organisation never in a FEATURE export", name="Batch Message Sent")
    day = next(pick)
    twice = compact(payload(day, org_id=unknown[1]))
    for copy in ("first", "second"):
        row("unknown_organisation", day, twice,
            f"unknown organisation, same messageId twice ({copy} copy): both quarantined")
    return rows


def count_by_reason(rows: list[FaultRow]) -> dict[str, dict[str, int]]:
    out = {table: dict.fromkeys(reasons, 0) for table, reasons in QUARANTINE_REASONS.items()}
    for r in rows:
        out[r.table][r.reason] += 1
    return out
