"""Cache keys cannot be multiplied: the response cache keys on the request as Dash reads
it, periods are clamped to the data before they key a query, big bodies are not kept,
and the last good copies have a budget a flood cannot empty (tests/queries)."""

from __future__ import annotations

import datetime as dt
import json
import logging

from serving_support import build_callback_body, callback_key
from test_response_cache import LEADERBOARD, callback_lines

from callbacks.filters import resolve_period
from serving import response_cache

HEADERS = {"Accept-Encoding": "br", "Referer": "http://localhost/?tab=usage"}


def send(client, body, **dumps):
    return client.post("/_dash-update-component", data=json.dumps(body, **dumps),
                       content_type="application/json", headers=HEADERS)


def test_equivalent_bodies_are_one_response(make_app, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app()
    client = app.server.test_client()
    body = build_callback_body(app, callback_key(app, "show_leaderboard"), LEADERBOARD)
    assert send(client, body).status_code == 200
    padded = {"padding": "x" * 2000, **body, "parsedChangedPropsIds": ["anything"]}
    padded["inputs"] = [{**item, "extra": [1, 2, 3]} for item in body["inputs"]]
    for variant, dumps in [(padded, {}), (body, {"indent": 3}), (dict(reversed(body.items())), {})]:
        caplog.clear()
        assert send(client, variant, **dumps).status_code == 200
        assert [line["response_cache"] for line in callback_lines(caplog)] == ["hit"], dumps


def test_a_body_over_the_size_limit_is_sent_but_not_kept(make_app, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="accurx")
    monkeypatch.setattr(response_cache, "MAX_STORED_BYTES", 200)
    app = make_app()
    client = app.server.test_client()
    body = build_callback_body(app, callback_key(app, "show_leaderboard"), LEADERBOARD)
    first, again = send(client, body), send(client, body)
    assert first.status_code == again.status_code == 200 and len(first.get_data()) > 200
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["miss", "miss"]


def test_custom_periods_are_clamped_to_the_data_weeks():
    first, last = dt.date(2026, 1, 5), dt.date(2026, 6, 29)
    everything = resolve_period("all", first, last)
    for value in ("1900-01-01..2999-12-31", "1901-02-03..2998-07-08", "2025-12-31..2026-07-20"):
        period = resolve_period(value, first, last)
        assert (period.start_week, period.end_week) == (everything.start_week, everything.end_week), value
        assert period.picker_dates[0] == value[:10]  # the picker still shows what was chosen
    inside = resolve_period("2026-02-04..2026-03-04", first, last)
    assert (inside.start_week, inside.end_week) == (dt.date(2026, 2, 2), dt.date(2026, 3, 2))
    outside = resolve_period("1950-01-02..1950-03-05", first, last)
    assert not outside.overlaps_data


def test_periods_wider_than_the_data_query_the_same_weeks(make_app, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_RESPONSE_CACHE="0")
    client = app.server.test_client()
    key = callback_key(app, "show_leaderboard")
    lines = []
    for period in ("1900-01-01..2999-12-31", "1901-02-03..2998-07-08"):
        caplog.clear()
        body = build_callback_body(app, key, [period, *LEADERBOARD[1:]])
        assert send(client, body).status_code == 200
        (line,) = callback_lines(caplog)
        lines.append(line)
    assert lines[0]["cache_misses"] > 0
    assert lines[1]["queries"] > 0 and lines[1]["cache_misses"] == 0, lines[1]
