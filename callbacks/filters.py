"""Filters shared by tabs 3-5 (components/filters.py): the feature dropdown's choices and
the period control of the Usage and Unpaid usage tabs.

Rule: the URL-bound store ids.PERIOD is the period's only state. The preset buttons and
the date-range picker write it (`choose_period`, one callback for both, as the URL
rules require); `show_period` draws buttons, picker and note from it. Tab callbacks
call `current_period(value)`, which raises ValueError with a sentence for a value that
is not a period (malformed, impossible dates, start after end), and
`validate_feature(value)`, which raises ValueError for a feature not in the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.parsers import MAX_CHOICE_LENGTH, check_day_in_range
from callbacks.registry import callback
from components import ids
from components.common import error_state, fmt_date, iso_week_label, shorten
from components.filters import (
    CUSTOM,
    DEFAULT_PRESET,
    PRESETS,
    RANGE_SEPARATOR,
    feature_options,
    preset_of,
)
from queries import organisations
from queries.errors import WarehouseError

WEEK = dt.timedelta(days=7)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """Whole ISO weeks from `start_week` to `end_week` (both Mondays, inclusive)."""

    value: str                      # the canonical URL value
    preset: str                     # a PRESETS key or CUSTOM
    start_week: dt.date
    end_week: dt.date
    data_first_week: dt.date
    data_last_week: dt.date
    picked: tuple[dt.date, dt.date] | None = None  # custom dates as written in the URL

    @property
    def end_day(self) -> dt.date:
        """The Sunday that ends the period."""
        return self.end_week + dt.timedelta(days=6)

    @property
    def weeks(self) -> int:
        return (self.end_week - self.start_week).days // 7 + 1

    @property
    def overlaps_data(self) -> bool:
        return self.start_week <= self.data_last_week and self.end_week >= self.data_first_week

    @property
    def picker_dates(self) -> tuple[str, str]:
        """What the date-range picker shows: the custom dates, or the preset's weeks."""
        start, end = self.picked or (self.start_week, self.end_day)
        return start.isoformat(), end.isoformat()

    def label(self) -> str:
        """'2026-W27 to 2026-W30 (29 Jun – 26 Jul 2026)'."""
        first, last = iso_week_label(self.start_week), iso_week_label(self.end_week)
        weeks = first if first == last else f"{first} to {last}"
        return f"{weeks} ({self.start_week.day} {self.start_week:%b %Y} – {fmt_date(self.end_day)})"

    def file_part(self) -> str:
        """For file names: '2026-06-29_to_2026-07-26'."""
        return f"{self.start_week.isoformat()}_to_{self.end_day.isoformat()}"

    def describe(self) -> str:
        """The note under the control: which weeks, and how they relate to the data."""
        name = PRESETS[self.preset][0] if self.preset in PRESETS else "Chosen dates"
        plural = "week" if self.weeks == 1 else "weeks"
        text = f"{name}: {self.label()}, {self.weeks} whole ISO {plural} (Monday to Sunday)."
        data = (f"The data covers {iso_week_label(self.data_first_week)} to "
                f"{iso_week_label(self.data_last_week)} (up to {fmt_date(self.data_last_week + dt.timedelta(days=6))}).")
        if self.preset in PRESETS and PRESETS[self.preset][1] and self.weeks < PRESETS[self.preset][1]:
            text += f" The data has only {self.weeks} {plural}."
        if self.preset == CUSTOM or not self.overlaps_data:
            text += " " + data
        return text


def parse_period(value: str | None) -> tuple[str, tuple[dt.date, dt.date] | None]:
    """(preset, None) or (CUSTOM, (start, end)) for a URL value.

    Raises ValueError with a readable message for anything that is not a period."""
    if value in (None, ""):
        return DEFAULT_PRESET, None
    text = str(value).strip() if isinstance(value, str) else ""
    if text in PRESETS:
        return text, None
    if RANGE_SEPARATOR not in text or len(text) > MAX_CHOICE_LENGTH:
        raise ValueError(
            f"“{shorten(value)}” is not a period: use last-4-weeks, last-quarter, all, or two "
            "dates such as 2026-05-04..2026-07-26."
        )
    start_text, _, end_text = text.partition(RANGE_SEPARATOR)
    days = []
    for part in (start_text, end_text):
        try:
            days.append(dt.date.fromisoformat(part.strip()))
        except ValueError:
            raise ValueError(
                f"“{shorten(part.strip()) or '(nothing)'}” is not a date: write the period as two "
                "dates YYYY-MM-DD..YYYY-MM-DD, e.g. 2026-05-04..2026-07-26."
            ) from None
        check_day_in_range(days[-1])
    start, end = days
    if start > end:
        raise ValueError(
            f"The period starts on {fmt_date(start, weekday=True)}, after it ends on "
            f"{fmt_date(end, weekday=True)}: choose a start date on or before the end date."
        )
    return CUSTOM, (start, end)


