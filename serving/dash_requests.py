"""Only well-formed callback requests reach Dash; unknown files are 404, not 500.

Dash's `/_dash-update-component` trusts the shape of the JSON it is sent: a body that
names no callback, has fewer inputs than the callback declares, a string where a list
belongs, a wildcard id where a plain one belongs, more outputs than the callback
returns, or JSON nested 50,000 deep ends in a KeyError, IndexError, RecursionError or
an invalid-return error, and a 500. Here each request is checked before Dash sees it:

- its size (413 above MAX_BODY_BYTES) and its nesting depth (MAX_DEPTH, counted on the
  raw text before `json.loads`, whose recursion a deep body would exhaust);
- against the callback it names (`output`, a key of the app's callback map, which this
  module parses itself: "id.prop", "..id1.prop1...id2.prop2..", with an optional
  "@<hash>" of `allow_duplicate`): every input, state and output in the declared
  order, each with the declared property and an id of the declared shape (a string id
  equal to the declared one; a dictionary id with the declared keys, the declared
  values where the pattern has none, and a string, number or boolean under MATCH; a
  list of such under ALL and ALLSMALLER; MATCH meaning one value per key throughout);
- `changedPropIds` must name inputs that were sent.

A body that fails answers 400 with a short reason. The values themselves are the
callbacks' business: they validate every input before it reaches a query.

A `/_dash-component-suites/` path naming no registered file answers 404 (Dash raises a
DependencyException there).
"""

from __future__ import annotations

import itertools
import json
import re

import dash
import flask
from dash.exceptions import DependencyException
from flask.json.provider import DefaultJSONProvider

CALLBACK_PATH = "/_dash-update-component"
COMPONENT_SUITES = "/_dash-component-suites/"
# The largest callback request of this app is a few kilobytes (no callback takes a
# grid's rows as input); 256 KiB leaves room without letting a client tie up a worker.
MAX_BODY_BYTES = 256 * 1024
# The deepest body the renderer sends is about 8 levels (a chart's click data under an
# input); Python's json recursion gives out near 1,000.
MAX_DEPTH = 64
# Components under one ALL wildcard (the most the app renders is a few dozen).
MAX_WILDCARD_ITEMS = 1000
WILDCARDS = (["ALL"], ["MATCH"], ["ALLSMALLER"])
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class Malformed(ValueError):
    """A callback request that cannot be for this app; the message says why, briefly."""


# ---------------------------------------------------------------- the callback's key
def _dependency_spec(text: str) -> dict:
    """{"id": str or pattern dict, "property": str} of "id.prop" (prop without "@hash")."""
    component_id, _, prop = text.rpartition(".")
    if component_id.startswith("{"):
        component_id = json.loads(component_id)
    return {"id": component_id, "property": prop.split("@")[0]}


def declared_outputs(callback_key: str) -> list[dict] | dict:
    """The outputs a callback's key names, as the renderer writes them: one
    {"id", "property"} for "id.prop", a list of them for a multi-output key
    "..id1.prop1...id2.prop2.."; ids are strings as in the key."""
    if callback_key.startswith(".."):
        return [declared_outputs(part) for part in callback_key[2:-2].split("...")]
    component_id, _, prop = callback_key.rpartition(".")
    return {"id": component_id, "property": prop}


def _declared(callback_key: str, entry: dict) -> tuple[list[dict] | None, bool]:
    """(output specs, whether the renderer sends a list of them); None: no output."""
    if entry.get("no_output"):
        return None, False
    if callback_key.startswith(".."):
        return [_dependency_spec(p) for p in callback_key[2:-2].split("...")], True
    return [_dependency_spec(callback_key)], False


