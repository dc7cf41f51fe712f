"""Callbacks of the shared widgets in components/common.py (one per widget kind, MATCH IDs)."""

from __future__ import annotations

from dash import MATCH, Input, Output, callback
from dash.exceptions import PreventUpdate

from components import ids


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
