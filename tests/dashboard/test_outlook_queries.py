"""queries/outlook.py and the customer page's outlook queries against the demo warehouse,
checked against the section-5 views read directly (pandas), and against a warehouse built
before the outlook (the tiny warehouse has none of its views)."""

from __future__ import annotations

import pandas as pd
import pytest

from app import create_app
from queries import customer as customer_queries
from queries import outlook as outlook_queries
from queries.errors import WarehouseError


def _pairs(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame["organisation_id"].astype(int), frame["feature"],
                      frame["risk_score"].astype(int), frame["risk_band"]))


@pytest.mark.parametrize("feature,band", [(None, None), ("SMS", None), (None, "high"), ("Video", "low")])
def test_risk_ranking_is_the_churn_risk_view_highest_first(app, views, feature, band):
    risk = views("churn_risk")
    if feature:
        risk = risk[risk["feature"] == feature]
    expected = risk[risk["risk_band"] == band] if band else risk
    with app.server.app_context():
        ranking = outlook_queries.risk_ranking(feature, band)
    assert len(ranking) == len(expected) > 0
    assert _pairs(ranking) == _pairs(expected)
    assert ranking["risk_score"].is_monotonic_decreasing
    names = views("organisations").set_index("organisation_id")["organisation_name"]
    assert list(ranking["organisation_name"]) == list(names.reindex(ranking["organisation_id"]))
    by_pair = expected.set_index(["organisation_id", "feature"])["reasons"].fillna("")
    assert all(by_pair[(o, f)] == (r or "") for o, f, r in
               zip(ranking["organisation_id"], ranking["feature"], ranking["reasons"]))


def test_feature_forecast_is_twelve_weeks_per_feature(app, views):
    weekly = views("usage_forecast_weekly")
    expected = weekly[weekly["level"] == "feature"]
    with app.server.app_context():
        forecast = outlook_queries.feature_forecast(None)
        sms = outlook_queries.feature_forecast("SMS")
    assert len(forecast) == len(expected) and set(forecast["feature"]) == set(expected["feature"])
    assert forecast.groupby("feature").size().eq(12).all()
    assert len(sms) == 12 and set(sms["feature"]) == {"SMS"}
    modelled = forecast[forecast["model"] != "insufficient_history"]
    assert (modelled["lower_95"] <= modelled["lower_80"]).all()
    assert (modelled["upper_80"] <= modelled["upper_95"]).all() and (modelled["lower_95"] >= 0).all()


def test_feature_actuals_sum_every_customer_up_to_the_training_week(app, views):
    usage = views("org_feature_usage_weekly")
    trained = views("usage_forecast_weekly").query("level == 'feature'").groupby("feature")["trained_through"].max()
    usage = usage[pd.to_datetime(usage["week_start"]) <= pd.to_datetime(usage["feature"].map(trained))]
    expected = usage.groupby(["feature", "week_start"])["events"].sum()
    with app.server.app_context():
        actuals = outlook_queries.feature_actuals(None)
    got = actuals.set_index(["feature", "week_start"])["events"]
    assert len(got) == len(expected)
    assert got.sort_index().tolist() == expected.sort_index().tolist()


def test_feature_accuracy_includes_the_naive_baseline(app, views):
    accuracy = views("usage_forecast_accuracy")
    expected = accuracy[accuracy["level"] == "feature"]
    with app.server.app_context():
        got = outlook_queries.feature_accuracy(None)
    assert len(got) == len(expected)
    assert set(got["model"]) == set(expected["model"]) and "naive" in set(got["model"])


def test_risk_backtest_is_the_view_pooled_row_first(app, views):
    expected = views("churn_risk_backtest")
    with app.server.app_context():
        backtest = outlook_queries.risk_backtest()
    assert len(backtest) == len(expected)
    if len(backtest):
        assert pd.isna(backtest["as_of_date"].iloc[0])


def test_customer_outlook_queries_are_that_customers_rows(app, views):
    risk = views("churn_risk")
    organisation_id = int(risk.sort_values(["risk_score", "organisation_id"], ascending=[False, True])
                          ["organisation_id"].iloc[0])
    weekly = views("usage_forecast_weekly")
    mine = weekly[(weekly["level"] == "organisation") & (weekly["organisation_id"] == organisation_id)]
    accuracy = views("usage_forecast_accuracy")
    usage = views("org_feature_usage_weekly")
    with app.server.app_context():
        by_feature = customer_queries.risk_by_feature(organisation_id)
        forecast = customer_queries.forecast_by_feature(organisation_id)
        actuals = customer_queries.forecast_actuals(organisation_id)
        backtest = customer_queries.forecast_accuracy(organisation_id)
    assert sorted(by_feature["feature"]) == sorted(risk.loc[risk["organisation_id"] == organisation_id, "feature"])
    assert by_feature["risk_score"].is_monotonic_decreasing
    assert len(forecast) == len(mine) and forecast.groupby("feature").size().eq(12).all()
    assert len(backtest) == ((accuracy["level"] == "organisation")
                             & (accuracy["organisation_id"] == organisation_id)).sum()
    trained = mine.groupby("feature")["trained_through"].max()
    own = usage[(usage["organisation_id"] == organisation_id) & usage["feature"].isin(trained.index)]
    own = own[pd.to_datetime(own["week_start"]) <= pd.to_datetime(own["feature"].map(trained))]
    assert actuals["events"].sum() == own["events"].sum() and len(actuals) == len(own)


OUTLOOK_CALLS = [
    lambda: outlook_queries.risk_ranking(None, None),
    lambda: outlook_queries.feature_forecast(None),
    lambda: outlook_queries.feature_actuals("SMS"),
    lambda: outlook_queries.feature_accuracy(None),
    lambda: outlook_queries.risk_backtest(),
    lambda: customer_queries.risk_by_feature(1),
    lambda: customer_queries.forecast_by_feature(1),
    lambda: customer_queries.forecast_actuals(1),
    lambda: customer_queries.forecast_accuracy(1),
]


def test_a_warehouse_built_before_the_outlook_lacks_its_views(tmp_path, make_tiny_warehouse):
    """The tiny warehouse has organisations and latest_complete_date only, like a build
    from before the outlook: each outlook query fails as a missing view, the others answer."""
    path = make_tiny_warehouse(tmp_path / "accurx.duckdb", [(1, "Alpha Surgery")])
    older = create_app({"ACCURX_DUCKDB_PATH": str(path), "ACCURX_WAREHOUSE": "duckdb"})
    with older.server.app_context():
        from queries import organisations
        assert list(organisations.organisation_by_id(1)["organisation_name"]) == ["Alpha Surgery"]
        for call in OUTLOOK_CALLS:
            with pytest.raises(WarehouseError) as failure:
                call()
            assert failure.value.kind == "missing_view"