def resolve_period(value: str | None, data_first_week: dt.date, data_last_week: dt.date) -> Period:
    """The weeks a URL value means, presets counted back from the latest week of data.

    Chosen dates are clamped to the data's weeks when they overlap them: 1900..2999 and
    the data's own first..last weeks query (and cache) the same weeks. A period wholly
    outside the data keeps its weeks: the pages say so and query nothing.

    Raises ValueError (see parse_period)."""
    preset, picked = parse_period(value)
    if picked:
        start_week, end_week = monday(picked[0]), monday(picked[1])
        if start_week <= data_last_week and end_week >= data_first_week:
            start_week, end_week = max(start_week, data_first_week), min(end_week, data_last_week)
        canonical = f"{picked[0].isoformat()}{RANGE_SEPARATOR}{picked[1].isoformat()}"
    else:
        weeks = PRESETS[preset][1]
        end_week = data_last_week
        start_week = data_first_week if weeks is None else max(
            data_first_week, data_last_week - (weeks - 1) * WEEK)
        canonical = preset
    return Period(canonical, preset, start_week, end_week, data_first_week, data_last_week, picked)


def current_period(value: str | None) -> Period | None:
    """resolve_period against the warehouse's usage weeks; None when there are none.

    Raises ValueError for a bad value, WarehouseError from the warehouse."""
    extent = organisations.usage_week_extent()
    if extent.empty or pd.isna(extent["last_week"].iloc[0]):
        parse_period(value)  # a bad value is still reported as such
        return None
    first = pd.Timestamp(extent["first_week"].iloc[0]).date()
    last = pd.Timestamp(extent["last_week"].iloc[0]).date()
    return resolve_period(value, first, last)


def validate_feature(feature: str | None) -> tuple[str | None, list[str]]:
    """(feature or None for every feature, the features in the data).

    Raises ValueError for an unknown feature, WarehouseError from the warehouse."""
    features = organisations.features()
    if feature and feature not in features:
        raise ValueError(f"There is no feature “{shorten(feature)}” in the data; choose one of "
                         f"{', '.join(features)} (or every feature).")
    return feature or None, features


@callback(
    Output(ids.period_preset(ALL), "value"),
    Output(ids.period_range(ALL), "start_date"),
    Output(ids.period_range(ALL), "end_date"),
    Output(ids.period_range(ALL), "min_date_allowed"),
    Output(ids.period_range(ALL), "max_date_allowed"),
    Output(ids.period_note(ALL), "children"),
    Input(ids.PERIOD, "data"),
)
def show_period(value):
    """Buttons, picker and note drawn from the URL's period (nothing here writes the URL)."""
    counts = [len(outputs) for outputs in ctx.outputs_list]  # one per tab, as sent

    def each(*values):
        return tuple([value] * count for value, count in zip(values, counts))

    shown_preset = preset_of(value) if isinstance(value, str) or value is None else None
    try:
        period = current_period(value)
    except ValueError as err:
        return each(None, None, None, None, None, error_state(str(err), title="Check the period"))
    except WarehouseError:
        return each(shown_preset, None, None, None, None, None)  # the tab's own areas show the error
    if period is None:
        return each(shown_preset, None, None, None, None, "There is no usage data yet.")
    start, end = period.picker_dates
    lowest = min(period.data_first_week.isoformat(), start)  # ISO dates sort as text
    highest = max((period.data_last_week + dt.timedelta(days=6)).isoformat(), end)
    return each(period.preset, start, end, lowest, highest, period.describe())


@callback(
    Output(ids.PERIOD, "data"),
    Input(ids.period_preset(ALL), "value"),
    Input(ids.period_range(ALL), "start_date"),
    Input(ids.period_range(ALL), "end_date"),
    State(ids.PERIOD, "data"),
    prevent_initial_call=True,
)
def choose_period(presets, starts, ends, current):
    """A preset button or two picked dates become the period (and so the URL).

    show_period sets the same widgets from the URL; those echoes change nothing."""
    if not ctx.triggered:
        raise PreventUpdate
    current = current if isinstance(current, str) else None
    props = {item["prop_id"].rsplit(".", 1)[-1] for item in ctx.triggered}
    preset = _first_text(presets)
    if "value" in props and preset in PRESETS and preset != preset_of(current):
        return preset
    start, end = _first_text(starts), _first_text(ends)
    if not ({"start_date", "end_date"} & props) or not start or not end:
        raise PreventUpdate
    start, end = start[:10], end[:10]
    try:
        shown = current_period(current)
    except (ValueError, WarehouseError):
        shown = None
    if shown is not None and (start, end) == shown.picker_dates:
        raise PreventUpdate
    return f"{start}{RANGE_SEPARATOR}{end}"


def _first_text(values) -> str | None:
    """The first of a wildcard input's values, if it is short text (a preset or a date)."""
    first = values[0] if isinstance(values, list) and values else None
    return first if isinstance(first, str) and len(first) <= MAX_CHOICE_LENGTH else None


@callback(
    Output(ids.FEATURE, "options"),
    Input(ids.FEATURE, "value"),
)
def fill_feature_options(chosen):
    """The feature choices of whichever tab shows the dropdown (features in the data)."""
    if not isinstance(chosen, str) or len(chosen) > MAX_CHOICE_LENGTH:
        chosen = None  # not a feature name a link could carry: the tab's areas explain it
    try:
        return feature_options(organisations.features(), chosen)
    except WarehouseError:
        return feature_options([], chosen)  # the tab's own areas show the error
