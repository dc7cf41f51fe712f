"""The period of tabs 3-4 (callbacks/filters.py): presets, custom dates and bad values."""

from __future__ import annotations

import datetime as dt

import pytest

from callbacks.filters import parse_period, resolve_period

FIRST = dt.date(2026, 6, 29)  # Mondays
LAST = dt.date(2026, 10, 26)


def test_default_is_the_last_four_weeks_of_data():
    period = resolve_period(None, FIRST, LAST)
    assert (period.start_week, period.end_week, period.weeks) == (dt.date(2026, 10, 5), LAST, 4)
    assert period.end_day == dt.date(2026, 11, 1)
    assert period.value == "last-4-weeks"


def test_presets_count_back_from_the_latest_week_and_stop_at_the_first():
    quarter = resolve_period("last-quarter", FIRST, LAST)
    assert quarter.weeks == 13 and quarter.end_week == LAST
    assert resolve_period("all", FIRST, LAST).start_week == FIRST
    short = resolve_period("last-quarter", dt.date(2026, 10, 12), LAST)
    assert short.weeks == 3 and "only 3 weeks" in short.describe()


def test_custom_dates_cover_the_whole_weeks_that_contain_them():
    period = resolve_period("2026-07-08..2026-07-16", FIRST, LAST)
    assert period.start_week == dt.date(2026, 7, 6)
    assert period.end_week == dt.date(2026, 7, 13)
    assert period.picker_dates == ("2026-07-08", "2026-07-16")
    assert period.preset == "custom" and period.overlaps_data
    assert "2026-W28 to 2026-W29" in period.label()


def test_a_period_outside_the_data_is_valid_but_empty():
    period = resolve_period("2025-01-01..2025-02-01", FIRST, LAST)
    assert not period.overlaps_data


@pytest.mark.parametrize("value,words", [
    ("banana", "is not a period"),
    ("2026-02-30..2026-03-05", "“2026-02-30” is not a date"),
    ("2026-09-01..", "is not a date"),
    ("2026-09-01..2026-08-01", "starts on Tue 1 Sep 2026, after it ends on Sat 1 Aug 2026"),
])
def test_bad_periods_are_explained_in_words(value, words):
    with pytest.raises(ValueError, match=words):
        parse_period(value)
