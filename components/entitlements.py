"""Tab: Entitlements (being built)."""

from __future__ import annotations

from dash import html

from components import ids
from components.common import UrlParams, empty_state, section

KEY = "entitlements"
LABEL = "Entitlements"


def layout(params: UrlParams):
    return section(LABEL, html.Div(empty_state("This tab is being built.")))
