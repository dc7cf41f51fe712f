"""The query modules of Access, Entitlements, the customer page and organisations, against
the demo warehouse. Expected values come from the generator's manifest or from pandas
over a different presentation view, never from the same SQL run again."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from queries import access, customer, entitlements, organisations

pytestmark = pytest.mark.usefixtures("app_context")


def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


@pytest.fixture(scope="module")
def daily(views):
    frame = views("org_feature_daily")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def _busy_organisation(daily) -> int:
    """The organisation known on the most days (stable choice for the tests)."""
    return int(daily.groupby("organisation_id")["date"].nunique().sort_values(kind="stable").index[-1])


# ---------------------------------------------------------------- organisations
def test_data_extent_matches_manifest_and_daily_view(demo_warehouse, daily):
    extent = organisations.data_extent().iloc[0]
    assert _day(extent["latest_complete_date"]).isoformat() == demo_warehouse.manifest["latest_complete_date"]
    assert _day(extent["first_export_date"]) == daily["date"].min()
    assert _day(extent["last_export_date"]) == daily["date"].max()


def test_all_organisations_lists_every_organisation_with_feature_rows(demo_warehouse, daily):
    frame = organisations.all_organisations()
    assert len(frame) == demo_warehouse.manifest["organisations_with_feature_rows"]
    assert set(frame["organisation_id"]) == set(daily["organisation_id"])
    assert frame["organisation_name"].notna().all()


def test_organisation_by_id_known_and_unknown(daily):
    known = _busy_organisation(daily)
    assert organisations.organisation_by_id(known)["organisation_id"].tolist() == [known]
    assert organisations.organisation_by_id(-1).empty


# ---------------------------------------------------------------- access
def test_export_dates_are_the_days_with_feature_rows(daily):
    assert [_day(d) for d in access.export_dates()["date"]] == sorted(daily["date"].unique())


def test_access_on_date_counts_enabled_organisations(demo_warehouse, daily):
    as_of = dt.date.fromisoformat(demo_warehouse.manifest["latest_complete_date"])
    frame = access.access_on_date(as_of)
    on_day = daily[(daily["date"] == as_of) & daily["is_enabled"]]
    expected = on_day.groupby(["feature", "selected_option"])["organisation_id"].nunique()
    got = frame.set_index(["feature", "selected_option"])["org_count"]
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    assert (frame["active_user_count"] >= 0).all() and frame["active_user_count"].sum() > 0


def test_access_on_a_day_without_export_is_empty():
    assert access.access_on_date(dt.date(1999, 1, 1)).empty


def test_trends_count_enabled_organisations_per_export_date(daily):
    trends = access.all_trends()
    enabled = daily[daily["is_enabled"]]
    expected = enabled.groupby(["feature", "selected_option", "date"])["organisation_id"].nunique()
    got = trends.assign(date=trends["date"].dt.date).set_index(
        ["feature", "selected_option", "date"])["org_count"]
    # The view may carry an option on a date with 0 organisations; the count is what matters.
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    one = access.access_trend("SMS", "SMS Plus")
    assert one["org_count"].tolist() == got.loc[("SMS", "SMS Plus")].sort_index().tolist()


def test_enabled_options_never_include_off(daily):
    options = access.enabled_options()
    assert "Off" not in set(options["selected_option"])
    expected = set(map(tuple, daily.loc[daily["is_enabled"], ["feature", "selected_option"]]
                       .drop_duplicates().to_numpy()))
    assert set(map(tuple, options.to_numpy())) == expected


def test_customers_with_access_are_the_cards_customers(demo_warehouse, views, daily):
    as_of = dt.date.fromisoformat(demo_warehouse.manifest["latest_complete_date"])
    for row in access.access_on_date(as_of).itertuples():
        customers = access.customers_with_access(as_of, row.feature, row.selected_option)
        assert len(customers) == row.org_count == customers["organisation_id"].nunique()
        expected_ids = set(daily.loc[(daily["date"] == as_of) & (daily["feature"] == row.feature)
                                     & (daily["selected_option"] == row.selected_option),
                                     "organisation_id"])
        assert set(customers["organisation_id"]) == expected_ids
        # Per-customer active users add up to the card's total from feature_access_daily.
        assert customers["active_user_count"].sum() == row.active_user_count


# ---------------------------------------------------------------- entitlements
def test_known_days_and_option_before_follow_the_daily_view(daily):
    organisation_id = _busy_organisation(daily)
    mine = daily[daily["organisation_id"] == organisation_id]
    monday = max(mine["date"]) - dt.timedelta(days=max(mine["date"]).weekday() + 14)
    days = entitlements.known_days(organisation_id, monday, monday + dt.timedelta(days=6))
    expected = mine[(mine["date"] >= monday) & (mine["date"] <= monday + dt.timedelta(days=6))]
    assert len(days) == len(expected)
    assert set(zip(days["date"].dt.date, days["feature"], days["selected_option"])) == set(
        zip(expected["date"], expected["feature"], expected["selected_option"]))
    before = entitlements.option_before(organisation_id, monday).set_index("feature")
    for feature, rows in mine[mine["date"] < monday].groupby("feature"):
        last = rows.sort_values("date").iloc[-1]
        assert before.loc[feature, "selected_option"] == last["selected_option"]
        assert _day(before.loc[feature, "date"]) == last["date"]


def test_week_summary_days_match_the_daily_view(daily):
    organisation_id = _busy_organisation(daily)
    mine = daily[daily["organisation_id"] == organisation_id]
    monday = max(mine["date"]) - dt.timedelta(days=max(mine["date"]).weekday() + 7)
    in_week = mine[(mine["date"] >= monday) & (mine["date"] <= monday + dt.timedelta(days=6))]
    summary = entitlements.week_summary(organisation_id, monday).set_index("feature")
    for feature, rows in in_week.groupby("feature"):
        assert summary.loc[feature, "days_known"] == len(rows)
        assert summary.loc[feature, "days_enabled"] == int(rows["is_enabled"].sum())
        assert bool(summary.loc[feature, "changed_in_week"]) == (rows["selected_option"].nunique() > 1)
    features = entitlements.features_of_organisation(organisation_id)["feature"].tolist()
    assert features == sorted(mine["feature"].unique())


def test_week_usage_events_are_the_users_daily_events(views, daily):
    organisation_id = _busy_organisation(daily)
    user_daily = views("usage_user_daily")
    user_daily = user_daily[user_daily["organisation_id"] == organisation_id]
    user_daily["date"] = pd.to_datetime(user_daily["date"]).dt.date
    last = max(user_daily["date"])
    monday = last - dt.timedelta(days=last.weekday() + 7)
    week = user_daily[(user_daily["date"] >= monday) & (user_daily["date"] <= monday + dt.timedelta(days=6))]
    usage = entitlements.week_usage(organisation_id, monday).set_index("feature")
    for feature, rows in week.groupby("feature"):
        assert usage.loc[feature, "events"] == rows["events"].sum()
        assert usage.loc[feature, "active_users"] == rows["user_id"].nunique()


# ---------------------------------------------------------------- customer page
def test_unpaid_by_reason_over_all_customers_matches_manifest(demo_warehouse):
    totals: dict[str, int] = {}
    for organisation_id in organisations.all_organisations()["organisation_id"]:
        frame = customer.unpaid_by_reason(int(organisation_id), dt.date(1970, 1, 1))
        for row in frame.itertuples():
            totals[row.reason] = totals.get(row.reason, 0) + int(row.events)
    expected = {k: v for k, v in demo_warehouse.manifest["unpaid_events_by_reason"].items() if v}
    assert totals == expected


def test_entitlement_changes_over_all_customers_match_manifest(demo_warehouse):
    totals: dict[str, int] = {}
    for organisation_id in organisations.all_organisations()["organisation_id"]:
        for change in customer.entitlement_changes(int(organisation_id))["change_type"]:
            totals[change] = totals.get(change, 0) + 1
    expected = {k: v for k, v in demo_warehouse.manifest["entitlement_changes_by_type"].items() if v}
    assert totals == expected


def test_recent_unpaid_events_are_latest_first_and_capped(views):
    events = views("unpaid_usage_events")
    busiest = int(events["organisation_id"].value_counts().index[0])
    recent = customer.recent_unpaid_events(busiest, dt.date(1970, 1, 1))
    mine = events[events["organisation_id"] == busiest]
    assert len(recent) == min(200, len(mine))
    assert recent["event_timestamp"].is_monotonic_decreasing
    assert recent["event_timestamp"].iloc[0] == mine["event_timestamp"].max()


def test_usage_against_peers_uses_same_feature_and_option(views, daily):
    organisation_id = _busy_organisation(daily)
    weekly = views("org_feature_weekly")
    usage = views("org_feature_usage_weekly")
    merged = weekly.merge(usage[["organisation_id", "week_start", "feature", "events"]],
                          on=["organisation_id", "week_start", "feature"], how="left")
    merged["events"] = merged["events"].fillna(0)
    frame = customer.usage_against_peers(organisation_id, dt.date(1970, 1, 5))
    assert len(frame) > 0
    mine_usage = usage[usage["organisation_id"] == organisation_id].set_index(["week_start", "feature"])
    checked = 0
    for row in frame.itertuples():
        key = (row.week_start, row.feature)
        expected_events = mine_usage["events"].get(key, 0)
        assert row.events == expected_events
        if pd.isna(row.option):
            continue
        peers = merged[(merged["week_start"] == row.week_start) & (merged["feature"] == row.feature)
                       & (merged["last_option"] == row.option)]
        assert row.peer_count == len(peers)
        assert row.peer_median_events == pytest.approx(peers["events"].median())
        checked += 1
    assert checked > 10


def test_entitlement_days_cover_every_known_day(daily):
    organisation_id = _busy_organisation(daily)
    frame = customer.entitlement_days(organisation_id)
    assert len(frame) == len(daily[daily["organisation_id"] == organisation_id])
