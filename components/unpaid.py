"""Tab: Unpaid usage (placeholder until its engineer replaces this module).

A customer used a feature they don't pay for: how often, and why?
"""

from __future__ import annotations

from dash import html

from components import ids
from components.common import UrlParams, empty_state, section

KEY = "unpaid"
LABEL = "Unpaid usage"


def layout(params: UrlParams):
    """The tab's skeleton; see components/common.py for the tab module contract."""
    return section(
        LABEL,
        html.Div(empty_state("This tab is being built."), id=ids.UNPAID_BODY),
        subtitle="A customer used a feature they don't pay for: how often, and why?",
    )
