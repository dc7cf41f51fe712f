"""components/usage.py figure and grid builders on a hand-made ranking."""

from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd

from components import usage


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "organisation_id": [1, 2, 3], "organisation_name": ["Ash", "Birch", "Cedar"],
        "region": ["North", None, "South"], "feature": ["SMS", "SMS", "Video"],
        "is_entitled": [True, True, True], "events": [5, 0, 9], "days_enabled": [10, 10, 3],
        "active_user_weeks": [2, 0, 4], "user_weeks_with_access": [6, 6, 8],
        "events_per_user_week": [0.8, 0.0, 1.1], "active_share": [0.33, 0.0, 0.5],
    })


def test_leaderboard_figure_one_bar_per_ranked_row_in_rank_order(plotly_valid):
    ranking = usage.rank_leaderboard(_frame(), "events", "most", 3)
    fig = usage.leaderboard_figure(ranking, "events", "most", None, ["SMS", "Video"], "the last 4 weeks")
    plotly_valid(fig)
    hit_area, *features = fig["data"]
    assert hit_area["y"] == ["1. Cedar · Video", "2. Ash · SMS", "3. Birch · SMS"]
    assert [row[0] for row in hit_area["customdata"]] == [3, 1, 2]  # a click opens that customer
    assert [(trace["name"], trace["x"], trace["y"]) for trace in features] == [
        ("SMS", [5, 0], ["2. Ash · SMS", "3. Birch · SMS"]), ("Video", [9], ["1. Cedar · Video"])]
    assert fig["layout"]["title"]["text"] == "The 3 highest by events · the last 4 weeks"
    assert fig["layout"]["xaxis"]["title"]["text"] == usage.METRICS["events"].label
    assert fig["layout"]["yaxis"]["autorange"] == "reversed"


def test_leaderboard_figure_of_one_feature_has_no_legend():
    ranking = usage.rank_leaderboard(_frame()[lambda f: f["feature"] == "SMS"], "events", "least", 5)
    fig = usage.leaderboard_figure(ranking, "events", "least", "SMS", ["SMS", "Video"], "May")
    assert fig["layout"]["showlegend"] is False
    assert fig["data"][0]["y"] == ["1. Birch", "2. Ash"]
    assert fig["layout"]["title"]["text"] == "The 2 lowest by events · SMS · May"


def test_leaderboard_grid_rows_and_keys():
    ranking = usage.rank_leaderboard(_frame(), "events", "least", 2)
    block = usage.leaderboard_grid(ranking, "events", None, "usage_leaderboard")
    grid = next(child for child in block.children if isinstance(child, dag.AgGrid))
    assert [(row["rank"], row["row_key"], row["never_used"]) for row in grid.rowData] == [
        (1, "2|SMS", "yes"), (2, "1|SMS", "")]
    assert grid.rowData[0]["region"] == "Unknown"
    assert grid.csvExportParams["fileName"] == "usage_leaderboard.csv"


def test_file_name():
    assert usage.file_name("usage_leaderboard", None, "events", "least", 20, "2026-06-29_to_2026-07-26") == (
        "usage_leaderboard_all-features_events_least_top20_2026-06-29_to_2026-07-26")


def test_leaderboard_figure_reserves_room_for_its_row_labels():
    """Chromium measures the 13 px row labels at about 0.52 em a character (two spaces
    after each); plotly puts 24 px beside them. A narrower left margin makes plotly widen
    it and draw the whole chart again."""
    frame = _frame().assign(organisation_name=["Ash", "The Longest Named Medical Practice Of All", "Cedar"])
    fig = usage.leaderboard_figure(usage.rank_leaderboard(frame, "events", "most", 3), "events", "most",
                                   None, ["SMS", "Video"], "May")
    longest = max(len(label) for label in fig["data"][0]["y"]) + 2
    assert fig["layout"]["margin"]["l"] >= longest * 0.52 * 13 + 24
    short = usage.leaderboard_figure(usage.rank_leaderboard(_frame(), "events", "most", 3), "events", "most",
                                     None, ["SMS", "Video"], "May")
    assert short["layout"]["margin"]["l"] < fig["layout"]["margin"]["l"]
