"""Rendered callback responses reused for identical requests (serving/response_cache.py):
the same bytes as a fresh render, never across builds, never after a failure, never
across viewers who see different data, never before sign-in."""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import threading
import time

import brotli
import pytest
from serving_support import build_callback_body, callback_key, signed_in_user

from serving import response_cache

LEADERBOARD = ["all", "SMS", None, None, None]


def callback_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.callbacks"]


def post(app, name: str, values: list, encoding: str = "br", client=None):
    body = build_callback_body(app, callback_key(app, name), values)
    client = client or app.server.test_client()
    return client.post("/_dash-update-component", json=body,
                       headers={"Accept-Encoding": encoding,
                                "Referer": "http://localhost/?tab=usage&period=all"})


def decoded(response) -> dict:
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        data = brotli.decompress(data)
    elif encoding == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


@pytest.fixture
def own_warehouse(demo_warehouse, tmp_path):
    """A private copy of the demo warehouse (these tests replace and remove it)."""
    path = tmp_path / "accurx.duckdb"
    shutil.copyfile(demo_warehouse.db_path, path)
    return path


def test_repeat_is_served_from_the_response_cache_with_the_same_content(make_app, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app()
    first = post(app, "show_leaderboard", LEADERBOARD)
    caplog.clear()
    again = post(app, "show_leaderboard", LEADERBOARD)
    assert first.status_code == again.status_code == 200
    assert again.headers["Content-Encoding"] == "br"
    assert decoded(again) == decoded(first)
    (line,) = callback_lines(caplog)
    assert line["response_cache"] == "hit" and line["queries"] == 0 and line["outcome"] == "ok"

    # Another encoding is rendered (and stored) once for itself, with the same content.
    plain = post(app, "show_leaderboard", LEADERBOARD, encoding="gzip")
    assert plain.headers["Content-Encoding"] == "gzip" and decoded(plain) == decoded(first)
    # A different input is a different request.
    other = post(app, "show_leaderboard", ["all", "Video", None, None, None])
    assert decoded(other) != decoded(first)
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["hit", "miss", "miss"]


def test_without_the_response_cache_every_request_renders(make_app, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_RESPONSE_CACHE="0")
    first, again = (post(app, "show_leaderboard", LEADERBOARD) for _ in range(2))
    assert decoded(first) == decoded(again)
    assert [(line["response_cache"], line["queries"] > 0) for line in callback_lines(caplog)] == [
        ("off", True), ("off", True)]


def test_a_rebuilt_warehouse_is_never_answered_from_the_old_builds_responses(make_app, own_warehouse, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_DUCKDB_PATH=str(own_warehouse))
    before = decoded(post(app, "show_leaderboard", LEADERBOARD))
    rebuild(own_warehouse)
    after = post(app, "show_leaderboard", LEADERBOARD)
    line = callback_lines(caplog)[-1]
    assert line["response_cache"] == "miss" and line["queries"] > 0
    assert decoded(after) == before


class FailingWarehouse:
    """Makes `app`'s backend raise WarehouseError(`kind`) while `failing` is True (a
    fault on a file that is still there: the build identity does not change)."""

    def __init__(self, app, monkeypatch, kind: str):
        from queries.errors import WarehouseError
        from queries.runner import current_runner

        with app.server.app_context():
            backend = current_runner().backend
        real_execute = backend.execute
        self.failing = False

        def execute(*args, **kwargs):
            if self.failing:
                raise WarehouseError(f"The warehouse failed ({kind}).", kind)
            return real_execute(*args, **kwargs)

        monkeypatch.setattr(backend, "execute", execute)


def rebuild(path):
    """The same content as a new file swapped in (new inode and mtime): a new build."""
    rebuilt = path.with_suffix(".new")
    shutil.copyfile(path, rebuilt)
    os.replace(rebuilt, path)


def test_a_stale_render_is_not_kept(make_app, own_warehouse, monkeypatch, caplog):
    """On a new build whose queries time out, the page shows the last good copies marked
    stale; that render is not stored, so once the warehouse answers the same request is
    rendered afresh, and only then reused. While the file is missing there is no build
    to key on at all."""
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_DUCKDB_PATH=str(own_warehouse), ACCURX_OUTAGE_COOLDOWN_SECONDS="0",
                   ACCURX_QUERY_ATTEMPTS="1")
    warehouse = FailingWarehouse(app, monkeypatch, "timeout")
    fresh = decoded(post(app, "show_leaderboard", LEADERBOARD))
    rebuild(own_warehouse)
    warehouse.failing = True
    during = decoded(post(app, "show_leaderboard", LEADERBOARD))
    assert "Showing results from" in json.dumps(during)
    warehouse.failing = False
    after, again = (decoded(post(app, "show_leaderboard", LEADERBOARD)) for _ in range(2))
    assert after == again == fresh

    hidden = own_warehouse.with_suffix(".hidden")
    os.replace(own_warehouse, hidden)
    missing = decoded(post(app, "show_leaderboard", LEADERBOARD))
    assert "Showing results from" in json.dumps(missing)
    assert [(line["response_cache"], line["outcome"]) for line in callback_lines(caplog)] == [
        ("miss", "ok"), ("miss", "stale"), ("miss", "ok"), ("hit", "ok"), ("skip", "stale")]


