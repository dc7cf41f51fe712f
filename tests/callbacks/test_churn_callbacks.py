"""callbacks/churn.py called directly: real numbers and bad input in words."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from app import create_app
from callbacks import churn


def test_changes_summary_and_chart(app, demo_warehouse, text_of):
    confirmed = demo_warehouse.manifest["cancellations_by_confirmation"]["confirmed"]
    with app.server.app_context():
        summary, figure, config = churn.show_churn_changes(None)
    assert f"Confirmed cancellations {confirmed}" in text_of(summary)
    names = {t["name"] for t in figure["data"]}
    assert {"Cancellation, confirmed", "Cancellation, provisional", "Cancellation, reversed"} <= names
    confirmed_bars = [t for t in figure["data"] if t["name"] == "Cancellation, confirmed"]
    assert -sum(sum(t["y"]) for t in confirmed_bars) == confirmed  # losses are drawn below zero
    assert config["toImageButtonOptions"]["filename"] == "churn_changes_all-features"
    go.Figure(figure)  # plotly accepts every property of the dict


@pytest.mark.parametrize("cohorts,censored", [(None, {True, False}), ("new", {False}), ("censored", {True})])
def test_retention_heatmap_separates_left_censored_cohorts(app, cohorts, censored):
    with app.server.app_context():
        figure, config = churn.show_churn_retention("SMS", cohorts)
    (heatmap,) = [t for t in figure["data"] if t["type"] == "heatmap"]
    marked = {label.endswith("on before data") for label in heatmap["y"]}
    assert marked == censored
    go.Figure(figure)
    assert config["toImageButtonOptions"]["filename"].startswith("churn_retention_SMS_")


def test_cancellations_and_dormant_lists(app, text_of):
    with app.server.app_context():
        cancelled = churn.show_churn_cancellations("Video")
        dormant = churn.show_churn_dormant("Video")
    assert "Download CSV" in text_of(cancelled)
    assert "last 28 days of data" in text_of(dormant)


@pytest.mark.parametrize("feature,cohorts,words", [("Fax", None, "no feature “Fax”"),
                                                    (None, "sometimes", "not a cohort view")])
def test_bad_input_is_explained(app, feature, cohorts, words, text_of):
    with app.server.app_context():
        figure, _ = churn.show_churn_retention(feature, cohorts)
        summary, _, _ = churn.show_churn_changes(feature)
    assert any(words in a["text"] for a in figure["layout"]["annotations"])
    if feature:
        assert words in text_of(summary)


def test_missing_warehouse_is_an_error_on_the_tab(text_of):
    broken = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})
    with broken.server.app_context():
        summary, _, _ = churn.show_churn_changes(None)
        dormant = churn.show_churn_dormant(None)
    assert "has not been built yet" in text_of(summary) and "has not been built yet" in text_of(dormant)
