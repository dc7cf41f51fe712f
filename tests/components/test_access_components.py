"""components/access.py builders on small hand-made frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from components import access

EXPORTS = pd.Series(pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-05"]))


def test_date_picker_limits_grey_out_days_without_an_export():
    assert access.date_picker_limits(EXPORTS) == {
        "min": "2026-04-01", "max": "2026-04-05", "disabled": ["2026-04-03", "2026-04-04"]}
    assert access.date_picker_limits(pd.Series([], dtype="datetime64[ns]")) == {
        "min": None, "max": None, "disabled": []}


def test_pick_values_round_trip():
    value = access.pick_value("SMS", "SMS Plus")
    assert access.split_pick(value) == ("SMS", "SMS Plus")
    assert access.split_pick("no separator") is None and access.split_pick(None) is None


def test_trend_figure_fills_export_dates_and_marks_the_date(plotly_valid):
    trend = pd.DataFrame({"date": pd.to_datetime(["2026-04-01", "2026-04-05"]),
                          "org_count": [3, 4], "active_user_count": [10, 12]})
    fig = access.trend_figure(trend, EXPORTS, "SMS", "SMS Plus", dt.date(2026, 4, 2))
    plotly_valid(fig)
    customers, users = fig["data"]
    assert customers["y"] == [3, 0, 4] and users["y"] == [10, 0, 12]
    assert fig["layout"]["title"]["text"] == "SMS · SMS Plus: customers and active users with access"
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["Customers", "Active users", "2 Apr 2026"]
    assert len(fig["layout"]["shapes"]) == 1


def test_access_cards_zero_for_an_option_missing_on_the_date(text_of):
    options = pd.DataFrame({"feature": ["SMS", "SMS"], "selected_option": ["SMS", "SMS Plus"]})
    on_date = pd.DataFrame({"feature": ["SMS"], "selected_option": ["SMS Plus"],
                            "org_count": [7], "active_user_count": [30]})
    text = text_of(access.access_cards(on_date, options, access.pick_value("SMS", "SMS Plus")))
    assert "SMS · SMS 0 customers · 0 active users" in text
    assert "SMS · SMS Plus 7 customers · 30 active users" in text
    assert "7 customers, 30 active users with any option" in text
