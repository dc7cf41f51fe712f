"""Parsers of the values a URL or a control sends: text in, a Python value out.

Rule: every parser accepts None/'' as "not given" (returns None) and raises ValueError
with a sentence the page can show for anything else it cannot read, so a bad value
never reaches a query. The callbacks call them while validating their inputs.
"""

from __future__ import annotations

import datetime as dt
import re

from components.common import shorten

_ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.+Z-]{0,20})?\s*$")
_WHOLE_NUMBER = re.compile(r"^\s*[0-9]{1,15}\s*$")
# Dates the app can mean: anything outside is a typo or an attack (and near year 9999
# adding a week no longer fits in a date).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
# Longer than any value a control offers (a feature, reason or period, a customer's name
# or id): typed text is cut to it, and a longer value from a link is not kept as a choice.
MAX_CHOICE_LENGTH = 100


def parse_iso_date(text: str | None) -> dt.date | None:
    """'2026-04-05' (a time after it is ignored) -> date; None/'' -> None.
    Raises ValueError with a readable message for anything else."""
    if text in (None, ""):
        return None
    match = _ISO_DATE.match(text) if isinstance(text, str) else None
    try:
        day = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError(f"“{shorten(text)}” is not a date; write it as YYYY-MM-DD, e.g. 2026-04-05.")
    check_day_in_range(day)
    return day


def check_day_in_range(day: dt.date) -> None:
    """Raises ValueError unless FIRST_DAY <= day <= LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is not a date the data could cover: choose dates "
                         f"between {FIRST_DAY.year} and {LAST_DAY.year}.")


def parse_iso_week(text: str | None) -> dt.date | None:
    """'2026-W14' (or '2026W14', '2026-w14') -> the Monday of that ISO week; None/'' -> None.

    Raises ValueError with a readable message for anything else."""
    if text in (None, ""):
        return None
    match = _ISO_WEEK.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f"“{shorten(text)}” is not an ISO week; write it as YEAR-Wnn, e.g. 2026-W14."
        )
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]
        raise ValueError(
            f"“{shorten(text)}” does not exist: {year} has weeks 1 to {weeks_in_year}."
        ) from None
    check_day_in_range(monday)
    return monday


def parse_int(text, what: str = "number") -> int | None:
    """'42' (or 42) -> 42; None/'' -> None. Only whole numbers from 0, written in ASCII
    digits (no sign, no '1_000', no '1e3'). Raises ValueError naming `what` otherwise."""
    if text in (None, ""):
        return None
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text < 10**15:
        return text
    if isinstance(text, str) and _WHOLE_NUMBER.match(text):
        return int(text)
    raise ValueError(f"“{shorten(text)}” is not a valid {what}: use a whole number such as 1042.")


def parse_choice(value, choices, what: str, none_means: str | None = None) -> str | None:
    """`value` if it is one of `choices`; None/'' -> None. Raises ValueError naming
    `what` and the choices ("or `none_means`" for leaving it empty) otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and value in choices:
        return value
    *first, last = choices
    listed = f"{', '.join(first)} or {last}" if first else last
    empty = f" (or {none_means})" if none_means else ""
    raise ValueError(f"“{shorten(value)}” is not {what}; choose {listed}{empty}.")
