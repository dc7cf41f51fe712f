"""callbacks/outlook.py and the customer page's outlook called directly: real numbers,
bad input in words, and a warehouse built before the outlook (its views dropped from a
copy of the demo warehouse): the outlook's areas say to rebuild, the other tabs work."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from app import create_app
from callbacks import churn, customer, outlook
from components import ids
from components.outlook import OLDER_WAREHOUSE

OUTLOOK_VIEWS = ("usage_forecast_weekly", "usage_forecast_accuracy", "churn_risk", "churn_risk_backtest")


def test_risk_list_is_every_churn_risk_pair(app, views, text_of):
    risk = views("churn_risk")
    with app.server.app_context():
        summary, call_first, body = outlook.show_outlook_risk(None, None)
        high_sms, _, high_body = outlook.show_outlook_risk("SMS", "high")
    assert f"{len(risk):,} customer-feature pairs" in text_of(summary)
    # The first view's short list: the five highest scores, each customer linked to its page.
    table = call_first.children[0]
    rows = table.children[-1].children
    assert [int(row.children[3].children) for row in rows] == sorted(risk["risk_score"].astype(int), reverse=True)[:5]
    organisations = views("organisations")
    names = dict(zip(organisations["organisation_id"], organisations["organisation_name"]))
    for row in rows:
        link = row.children[1].children
        assert link.children == names[int(link.href.rsplit("/", 1)[1])]
    assert f"{len(risk):,} pairs" in text_of(call_first)
    grid = body.children[1]
    assert grid.id == ids.grid(ids.OUTLOOK_RISK_GRID) and len(grid.rowData) == len(risk)
    high = risk[(risk["feature"] == "SMS") & (risk["risk_band"] == "high")]
    if len(high):
        assert len(high_body.children[1].rowData) == len(high)
        assert high_body.children[1].csvExportParams["fileName"] == "outlook_risk_SMS_high.csv"
    else:
        assert "No customer has high-risk SMS" in text_of(high_sms)


def test_forecast_chart_and_words_per_feature(app, views, text_of):
    weekly = views("usage_forecast_weekly")
    modelled = set(weekly.loc[(weekly["level"] == "feature") & (weekly["model"] != "insufficient_history"),
                              "feature"])
    with app.server.app_context():
        figure, config, summary = outlook.show_outlook_forecast(None)
        one, one_config, _ = outlook.show_outlook_forecast("SMS")
    actuals = views("org_feature_usage_weekly").groupby("feature")["events"].sum()
    used = {f for f in modelled if actuals.get(f, 0) > 0
            or (weekly.loc[weekly["feature"] == f, "upper_95"].fillna(0) > 0).any()}
    assert sum(t["name"] == "Forecast" for t in figure["data"]) == len(used)
    assert "typical weekly error +/-" in text_of(summary)
    assert config["toImageButtonOptions"]["filename"] == "outlook_forecast_all-features"
    (title,) = one["layout"]["annotations"]
    assert title["text"].startswith("SMS")
    assert one_config["toImageButtonOptions"]["filename"] == "outlook_forecast_SMS"


def test_trust_area_reflects_the_back_test(app, views, text_of):
    backtest = views("churn_risk_backtest")
    with app.server.app_context():
        text = text_of(outlook.show_outlook_trust(None))
    if backtest.empty:  # the small test data is shorter than one back-test window
        assert "too short to back-test" in text
    else:
        pooled = backtest[backtest["as_of_date"].isna()].iloc[0]
        assert f"{pooled['auc']:.2f}" in text


@pytest.mark.parametrize("feature,band,words", [("Fax", None, "no feature “Fax”"),
                                                (None, "extreme", "not a risk band")])
def test_bad_input_is_explained(app, feature, band, words, text_of):
    with app.server.app_context():
        summary, call_first, body = outlook.show_outlook_risk(feature, band)
    assert words in text_of(summary) and call_first is None and body is None


def test_customer_outlook_shows_risk_and_forecast(app, views, text_of):
    risk = views("churn_risk").sort_values(["risk_score", "organisation_id"], ascending=[False, True])
    top = risk.iloc[0]
    with app.server.app_context():
        text = text_of(customer.show_customer_outlook(str(int(top["organisation_id"]))))
        assert customer.show_customer_outlook("not-a-number") is None
        assert customer.show_customer_outlook("987654321") is None
    assert top["reasons"] in text and "Usage to expect" in text


@pytest.fixture(scope="module")
def older_app(demo_warehouse, tmp_path_factory):
    """The app over a copy of the demo warehouse without the outlook's four views."""
    path = tmp_path_factory.mktemp("older-build") / demo_warehouse.db_path.name
    shutil.copy(demo_warehouse.db_path, path)
    con = duckdb.connect(str(path))
    try:
        for name in OUTLOOK_VIEWS:
            kind = con.execute("select table_type from information_schema.tables "
                               "where table_schema = '04_PRESENTATION' and table_name = ?",
                               [name]).fetchall()[0][0]
            con.execute(f'drop {"view" if kind == "VIEW" else "table"} "04_PRESENTATION"."{name}"')
    finally:
        con.close()
    return create_app({"ACCURX_DUCKDB_PATH": str(path), "ACCURX_WAREHOUSE": "duckdb"})


def test_older_warehouse_outlook_says_rebuild_and_other_tabs_work(older_app, views, text_of):
    organisation_id = int(views("organisations")["organisation_id"].iloc[0])
    with older_app.server.app_context():
        risk_summary, _, _ = outlook.show_outlook_risk(None, None)
        figure, _, forecast_summary = outlook.show_outlook_forecast("SMS")
        trust = outlook.show_outlook_trust(None)
        customer_outlook = customer.show_customer_outlook(str(organisation_id))
        customer_page = customer.show_customer(str(organisation_id), None)
        churn_summary, _, _, _ = churn.show_churn_changes(None)
    for area in (risk_summary, forecast_summary, trust, customer_outlook):
        assert OLDER_WAREHOUSE in text_of(area)
    assert "No outlook in this warehouse" in figure["layout"]["annotations"][0]["text"]
    assert "Entitlement timeline" in text_of(customer_page) and OLDER_WAREHOUSE not in text_of(customer_page)
    assert "Confirmed cancellations" in text_of(churn_summary)
