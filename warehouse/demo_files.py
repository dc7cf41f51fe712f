"""Serialise the demo world to the raw interchange layout (METRICS.md "File interchange
layout"): CSV files with a header row, PAYLOAD as JSON text, ISO dates and timestamps.

The module's rule: no truth is decided here. Rows are rendered from the world, the
logical events and the fault rows (JSON text built by DuckDB or pyarrow string kernels,
never row by row in Python), kept in an explicit order so the same seed gives
byte-identical files, and written with pyarrow's CSV writer (every text field quoted).
Every writer returns the number of clean raw rows it wrote, from its own logical tables.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from warehouse.demo_events import (
    DAY_US,
    EVENT_KINDS,
    KIND_NAME_CODE,
    MESSAGE_TYPES,
    PRODUCT_ORIGINS,
    SOURCE_TYPES,
    USER_TYPES,
    Deliveries,
    Details,
    Events,
)
from warehouse.demo_world import (
    FEATURES,
    FIRST_NAMES,
    LAST_NAMES,
    ROLES,
    SMS,
    STATUSES,
    World,
)

if TYPE_CHECKING:
    from warehouse.demo_faults import FaultRow

REDELIVERY_DELAY_DAYS = 6
FILE_PATTERNS = ("event*.csv", "event*.csv.gz", "feature*.csv", "feature*.csv.gz", "user*.csv",
                 "user*.csv.gz", "organisation*.csv", "organisation*.csv.gz", "manifest.json")


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_list(items) -> str:
    return "[" + ", ".join(sql_text(i) for i in items) + "]"


def clear_raw_files(out_dir: Path) -> None:
    """Remove files a previous run left that the loader would pick up."""
    for pattern in FILE_PATTERNS:
        for path in out_dir.glob(pattern):
            path.unlink()


def _month_codes(world: World, days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day indices (cheap to filter on, unlike month names)."""
    dates = world.calendar.start + days.astype("timedelta64[D]")
    return dates.astype("datetime64[M]").astype(np.int64)


def _month_name(code: int) -> str:
    return str(np.datetime64(int(code), "M"))


def _write_csv(table: pa.Table, path: Path, gzip: bool = False) -> None:
    options = pacsv.WriteOptions(quoting_style="needed")
    if gzip:  # pyarrow's gzip stream writes no timestamp: byte-identical reruns
        with pa.CompressedOutputStream(str(path), "gzip") as stream:
            pacsv.write_csv(table, stream, options)
    else:
        pacsv.write_csv(table, str(path), options)


def _write_by_month(table: pa.Table, month: np.ndarray, out_dir: Path, stem: str,
                    gzip_first: bool = False) -> list[str]:
    """One file per month: `month` (sorted) gives each row's month code. Files are written
    on two threads (pyarrow releases the GIL); each file's bytes do not depend on it."""
    bounds = np.flatnonzero(np.diff(month)) + 1
    starts, ends = np.r_[0, bounds], np.r_[bounds, len(month)]
    jobs = []
    for i, (lo, hi) in enumerate(zip(starts, ends)):
        gzip = gzip_first and i == 0
        path = out_dir / f"{stem}_{_month_name(month[lo])}.csv{'.gz' if gzip else ''}"
        jobs.append((table.slice(lo, hi - lo), path, gzip))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda job: _write_csv(*job), jobs))
    return [path.name for _, path, _ in jobs]


def _interleave(clean: pa.Table, clean_key: np.ndarray, extra: pa.Table, extra_key: np.ndarray,
                ) -> tuple[pa.Table, np.ndarray]:
    """Insert a few `extra` rows into `clean` (sorted by `clean_key`) after every clean row
    with the same or a smaller key, without copying the big columns. Returns the table and
    its keys."""
    order = np.argsort(extra_key, kind="stable")
    extra, extra_key = extra.take(order), extra_key[order]
    positions = np.searchsorted(clean_key, extra_key, side="right")
    pieces, previous = [], 0
    for i, position in enumerate(positions):
        pieces += [clean.slice(previous, position - previous), extra.slice(i, 1)]
        previous = position
    pieces.append(clean.slice(previous))
    return pa.concat_tables(pieces), np.insert(clean_key, positions, extra_key)


def _date_sql(world: World, day_column: str) -> str:
    """ISO text of a day-index column."""
    return f"CAST(DATE '{world.calendar.iso(0)}' + CAST({day_column} AS INTEGER) AS VARCHAR)"


# ---------------------------------------------------------------- events


