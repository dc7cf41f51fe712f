"""What every tab's callbacks share, and the callbacks of the shared widgets in
components/common.py (one per widget kind, MATCH IDs).

Rule: a tab's area that cannot show its answer says why in the same words on every tab.
A callback raises the problems of its inputs and queries (`PROBLEMS`): `NothingToShow`
(a valid question without an answer), a `ValueError` with a sentence (a bad input,
checked before any query) and `queries.errors.WarehouseError`; its `@shows_problems`
decorator turns one into the area's outputs, built with `problem_state(err)` for its
message area and `problem_figure(err)` for its chart. Results go out as
`with_stale_notice(results)`, marked when the runner served last good copies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dash import MATCH, Input, Output, html
from dash.exceptions import PreventUpdate

from callbacks.registry import callback
from components import ids
from components.common import empty_figure, empty_state, error_state, stale_notice
from queries.errors import WarehouseError
from queries.request_state import request_staleness


class NothingToShow(Exception):
    """A valid question with no answer (e.g. a period outside the data); `str()` says
    why, for an empty state."""


PROBLEMS = (NothingToShow, ValueError, WarehouseError)


def shows_problems(answer: Callable[[Exception], Any]) -> Callable[[Callable], Callable]:
    """Decorator of a callback (under its `@callback`): when the callback raises one of
    `PROBLEMS`, it returns `answer(err)` instead, the callback's outputs saying why
    (e.g. `lambda err: (problem_state(err), problem_figure(err))`). Anything else,
    PreventUpdate included, goes through."""
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def answered(*args):
            try:
                return func(*args)
            except PROBLEMS as err:
                return answer(err)
        return answered
    return decorate


def problem_state(err: Exception, title: str = "Check the filters") -> html.Div:
    """The area's message instead of its answer: an empty state for NothingToShow, the
    warehouse's sentence for a WarehouseError, and for a bad input (ValueError) its
    sentence under `title`."""
    if isinstance(err, NothingToShow):
        return empty_state(str(err))
    if isinstance(err, WarehouseError):
        return error_state(str(err))
    return error_state(str(err), title=title)


def problem_figure(err: Exception) -> dict:
    """The chart's blank instead of its answer, its message pointing at the area's words
    (see problem_state)."""
    if isinstance(err, NothingToShow):
        return empty_figure("No data in this period")
    if isinstance(err, WarehouseError):
        return empty_figure("The warehouse could not answer.")
    return empty_figure("Check the filters above.")


def with_stale_notice(results) -> list:
    """[the stale notice, `results`]: the notice (None when every result of this request
    is fresh) says how old the results are when the runner served last good copies.
    Call it after the request's queries."""
    return [stale_notice(request_staleness()), results]


@callback(
    Output(ids.grid(MATCH), "exportDataAsCsv"),
    Input(ids.grid_export(MATCH), "n_clicks"),
    prevent_initial_call=True,
)
def export_grid_csv(n_clicks):
    """'Download CSV' -> the grid exports what it shows (csvExportParams set by data_grid)."""
    if not n_clicks:
        raise PreventUpdate
    return True
