"""Ground truth for the manifest, computed from the simulation state (never from the files).

Each function implements one rule of docs/METRICS.md over the world's arrays: known days
(a winning, clean FEATURE row that lists the feature), unpaid-usage reasons, entitlement
changes and cancellation confirmation, latest complete export date, customers paying for
a feature they never use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from warehouse.demo_events import (
    ACCURX_STAFF,
    CHANGED_NEARBY,
    ENFORCING_VERSION,
    EVENT_KINDS,
    FEATURE_KINDS,
    LEGACY,
    NO_SNAPSHOT,
    OTHER_ORG,
    STAFF,
    UNEXPLAINED,
    Events,
    within_two_days,
)
from warehouse.demo_world import FEATURES, World

CHANGE_TYPES = ("activation", "reactivation", "upgrade", "downgrade", "cancellation")
CONFIRMATION_WINDOW_DAYS = 28


def unpaid_reasons(world: World, events: Events) -> np.ndarray:
    """Per logical event: index into UNPAID_REASONS, or -1 (non-feature or paid usage).
    METRICS.md 3.4: the first reason that applies, in contract order."""
    users, exports = world.users, world.exports
    reason = np.full(len(events), -1, dtype=np.int8)
    for kind in FEATURE_KINDS:
        spec = EVENT_KINDS[kind]
        mine = np.flatnonzero(events.kind == kind)
        if not len(mine):
            continue
        org, day = events.org[mine], events.day[mine]
        known = exports.known(spec.feature)
        allowed = known & np.isin(world.entitlements.option[spec.feature], spec.allowing)
        near = within_two_days(allowed)
        user = events.user_idx[mine]
        customer = user >= 0
        safe_user = np.maximum(user, 0)
        has_user_row = customer & exports.user_day[day] & (users.created[safe_user] <= day)
        other_org = has_user_row & (users.org_on(safe_user, day) != org)
        version = events.version[mine]
        legacy = (version > 0) & (version < ENFORCING_VERSION)  # absent key: default, not legacy
        r = np.select(
            [~known[org, day], events.user_type[mine] == STAFF, near[org, day], other_org, legacy],
            [NO_SNAPSHOT, ACCURX_STAFF, CHANGED_NEARBY, OTHER_ORG, LEGACY], UNEXPLAINED)
        reason[mine] = np.where(allowed[org, day], -1, r)
    return reason


@dataclass(frozen=True)
class Change:
    org: int
    feature: int
    day: int
    from_option: int
    to_option: int
    change_type: str
    confirmed: bool | None  # cancellations only


def last_export_day(world: World) -> int:
    return int(np.flatnonzero(world.exports.has_row.any(axis=0))[-1])


def entitlement_changes(world: World) -> list[Change]:
    """METRICS.md 3.5 and 4: consecutive known days of one organisation and feature."""
    last_export = last_export_day(world)
    changes = []
    for feature in range(len(FEATURES)):
        known = world.exports.known(feature)
        option = world.entitlements.option[feature]
        for org in range(len(world.orgs)):
            days = np.flatnonzero(known[org])
            if len(days) < 2:
                continue
            values = option[org, days]
            ever_enabled = bool(values[0] > 0)
            for i in np.flatnonzero(values[1:] != values[:-1]) + 1:
                before, after, day = int(values[i - 1]), int(values[i]), int(days[i])
                confirmed = None
                if before == 0:
                    change_type = "reactivation" if ever_enabled else "activation"
                elif after == 0:
                    change_type = "cancellation"
                    window = days[(days > day) & (days <= day + CONFIRMATION_WINDOW_DAYS)]
                    if (option[org, window] > 0).any():
                        confirmed = False
                    elif last_export >= day + CONFIRMATION_WINDOW_DAYS:
                        confirmed = True
                else:
                    change_type = "upgrade" if after > before else "downgrade"
                ever_enabled |= after > 0
                changes.append(Change(org, feature, day, before, after, change_type, confirmed))
    return changes


def reversed_before_data_reaches(world: World, changes: list[Change]) -> int:
    """Cancellations enabled again within 28 days although the data ends sooner: the one
    reading the contract leaves open. The generator plants none; the manifest says so."""
    last_export = last_export_day(world)
    return sum(1 for c in changes if c.confirmed is False
               and last_export < c.day + CONFIRMATION_WINDOW_DAYS)


def latest_complete_day(world: World) -> int | None:
    """METRICS.md 3.1 and 4: the latest export date covering >= 95% of the previous export
    date's organisations and having a USER export; the first export date counts."""
    has_row = world.exports.has_row
    export_days = np.flatnonzero(has_row.any(axis=0))
    latest = None
    for i, day in enumerate(export_days):
        if i == 0:
            complete = True
        else:
            before = has_row[:, export_days[i - 1]]
            # Integer arithmetic: exactly 95% counts.
            complete = 100 * (before & has_row[:, day]).sum() >= 95 * before.sum()
        if complete and world.exports.user_day[day]:
            latest = int(day)
    return latest


def coverage_by_day(world: World) -> dict[int, float]:
    has_row = world.exports.has_row
    export_days = np.flatnonzero(has_row.any(axis=0))
    return {int(d): float((has_row[:, p] & has_row[:, d]).sum() / has_row[:, p].sum())
            for p, d in pairwise(export_days)}


def feature_usage_pairs(events: Events) -> set[tuple[int, int]]:
    """(organisation index, feature) with at least one modeled feature event."""
    feature = np.array([-1 if k.feature is None else k.feature for k in EVENT_KINDS])[events.kind]
    used = feature >= 0
    return set(zip(events.org[used].tolist(), feature[used].tolist()))


def paying_never_using(world: World, events: Events) -> list[tuple[int, int]]:
    """(organisation index, feature): enabled on every known day of the data for that
    feature (at least one) and no feature event for it, ever."""
    used = feature_usage_pairs(events)
    pairs = []
    for feature in range(len(FEATURES)):
        known = world.exports.known(feature)
        enabled = world.entitlements.option[feature] > 0
        always = known.any(axis=1) & ~(known & ~enabled).any(axis=1)
        pairs += [(int(o), feature) for o in np.flatnonzero(always) if (int(o), feature) not in used]
    return sorted(pairs)


def cohort_censoring(world: World) -> dict[str, dict[str, int]]:
    """Per feature: organisations whose cohort is left-censored (first enabled known day is
    their first known day) or not."""
    out = {}
    for feature, spec in enumerate(FEATURES):
        known = world.exports.known(feature)
        enabled = known & (world.entitlements.option[feature] > 0)
        has_cohort = enabled.any(axis=1)
        first_known = np.argmax(known, axis=1)
        first_enabled = np.argmax(enabled, axis=1)
        censored = has_cohort & (first_known == first_enabled)
        out[spec.name] = {"left_censored": int(censored.sum()),
                          "uncensored": int((has_cohort & ~censored).sum())}
    return out


def count_changes(changes: list[Change]) -> tuple[dict, dict, dict]:
    by_type = Counter(c.change_type for c in changes)
    by_feature: dict[str, dict[str, int]] = {}
    for c in changes:
        row = by_feature.setdefault(FEATURES[c.feature].name, dict.fromkeys(CHANGE_TYPES, 0))
        row[c.change_type] += 1
    confirmation = Counter(
        {True: "confirmed", False: "reversed", None: "provisional"}[c.confirmed]
        for c in changes if c.change_type == "cancellation")
    return ({t: by_type.get(t, 0) for t in CHANGE_TYPES}, by_feature,
            {k: confirmation.get(k, 0) for k in ("confirmed", "reversed", "provisional")})
