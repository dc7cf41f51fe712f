"""Rendered callback responses, reused for identical requests on the same build.

The query cache (queries/runner.py) saves the warehouse round trip, but a cached
callback still rebuilds its figures and tables and serialises them: tens of
milliseconds of CPU per request, which is what limits a 2-core server when the whole
commercial team opens the same pages before a renewal meeting. Here the finished JSON
body of a `/_dash-update-component` response is kept, compressed once per encoding,
in the same flask-caching store as the query results (per process, or Redis shared
by every worker), and sent again for a byte-identical request.

The key is the SHA-256 of:
- the request as Dash reads it (`canonical_request`: the callback, its outputs, inputs
  and state as id, property and value, which inputs changed), as compact JSON with
  sorted keys: extra fields, other spacing or another key order are the same request
  and do not render or store again (serving/dash_requests.py has checked its shape),
- the warehouse build identity (a rebuilt warehouse is never answered from an older
  build's responses),
- whether the viewer may see personal data (serving/personal_data.py), the only
  per-user difference in what a callback renders,
- the app's code (a hash of the Python sources of callbacks/, components/, queries/ and
  serving/, so a new release sharing a Redis never serves an old release's output),
- the chosen content encoding.

Single flight: identical requests arriving together (a room of users opening the same
page) wait for the first one's render instead of all rendering it. In a worker, the
first holds a per-key lock (queries/cache.py's SingleFlight, the one the query runner
uses too) until its response is stored; across the workers sharing a cache (Redis),
it also puts a "rendering" marker in the cache (an atomic add) that the others' first
requests wait on, polling for the stored body. Nobody waits longer than
RENDER_WAIT_SECONDS or past the request's deadline (ACCURX_REQUEST_BUDGET_SECONDS,
which the wait counts toward), and a render that fails removes its marker. A render
that is not stored (a warehouse error, a stale copy) is handed to the requests of the
same worker that waited for it, which send it as it is (`"response_cache": "shared"`)
instead of rendering it again against a warehouse that is failing.

A response is stored only when it is a 200, at most MAX_STORED_BYTES as stored, and
every query it made was answered from the current build (no warehouse error, no stale copy: those must be retried next
time). Sign-in, the request-shape check and the callback timer run before the lookup
(they are registered first), so a cached response is never sent to a signed-out
client, and the callback's log line says `"response_cache": "hit"`.

ACCURX_RESPONSE_CACHE=0 (config.py) turns it off: serving/__init__.py then does not
install it; with CACHE_TYPE=NullCache it installs nothing either.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import dash
import flask

from config import REPO_ROOT
from queries.cache import SingleFlight
from queries.errors import WarehouseError
from queries.request_state import request_answers_are_current, request_deadline
from queries.runner import current_runner
from serving.personal_data import viewer_may_see_personal_data
from serving.static_caching import BROTLI_QUALITY

CALLBACK_PATH = "/_dash-update-component"
KEY_PREFIX = "response:"
MARKER_PREFIX = "response-rendering:"
POLL_SECONDS = 0.05
_G_KEY = "accurx_response_cache"
_SOURCE_FOLDERS = ("callbacks", "components", "queries", "serving")
# The encodings this cache compresses for, best first (flask-compress's order).
_ENCODINGS = ("br", "gzip")
# How long a request waits for an identical one's render before rendering itself.
RENDER_WAIT_SECONDS = 20.0
# Larger rendered bodies (compressed) are sent but not kept: a few requests for big
# pages cannot fill the store.
MAX_STORED_BYTES = 512 * 1024
_REQUEST_FIELDS = ("output", "outputs", "inputs", "state", "changedPropIds")


def _dependency(item, with_value: bool):
    if isinstance(item, list):  # an ALL / ALLSMALLER wildcard's components
        return [_dependency(i, with_value) for i in item]
    if not isinstance(item, dict):
        return item
    kept = {"id": item.get("id"), "property": item.get("property")}
    if with_value:
        kept["value"] = item.get("value")  # Dash reads a missing value as None
    return kept


def canonical_request(body) -> bytes:
    """The fields of a callback request body that Dash uses, as canonical JSON bytes."""
    if not isinstance(body, dict):
        return b""
    fields = {name: body.get(name) for name in _REQUEST_FIELDS}
    for name in ("inputs", "state"):
        if isinstance(fields[name], list):
            fields[name] = [_dependency(item, True) for item in fields[name]]
    outputs = fields["outputs"]
    fields["outputs"] = ([_dependency(o, False) for o in outputs] if isinstance(outputs, list)
                         else _dependency(outputs, False))
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()



def code_version(root: Path = REPO_ROOT) -> str:
    """A hash of the app's Python and SQL sources: changes with every release."""
    digest = hashlib.sha256()
    for folder in _SOURCE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".py", ".sql") and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _rendered_elsewhere(runner, key: str, wait_seconds: float) -> bytes | None:
    """Another worker holds `key`'s marker: its stored body, or None if it gave up (its
    marker is gone without a body) or took longer than `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        body = runner.cache.get(key)
        if body is not None:
            return body
        if runner.cache.get(MARKER_PREFIX + key) is None:
            return runner.cache.get(key)
    return None


def _encoding(accept_encoding: str) -> str:
    """The first of _ENCODINGS the client accepts ('identity' when none)."""
    offered = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    for name in _ENCODINGS:
        if name in offered:
            return name
    return "identity"


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        import brotli

        return brotli.compress(data, quality=BROTLI_QUALITY)
    if encoding == "gzip":
        import gzip

        return gzip.compress(data, compresslevel=6)
    return data


def install(app: dash.Dash) -> None:
    """Register the lookup (before Dash runs the callback) and the store (after)."""
    server = app.server
    if server.config["ACCURX_SETTINGS"].cache_type == "NullCache":
        return  # nothing would ever be kept
    version = code_version()

    def key_for(encoding: str) -> str | None:
        runner = current_runner()
        if not runner.cache.enabled:
            return None
        try:
            build = runner.backend.identity()
        except WarehouseError:
            return None  # the warehouse cannot say which build: let the callback decide
        digest = hashlib.sha256()
        for part in (version, build, str(viewer_may_see_personal_data()), encoding):
            digest.update(part.encode())
            digest.update(b"\0")
        digest.update(canonical_request(flask.request.get_json(silent=True)))
        return KEY_PREFIX + digest.hexdigest()

    flights = SingleFlight()
    server.extensions["accurx_response_flights"] = flights

    def cached_response(body: bytes, encoding: str) -> flask.Response:
        response = flask.Response(body, mimetype="application/json")
        if encoding != "identity":
            response.headers["Content-Encoding"] = encoding  # flask-compress leaves it be
            response.headers["Vary"] = "Accept-Encoding"
        return response

    @server.before_request
    def serve_cached_response():
        request = flask.request
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        encoding = _encoding(request.headers.get("Accept-Encoding", ""))
        key = key_for(encoding)
        if key is None:
            setattr(flask.g, _G_KEY, ("skip", None, encoding))
            return None
        runner = current_runner()
        body = runner.cache.get(key)
        deadline = request_deadline(runner.settings.request_budget_seconds)
        wait = RENDER_WAIT_SECONDS if deadline is None else min(
            RENDER_WAIT_SECONDS, max(0.0, deadline - time.monotonic()))
        if body is None and flights.acquire(key, wait):
            flask.g.accurx_response_flight = key  # released in release_flight
            body = runner.cache.get(key)  # rendered by the request we waited for
            shared = None if body is not None else flights.outcome(key)
            if shared is not None:  # its render was not stored: send it as it is
                flask.g.accurx_response_outcome = shared  # passed on in release_flight
                setattr(flask.g, _G_KEY, ("shared", key, encoding))
                return flask.Response(shared, mimetype="application/json")
            if body is None:
                if runner.cache.add(MARKER_PREFIX + key, 1, timeout=int(RENDER_WAIT_SECONDS)):
                    flask.g.accurx_response_marker = key  # removed in release_flight
                else:
                    body = _rendered_elsewhere(runner, key, wait)
        if body is None:
            setattr(flask.g, _G_KEY, ("miss", key, encoding))
            return None
        setattr(flask.g, _G_KEY, ("hit", key, encoding))
        return cached_response(body, encoding)

    @server.teardown_request
    def release_flight(_exc):
        marker = flask.g.pop("accurx_response_marker", None)
        if marker is not None:  # after store_response: the body is in before the marker goes
            current_runner().cache.delete(MARKER_PREFIX + marker)
        key = flask.g.pop("accurx_response_flight", None)
        if key is not None:
            flights.release(key, flask.g.pop("accurx_response_outcome", None))

    @server.after_request
    def store_response(response: flask.Response) -> flask.Response:
        state = flask.g.get(_G_KEY)
        if not state or state[0] != "miss":
            return response
        _, key, encoding = state
        if response.status_code != 200 or response.mimetype != "application/json" or response.is_streamed:
            return response
        if not request_answers_are_current():
            flask.g.accurx_response_outcome = response.get_data()  # for those who waited
            return response
        body = _compress(response.get_data(), encoding)
        if len(body) <= MAX_STORED_BYTES:
            current_runner().cache.set(key, body)  # a cache that is down is skipped
        if encoding != "identity":
            response.set_data(body)
            response.headers["Content-Encoding"] = encoding
            response.headers["Vary"] = "Accept-Encoding"
        return response
