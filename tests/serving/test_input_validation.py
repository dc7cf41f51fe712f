"""Bad input can't break in: every callback and the URL, fed hostile and malformed values.

Every server-side callback is taken from the app's callback map (so a new one is
covered without editing this file) and called with each bad value in each input and
state slot, directly and through `/_dash-update-component`; the URL is attacked
through the page paths and query strings that `render_page` reads. Each answer must
be a message in words or no update (never an exception, never a 500, never the bad
value echoed at length), and the warehouse must never see it: a spy on the runner
records every SQL text and parameter sent, and neither may contain the input.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
from dash.exceptions import PreventUpdate
from dash_callback_context import call_in_context
from serving_support import build_callback_body, is_all, page_callbacks

LONG = "9" * 4000 + "x" * 6000  # 10,000 characters
INJECTIONS = [
    "1; drop table x",
    "' or 1=1 --",
    '"04_PRESENTATION".organisations',
    "SMS' union select email from \"02_CLEAN\".stg_users --",
    "1)) or ((1=1",
]
MALFORMED = [
    LONG, -1, "-1", 0, 3.5, "1e3", "٣", "1_000", 10**30, True, [], ["a", "b"], {"a": 1},
    "2026-02-30", "2026-W60", "2026-W00", "9999-12-31", "0001-01-01..9999-12-31",
    "2026-05-04..2026-02-30", "last-4-weeks..", "SMS|", "|On", "SMS|SMS Plus|x",
    "<script>alert(1)</script>", "\x00", "  ",
]
BAD_VALUES = INJECTIONS + MALFORMED
# Through HTTP and the URL (slower than direct calls): one of each kind.
HTTP_VALUES = INJECTIONS[:3] + [LONG, -1, 3.5, {"a": 1}, "2026-02-30", "2026-W60",
                                "0001-01-01..9999-12-31"]
# Values the warehouse must never receive, in the SQL text or as a parameter.
BAD_TEXTS = [v for v in BAD_VALUES if isinstance(v, str) and len(v.strip()) > 3
             and not re.fullmatch(r"[\d\-W.]+", v)] + [LONG]


def known_statements(runner) -> set[str]:
    """Every SQL text the app can send: the named statements of queries/*.sql."""
    from queries.sqlfile import QUERIES_DIR, load_statements

    return {runner.sql_for(path.stem, name).sql
            for path in QUERIES_DIR.glob("*.sql") for name in load_statements(path.stem)}


class Spy:
    """Records what the app's runner sends to the warehouse."""

    def __init__(self, runner):
        self.sql: list[str] = []
        self.params: list = []
        self.known = known_statements(runner)
        self._run, self._execute = runner.run, runner.backend.execute

        def run(question, name, params=None, **options):
            self.params.append(params)
            return self._run(question, name, params, **options)

        def execute(sql, values, *rest, **options):
            self.sql.append(sql)
            self.params.append(values)
            return self._execute(sql, values, *rest, **options)

        runner.run, runner.backend.execute = run, execute
        self.runner = runner

    def restore(self):
        del self.runner.run
        del self.runner.backend.execute

    def assert_never_saw(self, value):
        """No SQL text but the app's own statements, and `value` in no parameter."""
        unknown = set(self.sql) - self.known
        assert not unknown, f"SQL text that is not one of queries/*.sql: {min(unknown)[:300]}"
        needles = [value] if isinstance(value, str) else []
        for needle in needles:
            if needle not in BAD_TEXTS:
                continue
            for params in self.params:
                text = json.dumps(params, default=str)
                assert json.dumps(needle)[1:-1] not in text, (
                    f"a query parameter carries the input {needle[:40]!r}: {text[:200]}")


@pytest.fixture
def spy(demo_app):
    runner = demo_app.server.extensions["accurx_runner"]
    recorder = Spy(runner)
    yield recorder
    recorder.restore()


def server_callbacks(app):
    return {key: entry for key, entry in app.callback_map.items()
            if getattr(entry.get("callback"), "__wrapped__", None) is not None}


def callback_cases(app, values=tuple(BAD_VALUES)):
    """(key, slot, value) for every server-side callback, input/state slot and bad value."""
    for key, entry in server_callbacks(app).items():
        specs = entry["inputs"] + entry["state"]
        for slot, spec in enumerate(specs):
            for value in values:
                yield key, slot, value
                if is_all(spec["id"]):
                    yield key, slot, [value]


def _baseline(spec) -> object:
    return [] if is_all(spec["id"]) else None


def call_directly(app, key: str, slot: int, value):
    """Call the callback function as Dash would, `value` in `slot`, the rest empty."""
    entry = app.callback_map[key]
    specs = entry["inputs"] + entry["state"]
    args = [_baseline(spec) for spec in specs]
    args[slot] = value
    # The context Dash builds from the request (a wrongly typed value under an ALL
    # wildcard cannot be sent by Dash; the function still gets it).
    shaped = [arg if not is_all(spec["id"]) or isinstance(arg, list) else []
              for spec, arg in zip(specs, args)]
    n_inputs = len(entry["inputs"])
    body = build_callback_body(app, key, shaped, changed=slot if slot < n_inputs else 0)
    changed = body["changedPropIds"]
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        return call_in_context(
            entry["callback"].__wrapped__, *args,
            triggered_inputs=[{"prop_id": p, "value": value} for p in changed],
            inputs_list=body["inputs"], states_list=body["state"], outputs_list=body["outputs"])


def test_every_callback_is_covered(demo_app):
    names = {entry["callback"].__wrapped__.__name__ for entry in server_callbacks(demo_app).values()}
    assert len(names) >= 25
    assert {"render_page", "show_customer", "show_entitlements", "show_leaderboard",
            "show_unpaid_events", "show_churn_changes", "show_access_cards"} <= names


@pytest.fixture(scope="module")
def cases(demo_app):
    return list(callback_cases(demo_app))


def test_each_callback_called_directly_with_each_bad_value(demo_app, spy, cases):
    failures = []
    for key, slot, value in cases:
        name = demo_app.callback_map[key]["callback"].__wrapped__.__name__
        try:
            result = call_directly(demo_app, key, slot, value)
        except PreventUpdate:
            result = None
        except Exception as exc:  # noqa: BLE001  (collected, then reported together)
            failures.append(f"{name} slot {slot} value {str(value)[:30]!r}: {type(exc).__name__}: {exc}"[:300])
            continue
        shown = json.dumps(result, default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o))
        if LONG in shown:
            failures.append(f"{name} slot {slot}: echoes the 10,000-character input")
        spy.assert_never_saw(value)
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"
    assert spy.sql, "the spy saw no query at all: it is not wired to the runner"


def test_each_callback_over_http_with_each_bad_value(demo_app, spy):
    client = demo_app.server.test_client()
    failures = []
    for key, slot, value in callback_cases(demo_app, HTTP_VALUES):
        entry = demo_app.callback_map[key]
        specs = entry["inputs"] + entry["state"]
        values = [_baseline(spec) for spec in specs]
        values[slot] = value
        if is_all(specs[slot]["id"]) and not isinstance(value, list):
            continue  # a lone value where Dash sends a list: covered by the malformed-request test
        changed = slot if slot < len(entry["inputs"]) else 0
        body = build_callback_body(demo_app, key, values, changed=changed)
        response = client.post("/_dash-update-component", json=body)
        name = entry["callback"].__wrapped__.__name__
        if response.status_code not in (200, 204):
            failures.append(f"{name} slot {slot} value {str(value)[:30]!r}: HTTP {response.status_code}")
        elif LONG in response.get_data(as_text=True):
            failures.append(f"{name} slot {slot}: echoes the 10,000-character input")
        spy.assert_never_saw(value)
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"


@pytest.mark.parametrize("body", [
    {}, [], "text", {"output": "no-such.children"}, {"output": "page.children", "inputs": "x"},
    {"output": "..page.children...page-key.data...nav.children..", "inputs": []},
], ids=["empty", "list", "string", "unknown-output", "bad-inputs", "too-few-inputs"])
def test_malformed_callback_requests_get_400(demo_app, body):
    response = demo_app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 400
    assert "Malformed callback request" in response.get_json()["error"]


def test_a_lone_value_where_a_list_belongs_gets_400(demo_app):
    key = next(k for k, e in demo_app.callback_map.items()
               if e.get("callback") and e["callback"].__wrapped__.__name__ == "choose_period")
    body = build_callback_body(demo_app, key, [[], [], [], None])
    body["inputs"][0] = {"id": {"tab": "usage", "type": "period-preset"}, "property": "value", "value": "all"}
    response = demo_app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 400


def test_oversized_request_gets_413(demo_app):
    response = demo_app.server.test_client().post(
        "/_dash-update-component", data=json.dumps({"output": "x" * 400_000}),
        content_type="application/json")
    assert response.status_code == 413


# ---------------------------------------------------------------- the URL
# The parameters each page reads from the URL (callbacks/navigation.py, components/*.py).
PAGE_PARAMS = {
    "access": ("date", "pick"),
    "entitlements": ("customer", "week"),
    "usage": ("period", "feature", "metric", "order", "top"),
    "unpaid": ("period", "feature", "reason", "customer"),
    "churn": ("feature", "cohorts"),
}
URL_VALUES = [v for v in HTTP_VALUES if isinstance(v, str)] + ["-1", "<script>alert(1)</script>"]


def url_cases(customer_id: int):
    """(path, what the bad value feeds: a URL parameter name, or the customer id)."""
    for value in URL_VALUES:
        quoted = quote(value, safe="")
        yield f"/customer/{quoted}", "customer-id"
        yield f"/customer/{customer_id}?weeks={quoted}", "weeks"
        yield f"/?tab={quoted}", None
        for tab, params in PAGE_PARAMS.items():
            for param in params:
                others = f"&customer={customer_id}" if param != "customer" and "customer" in params else ""
                yield f"/?tab={tab}&{param}={quoted}{others}", param


def test_bad_urls_render_a_page_and_their_callbacks_answer(demo_app, spy, busy_customer):
    client = demo_app.server.test_client()
    failures = []
    seen = 0
    for path, feeds in url_cases(busy_customer):
        page = client.get(path)
        if page.status_code != 200:
            failures.append(f"GET {path[:80]}: HTTP {page.status_code}")
            continue
        for name, response in page_callbacks(demo_app, client, path, feeds):
            seen += 1
            if response.status_code not in (200, 204):
                failures.append(f"{path[:80]} -> {name}: HTTP {response.status_code}")
            elif LONG in response.get_data(as_text=True) and name != "render_page":
                failures.append(f"{path[:80]} -> {name}: echoes the 10,000-character input")
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"
    assert seen > 150
    for value in INJECTIONS + [LONG]:
        spy.assert_never_saw(value)


def test_a_bad_customer_path_is_explained_not_queried(demo_app, spy):
    client = demo_app.server.test_client()
    for value, expected in [("1; drop table x", "is not a customer id"),
                            ("-1", "is not a customer id"),
                            ("9" * 1000, "is not a customer id"),
                            (LONG, "not one of the dashboard's pages"),
                            ("99999999", "There is no customer with id 99999999")]:
        shown = json.dumps([r.get_json() for _, r in page_callbacks(
            demo_app, client, f"/customer/{quote(value, safe='')}") if r.status_code == 200])
        assert expected in shown, value[:30]
    spy.assert_never_saw("1; drop table x")


@pytest.mark.parametrize("value,words", [
    ("2026-02-30", "not a date"),
    ("2026-W60", "does not exist"),
    ("0001-01-01..9999-12-31", "between"),
    ("2026-05-04..2026-02-30", "not a date"),
])
def test_impossible_dates_and_weeks_get_a_message(demo_app, value, words):
    client = demo_app.server.test_client()
    param = "week" if "W" in value else ("period" if ".." in value else "date")
    tab = {"week": "entitlements", "period": "usage", "date": "access"}[param]
    shown = json.dumps([r.get_json() for _, r in page_callbacks(
        demo_app, client, f"/?tab={tab}&{param}={quote(value)}&customer=1") if r.status_code == 200])
    assert words in shown


def test_date_helpers_refuse_what_they_cannot_mean():
    from callbacks.parsers import parse_int, parse_iso_date, parse_iso_week

    assert parse_iso_date("2026-04-05") == dt.date(2026, 4, 5)
    assert parse_iso_date("2026-04-05T00:00:00") == dt.date(2026, 4, 5)
    assert parse_int(" 42 ") == 42
    for bad in ("2026-04-05; drop table x", "2026-02-30", "9999-12-31", LONG, 20260405):
        with pytest.raises(ValueError):
            parse_iso_date(bad)
    for bad in ("2026-W60", "9999-W52", "2026-W14' or 1=1", LONG):
        with pytest.raises(ValueError):
            parse_iso_week(bad)
    for bad in ("-1", "1_000", "٣", "1e3", "4.0", True, 10**30, LONG, "1; drop table x"):
        with pytest.raises(ValueError):
            parse_int(bad)
