"""Customer page figures (components/customer.py): each row of a bar chart gets room,
whatever the title and the legend below take."""

from __future__ import annotations

import pandas as pd

from components import customer
from components.common import THEME


def plot_height(fig: dict) -> int:
    """Pixels between the figure's top and bottom margins: where the bars are drawn."""
    margin = {**THEME["layout"]["margin"], **fig["layout"].get("margin", {})}
    return fig["layout"]["height"] - margin["t"] - margin["b"]


def test_one_unpaid_reason_over_three_features_still_has_room_for_its_bar():
    by_reason = pd.DataFrame({"reason": ["no_entitlement_export"] * 3, "feature": ["SMS", "Video", "Self Book"],
                              "events": [3, 2, 1]})
    reasons = pd.DataFrame({"reason": ["no_entitlement_export"], "label": ["No entitlement on record"]})
    fig = customer.unpaid_figure(by_reason, reasons, "Holly Surgery")
    assert fig["layout"]["showlegend"] is True  # three features: a legend below takes room
    assert plot_height(fig) >= 80
    two = customer.unpaid_figure(pd.concat([by_reason, by_reason.assign(reason="other")]), reasons, "Holly Surgery")
    assert plot_height(two) - plot_height(fig) == 45  # each more reason, one more row


def test_an_entitlement_timeline_of_one_feature_has_room_for_its_bar():
    days = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=40), "feature": "SMS",
                         "selected_option": ["SMS Lite"] * 20 + ["SMS Plus"] * 20})
    fig = customer.timeline_figure(days, "Holly Surgery")
    assert plot_height(fig) >= 80


# Chromium's measure of the theme's font (canvas measureText): about 0.52 em a character;
# plotly puts 24 px beside tick labels. A left margin below that makes plotly widen it
# and draw the whole figure again (as tests/components/test_churn_components.py).
MEASURED_EM, PLOTLY_PAD = 0.52, 24


def test_timeline_and_unpaid_charts_reserve_room_for_their_row_labels():
    days = pd.DataFrame({"date": pd.date_range("2026-01-01", periods=3).tolist() * 2,
                         "feature": ["SMS"] * 3 + ["Self Book Individual"] * 3,
                         "selected_option": ["SMS Lite"] * 3 + ["On"] * 3})
    timeline = customer.timeline_figure(days, "Holly Surgery")
    assert timeline["layout"]["margin"]["l"] >= len("Self Book Individual") * MEASURED_EM * 15 + PLOTLY_PAD
    label = "Used before its entitlement started (no export yet)"
    by_reason = pd.DataFrame({"reason": ["early", "other"], "feature": ["SMS", "SMS"], "events": [3, 1]})
    reasons = pd.DataFrame({"reason": ["early", "other"], "label": [label, "Other"]})
    unpaid = customer.unpaid_figure(by_reason, reasons, "Holly Surgery")
    assert unpaid["layout"]["margin"]["l"] >= len(label) * MEASURED_EM * 15 + PLOTLY_PAD
    short = customer.unpaid_figure(by_reason, reasons.assign(label=["Early", "Other"]), "Holly Surgery")
    assert short["layout"]["margin"]["l"] < unpaid["layout"]["margin"]["l"]
