"""Tab: Usage (placeholder until its engineer replaces this module).

Which customers use their features least, and which most?
"""

from __future__ import annotations

from dash import html

from components import ids
from components.common import UrlParams, empty_state, section

KEY = "usage"
LABEL = "Usage"


def layout(params: UrlParams):
    """The tab's skeleton; see components/common.py for the tab module contract."""
    return section(
        LABEL,
        html.Div(empty_state("This tab is being built."), id=ids.USAGE_BODY),
        subtitle="Which customers use their features least, and which most?",
    )
