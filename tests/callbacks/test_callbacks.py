"""Callbacks of Access, Entitlements, the customer page and navigation, called directly.

Bad inputs (unknown id, malformed week, a date without an export, a missing
warehouse) must come back as a message in words on that tab, never an exception."""

from __future__ import annotations

import datetime as dt

import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import dcc
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from dash_callback_context import call_in_context

from callbacks import access as access_callbacks
from callbacks import customer as customer_callbacks
from callbacks import entitlements as entitlement_callbacks
from callbacks import navigation
from callbacks import unpaid as unpaid_callbacks
from components import ids
from components.common import UrlParams


def text_of(node) -> str:
    """All the text a component tree shows, space-separated."""
    if node is None:
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, (list, tuple)):
        return " ".join(text_of(child) for child in node)
    if isinstance(node, Component):
        return text_of(getattr(node, "children", None))
    return ""


def find(node, kind) -> list:
    """Every component of class `kind` in a tree."""
    found = []
    if isinstance(node, (list, tuple)):
        for child in node:
            found += find(child, kind)
    elif isinstance(node, Component):
        if isinstance(node, kind):
            found.append(node)
        for prop in ("children",) + tuple(getattr(node, "_children_props", ())):
            found += find(getattr(node, prop, None), kind)
    return found


def triggered(func, prop_id: str, value, *args, inputs_list=None):
    """Call a callback as Dash would after `prop_id` changed to `value`."""
    return call_in_context(func, *args, triggered_inputs=[{"prop_id": prop_id, "value": value}],
                           inputs_list=inputs_list)


@pytest.fixture(scope="module")
def latest_complete(demo_warehouse) -> dt.date:
    return dt.date.fromisoformat(demo_warehouse.manifest["latest_complete_date"])


@pytest.fixture(scope="module")
def daily(views):
    frame = views("org_feature_daily")
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


@pytest.fixture(scope="module")
def some_customer(daily) -> int:
    return int(daily.groupby("organisation_id")["date"].nunique().sort_values(kind="stable").index[-1])


# ---------------------------------------------------------------- access
def test_access_defaults_to_latest_complete_date_and_says_why(app_context, latest_complete, daily):
    note, cards = access_callbacks.show_access_cards(None, None)
    note_text = text_of(note)
    assert "latest complete date" in note_text
    assert f"{latest_complete.day} {latest_complete:%b %Y}" in note_text
    last_export = max(daily["date"])
    if last_export != latest_complete:
        assert f"{last_export.day} {last_export:%b %Y}" in note_text and "incomplete" in note_text
    on_day = daily[(daily["date"] == latest_complete) & daily["is_enabled"]]
    shown = text_of(cards)
    for (feature, option), rows in on_day.groupby(["feature", "selected_option"]):
        assert f"{feature} · {option}" in shown
        assert f"{rows['organisation_id'].nunique():,}" in shown


def test_access_explains_malformed_and_missing_dates(app_context):
    _, cards = access_callbacks.show_access_cards("2026-13-45", None)
    assert "is not a date" in text_of(cards)
    note, cards = access_callbacks.show_access_cards("1999-01-01", None)
    assert "no export on" in text_of(note).lower() and cards is None


def test_access_customers_of_a_pick_with_csv_named_after_filters(app_context, latest_complete, daily):
    title, body = access_callbacks.show_access_customers(None, "SMS|SMS Plus")
    expected = daily[(daily["date"] == latest_complete) & (daily["feature"] == "SMS")
                     & (daily["selected_option"] == "SMS Plus")]
    assert f"({len(expected)})" in text_of(title)
    grid = find(body, dag.AgGrid)[0]
    assert {row["organisation_id"] for row in grid.rowData} == set(expected["organisation_id"])
    assert grid.csvExportParams["fileName"] == f"access_customers_SMS_SMS-Plus_{latest_complete}.csv"
    assert [c["headerName"] for c in grid.columnDefs] == [
        "Customer", "Customer ID", "Region", "Active users"]


def test_access_without_pick_asks_for_a_click(app_context):
    _, body = access_callbacks.show_access_customers(None, None)
    assert "Click a card" in text_of(body)
    _, body = access_callbacks.show_access_customers(None, "no separator")
    assert "Click a card" in text_of(body)


def test_access_trend_figure_and_png_name(app_context):
    figure, config = access_callbacks.show_access_trend(None, "SMS|SMS Plus")
    assert isinstance(figure, dict) and len(figure["data"]) == 2
    assert config["toImageButtonOptions"]["filename"] == "access_trend_SMS_SMS-Plus"
    figure, config = access_callbacks.show_access_trend(None, None)
    assert len(figure["data"]) >= 3 and config["toImageButtonOptions"]["filename"] == "access_trend_all_options"
    go.Figure(figure)  # plotly accepts every property of the dict


