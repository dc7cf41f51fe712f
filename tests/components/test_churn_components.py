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
