"""The simulated product database behind the demo data: calendar, organisations,
entitlements, daily exports and users.

The module's rule: everything here is the TRUTH the files are serialised from, held as
numpy arrays indexed by (organisation index, day index) or user index. The manifest is
computed from these arrays (see `warehouse.demo_truth`), never by reading files back.
Day indices run from 0 (the window's first day) to `n_days - 1` (its last day, 2026-10-31).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

END_DATE = np.datetime64("2026-10-31", "D")
# A day index far past any window: "never" for activation/deactivation/move days.
NEVER = 1_000_000


@dataclass(frozen=True)
class Scale:
    organisations: int
    users: int
    days: int
    events_per_active_user_day: float


SCALES: dict[str, Scale] = {
    "small": Scale(organisations=40, users=800, days=120, events_per_active_user_day=1.2),
    "demo": Scale(organisations=300, users=6_000, days=365, events_per_active_user_day=0.95),
    "large": Scale(organisations=3_000, users=60_000, days=365, events_per_active_user_day=0.95),
}


@dataclass(frozen=True)
class Feature:
    name: str
    options: tuple[str, ...]  # in option order; index 0 is always "Off"
    in_contract: bool
    # Spellings written to the files: the canonical options first (index = option index),
    # then variants that normalise (trim, case-insensitive) to `variant_of[i]`.
    variants: tuple[str, ...] = ()
    name_variants: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return self.options + self.variants

    @property
    def spelling_option(self) -> np.ndarray:
        """Option index of every entry of `spellings`."""
        lookup = {o.lower(): i for i, o in enumerate(self.options)}
        return np.array([lookup[s.strip().lower()] for s in self.spellings], dtype=np.int8)


ON_OFF_VARIANTS = ("off", "OFF", " Off", "ON", "on", " On ")
FEATURES: tuple[Feature, ...] = (
    Feature("SMS", ("Off", "SMS Lite", "SMS Plus"), True,
            ("off", "OFF", " Off", "sms lite", "SMS lite ", "SMS LITE", "sms plus", " SMS Plus ",
             "SMS PLUS"),
            ("sms", " SMS")),
    Feature("Video", ("Off", "On"), True, ON_OFF_VARIANTS, ("video", "VIDEO")),
    Feature("Self Book Individual", ("Off", "On"), True, ON_OFF_VARIANTS,
            ("self book individual", "Self Book Individual ")),
    # Outside the contract: a pilot feature the warehouse must keep, never spelled differently
    # (the contract fixes no output spelling for unknown features).
    Feature("Patient Triage", ("Off", "On"), False),
)
SMS, VIDEO, SELF_BOOK, TRIAGE = range(4)

# The course of each (organisation, feature) entitlement apart from its cancellations, and
# how often each is drawn; cancellations come on top (CANCELLATION_DAILY_HAZARD).
SCENARIOS_SMS = {"stable": 0.76, "activation": 0.08, "upgrade": 0.10, "downgrade": 0.06}
SCENARIOS_ON_OFF = {"stable": 0.88, "activation": 0.12}
# Every change scenario is planted on a few organisations present from day one (twice when
# there is room, all protected from export gaps), so even the small scale holds every
# change type and confirmation state.
CANCEL_SCENARIOS = ("cancel_confirmed", "cancel_reversed", "cancel_provisional",
                    "cancel_returns_late", "activation_then_cancel")
REQUIRED_SMS = ("activation", "upgrade", "downgrade", *CANCEL_SCENARIOS)
REQUIRED_ON_OFF = ("activation", *CANCEL_SCENARIOS)
# Every other entitlement is cancelled with the same chance on every day it is enabled,
# whatever its feature, age, usage or past (about 22% of enabled pairs a year): which
# pairs cancel, and when, is independent of everything the churn-risk score reads. Only
# the planted churn signal (demo_events) ties usage to cancelling.
CANCELLATION_DAILY_HAZARD = 0.0007
# What follows a cancellation: switched off for good, enabled again within 3-20 days
# (reversed), or after 35-60 days (a confirmed cancellation, then a return).
CANCELLATION_OUTCOMES = {"stays_off": 0.55, "reversed": 0.25, "returns_late": 0.20}
# Starting option probabilities of a stable timeline (option order).
STABLE_START = {SMS: (0.08, 0.42, 0.50), VIDEO: (0.45, 0.55), SELF_BOOK: (0.60, 0.40)}

PLACES = (
    "Abbey", "Ashfield", "Beacon", "Birchwood", "Bridge", "Brook", "Castle", "Cedar", "Church",
    "Clifton", "Coastal", "Cornerstone", "Court", "Elms", "Fairfield", "Forest", "Garden",
    "Grange", "Green", "Harbour", "Heath", "Highfield", "Hill", "Holly", "Kings", "Lakeside",
    "Laurel", "Lime Tree", "Manor", "Market", "Meadow", "Mill", "Moor", "Oak", "Orchard",
    "Park", "Priory", "Queens", "Riverside", "Rose", "St John's", "St Mary's", "Station",
    "Stonegate", "Valley", "Victoria", "Westgate", "Willow", "Windmill", "Woodlands",
)
PRACTICE_KINDS = ("Surgery", "Medical Centre", "Health Centre", "Medical Practice",
                  "Family Practice", "Primary Care Centre")
REGIONS = ("London", "South East", "South West", "Midlands", "East of England", "North West",
           "North East and Yorkshire")
FIRST_NAMES = (
    "Aisha", "Amelia", "Ben", "Chloe", "Daniel", "Deepa", "Emma", "Fatima", "George", "Grace",
    "Hannah", "Harry", "Isla", "Jack", "James", "Kwame", "Laura", "Liam", "Maria", "Mohammed",
    "Noah", "Olivia", "Omar", "Priya", "Rachel", "Sam", "Sarah", "Sofia", "Tom", "Zara",
)
LAST_NAMES = (
    "Ahmed", "Baker", "Brown", "Clarke", "Davies", "Evans", "Green", "Hall", "Hughes", "Jones",
    "Khan", "Lewis", "Martin", "Morgan", "Nguyen", "Okafor", "Patel", "Roberts", "Shah",
    "Singh", "Smith", "Taylor", "Thomas", "Turner", "Walker", "Ward", "White", "Williams",
    "Wilson", "Wright",
)
ROLES = ("GP", "Nurse", "Receptionist", "Pharmacist", "Healthcare Assistant", "Practice Manager",
         "Admin")
STATUSES = ("Invited", "Active", "Deactivated")
# UK bank holidays inside the possible windows: activity drops to weekend level.
BANK_HOLIDAYS = ("2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06",
                 "2026-05-04", "2026-05-25", "2026-08-31")


@dataclass
class Calendar:
    start: np.datetime64
    n_days: int
    dates: np.ndarray  # datetime64[D], one per day index
    weekday: np.ndarray  # 0 = Monday
    activity: np.ndarray  # relative event volume per day: weekly and seasonal rhythm

    @property
    def last(self) -> int:
        return self.n_days - 1

    @property
    def epoch_day(self) -> int:
        """Days from 1970-01-01 to day index 0."""
        return int(self.start.astype(np.int64))

    def iso(self, day: int) -> str:
        return str(self.start + np.timedelta64(int(day), "D"))


@dataclass
class Organisations:
    ids: np.ndarray  # int64 organisation ids
    size: np.ndarray  # heavy-tailed practice size (drives users and events)
    onboard: np.ndarray  # first day index the organisation exists in the exports
    names: list[str]
    ods_codes: list[str]
    regions: list[str | None]
    in_reference: np.ndarray  # listed in organisation.csv
    # Organisations that appear in events but never in a clean FEATURE row.
    unknown_in_quarantined_feature_row: int = 0
    unknown_never_exported: int = 0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Entitlements:
    option: list[np.ndarray]  # per feature, (orgs, days) int8 true option index
    scenario: list[list[str]]  # per feature, per organisation: the scenario drawn
    required: list[np.ndarray]  # per feature, the organisations planted with a required scenario
    triage_pilots: np.ndarray  # organisations with the pilot feature in their export
    triage_start: np.ndarray  # per organisation, first day the pilot feature is exported


@dataclass
class Exports:
    feature_day: np.ndarray  # (days,) a FEATURE export was delivered that day
    user_day: np.ndarray  # (days,) a USER export was delivered that day
    has_row: np.ndarray  # (orgs, days) the organisation's winning, clean FEATURE row exists
    present: list[np.ndarray]  # per feature, (orgs, days) feature listed in that row
    loaded_day: np.ndarray  # (days,) FILE_LOADED_DAY index of that day's regular files
    special_days: dict[str, int]  # planted export faults: name -> day index
    # Export-dedup losers: day -> organisations whose losing row carries a stale SMS option.
    stale_redelivered: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stale_filename: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stale_row_no: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sbi_late_rollout: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    empty_feature_rows: list[tuple[int, int]] = field(default_factory=list)

    def known(self, feature: int) -> np.ndarray:
        """(orgs, days): the organisation's entitlement for `feature` is known that day."""
        return self.has_row & self.present[feature]


