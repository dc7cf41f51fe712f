"""callbacks/usage.py called directly: real numbers, clicks, and bad input in words."""

from __future__ import annotations

import pytest

from app import create_app
from callbacks import usage


def test_default_leaderboard_has_bars_a_grid_and_a_named_png(app, text_of):
    with app.server.app_context():
        summary, figure, config, grid = usage.show_leaderboard(None, None, None, None, None)
    assert "customer-feature pairs were paid for" in text_of(summary)
    bars = [t for t in figure["data"] if t["name"]]  # the first trace is the transparent hit area
    assert sum(len(t["x"]) for t in bars) == 20
    assert config["toImageButtonOptions"]["filename"].startswith("usage_leaderboard_all-features_events_least_top20_")
    assert "Download CSV" in text_of(grid)


def test_never_users_are_marked_on_the_bars(app):
    with app.server.app_context():
        _, figure, _, _ = usage.show_leaderboard("all", None, "events", "least", "50")
    texts = [text for trace in figure["data"] if trace["name"] for text in trace["text"]]
    assert texts and texts[0] == "0 · never used"


def test_one_feature_most_first(app):
    with app.server.app_context():
        _, figure, config, _ = usage.show_leaderboard("last-quarter", "SMS", "adoption", "most", "10")
    assert {t["name"] for t in figure["data"] if t["name"]} == {"SMS"}
    scores = [x for t in figure["data"] if t["name"] for x in t["x"]]
    assert scores == sorted(scores, reverse=True)
    assert "_SMS_adoption_most_top10_" in config["toImageButtonOptions"]["filename"]


@pytest.mark.parametrize("args,words", [
    (("2026-09-01..2026-08-01", None, None, None, None), "after it ends on"),
    (("2026-13-01..2026-14-01", None, None, None, None), "is not a date"),
    (("yesterday", None, None, None, None), "is not a period"),
    ((None, "Fax", None, None, None), "no feature “Fax”"),
    ((None, None, "happiness", None, None), "not a measure"),
    ((None, None, None, "sideways", None), "not an order"),
    ((None, None, None, None, "lots"), "not a valid number"),
    ((None, None, None, None, "500"), "between 1 and 100"),
])
def test_bad_input_is_explained(app, args, words, text_of):
    with app.server.app_context():
        summary, figure, _, grid = usage.show_leaderboard(*args)
    assert "Check the filters" in text_of(summary) and words in text_of(summary)
    assert grid is None and not [t for t in figure["data"] if t["name"]]


def test_a_period_without_data_says_so(app, text_of):
    with app.server.app_context():
        summary, _, _, grid = usage.show_leaderboard("2020-01-01..2020-03-01", None, None, None, None)
    assert "No usage in 2020-W01" in text_of(summary) and grid is None


def test_missing_warehouse_is_an_error_on_the_tab(text_of):
    broken = create_app({"ACCURX_DUCKDB_PATH": "/nonexistent/accurx.duckdb"})
    with broken.server.app_context():
        summary, _, _, grid = usage.show_leaderboard(None, None, None, None, None)
    assert "has not been built yet" in text_of(summary) and grid is None


def test_clicks_open_the_customer_page():
    assert usage.open_clicked_bar({"points": [{"customdata": [1044, 0, 7]}]}) == "/customer/1044"
    assert usage.open_clicked_row({"rowId": "1044|SMS", "colId": "events"}) == "/customer/1044"