# ---------------------------------------------------------------- depth
def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of JSON text `raw` nest, without parsing it."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(itertools.accumulate(1 if b in b"[{" else -1 for b in brackets))


# ---------------------------------------------------------------- ids and dependencies
def _is_many(pattern) -> bool:
    return isinstance(pattern, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())


def _check_id(pattern, sent, matched: dict) -> None:
    if isinstance(pattern, str):
        if sent != pattern:
            raise Malformed("an id is not the callback's")
        return
    if not isinstance(sent, dict) or set(sent) != set(pattern):
        raise Malformed("an id does not have the callback's pattern")
    for key, want in pattern.items():
        got = sent[key]
        if want in WILDCARDS:
            if not isinstance(got, (str, int, float)) or (isinstance(got, str) and len(got) > 200):
                raise Malformed("a wildcard id value is not a string or number")
            if want == ["MATCH"] and matched.setdefault(key, got) != got:
                raise Malformed("MATCH ids do not agree")
        elif got != want or type(got) is not type(want):
            raise Malformed("an id does not have the callback's pattern")


def _check_item(spec: dict, item, matched: dict) -> None:
    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("property"), str):
        raise Malformed("a dependency is not an object with an id and a property")
    if item["property"].split("@")[0] != spec["property"]:
        raise Malformed("a property is not the callback's")
    _check_id(spec["id"], item["id"], matched)


def _check_slot(spec: dict, sent, matched: dict) -> None:
    if _is_many(spec["id"]):
        if not isinstance(sent, list) or len(sent) > MAX_WILDCARD_ITEMS:
            raise Malformed("a wildcard dependency is not a list")
        for item in sent:
            _check_item(spec, item, matched)
    else:
        _check_item(spec, sent, matched)


def _check_slots(specs: list[dict], sent, what: str, matched: dict) -> None:
    """`specs` as the callback map has them (pattern ids as JSON text) or parsed."""
    if not isinstance(sent, list) or len(sent) != len(specs):
        raise Malformed(f"the {what} do not match the callback")
    for spec, item in zip(specs, sent):
        if isinstance(spec["id"], str) and spec["id"].startswith("{"):
            spec = {"id": json.loads(spec["id"]), "property": spec["property"]}
        _check_slot(spec, item, matched)


def _prop_ids(items: list) -> set[tuple[str, str]]:
    """("id as canonical JSON", prop) of each sent input, wildcard lists flattened."""
    flat = itertools.chain.from_iterable(i if isinstance(i, list) else [i] for i in items)
    return {(json.dumps(d["id"], sort_keys=True), d["property"]) for d in flat}


def _parse_prop_id(text: str) -> tuple[str, str] | None:
    component_id, _, prop = text.rpartition(".")
    if component_id.startswith("{"):
        try:
            component_id = json.loads(component_id)
        except ValueError:
            return None
        if not isinstance(component_id, dict):
            return None
    return json.dumps(component_id, sort_keys=True), prop


def check(app: dash.Dash, body) -> None:
    """Raise Malformed unless `body` is a request for one of `app`'s server callbacks."""
    if not isinstance(body, dict):
        raise Malformed("the body is not a JSON object")
    output = body.get("output")
    entry = app.callback_map.get(output) if isinstance(output, str) else None
    if entry is None or entry.get("callback") is None:
        raise Malformed("no such callback")
    matched: dict = {}
    inputs = body.get("inputs")
    _check_slots(entry["inputs"], inputs, "inputs", matched)
    _check_slots(entry["state"], body.get("state", []), "state", matched)
    specs, as_list = _declared(output, entry)
    if specs is not None:
        outputs = body.get("outputs")
        _check_slots(specs, outputs if as_list else [outputs], "outputs", matched)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
        raise Malformed("changedPropIds is not a list of strings")
    sent = _prop_ids(inputs)
    if any(_parse_prop_id(p) not in sent for p in changed):
        raise Malformed("changedPropIds names an input that was not sent")


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing text nested deeper than MAX_DEPTH before `json.loads` can
    recurse (a ValueError, which `request.get_json` turns into a 400, or None when silent)."""

    def loads(self, s, **kwargs):
        raw = s.encode() if isinstance(s, str) else bytes(s)
        if nesting_depth(raw) > MAX_DEPTH:
            raise ValueError("the JSON is nested too deeply")
        return super().loads(s, **kwargs)


def problem(app: dash.Dash, body) -> str | None:
    """Why `body` is not a request for one of `app`'s callbacks, or None when it is."""
    try:
        check(app, body)
    except Malformed as exc:
        return str(exc)
    return None


def _bad_request(reason: str) -> flask.Response:
    response = flask.jsonify(error=f"Malformed callback request: {reason}.")
    response.status_code = 400
    return response


def install(app: dash.Dash) -> None:
    server = app.server
    server.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    if server.config["MAX_CONTENT_LENGTH"] is None:
        server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    server.json = DepthLimitedJSONProvider(server)  # every get_json, whoever calls it first

    @server.before_request
    def check_callback_request():
        request = flask.request
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        if nesting_depth(request.get_data(cache=True)) > MAX_DEPTH:
            return _bad_request("the JSON is nested too deeply")
        body = request.get_json(silent=True)
        reason = problem(app, body)
        return None if reason is None else _bad_request(reason)

    @server.errorhandler(DependencyException)
    def unknown_component_file(exc):
        if flask.request.path.startswith(COMPONENT_SUITES):
            return flask.jsonify(error="No such file."), 404
        raise exc