@dataclass
class Users:
    ids: np.ndarray  # int64 user ids
    home: np.ndarray  # organisation index before `move_day`
    new_org: np.ndarray  # organisation index from `move_day` (== home when the user never moves)
    move_day: np.ndarray  # NEVER when the user never moves
    created: np.ndarray  # day index of createdAt (negative: before the window)
    activated: np.ndarray  # first day with status Active (NEVER: stays Invited)
    deactivated: np.ndarray  # first day with status Deactivated (NEVER: stays)
    is_admin: np.ndarray
    role: np.ndarray  # index into ROLES
    first_name: np.ndarray  # index into FIRST_NAMES
    last_name: np.ndarray
    application_user_id: list[str]
    rate: np.ndarray  # relative activity (heavy-tailed)

    def __len__(self) -> int:
        return len(self.ids)

    def org_on(self, user: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Organisation index named by the user's row on `day` (user's membership)."""
        return np.where(day >= self.move_day[user], self.new_org[user], self.home[user])

    def status_on(self, user: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index into STATUSES of the user's status on `day` (valid where created <= day)."""
        active = (day >= self.activated[user]).astype(np.int8)
        return np.where(day >= self.deactivated[user], 2, active).astype(np.int8)


@dataclass
class World:
    seed: int
    scale_name: str
    calendar: Calendar
    orgs: Organisations
    entitlements: Entitlements
    exports: Exports
    users: Users
    staff_ids: np.ndarray  # AccurxSupport user ids (no USER rows: they are not customer users)