def _event_payload_sql(prefix: str) -> str:
    message_id = f"md5({sql_text(prefix)} || mid_no)"
    uuid = (f"substr({message_id}, 1, 8) || '-' || substr({message_id}, 9, 4) || '-' || "
            f"substr({message_id}, 13, 4) || '-' || substr({message_id}, 17, 4) || '-' || "
            f"substr({message_id}, 21, 12)")
    return f"""
        '{{"messageId":"' || {uuid} || '","organisationId":' || org_id
        || ',"userId":' || user_id
        || ',"eventUserType":"' || {sql_list(USER_TYPES)}[user_type + 1] || '"'
        || CASE WHEN version = 0 THEN '' ELSE ',"eventVersion":' || version END
        || CASE WHEN message_type = 0 THEN ''
                ELSE ',"messageType":"' || {sql_list(MESSAGE_TYPES)}[message_type + 1] || '"' END
        || CASE WHEN message_length < 0 THEN '' ELSE ',"messageLength":' || message_length END
        || CASE attachment_mode WHEN 0 THEN ',"countAttachment":' || attachment_count
                                WHEN 1 THEN ',"countAttachment":null' ELSE '' END
        || ',"hasError":' || CASE WHEN has_error THEN 'true' ELSE 'false' END
        || ',"productOrigin":"' || {sql_list(PRODUCT_ORIGINS)}[product_origin + 1]
        || '","sourceType":"' || {sql_list(SOURCE_TYPES)}[source_type + 1] || '"}}'"""