def test_a_failed_render_is_not_kept(make_app, own_warehouse, monkeypatch, caplog):
    """A warehouse error on a file that is still there (same build identity) shows the
    error; the next identical request asks the warehouse again."""
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_DUCKDB_PATH=str(own_warehouse), ACCURX_STALE_MAX_AGE_SECONDS="0",
                   ACCURX_QUERY_ATTEMPTS="1")
    warehouse = FailingWarehouse(app, monkeypatch, "query_failed")
    warehouse.failing = True
    failed = post(app, "show_leaderboard", LEADERBOARD)
    assert "The warehouse failed" in json.dumps(decoded(failed))
    warehouse.failing = False
    answered = post(app, "show_leaderboard", LEADERBOARD)
    assert "The warehouse failed" not in json.dumps(decoded(answered))
    assert [(line["response_cache"], line["outcome"]) for line in callback_lines(caplog)] == [
        ("miss", "warehouse_error"), ("miss", "ok")]


def test_viewers_of_personal_data_have_their_own_responses(make_app, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app()
    post(app, "show_leaderboard", LEADERBOARD)
    monkeypatch.setattr(response_cache, "viewer_may_see_personal_data", lambda: True)
    post(app, "show_leaderboard", LEADERBOARD)
    post(app, "show_leaderboard", LEADERBOARD)
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["miss", "miss", "hit"]


def test_a_signed_out_request_never_gets_a_kept_response(make_app):
    app = make_app(OIDC_ISSUER="https://issuer.invalid", OIDC_CLIENT_ID="dashboard",
                   OIDC_CLIENT_SECRET="not-used", SECRET_KEY="s" * 32)
    signed_in = app.server.test_client()
    with signed_in.session_transaction() as session:
        session["user"] = signed_in_user("alice", [])
    assert post(app, "show_leaderboard", LEADERBOARD, client=signed_in).status_code == 200
    assert post(app, "show_leaderboard", LEADERBOARD, client=signed_in).status_code == 200
    signed_out = post(app, "show_leaderboard", LEADERBOARD)
    assert signed_out.status_code == 401
    assert b"leaderboard" not in signed_out.get_data()


def test_code_version_changes_with_the_sources(tmp_path):
    (tmp_path / "callbacks").mkdir()
    source = tmp_path / "callbacks" / "usage.py"
    source.write_text("x = 1\n")
    first = response_cache.code_version(tmp_path)
    assert response_cache.code_version(tmp_path) == first
    source.write_text("x = 2\n")
    assert response_cache.code_version(tmp_path) != first


def leaderboard_at_once(app, users: int) -> list:
    """The decoded bodies of `users` threads posting the same leaderboard request at once."""
    bodies, start = [], threading.Barrier(users)

    def user():
        start.wait()
        bodies.append(decoded(post(app, "show_leaderboard", LEADERBOARD)))

    threads = [threading.Thread(target=user) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return bodies


def test_identical_requests_arriving_together_render_once(make_app, own_warehouse, monkeypatch, caplog):
    """Eight users open the same page at once on a slow warehouse: one request renders,
    the others wait for it and are answered from the response cache."""
    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_DUCKDB_PATH=str(own_warehouse))
    from queries.runner import current_runner

    with app.server.app_context():
        backend = current_runner().backend
    real_execute = backend.execute

    def slow_execute(*args, **kwargs):
        time.sleep(0.3)
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(backend, "execute", slow_execute)
    bodies = leaderboard_at_once(app, users=8)
    assert len(bodies) == 8 and all(body == bodies[0] for body in bodies)
    outcomes = sorted(line["response_cache"] for line in callback_lines(caplog))
    assert outcomes == ["hit"] * 7 + ["miss"]
    assert len(app.server.extensions["accurx_response_flights"]) == 0  # no lock left behind


def test_requests_waiting_for_a_render_that_failed_send_it_instead_of_rendering_again(
        make_app, own_warehouse, monkeypatch, caplog):
    """Four users open the same page while the warehouse times out: one request renders
    the error state, the three waiting for it send that render (not stored: it is an
    error) instead of each asking the failing warehouse again."""
    from queries.errors import WarehouseError
    from queries.runner import current_runner

    caplog.set_level(logging.INFO, logger="accurx")
    app = make_app(ACCURX_DUCKDB_PATH=str(own_warehouse), ACCURX_OUTAGE_COOLDOWN_SECONDS="0",
                   ACCURX_QUERY_ATTEMPTS="1")
    with app.server.app_context():
        backend = current_runner().backend
    calls = []

    def timing_out(*args, **kwargs):
        calls.append(1)
        time.sleep(0.3)
        raise WarehouseError("The warehouse took longer than 30 s to answer.", "timeout")

    monkeypatch.setattr(backend, "execute", timing_out)
    bodies = leaderboard_at_once(app, users=4)
    assert len(bodies) == 4 and all(body == bodies[0] for body in bodies)
    assert "took longer than 30 s" in json.dumps(bodies[0])
    outcomes = sorted(line["response_cache"] for line in callback_lines(caplog))
    assert outcomes == ["miss"] + ["shared"] * 3
    rendered_once = len(calls)
    assert len(app.server.extensions["accurx_response_flights"]) == 0  # no lock left behind
    caplog.clear()
    post(app, "show_leaderboard", LEADERBOARD)  # later, nobody waiting: rendered afresh
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["miss"]
    assert len(calls) > rendered_once
