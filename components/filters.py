"""Filters shared by tabs 3-5 (callbacks/filters.py): the period control and the feature
dropdown. One URL name each (`period`, `feature`), one meaning everywhere.

The feature dropdown (ids.FEATURE) holds a feature name, or nothing for every feature;
its choices come from the data, and an unknown name from a link is kept (marked) so the
tab can say it is unknown.

The period control is used by the Usage and Unpaid usage tabs.

A period is a run of whole ISO weeks (Monday to Sunday), because the usage views are
weekly. Its URL value (`?period=`, ids.PERIOD) is a preset relative to the latest week
of data, or two dates:

    last-4-weeks | last-quarter | all | 2026-05-04..2026-07-26

Dates pick the weeks that contain them. The control is preset buttons and a date-range
picker (neither is URL-bound; both write ids.PERIOD) and a note saying which weeks are
shown, so a shared link means the same weeks for everyone.
"""

from __future__ import annotations

from dash import dcc, html

from components import ids
from components.common import UrlParams, control

DEFAULT_PRESET = "last-4-weeks"
# URL value -> (button label, number of weeks; None = every week of data)
PRESETS: dict[str, tuple[str, int | None]] = {
    "last-4-weeks": ("Last 4 weeks", 4),
    "last-quarter": ("Last quarter", 13),
    "all": ("All data", None),
}
CUSTOM = "custom"
RANGE_SEPARATOR = ".."


def preset_of(value: str | None) -> str | None:
    """The preset button to highlight for a URL value (custom for a date range)."""
    if value in (None, ""):
        return DEFAULT_PRESET
    if value in PRESETS:
        return value
    return CUSTOM if RANGE_SEPARATOR in str(value) else None


def period_controls(tab: str, params: UrlParams) -> list:
    """The period store (URL-bound), preset buttons, date-range picker and note of `tab`."""
    value = params.get("period")
    options = [{"label": label, "value": key} for key, (label, _) in PRESETS.items()]
    options.append({"label": "Custom dates", "value": CUSTOM, "disabled": True})
    return [
        dcc.Store(id=ids.PERIOD, data=value),
        control("Period", dcc.RadioItems(
            id=ids.period_preset(tab), options=options, value=preset_of(value),
            className="btn-group period-presets", inputClassName="btn-check",
            labelClassName="btn btn-outline-primary",
        )),
        control("or dates (whole weeks)", dcc.DatePickerRange(
            id=ids.period_range(tab), display_format="D MMM YYYY", first_day_of_week=1,
            updatemode="bothdates", minimum_nights=0, start_date_placeholder_text="From",
            end_date_placeholder_text="To", clearable=False,
        )),
    ]


def period_note(tab: str) -> html.Div:
    """Where the sentence describing the chosen weeks goes (filled by callbacks/filters.py)."""
    return html.Div(id=ids.period_note(tab), className="period-note small text-muted mb-2")


def feature_options(features: list[str], chosen: str | None) -> list[dict]:
    """Dropdown choices; an unknown chosen value is kept so the page can say it is unknown."""
    choices = [{"label": feature, "value": feature} for feature in features]
    if chosen and chosen not in features:
        choices.append({"label": f"{chosen} (not in the data)", "value": chosen, "disabled": True})
    return choices


def feature_control(params: UrlParams) -> html.Div:
    """The feature dropdown (ids.FEATURE), set from the URL; empty means every feature."""
    feature = params.get("feature")
    return control("Feature", dcc.Dropdown(
        id=ids.FEATURE, value=feature, clearable=True, searchable=False,
        options=feature_options([], feature), placeholder="Every feature",
        style={"minWidth": "15rem"}))