def build_world(scale_name: str, seed: int, rng: np.random.Generator) -> World:
    scale = SCALES[scale_name]
    calendar = build_calendar(scale.days)
    orgs = build_organisations(rng, scale.organisations, calendar)
    entitlements = build_entitlements(rng, orgs, calendar)
    exports = build_exports(rng, orgs, calendar, entitlements)
    users = build_users(rng, orgs, calendar, scale.users)
    staff_ids = np.arange(900_001, 900_001 + max(5, scale.organisations // 20), dtype=np.int64)
    return World(seed, scale_name, calendar, orgs, entitlements, exports, users, staff_ids)


def build_calendar(n_days: int) -> Calendar:
    start = END_DATE - np.timedelta64(n_days - 1, "D")
    dates = start + np.arange(n_days).astype("timedelta64[D]")
    weekday = ((dates.astype(np.int64) + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
    weekly = np.array([1.22, 1.08, 1.02, 1.0, 0.95, 0.13, 0.06])[weekday]
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    seasonal = 1.0 + 0.18 * np.cos(2 * np.pi * (day_of_year - 20) / 365.25)  # winter pressure
    trend = 0.92 + 0.16 * np.arange(n_days) / max(n_days - 1, 1)  # slow product growth
    holiday = np.isin(dates, np.array(BANK_HOLIDAYS, dtype="datetime64[D]"))
    activity = weekly * seasonal * trend * np.where(holiday, 0.08, 1.0)
    return Calendar(start, n_days, dates, weekday, activity)


def build_organisations(rng: np.random.Generator, n: int, calendar: Calendar) -> Organisations:
    pool = rng.choice(np.arange(1_001, 1_001 + 10 * n + 10), size=n + 2, replace=False)
    ids = np.sort(pool[:n]).astype(np.int64)
    size = np.minimum(rng.pareto(1.3, n) + 1.0, 40.0)  # a few big practices, many small
    onboard = np.zeros(n, dtype=np.int64)
    late = rng.random(n) < 0.10
    onboard[late] = rng.integers(10, int(calendar.n_days * 0.85), late.sum())
    names = [f"{PLACES[rng.integers(len(PLACES))]} {PRACTICE_KINDS[rng.integers(len(PRACTICE_KINDS))]}"
             for _ in range(n)]
    region_idx = rng.integers(len(REGIONS), size=n)
    ods_numbers = rng.choice(np.arange(10_000, 99_999), size=n, replace=False)
    ods_codes = [f"{'ABCDEFGHJKLMNPY'[r * 2 % 15]}{num}" for r, num in zip(region_idx, ods_numbers)]
    regions: list[str | None] = [REGIONS[r] for r in region_idx]
    without_region = rng.random(n) < 0.04
    without_region[rng.integers(n)] = True
    for i in np.flatnonzero(without_region):
        regions[i] = None  # region unknown in the reference table
    in_reference = rng.random(n) >= 0.05  # a few customers missing from the reference table
    in_reference[rng.choice(np.flatnonzero(~without_region))] = False
    return Organisations(
        ids, size, onboard, names, ods_codes, regions, in_reference,
        unknown_in_quarantined_feature_row=int(pool[n]), unknown_never_exported=int(pool[n + 1]),
    )


def _draw(rng: np.random.Generator, low: int, high: int) -> int | None:
    """A day in [low, high], or None when the range is empty."""
    return int(rng.integers(low, high + 1)) if high >= low else None


def _timeline(rng: np.random.Generator, feature: int, scenario: str, first: int, last: int,
              ) -> tuple[int, list[tuple[int, int]]] | None:
    """(starting option, [(day, new option), ...]) for one scenario, or None if it does not fit."""
    n_options = len(FEATURES[feature].options)
    enabled = list(range(1, n_options))

    def any_enabled() -> int:
        return int(rng.choice(enabled))

    if scenario == "stable":
        return int(rng.choice(n_options, p=STABLE_START[feature])), []
    if scenario == "activation":
        day = _draw(rng, first + 5, last - 5)
        return None if day is None else (0, [(day, any_enabled())])
    if scenario == "upgrade":
        day = _draw(rng, first + 5, last - 3)
        return None if day is None else (1, [(day, 2)])
    if scenario == "downgrade":
        day = _draw(rng, first + 5, last - 3)
        return None if day is None else (2, [(day, 1)])
    if scenario == "cancel_confirmed":
        day = _draw(rng, first + 5, last - 35)
        return None if day is None else (any_enabled(), [(day, 0)])
    if scenario == "cancel_reversed":
        day = _draw(rng, first + 5, last - 35)
        if day is None:
            return None
        return any_enabled(), [(day, 0), (day + int(rng.integers(3, 21)), any_enabled())]
    if scenario == "cancel_provisional":
        day = _draw(rng, max(first + 5, last - 24), last - 4)
        return None if day is None else (any_enabled(), [(day, 0)])
    if scenario == "cancel_returns_late":
        gap = int(rng.integers(35, 61))
        day = _draw(rng, first + 5, last - 3 - gap)
        return None if day is None else (any_enabled(), [(day, 0), (day + gap, any_enabled())])
    if scenario == "activation_then_cancel":
        day = _draw(rng, first + 5, last - 50)
        if day is None:
            return None
        return 0, [(day, any_enabled()), (day + int(rng.integers(14, 41)), 0)]
    raise ValueError(f"unknown scenario {scenario!r}")


def _cancel_at_constant_hazard(rng: np.random.Generator, option: np.ndarray, first: int,
                               last: int) -> None:
    """Switch `option` (one organisation's days, edited in place) off with chance
    CANCELLATION_DAILY_HAZARD on each enabled day from `first + 5`, again after every
    return: a memoryless hazard, so the chance of a cancellation in the coming weeks is the
    same for a pair activated last week, one never used and one back from a reversal.
    Near the end of the window a cancellation stays off (a reversal there would be
    ambiguous: the data would end before its 28 confirmation days)."""
    day = first + 5
    while True:
        day += int(rng.geometric(CANCELLATION_DAILY_HAZARD)) - 1
        if day > last:
            return
        if option[day - 1] == 0 or option[day] == 0:
            day += 1  # not enabled: no cancellation that day (thinning keeps the hazard flat)
            continue
        outcome = rng.choice(list(CANCELLATION_OUTCOMES),
                             p=list(CANCELLATION_OUTCOMES.values()))
        back = last + 1
        if outcome == "reversed" and day <= last - 35:
            back = day + int(rng.integers(3, 21))
        elif outcome == "returns_late":
            back = min(back, day + int(rng.integers(35, 61)))
            if back > last - 3:
                back = last + 1
        option[day:back] = 0
        day = back


def build_entitlements(rng: np.random.Generator, orgs: Organisations, calendar: Calendar,
                       ) -> Entitlements:
    n_orgs, n_days, last = len(orgs), calendar.n_days, calendar.last
    from_start = np.flatnonzero(orgs.onboard == 0)
    options, scenarios, required_orgs = [], [], []
    for feature in (SMS, VIDEO, SELF_BOOK):
        weights = SCENARIOS_SMS if feature == SMS else SCENARIOS_ON_OFF
        names = list(weights)
        probs = np.array(list(weights.values()))
        drawn = list(rng.choice(names, size=n_orgs, p=probs / probs.sum()))
        required = list(REQUIRED_SMS if feature == SMS else REQUIRED_ON_OFF)
        required = required * (2 if len(from_start) >= 4 * len(required) else 1)
        planted = rng.choice(from_start, size=len(required), replace=False)
        for org, scenario in zip(planted, required):
            drawn[org] = scenario
        is_planted = np.zeros(n_orgs, dtype=bool)
        is_planted[planted] = True
        option = np.zeros((n_orgs, n_days), dtype=np.int8)
        final_names = []
        for org in range(n_orgs):
            timeline = _timeline(rng, feature, drawn[org], int(orgs.onboard[org]), last)
            if timeline is None:
                drawn[org] = "stable"
                timeline = _timeline(rng, feature, "stable", int(orgs.onboard[org]), last)
            start_option, changes = timeline
            option[org, :] = start_option
            for day, new_option in changes:
                option[org, day:] = new_option
            if not is_planted[org]:
                _cancel_at_constant_hazard(rng, option[org], int(orgs.onboard[org]), last)
            final_names.append(drawn[org])
        options.append(option)
        scenarios.append(final_names)
        required_orgs.append(np.sort(planted))

    # The pilot feature outside the contract: listed only for pilot organisations, from
    # the day the pilot starts; most start enabled, some are switched on a little later.
    n_pilots = max(3, n_orgs // 7)
    pilots = np.sort(rng.choice(n_orgs, size=n_pilots, replace=False))
    triage_start = np.full(n_orgs, NEVER, dtype=np.int64)
    triage = np.zeros((n_orgs, n_days), dtype=np.int8)
    triage_names = ["not_listed"] * n_orgs
    for i, org in enumerate(pilots):
        begin = max(int(orgs.onboard[org]), int(rng.integers(0, n_days // 2)))
        triage_start[org] = begin
        if i % 3 == 0 and begin + 40 < last:
            triage[org, begin + int(rng.integers(7, 31)):] = 1
            triage_names[org] = "activation"
        else:
            triage[org, :] = 1
            triage_names[org] = "stable"
    options.append(triage)
    scenarios.append(triage_names)
    required_orgs.append(np.zeros(0, dtype=np.int64))
    return Entitlements(options, scenarios, required_orgs, pilots, triage_start)


def _weekday_near(calendar: Calendar, target: int, taken: set[int]) -> int:
    day = target
    while calendar.weekday[day] >= 5 or day in taken or day - 1 in taken or day + 1 in taken:
        day += 1
    taken.add(day)
    return day


def _complete(has_row: np.ndarray, day: int, previous: int) -> bool:
    """The date covers at least 95% of the previous export date's organisations."""
    before = has_row[:, previous]
    return bool(100 * (before & has_row[:, day]).sum() >= 95 * before.sum())


def build_exports(rng: np.random.Generator, orgs: Organisations, calendar: Calendar,
                  entitlements: Entitlements) -> Exports:
    n_orgs, n_days, last = len(orgs), calendar.n_days, calendar.last
    taken = {0, 1, last - 1, last}
    special = {
        "row_no_tiebreak": _weekday_near(calendar, int(n_days * 0.20), taken),
        "filename_tiebreak": _weekday_near(calendar, int(n_days * 0.30), taken),
        "feature_and_user_export_missing": _weekday_near(calendar, int(n_days * 0.40), taken),
        "redelivered": _weekday_near(calendar, int(n_days * 0.52), taken),
        "user_export_missing": _weekday_near(calendar, int(n_days * 0.62), taken),
        "coverage_just_under_95pct": _weekday_near(calendar, int(n_days * 0.78), taken),
        "last_export_incomplete": last,
    }
    feature_day = np.ones(n_days, dtype=bool)
    feature_day[special["feature_and_user_export_missing"]] = False
    user_day = feature_day.copy()
    user_day[special["user_export_missing"]] = False
    days = np.arange(n_days)
    exists = days[None, :] >= orgs.onboard[:, None]
    has_row = exists & feature_day[None, :]

    # Organisations planted with a required change keep every regular export, so a short
    # cancellation is never hidden by a missing day.
    protected = np.zeros(n_orgs, dtype=bool)
    for required in entitlements.required:
        protected[required] = True
    dedup_days = [special[k] for k in ("row_no_tiebreak", "filename_tiebreak", "redelivered")]
    random_missing = (rng.random((n_orgs, n_days)) < 0.004) & ~protected[:, None]
    random_missing[:, dedup_days] = False
    has_row &= ~random_missing

    # Random missing organisation-days never make a date incomplete on their own ...
    export_days = np.flatnonzero(has_row.any(axis=0))
    for previous, day in pairwise(export_days):
        restore = rng.permutation(np.flatnonzero(random_missing[:, day] & exists[:, day]))
        i = 0
        while not _complete(has_row, day, previous):
            has_row[restore[i], day] = True
            random_missing[restore[i], day] = False
            i += 1

    def drop_until_incomplete(day: int, extra_share: float) -> None:
        previous = int(np.flatnonzero(has_row[:, :day].any(axis=0))[-1])
        order = rng.permutation(np.flatnonzero(has_row[:, previous] & has_row[:, day]))
        i = 0
        while _complete(has_row, day, previous):
            has_row[order[i], day] = False
            i += 1
        has_row[order[i:i + int(extra_share * len(order))], day] = False

    # ... only these two planted dates are: coverage just under 95% (the minimal drop), and
    # a clearly incomplete last export date, so "currently" is not the last export date.
    # Dropping organisations on a date only raises the next date's coverage.
    drop_until_incomplete(special["coverage_just_under_95pct"], 0.0)
    drop_until_incomplete(last, 0.05)

    present = [np.ones((n_orgs, n_days), dtype=bool) for _ in FEATURES]
    # Self Book Individual reached some organisations' exports only after a while.
    candidates = np.setdiff1d(np.flatnonzero(orgs.onboard == 0), entitlements.required[SELF_BOOK])
    sbi_late = np.sort(rng.choice(candidates, size=max(2, n_orgs // 16), replace=False))
    for org in sbi_late:
        present[SELF_BOOK][org, : int(rng.integers(10, 41))] = False
    # A contract feature occasionally missing from one day's array.
    for feature in (SMS, VIDEO, SELF_BOOK):
        gaps = (rng.random((n_orgs, n_days)) < 0.0015) & ~protected[:, None]
        gaps[:, dedup_days] = False
        present[feature] &= ~gaps
    # A couple of rows with an empty features array: a known day, every feature unknown.
    empty_rows = []
    for _ in range(2):
        org = int(rng.choice(np.setdiff1d(np.arange(n_orgs), np.flatnonzero(protected))))
        day = int(rng.choice(np.flatnonzero(has_row[org, 2:-2])) + 2)
        if day in dedup_days:
            continue
        for p in present:
            p[org, day] = False
        empty_rows.append((org, day))
    present[TRIAGE] = days[None, :] >= entitlements.triage_start[:, None]

    # Regular files are loaded the next working day.
    loaded = days + 1
    while True:
        weekend = calendar.weekday[np.minimum(loaded, last)] >= 5
        weekend &= loaded <= last
        if not weekend.any():
            break
        loaded = np.where(weekend, loaded + 1, loaded)

    def stale_orgs(day: int) -> np.ndarray:
        pool = np.flatnonzero(has_row[:, day] & present[SMS][:, day])
        return np.sort(rng.choice(pool, size=max(2, n_orgs // 60), replace=False))

    return Exports(
        feature_day=feature_day, user_day=user_day, has_row=has_row, present=present,
        loaded_day=loaded, special_days=special,
        stale_redelivered=stale_orgs(special["redelivered"]),
        stale_filename=stale_orgs(special["filename_tiebreak"]),
        stale_row_no=stale_orgs(special["row_no_tiebreak"]),
        sbi_late_rollout=sbi_late, empty_feature_rows=empty_rows,
    )


def build_users(rng: np.random.Generator, orgs: Organisations, calendar: Calendar,
                n_users: int) -> Users:
    n_orgs, n_days, last = len(orgs), calendar.n_days, calendar.last
    counts = 2 + rng.multinomial(n_users - 2 * n_orgs, orgs.size / orgs.size.sum())
    home = np.repeat(np.arange(n_orgs), counts)
    first_of_org = np.concatenate([[0], np.cumsum(counts)[:-1]])
    founder = np.zeros(n_users, dtype=bool)
    founder[first_of_org] = founder[first_of_org + 1] = True  # active from the org's first day
    onboard = orgs.onboard[home]
    existing = founder | (rng.random(n_users) < 0.72)
    created = np.where(
        existing,
        np.where(onboard > 0, onboard - rng.integers(0, 15, n_users), -rng.integers(5, 1500, n_users)),
        rng.integers(onboard, n_days),
    )
    activated = created + np.where(rng.random(n_users) < 0.55, 0, rng.integers(1, 12, n_users))
    activated[(rng.random(n_users) < 0.03) & ~founder] = NEVER  # invited, never signed in
    activated[founder] = created[founder]
    leaves = (rng.random(n_users) < 0.10) & ~founder & (activated < last - 25)
    deactivated = np.full(n_users, NEVER, dtype=np.int64)
    low = np.maximum(activated, 0) + 20
    deactivated[leaves] = rng.integers(low[leaves], last + 30)
    deactivated[deactivated > last] = NEVER
    # Movers: a user's rows switch organisationId on the move day.
    movers = np.flatnonzero((rng.random(n_users) < 0.025) & ~founder & (deactivated == NEVER)
                            & (activated < last - 40))
    move_day = np.full(n_users, NEVER, dtype=np.int64)
    new_org = home.copy()
    for user in movers:
        day = int(rng.integers(max(int(activated[user]), 0) + 10, last - 9))
        targets = np.flatnonzero((orgs.onboard <= day) & (np.arange(n_orgs) != home[user]))
        new_org[user] = rng.choice(targets, p=orgs.size[targets] / orgs.size[targets].sum())
        move_day[user] = day
    is_admin = rng.random(n_users) < 0.12
    role = np.where(is_admin, rng.integers(5, 7, n_users),
                    rng.choice(5, size=n_users, p=[0.35, 0.2, 0.3, 0.08, 0.07]))
    rate = rng.lognormal(0.0, 0.85, n_users)
    rate[rng.random(n_users) < 0.015] *= 5.0  # heavy users
    rate /= rate.mean()
    ids = np.arange(100_001, 100_001 + n_users, dtype=np.int64)
    app_ids = [hashlib.md5(f"app-user-{u}".encode()).hexdigest() for u in ids.tolist()]
    app_ids = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}" for h in app_ids]
    return Users(
        ids=ids, home=home, new_org=new_org, move_day=move_day, created=created.astype(np.int64),
        activated=activated.astype(np.int64), deactivated=deactivated, is_admin=is_admin,
        role=role.astype(np.int64), first_name=rng.integers(len(FIRST_NAMES), size=n_users),
        last_name=rng.integers(len(LAST_NAMES), size=n_users), application_user_id=app_ids,
        rate=rate,
    )
