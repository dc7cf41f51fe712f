"""`python -m warehouse demo --out RAW_DIR [--scale small|demo|large] [--seed N] [--no-churn-signal]`.

Writes realistic, deterministic demo data in the raw interchange layout (docs/METRICS.md,
"File interchange layout") plus `manifest.json`, the ground truth the tests check the
warehouse against.

The module's rule: the manifest is computed from the generator's own simulation state
and fault bookkeeping (`warehouse.demo_truth`), never by reading the written files back.
The same seed gives byte-identical files; the data window is fixed (it ends 2026-10-31)
and does not depend on today's date.

Where things live: `demo_world` (organisations, entitlements, exports, users),
`demo_events` (usage, planted unpaid usage, duplicates), `demo_faults` (quarantine rows),
`demo_truth` (the contract's rules over the state), `demo_files` (CSV writing).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from warehouse import demo_truth as truth
from warehouse.demo_events import (
    CHURN_SIGNAL_SHARE,
    DUPLICATE_KINDS,
    EVENT_KINDS,
    FEATURE_KINDS,
    UNPAID_REASONS,
    ChurnSignal,
    Events,
    deliveries,
    event_details,
    order_by_time,
    ordinary_events,
    plant_churn_signal,
    planted_unpaid_events,
)
from warehouse.demo_faults import count_by_reason, event_faults, feature_faults, user_faults
from warehouse.demo_files import (
    clear_raw_files,
    write_events,
    write_features,
    write_organisations,
    write_users,
)
from warehouse.demo_world import (
    FEATURES,
    NEVER,
    SCALES,
    SELF_BOOK,
    TRIAGE,
    VIDEO,
    World,
    build_world,
)

DEFAULT_SCALE = "demo"
DEFAULT_SEED = 42
DUPLICATE_SHARE = 0.004  # share of events delivered twice


def message_prefix(seed: int) -> str:
    return f"accurx-demo-{seed}-"


def plant_never_users(rng: np.random.Generator, world: World) -> dict[int, np.ndarray]:
    """Organisations whose staff never send a Video / Self Book Individual invite although
    the feature is enabled from day one: they pay for a feature they never use.

    Picked among the stable timelines enabled from the start, BEFORE and regardless of
    their cancellations (`build_entitlements` cancels every enabled pair at the same
    rate): a never-user cancels as often as anyone. One cancelled (or switched off for a
    while) is not "paying, never using" any more; the manifest's `paying_never_using`
    says which are."""
    orgs, ent = world.orgs, world.entitlements
    out = {}
    for feature in (VIDEO, SELF_BOOK):
        stable = np.array([s == "stable" for s in ent.scenario[feature]])
        enabled_from_start = stable & (ent.option[feature][:, 0] > 0) & (orgs.onboard == 0)
        pool = np.setdiff1d(np.flatnonzero(enabled_from_start), ent.required[feature])
        out[feature] = np.sort(rng.choice(pool, size=min(len(pool), max(2, len(orgs) // 40)),
                                          replace=False))
    return out


def generate(out_dir: Path, scale: str, seed: int, churn_signal: bool = True,
             progress: Callable[[str], None] | None = None) -> dict:
    """Write the raw files for `scale` and `seed` into `out_dir` (created if missing; raw
    files of an earlier run are removed first) and return the manifest, also written as
    `out_dir/manifest.json`. With `churn_signal`, usage falls before a share of the
    cancellations (`plant_churn_signal`); without it cancellations are independent of
    usage. `progress`, when given, receives one line per finished stage and per file
    written, with the seconds since the start. Raises ValueError for an unknown scale."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_raw_files(out_dir)
    # Independent streams per stage: a change in one stage does not reshuffle the others.
    (world_rng, usage_rng, plant_rng, time_rng, detail_rng, dup_rng, fault_rng,
     spelling_rng, churn_rng) = (np.random.default_rng(s)
                                 for s in np.random.SeedSequence(seed).spawn(9))
    n_orgs = SCALES[scale].organisations
    prefix = message_prefix(seed)
    started = time.perf_counter()

    def done(what: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - started:6.1f} s] {what}")

    world = build_world(scale, seed, world_rng)
    done(f"world: {n_orgs:,} organisations, {len(world.users.ids):,} users, "
         f"{world.calendar.n_days} days")
    never_use = plant_never_users(plant_rng, world)
    churn = plant_churn_signal(churn_rng, world, CHURN_SIGNAL_SHARE if churn_signal else 0.0)
    ordinary = ordinary_events(usage_rng, world, never_use,
                               SCALES[scale].events_per_active_user_day)
    ordinary = ordinary.take(churn.surviving(churn_rng, ordinary))
    planted = planted_unpaid_events(plant_rng, world, per_reason=max(6, n_orgs // 4))
    events, ts = order_by_time(time_rng, world, Events.concat([ordinary, planted]))
    del ordinary, planted
    done(f"usage: {len(events):,} events")
    reasons = truth.unpaid_reasons(world, events)
    is_planted = events.planted >= 0
    if not np.array_equal(reasons[is_planted], events.planted[is_planted]):
        raise RuntimeError("a planted unpaid event does not get its intended reason")
    details = event_details(detail_rng, events)
    rows = deliveries(dup_rng, world, events, ts, DUPLICATE_SHARE)
    done(f"deliveries: {len(rows.source):,} event rows with duplicates")

    per_reason = max(3, n_orgs // 50)
    faults = {
        "EVENT": event_faults(world, fault_rng, per_reason, prefix,
                              first_fault_number=len(events),
                              collide_with=int(fault_rng.integers(len(events)))),
        "FEATURE": feature_faults(world, fault_rng, per_reason),
        "USER": user_faults(world, fault_rng, per_reason),
    }
    done(f"faults: {sum(len(f) for f in faults.values()):,} quarantine rows planted")

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        files = write_events(con, world, out_dir, events, details, rows, faults["EVENT"], prefix,
                             on_file=lambda name: done(f"wrote {name}"))
        feature_files, feature_clean = write_features(con, world, out_dir, spelling_rng,
                                                      faults["FEATURE"])
        done(f"wrote {len(feature_files)} FEATURE export files")
    finally:
        con.close()
    user_files, user_clean = write_users(world, out_dir, faults["USER"])
    done(f"wrote {len(user_files)} USER export files")
    org_files, organisation_rows = write_organisations(world, out_dir)
    files += feature_files + user_files + org_files

    manifest = build_manifest(world, events, reasons, rows, faults, feature_clean, user_clean,
                              organisation_rows, never_use, churn, sorted(files))
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    done("wrote manifest.json")
    return manifest


def build_manifest(world: World, events: Events, reasons: np.ndarray, rows, faults: dict,
                   feature_clean: int, user_clean: int, organisation_rows: int,
                   never_use: dict[int, np.ndarray], churn: ChurnSignal,
                   files: list[str]) -> dict:
    cal, exports, users, orgs = world.calendar, world.exports, world.users, world.orgs
    days = np.arange(cal.n_days)
    user_modeled = int(((users.created[None, :] <= days[:, None])
                        & exports.user_day[:, None]).sum())
    counts = {
        "EVENT": (len(rows.source), len(events)),
        "FEATURE": (feature_clean, int(exports.has_row.sum())),
        "USER": (user_clean, user_modeled),
    }
    tables = {}
    for table, (clean, modeled) in counts.items():
        quarantined = len(faults[table])
        tables[table] = {"raw_rows": clean + quarantined, "modeled_rows": modeled,
                         "duplicate_rows": clean - modeled, "quarantined_rows": quarantined}
    changes = truth.entitlement_changes(world)
    by_type, by_feature, confirmation = truth.count_changes(changes)
    ambiguous = truth.reversed_before_data_reaches(world, changes)
    if ambiguous:
        raise RuntimeError("a reversed cancellation before the data reaches 28 days was planted")
    latest = truth.latest_complete_day(world)
    never = truth.paying_never_using(world, events)
    never_pairs = {(int(o), int(f)) for o, f in never}
    quarantine_rows = [r for table_rows in faults.values() for r in table_rows]
    special = exports.special_days
    coverage = truth.coverage_by_day(world)
    duplicate_kinds = np.bincount(rows.duplicate_kind[rows.duplicate_kind >= 0],
                                  minlength=len(DUPLICATE_KINDS))
    planted_counts = np.bincount(events.planted[events.planted >= 0],
                                 minlength=len(UNPAID_REASONS))
    per_kind = np.bincount(events.kind, minlength=len(EVENT_KINDS))
    feature_events_by_feature, events_by_name = Counter(), Counter()
    for kind, spec in enumerate(EVENT_KINDS):
        events_by_name[spec.name] += int(per_kind[kind])
        if spec.feature is not None:
            feature_events_by_feature[FEATURES[spec.feature].name] += int(per_kind[kind])
    return {
        "seed": world.seed,
        "scale": world.scale_name,
        "start_date": cal.iso(0),
        "end_date": cal.iso(cal.last),
        "tables": tables,
        "organisation_rows": organisation_rows,
        "quarantine_by_reason": count_by_reason(quarantine_rows),
        "feature_events": int(np.isin(events.kind, FEATURE_KINDS).sum()),
        "unpaid_events_by_reason": {
            name: int((reasons == i).sum()) for i, name in enumerate(UNPAID_REASONS)},
        "entitlement_changes_by_type": by_type,
        "cancellations_by_confirmation": confirmation,
        "latest_complete_date": None if latest is None else cal.iso(latest),
        "organisations_with_feature_rows": int(exports.has_row.any(axis=1).sum()),
        "paying_never_using": [{"organisation_id": int(orgs.ids[o]), "feature": FEATURES[f].name}
                               for o, f in never],
        "churn_signal": {
            "enabled": churn.share > 0,
            "share": churn.share,
            "cancellations": churn.cancellations,
            "planted": [
                {"organisation_id": int(orgs.ids[o]), "feature": FEATURES[f].name,
                 "cancellation_date": cal.iso(d), "decline_start": cal.iso(max(s, 0)),
                 "usage_level": round(float(level), 3)}
                for o, f, d, s, level in zip(churn.org, churn.feature, churn.cancel_day,
                                             churn.decline_start, churn.level)],
        },
        "notes": {
            "entitlement_changes": (
                "entitlement_changes_by_type and cancellations_by_confirmation count the contract "
                "features (SMS, Video, Self Book Individual) AND the feature outside the contract, "
                f"'{FEATURES[TRIAGE].name}' (Off/On; its only changes are activations). Per "
                "feature: entitlement_changes_by_feature. Cancellations enabled again within 28 "
                "days although the data ends sooner (the one open reading): none planted."),
            "entitlement_changes_by_feature": by_feature,
            "unknown_feature": FEATURES[TRIAGE].name,
            "cohort_organisations_by_censoring": truth.cohort_censoring(world),
            "paying_never_using": (
                "Every (organisation, feature) enabled on all of its known days for that feature "
                "with no feature event for it, over all four features: the feature outside the "
                "contract has no usage rule, so each of its always-enabled organisations is "
                "listed. Planted on purpose (zero usage of a feature they pay for) for Video and "
                "Self Book Individual: planted_never_users; others arise by chance. A planted "
                "never-user is cancelled as often as anyone (so that never using a feature does "
                "not foretell keeping it); those switched off at some point are not paying for "
                "it throughout and are listed in planted_never_users_cancelled instead."),
            "planted_never_users": {
                FEATURES[f].name: [int(orgs.ids[o]) for o in o_list if (o, f) in never_pairs]
                for f, o_list in never_use.items()},
            "planted_never_users_cancelled": {
                FEATURES[f].name: [int(orgs.ids[o]) for o in o_list if (o, f) not in never_pairs]
                for f, o_list in never_use.items()},
            "unpaid_usage": (
                "Ordinary usage happens only where the true option allows it, so on known days it "
                "is paid. no_entitlement_snapshot follows from the planted export faults: usage "
                "goes on on days an organisation's FEATURE row is missing (whole day missing, "
                "organisation missing, incomplete last date) or does not list the feature. The "
                "other reasons are planted one event at a time (planted_unpaid_events) on known "
                "days whose option does not allow the event, and checked against the contract's "
                "precedence before writing; legacy_client uses eventVersion 1-2; some "
                "unexplained events have no eventVersion key (default 3, not legacy)."),
            "churn_signal": (
                "With the churn signal on (the default; off with --no-churn-signal) a share of "
                "the true cancellations (enabled -> Off, every scenario) of SMS, Video and Self "
                "Book Individual is planted with a decline: the feature's events fall linearly "
                "over three weeks from decline_start (10-12 weeks before cancellation_date) to "
                "usage_level of normal and stay there until it; the missing events are never "
                "sent (fewer events, so fewer users with one). "
                "cancellations counts every true cancellation; the dates are true option changes, "
                "which a missing export can show a day or two later."),
            "planted_unpaid_events": {
                r: int(planted_counts[i]) for i, r in enumerate(UNPAID_REASONS) if i > 0},
            "feature_events_by_feature": dict(sorted(feature_events_by_feature.items())),
            "events_by_name": dict(sorted(events_by_name.items())),
            "event_duplicates_by_kind": {
                k: int(duplicate_kinds[i]) for i, k in enumerate(DUPLICATE_KINDS)},
            "event_duplicates": (
                "A duplicate repeats an event's messageId and payload with the same timestamp "
                "(identical), a later one the same day or the next day; later_but_read_first "
                "rows sit just before their original in the file. The earliest is the original."),
            "export_faults": {
                "feature_and_user_export_missing": cal.iso(special["feature_and_user_export_missing"]),
                "user_export_missing_only": cal.iso(special["user_export_missing"]),
                "coverage_just_under_95pct": {
                    "date": cal.iso(special["coverage_just_under_95pct"]),
                    "coverage": round(coverage[special["coverage_just_under_95pct"]], 4)},
                "last_export_incomplete": {
                    "date": cal.iso(special["last_export_incomplete"]),
                    "coverage": round(coverage[special["last_export_incomplete"]], 4)},
                "organisation_days_missing": int(
                    ((days[None, :] >= orgs.onboard[:, None]) & exports.feature_day[None, :]
                     & ~exports.has_row).sum()),
                "feature_absent_from_array_cells": {
                    FEATURES[f].name: int((exports.has_row & ~exports.present[f]).sum())
                    for f in range(3)},
                "self_book_individual_listed_late": orgs.ids[exports.sbi_late_rollout].tolist(),
                "empty_features_array": [{"organisation_id": int(orgs.ids[o]), "date": cal.iso(d)}
                                         for o, d in exports.empty_feature_rows],
                "export_dedup": {
                    "redelivered_file": {
                        "date": cal.iso(special["redelivered"]),
                        "stale_sms_in_first_delivery": orgs.ids[exports.stale_redelivered].tolist()},
                    "same_loaded_day_greater_filename": {
                        "date": cal.iso(special["filename_tiebreak"]),
                        "stale_sms_in_lesser_filename": orgs.ids[exports.stale_filename].tolist()},
                    "same_file_greater_row_no": {
                        "date": cal.iso(special["row_no_tiebreak"]),
                        "stale_sms_in_lesser_row_no": orgs.ids[exports.stale_row_no].tolist()},
                    "user_redelivered_file": cal.iso(special["redelivered"]),
                },
                "spelling_variants": "about 2% of options and 0.5% of feature names are spelled "
                                     "differently (case, spaces): never a change",
            },
            "unknown_organisations": {
                "only_in_a_quarantined_feature_row": orgs.unknown_in_quarantined_feature_row,
                "never_in_a_feature_export": orgs.unknown_never_exported},
            "quarantine_rows": [{"table": r.table, "reason": r.reason, "note": r.note}
                                for r in quarantine_rows],
            "organisations": {
                "onboarded_during_window": int((orgs.onboard > 0).sum()),
                "missing_from_reference_table": orgs.ids[~orgs.in_reference].tolist(),
                "without_region": int(sum(
                    r is None for r, listed in zip(orgs.regions, orgs.in_reference) if listed)),
            },
            "users": {
                "created_during_window": int((users.created >= 0).sum()),
                "never_activated": int((users.activated == NEVER).sum()),
                "deactivated_during_window": int((users.deactivated < NEVER).sum()),
                "moved_organisation": int((users.move_day < NEVER).sum()),
                "accurx_staff_user_ids": world.staff_ids.tolist(),
            },
            "files": files,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Parse `--out RAW_DIR [--scale small|demo|large] [--seed N] [--no-churn-signal]`,
    generate, print a summary.
    Returns 0, or argparse's exit status for bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m warehouse demo",
                                     description="Write deterministic demo raw data.")
    parser.add_argument("--out", required=True, type=Path, help="raw directory to write")
    parser.add_argument("--scale", choices=sorted(SCALES), default=DEFAULT_SCALE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-churn-signal", dest="churn_signal", action="store_false",
                        help="cancellations independent of usage (no decline planted before them)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    started = time.perf_counter()
    manifest = generate(args.out, args.scale, args.seed, args.churn_signal,
                        progress=lambda line: print(line, flush=True))
    tables = manifest["tables"]
    print(f"demo data ({args.scale}, seed {args.seed}) in {args.out}: "
          f"{tables['EVENT']['raw_rows']:,} event rows, {tables['FEATURE']['raw_rows']:,} "
          f"feature rows, {tables['USER']['raw_rows']:,} user rows, "
          f"{manifest['start_date']}..{manifest['end_date']} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0
