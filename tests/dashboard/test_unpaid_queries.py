"""queries/unpaid.py against the demo warehouse, checked against pandas over
unpaid_usage_events / org_feature_usage_weekly and the generator's manifest."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from queries import organisations
from queries import unpaid as unpaid_queries


@pytest.fixture(scope="module")
def events(views) -> pd.DataFrame:
    frame = views("unpaid_usage_events")
    day = pd.to_datetime(frame["date"])
    return frame.assign(week=(day - pd.to_timedelta(day.dt.weekday, unit="D")).dt.date)


@pytest.fixture(scope="module")
def usage_weekly(views) -> pd.DataFrame:
    frame = views("org_feature_usage_weekly")
    return frame.assign(week=pd.to_datetime(frame["week_start"]).dt.date)


@pytest.fixture(scope="module")
def weeks(app):
    with app.server.app_context():
        row = organisations.usage_week_extent().iloc[0]
    first, last = pd.Timestamp(row["first_week"]).date(), pd.Timestamp(row["last_week"]).date()
    return first, last, last + dt.timedelta(days=6)


def test_reasons_over_all_weeks_match_the_manifest(app, weeks, demo_warehouse):
    with app.server.app_context():
        by_reason = unpaid_queries.weekly_by_reason(weeks[0], weeks[1], None, None)
    totals = by_reason.groupby("reason")["events"].sum().to_dict()
    expected = {k: v for k, v in demo_warehouse.manifest["unpaid_events_by_reason"].items() if v}
    assert totals == expected


def test_weekly_overview_matches_pandas(app, weeks, events, usage_weekly, demo_warehouse):
    with app.server.app_context():
        overview = unpaid_queries.weekly_overview(weeks[0], weeks[1], None, None)
    overview = overview.assign(week=pd.to_datetime(overview["week_start"]).dt.date).set_index("week")
    per_week = events.groupby("week").agg(unpaid=("message_id", "size"),
                                          customers=("organisation_id", "nunique"))
    joined = overview.join(per_week, how="left").fillna({"unpaid": 0, "customers": 0})
    assert (joined["unpaid_events"] == joined["unpaid"]).all()
    assert (joined["unpaid_customers"] == joined["customers"]).all()
    assert set(per_week.index) <= set(overview.index)
    all_events = usage_weekly.groupby("week")["events"].sum()
    assert (overview["feature_events"] == all_events.reindex(overview.index)).all()
    assert overview["feature_events"].sum() == demo_warehouse.manifest["feature_events"]
    share = overview["unpaid_events"] / overview["feature_events"]
    pd.testing.assert_series_equal(overview["unpaid_share"], share, check_names=False)


def test_feature_and_reason_filters(app, weeks, events, usage_weekly):
    with app.server.app_context():
        overview = unpaid_queries.weekly_overview(weeks[0], weeks[1], "SMS", "no_entitlement_snapshot")
    chosen = events[(events["feature"] == "SMS") & (events["reason"] == "no_entitlement_snapshot")]
    assert overview["unpaid_events"].sum() == len(chosen)
    # the share's denominator is every SMS event (the reason filter does not apply to it)
    assert overview["feature_events"].sum() == usage_weekly.loc[usage_weekly["feature"] == "SMS", "events"].sum()


def test_customers_ranked_match_pandas(app, weeks, events, demo_warehouse):
    with app.server.app_context():
        ranked = unpaid_queries.customers_ranked(weeks[0], weeks[2], None, None)
    expected = events.groupby("organisation_id").size().sort_values(ascending=False)
    assert ranked.set_index("organisation_id")["unpaid_events"].to_dict() == expected.to_dict()
    assert ranked["unpaid_events"].is_monotonic_decreasing
    for reason, count in demo_warehouse.manifest["unpaid_events_by_reason"].items():
        assert ranked[reason].sum() == count, reason


def test_customer_events_are_the_customers_events_without_names(app, weeks, events):
    top = events["organisation_id"].value_counts().index[0]
    with app.server.app_context():
        listed = unpaid_queries.customer_events(int(top), weeks[0], weeks[2], None, None)
    assert len(listed) == min(len(events[events["organisation_id"] == top]), unpaid_queries.EVENTS_LIMIT + 1)
    assert set(listed["message_id"]) <= set(events.loc[events["organisation_id"] == top, "message_id"])
    assert listed["event_timestamp"].is_monotonic_decreasing
    assert not {"email", "first_name", "last_name", "firstname", "lastname"} & set(listed.columns)