def test_card_click_picks_its_option():
    prop_id = '{"feature":"Video","option":"On","type":"access-card"}.n_clicks'
    assert triggered(access_callbacks.pick_clicked_card, prop_id, 1, [1]) == "Video|On"
    with pytest.raises(PreventUpdate):
        triggered(access_callbacks.pick_clicked_card, prop_id, 0, [0])


# ---------------------------------------------------------------- entitlements
@pytest.mark.parametrize("customer,week,message", [
    (None, None, "Choose a customer"),
    ("abc", None, "is not a valid customer id"),
    ("999999", None, "There is no customer with id 999999"),
    ("{customer}", "hello", "is not an ISO week"),
    ("{customer}", "2026-W60", "does not exist"),
    ("{customer}", "2001-W01", "is outside the data"),
])
def test_entitlements_explain_bad_inputs(app_context, some_customer, customer, week, message):
    customer = customer.format(customer=some_customer) if customer else customer
    hint, body = entitlement_callbacks.show_entitlements(customer, week)
    assert message in text_of(hint) + text_of(body)


def test_entitlements_grid_shows_known_days_and_unknown_ones(app_context, some_customer, daily):
    mine = daily[daily["organisation_id"] == some_customer]
    last = max(daily["date"])
    latest_monday = last - dt.timedelta(days=last.weekday())
    monday = latest_monday - dt.timedelta(days=14)
    label = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
    _, body = entitlement_callbacks.show_entitlements(str(some_customer), label)
    text = text_of(body)
    assert label in text
    features = sorted(mine["feature"].unique())
    in_week = mine[(mine["date"] >= monday) & (mine["date"] <= monday + dt.timedelta(days=6))]
    assert text.count("unknown") - text.count("unknown (no export)") == 7 * len(features) - len(in_week)
    _, latest_body = entitlement_callbacks.show_entitlements(str(some_customer), None)
    assert "the latest week in the data" in text_of(latest_body)


def test_week_stepping_goes_back_from_the_latest_week(app_context, daily):
    last = max(daily["date"])
    previous = last - dt.timedelta(days=last.weekday() + 7)
    expected = f"{previous.isocalendar()[0]}-W{previous.isocalendar()[1]:02d}"
    got = triggered(entitlement_callbacks.step_week,
                    f"{ids.ENTITLEMENTS_PREVIOUS_WEEK}.n_clicks", 1, 1, 0, None)
    assert got == expected


def test_customer_choices_search_by_name_and_id(app_context, views):
    organisations = views("organisations")
    target = organisations.iloc[0]
    by_id = entitlement_callbacks.list_customer_choices(str(target["organisation_id"]), None)
    assert str(target["organisation_id"]) in [c["value"] for c in by_id]
    word = str(target["organisation_name"]).split()[0].lower()
    by_name = entitlement_callbacks.list_customer_choices(word, None)
    assert all(word in c["label"].lower() for c in by_name)
    assert len(entitlement_callbacks.list_customer_choices(None, "12345")) <= 51


# ---------------------------------------------------------------- customer page
def customer_page(organisation_id_text, weeks):
    """The whole customer page as the browser gets it: the top (header and timeline),
    then the sections asked for by the store the top brings (none for a bad id)."""
    top = customer_callbacks.show_customer(organisation_id_text, weeks)
    stores = [s for s in find(top, dcc.Store) if s.id == ids.CUSTOMER_SHOWN]
    if not stores:
        return top
    (store,) = stores
    return [top, customer_callbacks.show_customer_sections(store.data)]


def test_customer_page_unknown_and_malformed_ids(app_context):
    for organisation_id, words in (("999999", "There is no customer with id 999999"),
                                   ("abc", "is not a customer id")):
        top = customer_callbacks.show_customer(organisation_id, None)
        assert words in text_of(top)
        assert not find(top, dcc.Store)  # nothing more is asked for
        # The sections' callback, asked with such an id anyway, leaves the words to the top.
        assert customer_callbacks.show_customer_sections({"customer": organisation_id, "weeks": ""}) is None


def test_customer_sections_follow_the_top_with_its_customer_and_period(app_context, some_customer):
    top = customer_callbacks.show_customer(str(some_customer), "13")
    (store,) = [s for s in find(top, dcc.Store) if s.id == ids.CUSTOMER_SHOWN]
    assert store.data == {"customer": str(some_customer), "weeks": "13"}
    # The top holds the timeline only; the other charts come with the sections, for the
    # same period (their file names say it).
    assert [g.id for g in find(top, dcc.Graph)] == [ids.CUSTOMER_TIMELINE]
    sections = customer_callbacks.show_customer_sections(store.data)
    assert [g.id for g in find(sections, dcc.Graph)] == [ids.CUSTOMER_USAGE, ids.CUSTOMER_USERS,
                                                         ids.CUSTOMER_UNPAID]
    assert all(g.config["toImageButtonOptions"]["filename"].endswith("_13w") for g in find(sections, dcc.Graph))
    with pytest.raises(PreventUpdate):
        customer_callbacks.show_customer_sections(None)


