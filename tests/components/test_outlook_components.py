"""components/outlook.py (and the customer page's outlook) on small hand-made frames."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from components import customer, ids, outlook
from components.common import UrlParams

TRAINED = pd.Timestamp("2026-10-19")  # a Monday: the last week the model learned from


def _accuracy(feature="SMS", mase=0.755, origins=8, mae=128.6, wape=0.0879, coverage_80=0.25):
    return pd.DataFrame({
        "feature": [feature, feature], "model": ["AutoETS", "naive"], "origins": [origins, origins],
        "mae": [mae, mae / mase if mase else math.nan], "wape": [wape, wape],
        "mase": [mase, 1.0], "coverage_80": [coverage_80, math.nan],
        "coverage_95": [0.5, math.nan], "backend": ["local", "local"],
    })


def _forecast(feature="SMS", model="AutoETS", weeks=12, level=100.0):
    starts = pd.date_range(TRAINED + pd.Timedelta(weeks=1), periods=weeks, freq="7D")
    value = math.nan if model == outlook.INSUFFICIENT else level
    return pd.DataFrame({
        "feature": feature, "week_start": starts, "forecast": value,
        "lower_80": value * 0.8, "upper_80": value * 1.2,
        "lower_95": value * 0.6, "upper_95": value * 1.4,
        "model": model, "trained_through": TRAINED, "backend": "local",
    })


def _actuals(feature="SMS", weeks=("2026-09-28", "2026-10-12", "2026-10-19"), events=(90, 110, 95)):
    return pd.DataFrame({"feature": feature, "week_start": pd.to_datetime(list(weeks)),
                         "events": list(events)})


# ---------------------------------------------------------------- accuracy in words
def test_accuracy_words_say_error_wape_gain_on_naive_and_band_hits():
    words = outlook.accuracy_words(_accuracy(), "SMS")
    assert words == ("typical weekly error +/- 129 events (WAPE 9%); 24% better than "
                     "repeating last week; the 80% band held 8 of 32 weeks")
    assert not outlook.low_confidence(_accuracy(), "SMS")


def test_mase_of_one_or_more_is_low_confidence():
    worse = _accuracy(mase=1.34)
    assert outlook.low_confidence(worse, "SMS")
    assert "34% worse than repeating last week: low confidence" in outlook.accuracy_words(worse, "SMS")
    even = _accuracy(mase=1.0)
    assert outlook.low_confidence(even, "SMS")
    assert "about as good as repeating last week: low confidence" in outlook.accuracy_words(even, "SMS")


@pytest.mark.parametrize("accuracy,words", [
    (_accuracy(origins=0), "not back-tested yet"),
    (_accuracy(feature="Video"), "not back-tested yet"),
    (_accuracy(wape=math.nan, mase=math.nan, mae=0.0), "no comparison with repeating last week"),
])
def test_accuracy_words_without_a_figure_say_why(accuracy, words):
    assert words in outlook.accuracy_words(accuracy, "SMS")


# ---------------------------------------------------------------- forecast chart
def test_forecast_figure_draws_actuals_forecast_and_both_bands():
    # go.Figure validates the dict against plotly's schema, and reads it back.
    fig = go.Figure(outlook.forecast_figure(_actuals(), _forecast(), _accuracy(mase=1.2), ["SMS"], "Weekly"))
    actual, lower95, upper95, lower80, upper80, line = fig.data
    assert list(actual.y) == [90, 0, 110, 95]  # the week without a row is 0
    assert pd.Timestamp(actual.x[-1]) == TRAINED
    assert (lower95.fill, upper95.fill, upper80.fill) == (None, "tonexty", "tonexty")
    assert list(upper95.y) == [140.0] * 12 and list(lower80.y) == [80.0] * 12
    assert list(line.y) == [100.0] * 12 and line.line.dash == "dash"
    assert {t.name for t in fig.data if t.showlegend} == {"Actual", "95% band", "80% band", "Forecast"}
    (title,) = [a.text for a in fig.layout.annotations]
    assert title == "SMS · AutoETS, trained on weeks to 25 Oct 2026 · LOW CONFIDENCE (MASE ≥ 1)"


def test_insufficient_history_shows_actuals_and_says_so():
    forecast = pd.concat([_forecast(), _forecast("Video", outlook.INSUFFICIENT)])
    actuals = pd.concat([_actuals(), _actuals("Video", ["2026-10-12"], [3])])
    fig = go.Figure(outlook.forecast_figure(actuals, forecast, _accuracy(), ["SMS", "Video", "Fax"], "Weekly"))
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 2  # no panel for a feature without any forecast row
    assert titles[1].startswith("Video: not enough history to forecast")
    assert [t.name for t in fig.data if t.yaxis == "y2"] == ["Actual"]
    sentences = outlook.forecast_sentences(actuals, forecast, _accuracy(), ["SMS", "Video", "Fax"])
    items = sentences.children.children
    assert "1,200 events expected" in str(items[0])
    assert "80%: 80 to 120" in str(items[0]) and "the 80% band held 8 of 32 weeks" in str(items[0])
    assert "not enough history to forecast" in str(items[1])
    assert "no forecast yet" in str(items[2])


def test_a_feature_nobody_used_gets_a_sentence_not_a_flat_panel():
    forecast = pd.concat([_forecast(), _forecast("Patient Triage", level=0.0)])
    actuals = pd.concat([_actuals(), _actuals("Patient Triage", events=(0, 0, 0))])
    fig = go.Figure(outlook.forecast_figure(actuals, forecast, _accuracy(), ["Patient Triage", "SMS"], "Weekly"))
    assert [a.text.split(" ·")[0] for a in fig.layout.annotations] == ["SMS"]
    sentences = outlook.forecast_sentences(actuals, forecast, _accuracy(), ["Patient Triage", "SMS"])
    unused, used = sentences.children.children
    assert "the chart leaves it out" in str(unused) and "the chart leaves it out" not in str(used)
    # Alone (the feature filter picked it), it is still drawn: an empty chart says less.
    alone = go.Figure(outlook.forecast_figure(actuals, forecast, _accuracy(), ["Patient Triage"], "Weekly"))
    assert [a.text.split(" ·")[0] for a in alone.layout.annotations] == ["Patient Triage"]


# ---------------------------------------------------------------- who may cancel
def _ranking():
    return pd.DataFrame({
        "as_of_date": pd.Timestamp("2026-10-30"), "organisation_id": [7, 3, 9],
        "organisation_name": ["Ash Surgery", "Birch Practice", "Cedar Centre"], "region": None,
        "feature": ["SMS", "Video", "SMS"], "risk_score": [80, 30, 5],
        "risk_band": ["high", "medium", "low"],
        "reasons": ["Utilisation 0% over the last 4 weeks; No use for 5 weeks", "Never used", None],
        "utilisation": [0.0, math.nan, 0.857], "usage_trend": [0.0, math.nan, 1.3],
        "weeks_since_last_event": [5, math.nan, 0], "recent_changes": [0, 1, 0],
    })


def test_risk_grid_keeps_the_ranking_links_customers_and_exports_what_is_shown(text_of):
    block = outlook.risk_grid(_ranking(), "outlook_risk_all-features")
    grid = block.children[1]
    assert grid.id == ids.grid(ids.OUTLOOK_RISK_GRID)
    rows = grid.rowData
    assert [r["organisation_id"] for r in rows] == [7, 3, 9] and [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["band"] for r in rows] == ["High", "Medium", "Low"]
    assert [r["utilisation_pct"] for r in rows] == [0, None, 86]
    assert [r["trend"] for r in rows] == ["-100%", "no use to compare", "+30%"]
    assert [r["last_use"] for r in rows] == ["5 weeks ago", "never", "this week"]
    customer_column = next(c for c in grid.columnDefs if c["field"] == "organisation_name")
    assert customer_column["cellRenderer"] == "CustomerLink"
    assert grid.csvExportParams["fileName"] == "outlook_risk_all-features.csv"
    assert "Download CSV" in text_of(block)


def test_risk_summary_counts_bands_and_states_the_date(text_of):
    assert text_of(outlook.risk_summary(_ranking(), None, None)) == (
        "3 customer-feature pairs as of 30 Oct 2026: 1 high, 1 medium, 1 low risk.")
    assert "(SMS · High band)" in text_of(outlook.risk_summary(_ranking()[:1], "SMS", "high"))


def _find(node, wanted):
    """The component with id `wanted` inside `node` (None when absent)."""
    if getattr(node, "id", None) == wanted:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found = _find(child, wanted)
            if found is not None:
                return found
    return None


def test_layout_takes_feature_and_band_from_the_url():
    page = outlook.layout(UrlParams({"feature": ["SMS"], "band": ["high"]}))
    assert _find(page, ids.FEATURE).value == "SMS"
    assert _find(page, ids.OUTLOOK_BAND).value == "high"
    unknown = outlook.layout(UrlParams({"band": ["extreme"]}))
    assert "extreme (unknown)" in str(unknown)


# ---------------------------------------------------------------- how far to trust it
def _backtest(auc=0.78, lower=0.70, upper=0.85):
    return pd.DataFrame({
        "as_of_date": [pd.NaT, pd.Timestamp("2026-04-05"), pd.Timestamp("2026-05-03")],
        "pairs": [600, 300, 300], "cancellations": [42, 20, 22], "base_rate": [0.07, 0.067, 0.073],
        "auc": [auc, auc, auc], "auc_lower_95": [lower, lower, lower],
        "auc_upper_95": [upper, upper, upper], "precision_at_20": [0.35, 0.3, 0.4],
    })


def test_trust_block_gives_auc_interval_precision_base_rate_and_meaning(text_of):
    text = text_of(outlook.trust_block(_backtest()))
    assert "0.78" in text and "95% interval 0.70 to 0.85" in text
    assert "35%" in text and "base rate of 7%" in text
    assert "42" in text and "600 customer-feature pairs on 2 dates" in text
    assert "78% of the time" in text and "5.0 times" in text and "not as a certainty" in text


def test_trust_block_says_when_the_score_is_no_better_than_chance(text_of):
    text = text_of(outlook.trust_block(_backtest(auc=0.55, lower=0.45, upper=0.65)))
    assert "interval includes 0.5" in text and "better than chance" in text


def test_trust_block_without_a_back_test_date_says_the_data_is_too_short(text_of):
    assert "too short to back-test" in text_of(outlook.trust_block(_backtest().iloc[0:0]))


def test_older_warehouse_message_names_the_rebuild_command(text_of):
    assert "python -m warehouse build" in text_of(outlook.older_warehouse_state())


# ---------------------------------------------------------------- customer page
def test_customer_outlook_lists_risk_with_reasons_and_the_forecast(text_of):
    risk = _ranking()[:1].drop(columns=["organisation_id", "organisation_name", "region"])
    part = customer.outlook_section(7, "Ash Surgery", risk, _forecast(), _actuals(), _accuracy())
    text = text_of(part)
    assert "Risk of cancelling, as of 30 Oct 2026" in text
    assert "Utilisation 0% over the last 4 weeks; No use for 5 weeks" in text and "High" in text
    assert "1,200 events expected" in text
    assert "print-break" in part.className
    assert f"'{ids.CUSTOMER_OUTLOOK_FORECAST}'" in str(part)


def test_customer_outlook_without_risk_or_forecast_says_so(text_of):
    empty = customer.outlook_section(7, "Ash Surgery", _ranking()[0:0], _forecast()[0:0],
                                     _actuals()[0:0], _accuracy()[0:0])
    text = text_of(empty)
    assert "No risk score" in text and "No forecast for this customer" in text
