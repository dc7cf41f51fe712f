"""One structured log line per callback request (serving/observability.py): JSON with the
question, the callback, the page, the time taken, the runner's cache hits and misses
and rows for that request, and the outcome; never an input value, an id or a user."""

from __future__ import annotations

import json
import logging

import pytest
from serving_support import build_callback_body, callback_key, signed_in_user

from serving.observability import page_of

FIELDS = {"event", "question", "callback", "page", "trigger", "ms", "queries", "cache_hits",
          "cache_misses", "stale", "rows", "warehouse_ms", "retries", "warehouse_errors",
          "status", "outcome", "response_cache"}


def lines(caplog, logger: str) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == logger]


def post(app, name: str, values: list, referrer: str = "http://localhost/?tab=usage&period=all"):
    body = build_callback_body(app, callback_key(app, name), values)
    return app.server.test_client().post("/_dash-update-component", json=body,
                                         headers={"Referer": referrer})


@pytest.fixture
def fresh_app(make_app):
    """A new app: its cache is empty, so the first answer is a miss. Rendered responses
    are not reused (tests/serving/test_response_cache.py), so a repeat runs its queries."""
    return make_app(ACCURX_RESPONSE_CACHE="0")


def test_one_line_per_callback_with_the_runners_counters(fresh_app, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    response = post(fresh_app, "show_leaderboard", ["all", "SMS", None, None, None])
    assert response.status_code == 200
    first = lines(caplog, "accurx.callbacks")
    queries = lines(caplog, "accurx.queries")
    assert len(first) == 1
    line = first[0]
    assert set(line) == FIELDS
    assert line["event"] == "callback" and line["question"] == "usage"
    assert line["callback"] == "show_leaderboard" and line["page"] == "tab:usage"
    assert line["status"] == 200 and line["outcome"] == "ok" and line["ms"] > 0
    assert line["queries"] == len(queries) >= 2
    assert line["cache_misses"] == sum(q["cache"] == "miss" for q in queries) >= 1
    assert line["cache_hits"] + line["cache_misses"] == line["queries"]
    assert line["rows"] == sum(q["rows"] for q in queries) > 0

    caplog.clear()
    assert post(fresh_app, "show_leaderboard", ["all", "SMS", None, None, None]).status_code == 200
    again = lines(caplog, "accurx.callbacks")
    assert len(again) == 1 and again[0]["cache_misses"] == 0
    assert again[0]["cache_hits"] == again[0]["queries"] == line["queries"]


def test_outcomes_no_update_rejected_and_warehouse_error(demo_app, make_app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    assert post(demo_app, "open_clicked_bar", [None]).status_code == 204
    demo_app.server.test_client().post("/_dash-update-component", json={"output": "nope"})
    broken = make_app(ACCURX_DUCKDB_PATH=str(tmp_path / "missing.duckdb"))
    assert post(broken, "show_leaderboard", ["all", None, None, None, None]).status_code == 200
    outcomes = [(line["callback"], line["outcome"]) for line in lines(caplog, "accurx.callbacks")]
    assert outcomes == [("open_clicked_bar", "no_update"), ("unknown", "rejected"),
                        ("show_leaderboard", "warehouse_error")]


def test_no_input_value_id_or_user_in_the_line(make_app, busy_customer, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(OIDC_ISSUER="https://issuer.invalid", OIDC_CLIENT_ID="dashboard",
                   OIDC_CLIENT_SECRET="secret", SECRET_KEY="k" * 32)
    client = app.server.test_client()
    with client.session_transaction() as session:
        session["user"] = signed_in_user("alice-subject-42", ["g"])
    key = callback_key(app, "show_unpaid_events")
    body = build_callback_body(app, key, ["all", "1; drop table x", None, str(busy_customer)], changed=3)
    referrer = f"http://localhost/customer/{busy_customer}?weeks=13&feature=secret-filter"
    assert client.post("/_dash-update-component", json=body, headers={"Referer": referrer}).status_code == 200
    (line,) = lines(caplog, "accurx.callbacks")
    assert line["page"] == "customer" and line["question"] == "unpaid"
    words = json.dumps({k: v for k, v in line.items() if isinstance(v, (str, list))})
    for secret in (str(busy_customer), "drop table", "alice-subject-42", "secret-filter", "weeks"):
        assert secret not in words


@pytest.mark.parametrize("referrer,page", [
    ("http://host/?tab=churn&feature=SMS", "tab:churn"),
    ("http://host/", "home"),
    ("http://host/customer/1042?weeks=13", "customer"),
    ("http://host/?tab=%3Cscript%3E", "home"),
    ("http://host/elsewhere", "other"),
    (None, "other"),
])
def test_page_names_only_the_tab(referrer, page):
    assert page_of(referrer) == page
