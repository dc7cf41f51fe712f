"""components/unpaid.py builders on small hand-made frames."""

from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd

from components import unpaid
from config import REPO_ROOT

# The warehouse's reasons as the unpaid_reasons view serves them (the dbt seed).
REASONS = pd.read_csv(REPO_ROOT / "warehouse" / "seeds" / "unpaid_reason_definitions.csv")

WEEKLY = pd.DataFrame({
    "week_start": pd.to_datetime(["2026-03-30", "2026-04-06", "2026-04-13"]),
    "unpaid_events": [4, 10, 0], "feature_events": [100, 200, 50],
    "unpaid_share": [0.04, 0.05, 0.0], "unpaid_customers": [2, 3, 0],
})


def _customers() -> pd.DataFrame:
    frame = pd.DataFrame({"organisation_id": [11, 12], "organisation_name": ["Ash", "Birch"],
                          "region": ["North", None], "unpaid_events": [9, 3],
                          "unpaid_share": [0.2, 0.1], "users": [2, 1], "days": [4, 1],
                          "last_date": ["2026-04-10", "2026-04-02"]})
    for position, reason in enumerate(REASONS["reason"]):
        frame[reason] = [9 if position == 0 else 0, 3 if position == 1 else 0]
    return frame


def _grid(node) -> dag.AgGrid:
    if isinstance(node, dag.AgGrid):
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        found = _grid(child) if child is not None and not isinstance(child, str) else None
        if found is not None:
            return found
    return None


def test_weekly_figure_three_panels_over_the_weeks(plotly_valid):
    fig = unpaid.weekly_figure(WEEKLY, "Unpaid usage per week")
    plotly_valid(fig)
    assert [trace["type"] for trace in fig["data"]] == ["bar", "scatter", "bar"]
    assert fig["data"][0]["y"] == [4, 10, 0] and fig["data"][2]["y"] == [2, 3, 0]
    assert fig["layout"]["title"]["text"] == "Unpaid usage per week"
    assert fig["layout"]["xaxis3"]["title"]["text"] == "Week starting (Monday)"
    assert fig["layout"]["yaxis2"]["tickformat"] == ".0%"  # the share reaches 5%


def test_overview_cards_totals_and_peak_week(text_of):
    text = text_of(unpaid.overview_cards(WEEKLY))
    assert "14" in text and "4.0% of 350 feature events" in text
    assert "10 unpaid events, 3 customers" in text
    silent = WEEKLY.assign(unpaid_events=0, unpaid_customers=0)
    assert "Busiest week" not in text_of(unpaid.overview_cards(silent))


def test_customers_grid_ranks_and_highlights_the_chosen_customer(text_of):
    block = unpaid.customers_grid(_customers(), REASONS, "unpaid_customers", 12)
    grid = _grid(block)
    assert [row["rank"] for row in grid.rowData] == [1, 2]
    assert [row["region"] for row in grid.rowData] == ["North", "Unknown"]
    assert grid.getRowStyle["styleConditions"][0]["condition"] == "params.data.organisation_id == 12"
    assert "highlighted customer" in text_of(block)
    plain = _grid(unpaid.customers_grid(_customers(), REASONS, "unpaid_customers", None))
    assert getattr(plain, "getRowStyle", None) is None


def test_events_title():
    assert unpaid.events_title(None) == "Events of a customer"
    assert unpaid.events_title("Ash", 1200, more=True) == "Unpaid events of Ash (latest 1,200)"
