"""Warm after every build (serving/warm_up.py): once a build is live, the requests a
browser sends for every tab's default view and every customer's page are answered from
the response cache, without asking the warehouse; bounded in time, one warmer per
build and shared cache, and a rebuilt warehouse is warmed again."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time

import duckdb
from serving_support import ALLOWED_GROUP, signed_in_user

from components import layout
from queries.runner import EXTENSION_KEY
from serving import warm_up

# Two requests chromium sent when opening `/` (the Access tab, its default view),
# captured byte for byte with benchmarks/capture_app.py: the page itself, and the trend
# chart after the date picker mounted.
BROWSER_BODIES = [
    (b'{"output":"..page.children...page-key.data...nav.children..","outputs":[{"id":"page",'
    b'"property":"children"},{"id":"page-key","property":"data"},{"id":"nav","property":'
    b'"children"}],"inputs":[{"id":"url","property":"pathname","value":"/"},{"id":"url",'
    b'"property":"search","value":""}],"changedPropIds":["url.pathname","url.search"],'
    b'"parsedChangedPropsIds":["url.pathname","url.search"],"state":[{"id":"page-key",'
    b'"property":"data"}]}'),
    (b'{"output":"..access-trend.figure...access-trend.config..","outputs":[{"id":"access-trend",'
    b'"property":"figure"},{"id":"access-trend","property":"config"}],"inputs":[{"id":'
    b'{"param":"date","type":"url-param-date"},"property":"date"},{"id":{"param":"pick",'
    b'"type":"url-param-value"},"property":"value","value":null}],"changedPropIds":'
    b'["{\\"param\\":\\"date\\",\\"type\\":\\"url-param-date\\"}.date"],"parsedChangedPropsIds":'
    b'[{"param":"date","type":"url-param-date"}]}'),
]
CHROMIUM_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "gzip, deflate, br, zstd",
                    "Referer": "http://localhost/"}


def organisation_count(db_path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute('select count(*) from "04_PRESENTATION".organisations').fetchone()[0]


def warmed(make_app, **env):
    """An app with warming on, once its first warm-up has finished; and its warmer."""
    app = make_app(ACCURX_WARM_UP_SECONDS=env.pop("seconds", "600"), **env)
    warmer = app.server.extensions["accurx_warmer"]
    assert warmer.thread is not None, "the factory's first request starts the warm-up"
    warmer.thread.join(timeout=600)
    assert not warmer.thread.is_alive()
    return app, warmer


def counting_executes(app, monkeypatch) -> list:
    backend = app.server.extensions[EXTENSION_KEY].backend
    calls: list = []
    execute = backend.execute

    def counted(*args, **kwargs):
        calls.append(args[0])
        return execute(*args, **kwargs)

    monkeypatch.setattr(backend, "execute", counted)
    return calls


def callback_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "accurx.callbacks"]


def replayed_from_cache(app, monkeypatch, caplog) -> list:
    """Send the browser's bodies to `app`; assert both were answered from the response
    cache, and return the warehouse calls made meanwhile (expected: none)."""
    calls = counting_executes(app, monkeypatch)
    caplog.set_level("INFO", logger="accurx.callbacks")
    caplog.clear()  # the warm-up's own lines
    client = app.server.test_client()
    for body in BROWSER_BODIES:
        assert client.post("/_dash-update-component", data=body, headers=CHROMIUM_HEADERS).status_code == 200
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["hit", "hit"]
    return calls


def test_after_warming_the_default_tab_is_answered_from_the_cache_without_a_query(
        make_app, demo_warehouse, monkeypatch, caplog):
    app, warmer = warmed(make_app)
    report = warmer.last_report
    customers = organisation_count(demo_warehouse.db_path)
    assert report["outcome"] == "finished" and report["errors"] == 0
    assert report["pages"] == report["of_pages"] == 1 + len(layout.TAB_MODULES) + customers  # "/", the tabs, customers
    assert report["requests"] > report["pages"]

    assert replayed_from_cache(app, monkeypatch, caplog) == []


def test_a_cold_app_does_query_for_the_same_requests(make_app, monkeypatch, caplog):
    """The control of the test above: without warming, the same bodies are rendered."""
    app = make_app(ACCURX_WARM_UP_SECONDS="0")
    assert "accurx_warmer" not in app.server.extensions
    calls = counting_executes(app, monkeypatch)
    caplog.set_level("INFO", logger="accurx.callbacks")
    client = app.server.test_client()
    for body in BROWSER_BODIES:
        assert client.post("/_dash-update-component", data=body, headers=CHROMIUM_HEADERS).status_code == 200
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["miss", "miss"]
    assert calls


def test_one_warmer_per_build_and_shared_cache(make_app):
    _, warmer = warmed(make_app)
    build = warmer.last_report["build"]
    # What a second worker sharing this cache (Redis) finds: the first one's marker.
    again = warmer.warm(build)
    assert again["outcome"] == "another worker warms this build" and again["pages"] == 0
    assert warmer.notice() is None  # this process has warmed this build already


def test_warming_stops_at_its_time_limit(make_app):
    _, warmer = warmed(make_app, seconds="0.001")
    report = warmer.last_report
    assert report["outcome"] == "out of time" and report["pages"] < report["of_pages"]


def test_a_rebuilt_warehouse_is_warmed_again_when_a_request_notices_it(
        make_app, demo_warehouse, tmp_path):
    db_path = tmp_path / "accurx.duckdb"
    shutil.copy(demo_warehouse.db_path, db_path)
    app, warmer = warmed(make_app, ACCURX_DUCKDB_PATH=str(db_path))
    first = warmer.last_report["build"]
    rebuilt = tmp_path / "accurx.building"
    shutil.copy(demo_warehouse.db_path, rebuilt)
    os.replace(rebuilt, db_path)  # as `warehouse build` swaps a new build in

    app.server.test_client().get("/_dash-layout")
    assert warmer.thread is not None
    warmer.thread.join(timeout=600)
    report = warmer.last_report
    assert report["build"] != first and report["outcome"] == "finished"
    assert report["pages"] == report["of_pages"]


def test_warming_off_installs_nothing(make_app):
    app = make_app(ACCURX_WARM_UP_SECONDS="0")
    assert "accurx_warmer" not in app.server.extensions


def test_with_sign_in_the_warm_up_is_let_through_and_a_client_cannot_pose_as_it(
        make_app, oidc_provider, monkeypatch, caplog):
    app, warmer = warmed(make_app, OIDC_ISSUER=oidc_provider, OIDC_CLIENT_ID="accurx-dashboard",
                         OIDC_CLIENT_SECRET="client-secret", SECRET_KEY="s" * 32,
                         OIDC_ALLOWED_GROUPS=ALLOWED_GROUP)
    assert warmer.last_report["outcome"] == "finished" and warmer.last_report["errors"] == 0
    client = app.server.test_client()
    # The marker is an object in the WSGI environ: no header or value a client sends matches it.
    forged = client.post("/_dash-update-component", data=BROWSER_BODIES[0],
                         headers={**CHROMIUM_HEADERS, "accurx.warm_up": "1"},
                         environ_base={warm_up.ENVIRON_KEY: "1"})
    assert forged.status_code == 401
    with client.session_transaction() as session:
        session["user"] = signed_in_user("alice", [ALLOWED_GROUP])
    caplog.set_level("INFO", logger="accurx.callbacks")
    caplog.clear()
    calls = counting_executes(app, monkeypatch)
    for body in BROWSER_BODIES:
        assert client.post("/_dash-update-component", data=body, headers=CHROMIUM_HEADERS).status_code == 200
    assert [line["response_cache"] for line in callback_lines(caplog)] == ["hit", "hit"]
    assert calls == []


# ---------------------------------------------------------------- giving way to people
def _blocking_server():
    """A bare Flask app behind the warmer's traffic counter: `/person` answers once
    `release` is set, `/warm` records when it was served."""
    import flask

    server = flask.Flask(__name__)
    release, served = threading.Event(), []

    @server.get("/person")
    def person():
        release.wait(timeout=30)
        return "done"

    @server.get("/warm")
    def warm():
        served.append(time.monotonic())
        return "warm"

    server.wsgi_app = traffic = warm_up.Traffic(server.wsgi_app)
    return server, traffic, release, served


def test_the_warmer_waits_until_nobody_else_is_being_served():
    server, traffic, release, served = _blocking_server()
    warmer = warm_up.Warmer(app=None, pages=list, budget_seconds=60, traffic=traffic)
    person = threading.Thread(target=lambda: server.test_client().get("/person"))
    person.start()
    while traffic.in_flight == 0:
        time.sleep(0.01)
    client = warm_up._GivingWayClient(server, warmer, deadline=time.monotonic() + 60)
    client.environ_base[warm_up.ENVIRON_KEY] = warm_up._TOKEN
    warming = threading.Thread(target=lambda: client.get("/warm"))
    warming.start()
    time.sleep(1.0)
    assert served == [], "the warmer went ahead while a person's request was in flight"
    released = time.monotonic()
    release.set()
    person.join(timeout=30)
    warming.join(timeout=30)
    assert len(served) == 1 and served[0] - released >= warm_up.QUIET_SECONDS
    assert traffic.in_flight == 0  # its own request was not counted as a person's


def test_giving_way_is_bounded_by_the_warm_ups_deadline():
    server, traffic, release, served = _blocking_server()
    warmer = warm_up.Warmer(app=None, pages=list, budget_seconds=60, traffic=traffic)
    person = threading.Thread(target=lambda: server.test_client().get("/person"))
    person.start()
    try:
        while traffic.in_flight == 0:
            time.sleep(0.01)
        client = warm_up._GivingWayClient(server, warmer, deadline=time.monotonic() + 0.3)
        client.environ_base[warm_up.ENVIRON_KEY] = warm_up._TOKEN
        assert client.get("/warm").text == "warm" and len(served) == 1
        assert traffic.in_flight == 1  # the person is still being served
    finally:
        release.set()
        person.join(timeout=30)


def test_the_warm_up_thread_runs_at_the_lowest_cpu_priority(make_app):
    _, warmer = warmed(make_app, seconds="0.001")  # its pages are listed before the time runs out
    seen = []

    def pages():
        seen.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                     os.getpriority(os.PRIO_PROCESS, os.getpid())))
        return []

    warmer.pages = pages
    warmer._warmed = None
    warmer.runner.cache.delete(warm_up.MARKER_PREFIX + warmer.last_report["build"])
    warmer.notice().join(timeout=60)
    own = os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert seen == [(19, own)], "only the warm-up thread is reniced, not the worker"


def test_a_small_per_process_cache_stops_the_warm_up_before_it_evicts_the_tab_views(
        make_app, monkeypatch, caplog):
    """At 3,000 customers the pages outnumber a per-process cache's room: the warm-up
    stops when it is nearly full instead of pushing out the tab views it stored first."""
    import config

    monkeypatch.setattr(config, "SIMPLE_CACHE_MAX_ENTRIES", 150)
    app, warmer = warmed(make_app)
    report = warmer.last_report
    assert report["outcome"] == "cache full"
    assert len(layout.TAB_MODULES) < report["pages"] < report["of_pages"]
    backend = app.server.extensions[EXTENSION_KEY].cache.store.cache
    assert len(backend._cache) <= 150

    assert replayed_from_cache(app, monkeypatch, caplog) == []


def test_workers_sharing_a_file_cache_warm_once_and_serve_each_others_renders(
        make_app, tmp_path, monkeypatch, caplog):
    """Several gunicorn workers with no Redis share a FileSystemCache (gunicorn.conf.py,
    config.share_cache_between_workers): one warms a build for all, and what one rendered
    the other answers without asking the warehouse."""
    shared = {"CACHE_TYPE": "FileSystemCache", "ACCURX_CACHE_DIR": str(tmp_path / "cache")}
    first, first_warmer = warmed(make_app, **shared)
    assert first_warmer.last_report["outcome"] == "finished"
    assert 0 < first.server.extensions[EXTENSION_KEY].cache.fill() < warm_up.FULL_SHARE

    second, second_warmer = warmed(make_app, **shared)  # another process, the same directory
    assert second_warmer.last_report["outcome"] == "another worker warms this build"
    assert replayed_from_cache(second, monkeypatch, caplog) == []
    files = list((tmp_path / "cache").iterdir())
    assert files and all(f.stat().st_mode & 0o077 == 0 for f in files)  # only this user reads them