def test_customer_page_has_every_section(app_context, some_customer, views):
    page = customer_page(str(some_customer), None)
    text = text_of(page)
    for heading in ("Entitlement timeline", "Usage against customers with the same entitlement",
                    "Users", "Unpaid usage", "Entitlement changes"):
        assert heading in text
    name = views("organisations").set_index("organisation_id").loc[some_customer, "organisation_name"]
    assert name in text
    assert "@" not in text  # no e-mail addresses
    graphs = find(page, dcc.Graph)
    assert len(graphs) == 4
    assert all(g.config["toImageButtonOptions"]["filename"].startswith(f"customer_{some_customer}_")
               for g in graphs)
    short = text_of(customer_page(str(some_customer), "13"))
    assert "since" in short
    # "All data" is the radio whose value is "" (dcc.RadioItems shows no None value as chosen):
    # the same page as no period at all.
    assert text_of(customer_page(str(some_customer), "")) == text



def test_customer_page_words_reasons_and_statuses_as_the_warehouse(app_context, views):
    """The unpaid reasons read as on the Unpaid tab (one label per reason, from the
    unpaid_reasons view) and the cancellation column is the view's cancellation_status."""
    events = views("unpaid_usage_events")
    labels = views("unpaid_reasons").set_index("reason")["label"]
    customer = int(events.groupby("organisation_id")["reason"].nunique().idxmax())
    page = customer_page(str(customer), None)
    mine = events.loc[events["organisation_id"] == customer, "reason"].unique()
    assert len(mine) > 1
    (chart,) = [g for g in find(page, dcc.Graph) if g.id == ids.CUSTOMER_UNPAID]
    assert {y for trace in chart.figure["data"] for y in trace["y"]} == {labels[r] for r in mine}
    for graph in find(page, dcc.Graph):
        go.Figure(graph.figure)  # plotly accepts every property of the customer's charts
    (grid,) = [g for g in find(page, dag.AgGrid) if g.id == ids.grid(ids.CUSTOMER_UNPAID_GRID)]
    listed = {row["reason"] for row in grid.rowData}
    assert listed and listed <= set(labels)
    reasons_figure, _, _ = unpaid_callbacks.show_unpaid_reasons("all", None, None)
    assert {trace["name"] for trace in reasons_figure["data"]} == set(labels[events["reason"].unique()])
    go.Figure(reasons_figure)

    changes = views("feature_entitlement_changes")
    cancelling = changes.loc[changes["change_type"] == "cancellation", "organisation_id"]
    customer = int(cancelling.value_counts().index[0])
    page = customer_page(str(customer), None)
    (grid,) = [g for g in find(page, dag.AgGrid) if g.id == ids.grid(ids.CUSTOMER_CHANGES_GRID)]
    shown = sorted(row["cancellation_status"] for row in grid.rowData)
    expected = changes.loc[changes["organisation_id"] == customer, "cancellation_status"]
    assert shown == sorted(expected.fillna(""))
    assert "confirmed" in shown or "reversed" in shown or "provisional" in shown


# ---------------------------------------------------------------- navigation
def test_controls_write_the_url_and_the_page_is_not_rendered_again():
    inputs_list = [
        [{"id": ids.ACCESS_PICK, "property": "value", "value": "SMS|SMS Lite"}],
        [{"id": ids.ACCESS_DATE, "property": "date", "value": "2026-09-01"}],
        [],
    ]
    rendered = {"key": "tab:access", "search": "?tab=access"}
    search, stored = triggered(
        navigation.write_controls_to_url, '{"param":"pick","type":"url-param-value"}.value',
        "SMS|SMS Lite", ["SMS|SMS Lite"], ["2026-09-01"], [], "?tab=access", rendered,
        inputs_list=inputs_list,
    )
    assert search == "?tab=access&date=2026-09-01&pick=SMS%7CSMS+Lite"
    assert stored == {"key": "tab:access", "search": search}
    with pytest.raises(PreventUpdate):
        navigation.render_page("/", search, stored)
    _, key, _ = navigation.render_page("/", "?tab=entitlements&customer=5", stored)
    assert key["key"] == "tab:entitlements"
    assert UrlParams.from_search(key["search"]).get("customer") == "5"


# ---------------------------------------------------------------- a missing warehouse
def test_every_tab_renders_a_missing_warehouse_as_words(broken_app):
    with broken_app.server.app_context():
        _, cards = access_callbacks.show_access_cards(None, None)
        _, customers = access_callbacks.show_access_customers(None, "SMS|SMS Plus")
        figure, _ = access_callbacks.show_access_trend(None, None)
        hint, body = entitlement_callbacks.show_entitlements("1", None)
        page = customer_callbacks.show_customer("1", None)
    for shown in (cards, customers, body, page):
        assert "has not been built yet" in text_of(shown)
    assert "has not been built yet" in figure["layout"]["annotations"][0]["text"].replace("<br>", " ")
    assert hint is None
