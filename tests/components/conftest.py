"""Fixtures of the component tests."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest


@pytest.fixture(scope="session")
def plotly_valid():
    """`plotly_valid(fig)`: `fig` (a figure dict) through plotly's own validation, which
    raises ValueError for a property plotly does not know or a value it does not accept
    (the app sends plain dicts and skips that validation for speed)."""
    def check(fig: dict) -> go.Figure:
        return go.Figure(fig)
    return check
