"""callbacks/common.py: the one conversion of a problem into an area's outputs."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from callbacks.common import NothingToShow, problem_figure, problem_state, shows_problems
from queries.errors import WarehouseError


def _raising(exc):
    @shows_problems(lambda err: ("answered", type(err).__name__, str(err)))
    def show_something(value):
        """Docstring kept."""
        if exc is None:
            return "fine", value
        raise exc
    return show_something


@pytest.mark.parametrize("exc", [NothingToShow("no data in May"), ValueError("“x” is not a week."),
                                 WarehouseError("The warehouse could not answer.")])
def test_each_problem_becomes_the_answer(exc):
    assert _raising(exc)(1) == ("answered", type(exc).__name__, str(exc))


def test_an_answer_and_other_exceptions_go_through():
    assert _raising(None)(3) == ("fine", 3)
    assert _raising(None).__name__ == "show_something"
    assert _raising(None).__doc__ == "Docstring kept."
    with pytest.raises(PreventUpdate):
        _raising(PreventUpdate())(1)
    with pytest.raises(KeyError):
        _raising(KeyError("bug"))(1)


def test_problem_state_and_figure_say_why_in_the_same_words(text_of):
    empty = problem_state(NothingToShow("No usage in May."))
    bad = problem_state(ValueError("“x” is not a week."), title="Check the week")
    down = problem_state(WarehouseError("The warehouse is down."))
    assert "No usage in May." in text_of(empty)
    assert "Check the week" in text_of(bad) and "“x” is not a week." in text_of(bad)
    assert "The warehouse is down." in text_of(down)
    titles = [problem_figure(err)["layout"]["annotations"][0]["text"] for err in
              (NothingToShow("a"), ValueError("b"), WarehouseError("c"))]
    assert titles == ["No data in this period", "Check the filters above.",
                      "The warehouse could not answer."]
