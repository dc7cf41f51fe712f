"""callbacks/churn.py called directly: real numbers and bad input in words."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from app import create_app
from callbacks import churn


def test_changes_summary_and_chart(app, demo_warehouse, text_of):
    confirmed = demo_warehouse.manifest["cancellations_by_confirmation"]["confirmed"]
    with app.server.app_context():
        summary, figure, config, drawn = churn.show_churn_changes(None)
    assert f"Confirmed cancellations {confirmed}" in text_of(summary)
    names = {t["name"] for t in figure["data"]}
    assert {"Cancellation, confirmed", "Cancellation, provisional", "Cancellation, reversed"} <= names
    confirmed_bars = [t for t in figure["data"] if t["name"] == "Cancellation, confirmed"]
    assert -sum(sum(t["y"]) for t in confirmed_bars) == confirmed  # losses are drawn below zero
    assert config["toImageButtonOptions"]["filename"] == "churn_changes_all-features"
    assert drawn == ""  # the store the retention heatmaps wait for: every feature
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
        summary, _, _, _ = churn.show_churn_changes(feature)
    assert any(words in a["text"] for a in figure["layout"]["annotations"])
    if feature:
        assert words in text_of(summary)


def test_missing_warehouse_is_an_error_on_the_tab(text_of):
    broken = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})
    with broken.server.app_context():
        summary, _, _, _ = churn.show_churn_changes(None)
        dormant = churn.show_churn_dormant(None)
    assert "has not been built yet" in text_of(summary) and "has not been built yet" in text_of(dormant)


def test_retention_follows_the_monthly_chart_with_the_same_feature(app):
    """The heatmaps are asked for with the store the monthly callback writes (its value
    only orders them after the monthly chart): the same feature's cohorts either way."""
    with app.server.app_context():
        *_, drawn = churn.show_churn_changes("Video")
        after, _ = churn.show_churn_retention("Video", None, drawn)
        alone, _ = churn.show_churn_retention("Video", None)
    assert drawn == "Video"
    assert after == alone and {t["type"] for t in after["data"]} == {"heatmap"}
