"""queries/churn.py against the demo warehouse, checked against the manifest and pandas
over the presentation views."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from queries import churn as churn_queries


def test_changes_by_month_match_the_manifest(app, demo_warehouse):
    manifest = demo_warehouse.manifest
    with app.server.app_context():
        changes = churn_queries.changes_by_month(None)
    assert changes.groupby("change_type")["changes"].sum().to_dict() == {
        k: v for k, v in manifest["entitlement_changes_by_type"].items() if v}
    cancellations = changes[changes["change_type"] == "cancellation"]
    assert cancellations.groupby("status")["changes"].sum().to_dict() == {
        k: v for k, v in manifest["cancellations_by_confirmation"].items() if v}
    assert changes.loc[changes["change_type"] != "cancellation", "status"].isna().all()
    per_feature = manifest["notes"]["entitlement_changes_by_feature"]
    for feature, by_type in per_feature.items():
        with app.server.app_context():
            one = churn_queries.changes_by_month(feature)
        assert one.groupby("change_type")["changes"].sum().to_dict() == {
            k: v for k, v in by_type.items() if v}, feature
    assert (pd.to_datetime(changes["month"]).dt.day == 1).all()


def test_retention_cohorts_are_the_view(app, views):
    view = views("feature_retention_cohorts")
    with app.server.app_context():
        cohorts = churn_queries.retention_cohorts("SMS")
    assert len(cohorts) == (view["feature"] == "SMS").sum()
    assert cohorts["retention_rate"].between(0, 1).all()
    assert set(cohorts["is_left_censored"]) == {True, False}


def test_cancellations_with_usage_before(app, demo_warehouse, views):
    weekly = views("org_feature_usage_weekly")
    weekly["week_start"] = pd.to_datetime(weekly["week_start"])
    with app.server.app_context():
        cancelled = churn_queries.cancellations_with_usage(None)
    assert len(cancelled) == demo_warehouse.manifest["entitlement_changes_by_type"]["cancellation"]
    for _, row in cancelled.iterrows():
        day = pd.Timestamp(row["change_date"])
        week_of_day = day - pd.Timedelta(days=day.weekday())
        rows = weekly[(weekly["organisation_id"] == row["organisation_id"])
                      & (weekly["feature"] == row["feature"]) & (weekly["week_start"] < week_of_day)]
        assert row["events_4_weeks"] == rows.loc[rows["week_start"] >= week_of_day - pd.Timedelta(weeks=4), "events"].sum()
        assert row["events_12_weeks"] == rows.loc[rows["week_start"] >= week_of_day - pd.Timedelta(weeks=12), "events"].sum()


def test_dormant_entitled_customers(app, demo_warehouse, views):
    daily = views("org_feature_daily")
    usage = views("usage_user_daily")
    data_end = pd.Timestamp(daily["date"].max()).date()
    with app.server.app_context():
        dormant = churn_queries.dormant_entitled(None, data_end)
    latest = daily.sort_values("date").groupby(["organisation_id", "feature"]).tail(1)
    enabled = set(map(tuple, latest.loc[latest["is_enabled"], ["organisation_id", "feature"]].values))
    window = usage[pd.to_datetime(usage["date"]).dt.date >= data_end - dt.timedelta(days=27)]
    active = set(map(tuple, window.loc[window["events"] > 0, ["organisation_id", "feature"]].values))
    assert set(zip(dormant["organisation_id"], dormant["feature"])) == enabled - active
    planted = demo_warehouse.manifest["notes"]["planted_never_users"]
    for feature, organisation_ids in planted.items():
        for organisation_id in organisation_ids:
            row = dormant[(dormant["organisation_id"] == organisation_id) & (dormant["feature"] == feature)]
            assert len(row) == 1 and row["last_event_date"].isna().all(), (feature, organisation_id)