def write_events(con: duckdb.DuckDBPyConnection, world: World, out_dir: Path, events: Events,
                 details: Details, rows: Deliveries, faults: list[FaultRow], prefix: str,
                 on_file: Callable[[str], None] | None = None) -> list[str]:
    """event_YYYY-MM.csv per month of the rows' file position; the first month gzipped.

    Rendered and written one month at a time, so only one month's text is in memory;
    `on_file` (when given) receives each file name once it is written."""
    order = np.lexsort((rows.order_seq, rows.order_ts))
    keys = rows.order_ts[order]
    epoch = world.calendar.epoch_day
    month = _month_codes(world, keys // DAY_US - epoch)
    # Fault rows go last on their day (after every clean row of that day).
    fault_ts = np.array([(epoch + f.day + 1) * DAY_US - 1 for f in faults], dtype=np.int64)
    fault_month = _month_codes(world, fault_ts // DAY_US - epoch)
    extra = pa.table({column: pa.array([f.text[column] for f in faults], pa.string())
                      for column in ("EVENT_NAME", "EVENT_TIMESTAMP", "PAYLOAD")})
    names = sql_list(dict.fromkeys(k.name for k in EVENT_KINDS))
    written = []
    for i, code in enumerate(np.union1d(month, fault_month)):
        lo, hi = np.searchsorted(month, code, side="left"), np.searchsorted(month, code, "right")
        part = order[lo:hi]
        src = rows.source[part]
        clean = pa.table({
            "order_seq": rows.order_seq[part],
            "name_code": KIND_NAME_CODE[events.kind[src]], "ts_us": rows.ts_us[part],
            "mid_no": src.astype(np.int64), "org_id": world.orgs.ids[events.org[src]],
            "user_id": events.user_id[src], "user_type": events.user_type[src],
            "version": events.version[src], "message_type": details.message_type[src],
            "message_length": details.message_length[src],
            "attachment_mode": details.attachment_mode[src],
            "attachment_count": details.attachment_count[src],
            "has_error": details.has_error[src],
            "product_origin": details.product_origin[src], "source_type": details.source_type[src],
        })
        con.register("event_rows", clean)
        rendered = con.sql(f"""
            SELECT order_seq, {names}[name_code + 1] AS EVENT_NAME,
                   strftime(make_timestamp(ts_us), '%Y-%m-%d %H:%M:%S.%f') AS EVENT_TIMESTAMP,
                   {_event_payload_sql(prefix)} AS PAYLOAD
            FROM event_rows""").to_arrow_table()
        con.unregister("event_rows")
        del clean
        if not np.array_equal(rendered["order_seq"].to_numpy(), rows.order_seq[part]):
            rendered = rendered.take(np.argsort(rendered["order_seq"].to_numpy()))  # defensive
        in_month = np.flatnonzero(fault_month == code)
        table, _ = _interleave(rendered.drop_columns(["order_seq"]), keys[lo:hi],
                               extra.take(in_month), fault_ts[in_month])
        gzip = i == 0
        path = out_dir / f"event_{_month_name(code)}.csv{'.gz' if gzip else ''}"
        _write_csv(table, path, gzip)
        del rendered, table
        written.append(path.name)
        if on_file is not None:
            on_file(path.name)
    return written


# ---------------------------------------------------------------- FEATURE exports


def _feature_payload_sql() -> str:
    pieces = []
    for f, spec in enumerate(FEATURES):
        names = sql_list((spec.name,) + spec.name_variants)
        options = "[" + ",".join(f'"{o}"' for o in spec.options) + "]"
        pieces.append(
            f"CASE WHEN opt{f} >= 0 THEN '{{\"Name\":\"' || {names}[name{f} + 1] "
            f"|| '\",\"SelectedOption\":\"' || {sql_list(spec.spellings)}[opt{f} + 1] "
            f"|| '\",\"Options\":{options}}}' END")
    return ("'{\"organisationId\":' || org_id || ',\"features\":[' || concat_ws(',', "
            + ", ".join(pieces) + ") || ']}'")


def _spelled(rng: np.random.Generator, feature: int, option: np.ndarray, present: np.ndarray,
             ) -> tuple[np.ndarray, np.ndarray]:
    """(spelling index, name spelling index) per row: mostly canonical, sometimes a variant
    spelling of the same option (never a change); -1 where the feature is absent."""
    spec = FEATURES[feature]
    spelling = option.astype(np.int16)
    if spec.variants:
        norm = spec.spelling_option
        variant = rng.random(len(option)) < 0.02
        for value in range(len(spec.options)):
            choices = np.flatnonzero(norm == value)
            choices = choices[choices >= len(spec.options)]
            rows = variant & (option == value)
            spelling[rows] = rng.choice(choices, size=rows.sum())
    name = np.zeros(len(option), dtype=np.int16)
    if spec.name_variants:
        rows = rng.random(len(option)) < 0.005
        name[rows] = rng.integers(1, len(spec.name_variants) + 1, rows.sum())
    return np.where(present, spelling, -1), name


def write_features(con: duckdb.DuckDBPyConnection, world: World, out_dir: Path,
                   rng: np.random.Generator, faults: list[FaultRow]) -> tuple[list[str], int]:
    """feature_YYYY-MM.csv (regular daily exports, incl. a same-day supplementary file and a
    repeated row) and feature_redelivered_<day>.csv (one day's export delivered again).
    Returns (file names, clean rows written)."""
    exports, ent = world.exports, world.entitlements
    special = exports.special_days
    day, org = np.nonzero(exports.has_row.T)  # regular rows, by day then organisation
    n = len(day)
    regular = {"day": day, "org": org, "loaded": exports.loaded_day[day],
               "file": np.zeros(n, np.int8), "part": np.ones(n, np.int8)}
    for f in range(len(FEATURES)):
        regular[f"opt{f}"], regular[f"name{f}"] = _spelled(
            rng, f, ent.option[f][org, day], exports.present[f][org, day])
    stale_sms = (ent.option[SMS][org, day] + 1) % len(FEATURES[SMS].options)

    def rows_of(on_day: int, orgs: np.ndarray | None = None, **changes) -> dict:
        """A copy of that day's regular rows (of `orgs`), with some columns replaced."""
        mask = day == on_day
        if orgs is not None:
            mask &= np.isin(org, orgs)
        copy = {column: values[mask].copy() for column, values in regular.items()}
        for column, value in changes.items():
            copy[column] = value[mask] if isinstance(value, np.ndarray) else np.full(
                mask.sum(), value, copy[column].dtype)
        return copy

    # file 0: regular export file, 1: same-day supplementary file (greater FILENAME),
    # 2: re-delivered file (later FILE_LOADED_DAY); part orders rows inside one file.
    # The losing copy of each planted export-dedup case carries a stale SMS option.
    redelivered_day = special["redelivered"]
    redelivery = rows_of(redelivered_day, file=2,
                         loaded=redelivered_day + REDELIVERY_DELAY_DAYS)
    supplementary = rows_of(special["filename_tiebreak"], exports.stale_filename, file=1)
    repeated_first = rows_of(special["row_no_tiebreak"], exports.stale_row_no, part=0,
                             opt0=stale_sms)
    for on_day, orgs in ((redelivered_day, exports.stale_redelivered),
                         (special["filename_tiebreak"], exports.stale_filename)):
        losers = (day == on_day) & np.isin(org, orgs)
        regular["opt0"][losers] = stale_sms[losers]
    parts = (repeated_first, regular, supplementary, redelivery)
    clean = {column: np.concatenate([p[column] for p in parts]) for column in regular}
    clean["org_id"] = world.orgs.ids[clean.pop("org")]
    clean_rows = len(clean["day"])

    fault_frame = pa.table({
        "day": pa.array([f.day for f in faults], pa.int64()),
        "loaded": pa.array([int(exports.loaded_day[f.day]) for f in faults], pa.int64()),
        "file": pa.array([0] * len(faults), pa.int8()),
        "part": pa.array([2] * len(faults), pa.int8()),
        "fault_no": pa.array(range(len(faults)), pa.int64()),
        "export_text": pa.array([f.text["EXPORT_DATE"] for f in faults], pa.string()),
        "loaded_text": pa.array([f.text["FILE_LOADED_DAY"] for f in faults], pa.string()),
        "payload_text": pa.array([f.text["PAYLOAD"] for f in faults], pa.string()),
    })
    con.register("feature_clean", pa.table(clean))
    con.register("feature_faults", fault_frame)
    suffix = "CASE file WHEN 0 THEN '.json' WHEN 1 THEN '.part2.json' ELSE '_redelivery.json' END"
    table = con.sql(f"""
        WITH all_rows AS (
            SELECT day, loaded, file, part, org_id AS sort_key,
                   NULL::VARCHAR AS export_text, NULL::VARCHAR AS loaded_text,
                   {_feature_payload_sql()} AS payload
            FROM feature_clean
            UNION ALL
            SELECT day, loaded, file, part, fault_no, export_text, loaded_text, payload_text
            FROM feature_faults
        ), numbered AS (
            SELECT day, file, part, sort_key,
                   coalesce(export_text, {_date_sql(world, 'day')}) AS EXPORT_DATE,
                   'feature_export_' || {_date_sql(world, 'day')} || {suffix} AS FILENAME,
                   row_number() OVER (PARTITION BY day, file ORDER BY part, sort_key)
                       AS FILE_ROW_NO,
                   coalesce(loaded_text, {_date_sql(world, 'loaded')}) AS FILE_LOADED_DAY,
                   payload AS PAYLOAD
            FROM all_rows
        )
        SELECT day, file = 2 AS redelivered, EXPORT_DATE, FILENAME, FILE_ROW_NO,
               FILE_LOADED_DAY, PAYLOAD
        FROM numbered ORDER BY redelivered, day, FILENAME, FILE_ROW_NO""").to_arrow_table()
    con.unregister("feature_clean")
    con.unregister("feature_faults")
    n_regular = len(table) - int(pc.sum(table["redelivered"]).as_py())
    day = table["day"].to_numpy()
    table = table.drop_columns(["day", "redelivered"])
    written = _write_by_month(table.slice(0, n_regular), _month_codes(world, day[:n_regular]),
                              out_dir, "feature")
    path = out_dir / f"feature_redelivered_{world.calendar.iso(redelivered_day)}.csv"
    _write_csv(table.slice(n_regular), path)
    return written + [path.name], clean_rows


# ---------------------------------------------------------------- USER exports


def email(world: World, user: int) -> str:
    u = world.users
    return (f"{FIRST_NAMES[u.first_name[user]]}.{LAST_NAMES[u.last_name[user]]}"
            f".{u.ids[user]}@nhs.net").lower()


def user_payload_dict(world: World, user: int, day: int) -> dict:
    """One USER payload, key order as written by `write_users`."""
    u = world.users
    org = int(u.org_on(np.array([user]), np.array([day]))[0])
    status = int(u.status_on(np.array([user]), np.array([day]))[0])
    return {
        "userId": int(u.ids[user]), "applicationUserId": u.application_user_id[user],
        "organisationId": int(world.orgs.ids[org]),
        "createdAt": world.calendar.iso(int(u.created[user])), "email": email(world, user),
        "firstName": FIRST_NAMES[u.first_name[user]], "lastName": LAST_NAMES[u.last_name[user]],
        "isAdmin": bool(u.is_admin[user]), "role": ROLES[u.role[user]], "status": STATUSES[status],
    }


def _dictionary(codes: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    """A text column stored as `values[codes]` without materialising each row's text."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                          pa.array(values, pa.string()))


def _text_table(columns: dict[str, list[str]]) -> pa.Table:
    """A few literal rows with the same (dictionary-encoded) columns as the big tables."""
    n = len(next(iter(columns.values())))
    return pa.Table.from_arrays(
        [_dictionary(np.arange(n), values) if name != "FILE_ROW_NO" else pa.array(values, pa.int64())
         for name, values in columns.items()], names=list(columns))


def write_users(world: World, out_dir: Path, faults: list[FaultRow]) -> tuple[list[str], int]:
    """user_YYYY-MM.csv (one row per existing user per USER export day, by day then user)
    and user_redelivered_<day>.csv.gz (one day's export delivered again, identical content
    under another FILENAME and a later FILE_LOADED_DAY). Returns (file names, clean rows).

    A row's payload varies only with the user's organisation and status, so each distinct
    (user, organisation, status) payload is rendered once and rows refer to it."""
    users, exports, cal = world.users, world.exports, world.calendar
    n_days, n_orgs = cal.n_days, len(world.orgs)
    days = np.arange(n_days)
    day, user = np.nonzero((users.created[None, :] <= days[:, None]) & exports.user_day[:, None])
    first_row = np.searchsorted(day, day)
    per_day = np.bincount(day, minlength=n_days)
    state = (user.astype(np.int64) * n_orgs + users.org_on(user, day)) * len(STATUSES) \
        + users.status_on(user, day)
    distinct, payload_code = np.unique(state, return_inverse=True)
    payloads = []
    for code in distinct.tolist():
        rest, status = divmod(code, len(STATUSES))
        u, org = divmod(rest, n_orgs)
        body = user_payload_dict(world, u, 0)
        body["organisationId"] = int(world.orgs.ids[org])
        body["status"] = STATUSES[status]
        payloads.append(json.dumps(body, separators=(",", ":")))
    iso = [cal.iso(d) for d in range(n_days + REDELIVERY_DELAY_DAYS + 7)]
    filenames = [f"user_export_{cal.iso(d)}.json" for d in range(n_days)]
    clean = pa.Table.from_arrays([
        _dictionary(day, iso), _dictionary(day, filenames),
        pa.array(np.arange(len(day)) - first_row + 1, pa.int64()),
        _dictionary(exports.loaded_day[day], iso), _dictionary(payload_code, payloads),
    ], names=["EXPORT_DATE", "FILENAME", "FILE_ROW_NO", "FILE_LOADED_DAY", "PAYLOAD"])
    extra = _text_table({
        "EXPORT_DATE": [f.text["EXPORT_DATE"] for f in faults],
        "FILENAME": [filenames[f.day] for f in faults],
        "FILE_ROW_NO": [int(per_day[f.day]) + 1 + i for i, f in enumerate(faults)],
        "FILE_LOADED_DAY": [f.text["FILE_LOADED_DAY"] for f in faults],
        "PAYLOAD": [f.text["PAYLOAD"] for f in faults],
    })
    # Faults keep increasing FILE_ROW_NO numbers, so they go last within their day.
    table, row_day = _interleave(clean, day, extra, np.array([f.day for f in faults], np.int64))
    written = _write_by_month(table, _month_codes(world, row_day), out_dir, "user")

    redelivered = exports.special_days["redelivered"]
    lo, n = int(np.searchsorted(day, redelivered)), int(per_day[redelivered])
    zeros = np.zeros(n, dtype=np.int64)
    again = clean.slice(lo, n)
    again = again.set_column(1, "FILENAME", _dictionary(
        zeros, [f"user_export_{cal.iso(redelivered)}_redelivery.json"]))
    again = again.set_column(3, "FILE_LOADED_DAY", _dictionary(
        zeros, [cal.iso(redelivered + REDELIVERY_DELAY_DAYS)]))
    path = out_dir / f"user_redelivered_{cal.iso(redelivered)}.csv.gz"
    _write_csv(again, path, gzip=True)
    return written + [path.name], len(day) + n


# ---------------------------------------------------------------- reference table


def write_organisations(world: World, out_dir: Path) -> tuple[list[str], int]:
    """organisation.csv: most customers (a few missing, a few without region), plus one
    organisation that never has a clean FEATURE row."""
    orgs = world.orgs
    rows = [(int(orgs.ids[i]), orgs.names[i], orgs.ods_codes[i], orgs.regions[i] or "")
            for i in np.flatnonzero(orgs.in_reference)]
    rows.append((orgs.unknown_in_quarantined_feature_row, "Closed Branch Surgery", "Z99999", ""))
    rows.sort()
    path = out_dir / "organisation.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("ORGANISATION_ID", "ORGANISATION_NAME", "ODS_CODE", "REGION"))
        writer.writerows(rows)
    return [path.name], len(rows)
