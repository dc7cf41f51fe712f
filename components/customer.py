"""The customer page (being built)."""

from __future__ import annotations

from dash import html

from components import ids
from components.common import UrlParams, empty_state, section


def layout(organisation_id: str, params: UrlParams):
    return section(f"Customer {organisation_id}", html.Div(empty_state("This page is being built."), id=ids.CUSTOMER_BODY))
