"""queries/usage.py against the demo warehouse, checked against pandas over the
presentation view and the generator's manifest; and the ranking rules of
components/usage.py on hand-made rows (zero and undefined denominators)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from components.usage import rank_leaderboard
from queries import organisations
from queries import usage as usage_queries


@pytest.fixture(scope="module")
def weekly(views) -> pd.DataFrame:
    """org_feature_usage_weekly read directly (not through the app's SQL)."""
    return views("org_feature_usage_weekly")


@pytest.fixture(scope="module")
def extent(app):
    with app.server.app_context():
        row = organisations.usage_week_extent().iloc[0]
    return pd.Timestamp(row["first_week"]).date(), pd.Timestamp(row["last_week"]).date()


def leaderboard(app, start, end, feature=None):
    with app.server.app_context():
        return usage_queries.leaderboard(start, end, feature)


def test_all_weeks_every_feature_matches_the_view_and_the_manifest(app, weekly, extent, demo_warehouse):
    board = leaderboard(app, *extent)
    expected = weekly.groupby(["organisation_id", "feature"]).agg(
        events=("events", "sum"), days_enabled=("days_enabled", "sum"),
        active_user_weeks=("active_users", "sum"),
        user_weeks_with_access=("users_with_access", "sum"),
    ).reset_index()
    merged = board.merge(expected, on=["organisation_id", "feature"], suffixes=("", "_pandas"))
    assert len(merged) == len(board) == len(expected)
    for col in ("events", "days_enabled", "active_user_weeks", "user_weeks_with_access"):
        assert (merged[col] == merged[f"{col}_pandas"]).all(), col
    assert board["events"].sum() == demo_warehouse.manifest["feature_events"]
    assert (board["is_entitled"] == (board["days_enabled"] > 0)).all()


def test_ratios_follow_their_definitions(app, extent):
    board = leaderboard(app, extent[1] - dt.timedelta(weeks=3), extent[1])
    used = board[board["events"] > 0]
    assert (board.loc[board["events"] == 0, ["events_per_active_user", "adoption",
                                              "events_per_entitled_day"]] == 0).all().all()
    pd.testing.assert_series_equal(
        used["events_per_active_user"], used["events"] / used["active_user_weeks"], check_names=False)
    defined = used[used["user_weeks_with_access"] > 0]
    pd.testing.assert_series_equal(
        defined["adoption"], defined["active_user_weeks"] / defined["user_weeks_with_access"],
        check_names=False)
    assert used.loc[used["user_weeks_with_access"] == 0, "adoption"].isna().all()
    entitled = used[used["days_enabled"] > 0]
    pd.testing.assert_series_equal(
        entitled["events_per_entitled_day"], entitled["events"] / entitled["days_enabled"],
        check_names=False)


def test_period_and_feature_filters(app, weekly, extent):
    start = extent[1] - dt.timedelta(weeks=3)
    board = leaderboard(app, start, extent[1], "Video")
    rows = weekly[(weekly["feature"] == "Video") & (pd.to_datetime(weekly["week_start"]).dt.date >= start)]
    assert set(board["feature"]) == {"Video"}
    assert board["events"].sum() == rows["events"].sum()
    assert set(board["organisation_id"]) == set(rows["organisation_id"])


@pytest.mark.parametrize("metric", ["events", "events-per-user", "adoption", "events-per-day"])
def test_customers_who_pay_and_never_use_come_first_among_the_least(app, extent, demo_warehouse, metric):
    board = leaderboard(app, *extent)
    ranking = rank_leaderboard(board, metric, "least", 100)
    never = {(r["organisation_id"], r["feature"]) for r in demo_warehouse.manifest["paying_never_using"]}
    unknown = demo_warehouse.manifest["notes"]["unknown_feature"]  # kept, but has no usage rule
    assert unknown in ranking.silent_features
    assert never, "the demo plants customers who pay and never use"
    top = ranking.rows.head(ranking.never_used)
    assert (top["events"] == 0).all() and (top["score"] == 0).all()
    assert never <= set(zip(top["organisation_id"], top["feature"]))


def _rows(*rows):
    columns = ["organisation_id", "organisation_name", "region", "feature", "events",
               "active_user_weeks", "user_weeks_with_access", "days_enabled", "weeks_enabled",
               "is_entitled", "events_per_active_user", "adoption", "events_per_entitled_day"]
    return pd.DataFrame([dict(zip(columns, r)) for r in rows])


HAND_MADE = _rows(
    # id, name, region, feature, events, active uw, uw with access, days, weeks, entitled, e/u, adoption, e/day
    (1, "Ash", None, "SMS", 0, 0, 0, 14, 2, True, 0.0, 0.0, 0.0),        # pays, never uses, no users
    (2, "Birch", None, "SMS", 0, 0, 10, 7, 1, True, 0.0, 0.0, 0.0),      # pays, never uses
    (3, "Cedar", None, "SMS", 30, 3, 0, 7, 1, True, 10.0, None, 30 / 7),  # adoption undefined
    (4, "Dale", None, "SMS", 5, 1, 0, 0, 0, False, 5.0, None, None),     # unpaid use only
    (5, "Elm", None, "SMS", 40, 4, 8, 14, 2, True, 10.0, 0.5, 40 / 14),
    (6, "Fir", None, "SMS", 40, 2, 2, 14, 2, True, 20.0, 1.0, 40 / 14),
)


def test_ranking_zero_and_undefined_denominators():
    ranking = rank_leaderboard(HAND_MADE, "adoption", "least", 10)
    assert ranking.rows["organisation_name"].tolist() == ["Ash", "Birch", "Elm", "Fir"]
    assert (ranking.ranked, ranking.never_used, ranking.not_entitled, ranking.undefined) == (4, 2, 1, 1)
    assert ranking.rows["rank"].tolist() == [1, 2, 3, 4]
    assert ranking.silent_features == ()


def test_ranking_ties_and_top():
    least = rank_leaderboard(HAND_MADE, "events", "least", 3)
    assert least.rows["organisation_name"].tolist() == ["Ash", "Birch", "Cedar"]  # Ash paid longer
    most = rank_leaderboard(HAND_MADE, "events", "most", 2)
    assert most.rows["organisation_name"].tolist() == ["Elm", "Fir"]  # tie on events: by name
    per_user = rank_leaderboard(HAND_MADE, "events-per-user", "most", 1)
    assert per_user.rows["organisation_name"].tolist() == ["Fir"]
