"""components/churn.py builders on small hand-made frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from components import churn


def _changes() -> pd.DataFrame:
    return pd.DataFrame({
        "month": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-03-01", "2026-02-01"]),
        "feature": ["SMS", "SMS", "SMS", "Video"],
        "change_type": ["activation", "cancellation", "downgrade", "upgrade"],
        "status": [None, "confirmed", None, None],
        "changes": [4, 2, 1, 3],
    })


def test_monthly_figure_one_panel_per_feature_gains_up_losses_down(plotly_valid):
    fig = churn.monthly_figure(_changes(), ["SMS", "Video", "Patient Triage"], "Changes")
    plotly_valid(fig)
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["SMS", "Video"]  # no panel without changes
    by_name = {(trace["name"], trace["yaxis"]): trace["y"] for trace in fig["data"]}
    assert by_name[("Activation", "y")] == [4, 0, 0]  # every month of the data, zeros filled
    assert by_name[("Cancellation, confirmed", "y")] == [-2, 0, 0]
    assert by_name[("Downgrade", "y")] == [0, 0, -1]
    assert by_name[("Upgrade", "y2")] == [0, 3, 0]
    assert fig["layout"]["title"]["text"] == "Changes" and fig["layout"]["barmode"] == "relative"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Changes"


def test_cohort_rows_views_and_labels():
    cohorts = pd.DataFrame({"cohort_month": pd.to_datetime(["2026-01-01", "2026-02-01"]),
                            "is_left_censored": [True, False]})
    assert list(churn.cohort_rows(cohorts, "all")["cohort"]) == [
        "Jan 2026" + churn.CENSORED_SUFFIX, "Feb 2026"]
    assert list(churn.cohort_rows(cohorts, "new")["cohort"]) == ["Feb 2026"]
    assert list(churn.cohort_rows(cohorts, "censored")["cohort"]) == ["Jan 2026" + churn.CENSORED_SUFFIX]


def test_dormant_block_says_why_nobody_is_dormant(text_of):
    empty = pd.DataFrame({"last_event_date": []})
    text = text_of(churn.dormant_block(empty, dt.date(2026, 4, 28), "SMS", "churn_dormant"))
    assert "Every customer with SMS on used it between 1 Apr 2026 and 28 Apr 2026" in text


def test_file_name():
    assert churn.file_name("churn_retention", None, "new") == "churn_retention_all-features_new"


# Chromium's measure of the theme's 15 px font (canvas measureText): about 0.52 em a
# character for the cohort labels; plotly puts 24 px beside tick labels. A margin below
# that makes plotly widen it and draw the whole figure again.
MEASURED_EM, PLOTLY_PAD = 0.52, 24


def test_retention_figure_reserves_room_for_its_labels_and_colour_bar():
    cohorts = pd.DataFrame({
        "feature": ["SMS"] * 3,
        "cohort_month": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01"]),
        "is_left_censored": [True, True, False],
        "months_since_start": [0, 1, 0],
        "cohort_size": [10, 10, 4],
        "retained": [10, 7, 4],
        "retention_rate": [1.0, 0.7, 1.0],
    })
    rows = churn.cohort_rows(cohorts, "all")
    fig = churn.retention_figure(rows, ["SMS"], "Retention")
    longest = len("Jan 2026" + churn.CENSORED_SUFFIX)
    margin = fig["layout"]["margin"]
    assert margin["l"] >= longest * MEASURED_EM * 15 + PLOTLY_PAD
    assert margin["r"] >= 130  # the colour bar, as plotly's automargin widened it
    # Without the long "on before data" labels, less room is kept.
    new_only = churn.retention_figure(churn.cohort_rows(cohorts, "new"), ["SMS"], "Retention")
    assert new_only["layout"]["margin"]["l"] < margin["l"]


def test_monthly_figure_reserves_room_for_its_tick_labels():
    small = churn.monthly_figure(_changes(), ["SMS", "Video"], "Changes")
    many = _changes().assign(changes=[4000, 2500, 1, 3])
    large = churn.monthly_figure(many, ["SMS", "Video"], "Changes")
    # A tick of -6,500 (the busiest month: 4,000 up and 2,500 down) beside the axis title.
    assert large["layout"]["margin"]["l"] >= len("-6,500") * MEASURED_EM * 15 + PLOTLY_PAD + 20
    assert large["layout"]["margin"]["l"] > small["layout"]["margin"]["l"]
