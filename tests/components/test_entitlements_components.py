"""components/entitlements.py and components/customer.py choices and periods."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from components import customer, entitlements

ORGANISATIONS = pd.DataFrame({"organisation_id": [5, 12, 51],
                              "organisation_name": ["Ash Surgery", "Birch Practice", "Cedar"]})


def test_customer_choices_search_by_name_or_id_and_keep_the_selection():
    labels = [c["label"] for c in entitlements.customer_choices(ORGANISATIONS, "5", None)]
    assert labels == ["Ash Surgery (5)", "Cedar (51)"]
    chosen = entitlements.customer_choices(ORGANISATIONS, "birch", "51")
    assert [c["value"] for c in chosen] == ["51", "12"]
    unknown = entitlements.customer_choices(ORGANISATIONS, "zzz", "999")
    assert unknown == [{"label": "999 (no such customer)", "value": "999"}]


def test_week_choices_latest_first():
    options = entitlements.week_choices(dt.date(2026, 3, 31), dt.date(2026, 4, 14))
    assert [o.value for o in options] == ["2026-W16", "2026-W15", "2026-W14"]
    assert entitlements.week_choices(None, None) == []


def test_customer_period_start():
    assert customer.period_start(dt.date(2026, 4, 15), None) is None
    assert customer.period_start(dt.date(2026, 4, 15), "4") == dt.date(2026, 3, 23)
