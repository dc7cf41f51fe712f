"""Demo events: ordinary usage, planted unpaid usage and duplicate deliveries.

The module's rule: an ordinary feature event happens only where the organisation's TRUE
entitlement allows it. On a known day that is exactly the exported option, so it is paid
usage; on a day the export misses (organisation absent, feature absent from its array,
whole day missing) usage goes on as before and becomes `no_entitlement_snapshot` unpaid
usage, which follows from the planted export faults. Every other unpaid reason is planted
on purpose, one isolated case at a time, and checked against the contract's classifier
(`warehouse.demo_truth.unpaid_reasons`) before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.demo_world import SELF_BOOK, SMS, TRIAGE, VIDEO, World

USER_TYPES = ("Clinician", "Admin", "AccurxSupport")
CLINICIAN, ADMIN, STAFF = range(3)
UNPAID_REASONS = ("no_entitlement_snapshot", "accurx_staff", "entitlement_changed_nearby",
                  "user_from_other_org", "legacy_client", "unexplained")
(NO_SNAPSHOT, ACCURX_STAFF, CHANGED_NEARBY, OTHER_ORG, LEGACY, UNEXPLAINED) = range(6)
MESSAGE_TYPES = ("", "SMS", "NHS App", "Email", "Video Invite", "Self-Book Link")
PRODUCT_ORIGINS = ("Web", "Desktop", "Mobile")
SOURCE_TYPES = ("Toolbar", "Inbox", "Patient Record", "Batch", "Appointment Book")
ENFORCING_VERSION = 3
DAY_US = 86_400_000_000


@dataclass(frozen=True)
class EventKind:
    name: str
    feature: int | None  # None: a non-feature event
    allowing: tuple[int, ...]  # option indices of `feature` that allow it
    weight: float  # share of ordinary events where it is allowed
    with_attachment: bool = False


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("Login", None, (), 0.13),
    EventKind("Patient Record Viewed", None, (), 0.30),
    EventKind("Patient Triage Request Received", None, (), 0.04),  # pilot feature, no usage rule
    EventKind("Patient Message Sent", SMS, (1, 2), 0.33),
    EventKind("Patient Message Sent", SMS, (2,), 0.06, with_attachment=True),
    EventKind("Batch Message Sent", SMS, (2,), 0.04),
    EventKind("Video Invite Sent", VIDEO, (1,), 0.06),
    EventKind("Self-Book Invite Sent", SELF_BOOK, (1,), 0.05),
)
EVENT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(k.name for k in EVENT_KINDS))
KIND_NAME_CODE = np.array([EVENT_NAMES.index(k.name) for k in EVENT_KINDS], dtype=np.int8)
FEATURE_KINDS = tuple(i for i, k in enumerate(EVENT_KINDS) if k.feature is not None)
TRIAGE_KIND = 2


@dataclass
class Events:
    """Logical events (one per messageId), as numpy columns."""

    org: np.ndarray  # organisation index
    day: np.ndarray
    kind: np.ndarray  # index into EVENT_KINDS
    user_idx: np.ndarray  # index into world.users, -1 for Accurx staff
    user_id: np.ndarray
    user_type: np.ndarray  # index into USER_TYPES
    version: np.ndarray  # eventVersion, 0 when the key is absent
    planted: np.ndarray  # planted unpaid reason, -1 for ordinary events

    def __len__(self) -> int:
        return len(self.org)

    def take(self, index: np.ndarray) -> Events:
        return Events(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        fields = Events.__dataclass_fields__
        return Events(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass
class Deliveries:
    """Every clean EVENT row to write: the logical events plus their duplicate deliveries."""

    source: np.ndarray  # index of the logical event the row delivers
    ts_us: np.ndarray  # EVENT_TIMESTAMP, microseconds since 1970-01-01
    order_ts: np.ndarray  # sort keys that place the row in the files
    order_seq: np.ndarray
    duplicate_kind: np.ndarray  # -1 original; else index into DUPLICATE_KINDS


DUPLICATE_KINDS = ("identical", "later_same_day", "later_next_day", "later_but_read_first")


def allowed_cells(world: World, kind: int, known_only: bool) -> np.ndarray:
    """(orgs, days): the organisation's option allows `kind`: the true option everywhere, or
    only on known days (`known_only`, the contract's reading)."""
    spec = EVENT_KINDS[kind]
    option = world.entitlements.option[spec.feature]
    cells = np.isin(option, spec.allowing)
    return cells & world.exports.known(spec.feature) if known_only else cells


def times_of_day(rng: np.random.Generator, weekend: np.ndarray) -> np.ndarray:
    """Microseconds after midnight: surgery hours, busiest mornings; weekend mornings only."""
    n = len(weekend)
    morning = rng.normal(10.5 * 3600, 1.6 * 3600, n)
    afternoon = rng.normal(14.75 * 3600, 1.8 * 3600, n)
    seconds = np.where(rng.random(n) < 0.55, morning, afternoon)
    seconds = np.where(weekend, rng.uniform(8 * 3600, 13 * 3600, n), seconds)
    seconds = np.clip(seconds, 7 * 3600, 19.75 * 3600).astype(np.int64)
    return seconds * 1_000_000 + rng.integers(0, 1_000_000, n)


def draw_versions(rng: np.random.Generator, n: int) -> np.ndarray:
    """eventVersion: mostly 3-5, a few legacy clients (1-2), a few without the key (0)."""
    return rng.choice(6, size=n, p=[0.03, 0.03, 0.04, 0.22, 0.34, 0.34]).astype(np.int8)


def _user_types(world: World, user_idx: np.ndarray) -> np.ndarray:
    return np.where(world.users.is_admin[user_idx], ADMIN, CLINICIAN).astype(np.int8)


@dataclass
class ChurnSignal:
    """The planted link between usage and cancellations: before each planted cancellation
    the feature's usage falls from `decline_start` to `level` of normal over three weeks
    and stays there until the cancellation."""

    share: float  # share of cancellations planted with a decline
    cancellations: int  # every true cancellation (enabled -> Off) of a contract feature
    org: np.ndarray  # organisation index of each planted cancellation
    feature: np.ndarray
    cancel_day: np.ndarray
    decline_start: np.ndarray
    level: np.ndarray  # usage multiplier reached three weeks after decline_start
    factor: dict[int, np.ndarray]  # feature -> (orgs, days) float32 usage multiplier

    def surviving(self, rng: np.random.Generator, events: Events) -> np.ndarray:
        """Indices of the events that still happen: a feature event on a declining day
        happens with probability `factor` (the others are never sent; nothing replaces
        them). Every event survives when nothing is planted."""
        keep = np.ones(len(events), dtype=bool)
        for kind in FEATURE_KINDS:
            feature = EVENT_KINDS[kind].feature
            if feature not in self.factor:
                continue
            of_kind = np.flatnonzero(events.kind == kind)
            chance = self.factor[feature][events.org[of_kind], events.day[of_kind]]
            declining = chance < 1.0
            keep[of_kind[declining]] = rng.random(int(declining.sum())) < chance[declining]
        return np.flatnonzero(keep)


CHURN_SIGNAL_SHARE = 0.9
# Usage starts falling 10-12 weeks before the cancellation and reaches its low three weeks
# later, staying there: the fall happens in the 4-12 weeks before it.
DECLINE_START_DAYS = (70, 84)
DECLINE_FALL_DAYS = 21


def plant_churn_signal(rng: np.random.Generator, world: World, share: float) -> ChurnSignal:
    """Pick `share` of the true cancellations of SMS, Video and Self Book Individual; for
    each, the feature's usage falls linearly to 5-30% of normal over three weeks from 10-12
    weeks before the cancellation day, and stays there until the cancellation.
    `share` 0 plants nothing (usage is then independent of cancellations)."""
    n_orgs, n_days = len(world.orgs), world.calendar.n_days
    days = np.arange(n_days)
    picked: list[tuple[int, int, int, int, float]] = []
    factor, total = {}, 0
    for feature in (SMS, VIDEO, SELF_BOOK):
        option = world.entitlements.option[feature]
        orgs, cancel_days = np.nonzero((option[:, :-1] > 0) & (option[:, 1:] == 0))
        cancel_days = cancel_days + 1
        total += len(orgs)
        factor[feature] = np.ones((n_orgs, n_days), dtype=np.float32)
        chosen = rng.random(len(orgs)) < share
        leads = rng.integers(DECLINE_START_DAYS[0], DECLINE_START_DAYS[1] + 1, len(orgs))
        levels = rng.uniform(0.05, 0.30, len(orgs))
        for org, day, lead, level in zip(orgs[chosen], cancel_days[chosen], leads[chosen],
                                         levels[chosen]):
            start = int(day) - int(lead)
            window = (days >= start) & (days < day)
            fall = np.clip((days[window] - start) / DECLINE_FALL_DAYS, 0.0, 1.0)
            factor[feature][org, window] = 1.0 - (1.0 - level) * fall
            picked.append((int(org), feature, int(day), start, float(level)))
    table = np.array(picked, dtype=np.float64).reshape(-1, 5)
    return ChurnSignal(share, total, table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
                       table[:, 2].astype(np.int64), table[:, 3].astype(np.int64), table[:, 4],
                       factor)


def ordinary_events(rng: np.random.Generator, world: World, never_use: dict[int, np.ndarray],
                    rate: float) -> Events:
    """Usage by active users of each organisation, by its true entitlement."""
    users, orgs, cal = world.users, world.orgs, world.calendar
    n_users, n_days = len(users), cal.n_days
    days = np.arange(n_days, dtype=np.int64)
    everyone = np.arange(n_users)[:, None]
    org_of = users.org_on(everyone, days[None, :]).astype(np.int32)
    active = ((users.created[:, None] <= days) & (users.activated[:, None] <= days)
              & (days < users.deactivated[:, None]) & (orgs.onboard[org_of] <= days))
    lam = (rate * users.rate[:, None]) * cal.activity[None, :] * active
    counts = rng.poisson(lam).ravel()
    del lam, active
    flat = np.repeat(np.arange(n_users * n_days, dtype=np.int64), counts)
    user_idx = flat // n_days
    day = flat % n_days
    org = org_of.ravel()[flat].astype(np.int64)
    del flat, org_of

    # Each organisation leans on some features more than others; planted never-users: 0.
    propensity = rng.lognormal(0.0, 0.5, (len(orgs), len(EVENT_KINDS)))
    for feature, never in never_use.items():
        for kind in FEATURE_KINDS:
            if EVENT_KINDS[kind].feature == feature:
                propensity[never, kind] = 0.0
    possible = [None] * len(EVENT_KINDS)
    for kind in FEATURE_KINDS:
        possible[kind] = allowed_cells(world, kind, known_only=False)
    possible[TRIAGE_KIND] = world.entitlements.option[TRIAGE] == 1

    kind = np.empty(len(org), dtype=np.int8)
    chunk = 2_000_000
    for lo in range(0, len(org), chunk):
        o, d = org[lo:lo + chunk], day[lo:lo + chunk]
        weights = np.empty((len(o), len(EVENT_KINDS)), dtype=np.float32)
        for k, spec in enumerate(EVENT_KINDS):
            weights[:, k] = spec.weight * propensity[o, k]
            if possible[k] is not None:
                weights[:, k] *= possible[k][o, d]
        cumulative = np.cumsum(weights, axis=1)
        draw = rng.random(len(o), dtype=np.float32) * cumulative[:, -1]
        kind[lo:lo + chunk] = (cumulative < draw[:, None]).sum(axis=1)

    user_id = users.ids[user_idx]
    user_type = _user_types(world, user_idx)
    staff = rng.random(len(org)) < 0.004  # Accurx support acting for the practice
    user_id = np.where(staff, rng.choice(world.staff_ids, size=len(org)), user_id)
    user_type = np.where(staff, STAFF, user_type).astype(np.int8)
    user_idx = np.where(staff, -1, user_idx)
    return Events(org, day, kind, user_idx, user_id, user_type, draw_versions(rng, len(org)),
                  np.full(len(org), -1, dtype=np.int8))


def within_two_days(cells: np.ndarray) -> np.ndarray:
    """(orgs, days): some day within 2 days before or after is in `cells`."""
    near = np.zeros_like(cells)
    for shift in (1, 2):
        near[:, shift:] |= cells[:, :-shift]
        near[:, :-shift] |= cells[:, shift:]
    return near


def planted_unpaid_events(rng: np.random.Generator, world: World, per_reason: int) -> Events:
    """Unpaid feature events, each placed so exactly one reason (2-6 of the contract) applies:
    on a known day whose option does not allow the event."""
    users, exports = world.users, world.exports
    members_of = [np.flatnonzero((users.home == o) | (users.new_org == o))
                  for o in range(len(world.orgs))]
    movers = np.flatnonzero(users.move_day < users.deactivated)

    def member(org: int, day: int) -> int | None:
        """An active user whose row on `day` names `org`."""
        cand = members_of[org]
        ok = ((users.org_on(cand, np.full(len(cand), day)) == org) & (users.created[cand] <= day)
              & (users.activated[cand] <= day) & (day < users.deactivated[cand]))
        return int(rng.choice(cand[ok])) if ok.any() else None

    def outsider(org: int, day: int) -> int | None:
        """A user whose row in `day`'s USER export names another organisation: preferably
        one who has just moved away from `org`, else a locum from another practice."""
        moved = movers[(users.home[movers] == org) & (users.move_day[movers] <= day)]
        if len(moved):
            return int(rng.choice(moved))
        cand = rng.choice(len(users), size=50)
        cand = cand[(users.created[cand] <= day) & (users.org_on(cand, np.full(50, day)) != org)]
        return int(cand[0]) if len(cand) else None

    cells: dict[str, list[np.ndarray]] = {"any": [], "near": [], "far": [], "far_user_day": []}
    for kind in FEATURE_KINDS:
        spec = EVENT_KINDS[kind]
        known = exports.known(spec.feature)
        allowed = known & np.isin(world.entitlements.option[spec.feature], spec.allowing)
        refused = known & ~allowed
        near = within_two_days(allowed)
        cells["any"].append(np.flatnonzero(refused))
        cells["near"].append(np.flatnonzero(refused & near))
        cells["far"].append(np.flatnonzero(refused & ~near))
        cells["far_user_day"].append(np.flatnonzero(refused & ~near & exports.user_day[None, :]))

    n_days = world.calendar.n_days
    rows: list[tuple[int, int, int, int, int, int, int]] = []  # org, day, kind, user, type, version, reason
    plans = ((ACCURX_STAFF, "any"), (CHANGED_NEARBY, "near"), (OTHER_ORG, "far_user_day"),
             (LEGACY, "far"), (UNEXPLAINED, "far"))
    for reason, pool_name in plans:
        pools = cells[pool_name]
        kinds = [i for i, pool in enumerate(pools) if len(pool)]
        placed = attempts = 0
        while placed < per_reason and attempts < per_reason * 50 and kinds:
            attempts += 1
            slot = int(rng.choice(kinds))
            cell = int(rng.choice(pools[slot]))
            org, day = divmod(cell, n_days)
            version = int(rng.integers(3, 6))
            if reason == ACCURX_STAFF:
                user, user_type = -1, STAFF
            else:
                user = outsider(org, day) if reason == OTHER_ORG else member(org, day)
                if user is None:
                    continue
                user_type = ADMIN if users.is_admin[user] else CLINICIAN
                if reason == LEGACY:
                    version = int(rng.integers(1, 3))
                elif reason == UNEXPLAINED and rng.random() < 0.2:
                    version = 0  # no eventVersion key: not legacy
            rows.append((org, day, FEATURE_KINDS[slot], user, user_type, version, reason))
            placed += 1
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    user_idx = table[:, 3]
    staff_ids = rng.choice(world.staff_ids, size=len(table))
    user_id = np.where(user_idx >= 0, users.ids[np.maximum(user_idx, 0)], staff_ids)
    return Events(table[:, 0], table[:, 1], table[:, 2].astype(np.int8), user_idx, user_id,
                  table[:, 4].astype(np.int8), table[:, 5].astype(np.int8),
                  table[:, 6].astype(np.int8))


def order_by_time(rng: np.random.Generator, world: World, events: Events,
                  ) -> tuple[Events, np.ndarray]:
    """Give each logical event a timestamp and sort by it; messageId number = position."""
    weekend = world.calendar.weekday[events.day] >= 5
    ts = (world.calendar.epoch_day + events.day) * DAY_US + times_of_day(rng, weekend)
    order = np.lexsort((np.arange(len(ts)), ts))
    return events.take(order), ts[order]


def deliveries(rng: np.random.Generator, world: World, events: Events, ts: np.ndarray,
               share: float) -> Deliveries:
    """One row per logical event plus duplicate deliveries of a sample of them. A duplicate
    repeats the payload with the same or a LATER timestamp, so the original is the earliest;
    some later duplicates sit before their original in the file (read first)."""
    n = len(events)
    n_dup = max(40, int(n * share))
    source = np.sort(rng.choice(n, size=n_dup, replace=False))
    dup_kind = rng.choice(len(DUPLICATE_KINDS), size=n_dup, p=[0.4, 0.3, 0.15, 0.15])
    last_day = world.calendar.last
    dup_kind = np.where((dup_kind == 2) & (events.day[source] >= last_day), 1, dup_kind)
    day_start = ts[source] - ts[source] % DAY_US
    later = ts[source] + rng.integers(1_000_000, 3 * 3600 * 1_000_000, n_dup)
    later = np.minimum(later, day_start + DAY_US - 1)
    next_day = day_start + DAY_US + times_of_day(rng, np.zeros(n_dup, dtype=bool))
    dup_ts = np.select([dup_kind == 0, dup_kind == 2], [ts[source], next_day], later)
    seq = np.arange(n, dtype=np.int64) * 3 + 1
    dup_order_ts = np.where(dup_kind == 3, ts[source], dup_ts)
    dup_order_seq = np.where(dup_kind == 3, seq[source] - 1, seq[source] + 1)
    return Deliveries(
        source=np.concatenate([np.arange(n), source]),
        ts_us=np.concatenate([ts, dup_ts]),
        order_ts=np.concatenate([ts, dup_order_ts]),
        order_seq=np.concatenate([seq, dup_order_seq]),
        duplicate_kind=np.concatenate([np.full(n, -1), dup_kind]).astype(np.int8),
    )


@dataclass
class Details:
    """Payload details of each logical event."""

    message_type: np.ndarray  # index into MESSAGE_TYPES, 0 = key absent
    message_length: np.ndarray  # -1 = key absent
    attachment_mode: np.ndarray  # 0 value, 1 null, 2 key absent
    attachment_count: np.ndarray
    has_error: np.ndarray
    product_origin: np.ndarray
    source_type: np.ndarray


def event_details(rng: np.random.Generator, events: Events) -> Details:
    n, kind = len(events), events.kind
    name = np.array([k.name for k in EVENT_KINDS])[kind]
    message = name == "Patient Message Sent"
    batch = name == "Batch Message Sent"
    message_type = np.select(
        [message, batch, name == "Video Invite Sent", name == "Self-Book Invite Sent"],
        [rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1]), 1, 4, 5], 0).astype(np.int8)
    length = np.clip(rng.lognormal(5.0, 0.6, n), 12, 918).astype(np.int64)
    message_length = np.where(message | batch, length, -1)
    with_attachment = np.array([k.with_attachment for k in EVENT_KINDS])[kind]
    # countAttachment 0 / null / absent where no attachment may be sent (all read as 0).
    plain_mode = rng.choice(3, size=n, p=[0.8, 0.1, 0.1])
    attachment_mode = np.select([with_attachment, message, batch | (message_type >= 4)],
                                [0, plain_mode, 0], 2).astype(np.int8)
    attachment_count = np.where(with_attachment, rng.integers(1, 4, n),
                                np.where(batch & (rng.random(n) < 0.1), 1, 0))
    source_type = np.where(batch, 3, rng.choice([0, 1, 2, 4], size=n, p=[0.4, 0.25, 0.25, 0.1]))
    return Details(
        message_type=message_type, message_length=message_length,
        attachment_mode=attachment_mode, attachment_count=attachment_count,
        has_error=rng.random(n) < 0.015,
        product_origin=rng.choice(3, size=n, p=[0.55, 0.4, 0.05]).astype(np.int8),
        source_type=source_type.astype(np.int8),
    )
