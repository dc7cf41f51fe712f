"""Tab: Churn (placeholder until its engineer replaces this module).

Do we lose features: cancellations, downgrades, retention cohorts?
"""

from __future__ import annotations

from dash import html

from components import ids
from components.common import UrlParams, empty_state, section

KEY = "churn"
LABEL = "Churn"


def layout(params: UrlParams):
    """The tab's skeleton; see components/common.py for the tab module contract."""
    return section(
        LABEL,
        html.Div(empty_state("This tab is being built."), id=ids.CHURN_BODY),
        subtitle="Do we lose features: cancellations, downgrades, retention cohorts?",
    )
