"""callbacks/parsers.py: URL and control values in, Python values or a sentence out."""

from __future__ import annotations

import datetime as dt

import pytest

from callbacks import parsers


def test_iso_week_and_date_parsing():
    assert parsers.parse_iso_week("2026-W14") == dt.date(2026, 3, 30)
    assert parsers.parse_iso_week("2026w1") == dt.date(2025, 12, 29)
    assert parsers.parse_iso_week("") is None
    with pytest.raises(ValueError, match="2025 has weeks 1 to 52"):
        parsers.parse_iso_week("2025-W53")
    with pytest.raises(ValueError, match="not an ISO week"):
        parsers.parse_iso_week("14/2026")
    with pytest.raises(ValueError, match="not a date"):
        parsers.parse_iso_date("30/03/2026")


def test_whole_numbers_only():
    assert parsers.parse_int(" 42 ") == 42
    assert parsers.parse_int(7) == 7
    assert parsers.parse_int("") is None and parsers.parse_int(None) is None
    for bad in ("-1", "1e3", "1_000", "４２", True, 1.5, 10**15):
        with pytest.raises(ValueError, match="is not a valid customer id"):
            parsers.parse_int(bad, "customer id")


def test_dates_outside_what_the_data_could_cover():
    assert parsers.parse_iso_date("2026-04-05T10:00:00") == dt.date(2026, 4, 5)
    with pytest.raises(ValueError, match="between 1900 and 2999"):
        parsers.parse_iso_date("3000-01-01")
    with pytest.raises(ValueError, match="between 1900 and 2999"):
        parsers.parse_iso_week("1899-W10")


def test_a_choice_is_one_of_the_offered_values_or_none():
    bands = {"high": "High", "medium": "Medium", "low": "Low"}
    assert parsers.parse_choice("medium", bands, "a risk band") == "medium"
    assert parsers.parse_choice("", bands, "a risk band") is None
    assert parsers.parse_choice(None, ["all"], "a cohort view") is None
    with pytest.raises(ValueError, match="“High” is not a risk band; choose high, medium or low "
                                         r"\(or every band\)\."):
        parsers.parse_choice("High", bands, "a risk band", none_means="every band")
    with pytest.raises(ValueError, match="choose all.$"):
        parsers.parse_choice(["all"], ["all"], "a cohort view")
