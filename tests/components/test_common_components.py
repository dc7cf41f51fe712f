"""components/common.py: the shared builders, on small hand-made frames."""

from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
import pytest

from components import ids
from components.common import (
    CSV_CELL_CALLBACK,
    UrlParams,
    data_grid,
    dates,
    empty_figure,
    empty_state,
    error_state,
    graph_config,
    grid_rows,
    stacked_subplots,
    to_search,
)

FRAME = pd.DataFrame({"organisation_id": [3, 5], "name": ["Ash Surgery", None],
                      "day": pd.to_datetime(["2026-04-05", "2026-04-06"])})
COLUMNS = [{"field": "organisation_id"}, {"field": "name"}, {"field": "day"}]


def _grid(block) -> dag.AgGrid:
    return next(child for child in block.children if isinstance(child, dag.AgGrid))


def test_data_grid_rows_export_and_id(text_of):
    block = data_grid("g", FRAME, COLUMNS, file_name="customers_2026", title="Customers",
                      row_id="organisation_id")
    grid = _grid(block)
    assert grid.id == ids.grid("g")
    assert grid.rowData == [{"organisation_id": 3, "name": "Ash Surgery", "day": "2026-04-05"},
                            {"organisation_id": 5, "name": None, "day": "2026-04-06"}]
    assert grid.csvExportParams == {"fileName": "customers_2026.csv",
                                    "processCellCallback": CSV_CELL_CALLBACK}
    assert grid.getRowId == "params.data.organisation_id + ''"
    assert "2 rows" in text_of(block) and "Customers" in text_of(block)
    assert not hasattr(grid, "getRowStyle") or grid.getRowStyle is None


def test_data_grid_row_style_is_passed_to_the_grid():
    style = {"styleConditions": [{"condition": "params.data.organisation_id == 5",
                                  "style": {"fontWeight": 600}}]}
    assert _grid(data_grid("g", FRAME, COLUMNS, file_name="x", row_style=style)).getRowStyle == style


def test_data_grid_height_short_frames_flow_long_ones_scroll():
    assert _grid(data_grid("g", FRAME, COLUMNS, file_name="x")).dashGridOptions["domLayout"] == "autoHeight"
    long = pd.concat([FRAME] * 10, ignore_index=True)
    grid = _grid(data_grid("g", long, COLUMNS, file_name="x", height=300))
    assert "domLayout" not in grid.dashGridOptions and grid.style["height"] == "300px"


def test_grid_rows_dates_as_text_missing_as_none():
    rows = grid_rows(pd.DataFrame({"d": pd.to_datetime(["2026-01-02", None]), "n": [1.5, float("nan")]}))
    assert rows == [{"d": "2026-01-02", "n": 1.5}, {"d": None, "n": None}]


def test_states_and_empty_figure(text_of, plotly_valid):
    assert text_of(empty_state("No rows.")) == "No rows."
    assert "state-empty" in empty_state("x").className
    error = error_state("The warehouse is down.", title="Check")
    assert text_of(error) == "Check The warehouse is down." and error.role == "alert"
    fig = empty_figure("No data in this period")
    plotly_valid(fig)
    assert len(fig["data"]) == 0 and fig["layout"]["annotations"][0]["text"] == "No data in this period"
    assert fig["layout"]["xaxis"]["visible"] is False
    assert empty_figure()["layout"]["annotations"] == []


def test_graph_config_names_the_png():
    config = graph_config("usage_leaderboard")
    assert config["toImageButtonOptions"]["filename"] == "usage_leaderboard"
    assert config["displaylogo"] is False


def test_url_params_and_search_round_trip():
    params = UrlParams.from_search("?week=2026-W14&tab=entitlements&customer=5&empty=")
    assert params.get("customer") == "5" and params.get("empty") is None
    assert params.get("missing", "default") == "default"
    assert to_search({"week": "2026-W14", "customer": "5", "tab": "entitlements", "x": None}) == (
        "?tab=entitlements&customer=5&week=2026-W14")


@pytest.mark.parametrize("titles, spacing, shared, heights", [
    (("Customers", "Active users"), 0.1, True, None),
    (("A", "B", "C"), 0.11, True, None),
    (("SMS",), 0.08, True, None),
    (("SMS", "Video"), 0.12, False, [3, 7]),
])
def test_stacked_subplots_lay_out_what_make_subplots_does(titles, spacing, shared, heights):
    from plotly.subplots import make_subplots

    expected = make_subplots(rows=len(titles), cols=1, shared_xaxes=shared, vertical_spacing=spacing,
                             subplot_titles=titles, row_heights=heights).to_dict()["layout"]
    expected.pop("template")
    ours = stacked_subplots(titles, vertical_spacing=spacing, shared_xaxes=shared, row_heights=heights)
    assert set(ours) == set(expected)
    for name, value in expected.items():
        if name == "annotations":
            assert [{**a, "y": pytest.approx(a["y"])} for a in value] == ours[name]
        else:
            assert {**value, "domain": pytest.approx(value["domain"])} == ours[name], name


def test_dates_are_iso_days_whatever_they_came_as():
    import datetime as dt

    assert dates(pd.Series(pd.to_datetime(["2026-04-05", None]))) == ["2026-04-05", None]
    assert dates([dt.date(2026, 4, 6), None]) == ["2026-04-06", None]
    assert dates(pd.date_range("2026-01-01", periods=2, freq="MS")) == ["2026-01-01", "2026-02-01"]
    assert dates([]) == []


def _by_id(tree, component_id):
    return next(c for c in tree._traverse() if getattr(c, "id", None) == component_id)


def test_customer_period_radios_show_the_period_of_the_address():
    """One radio of the customer page's period is always chosen: the URL's weeks, else
    "All data" (value "", which dcc.RadioItems can show as chosen, unlike None)."""
    from components import customer
    from components.common import UrlParams

    for search, chosen in (("", ""), ("?weeks=13", "13"), ("?weeks=99", "")):
        radios = _by_id(customer.layout("1", UrlParams.from_search(search)), ids.CUSTOMER_WEEKS)
        values = [option["value"] for option in radios.options]
        assert values == list(customer.PERIODS) and radios.value == chosen
        assert [o["label"] for o in radios.options][values.index(chosen)] == customer.PERIODS[chosen]


def test_buttons_carry_bootstraps_classes_without_dash_bootstrap_components():
    """The former dbc.Button/InputGroup/Container render as plain HTML with Bootstrap's classes."""
    from dash import html

    from components import customer, entitlements, layout
    from components.common import UrlParams

    shell = layout.shell()
    containers = [c for c in shell._traverse() if "container-xl" in (getattr(c, "className", "") or "")]
    assert len(containers) == 2
    printing = _by_id(customer.layout("1", UrlParams()), ids.CUSTOMER_PRINT)
    assert isinstance(printing, html.Button) and printing.type == "button"
    assert set(printing.className.split()) == {"btn", "btn-outline-secondary", "btn-sm"}
    page = entitlements.layout(UrlParams())
    previous = _by_id(page, ids.ENTITLEMENTS_PREVIOUS_WEEK)
    group = next(c for c in page._traverse()
                 if "input-group" in (getattr(c, "className", "") or "").split())
    assert previous in group.children and "btn-outline-secondary" in previous.className.split()
