"""Only well-formed callback requests reach Dash.

Dash's `/_dash-update-component` trusts the shape of the JSON it is sent: a body that
names no callback, or has fewer inputs than the callback declares, or a string where
a list belongs, ends in a KeyError or IndexError and a 500. Here each request is
checked against the callback it names first (400 with a short reason otherwise), and
request bodies are capped in size (413). The values themselves are the callbacks'
business: they validate every input before it reaches a query.
"""

from __future__ import annotations

import json

import dash
import flask

CALLBACK_PATH = "/_dash-update-component"
# The largest callback request of this app is a few kilobytes (no callback takes a
# grid's rows as input); 256 KiB leaves room without letting a client tie up a worker.
MAX_BODY_BYTES = 256 * 1024


def declared_outputs(callback_key: str) -> list[dict] | dict:
    """The outputs a callback's key names, as the renderer writes them: one
    {"id", "property"} for "id.prop", a list of them for a multi-output key
    "..id1.prop1...id2.prop2.."."""
    if callback_key.startswith(".."):
        return [declared_outputs(part) for part in callback_key[2:-2].split("...")]
    component_id, _, prop = callback_key.rpartition(".")
    return {"id": component_id, "property": prop}


def _is_wildcard(component_id: str) -> bool:
    """A pattern id with ALL or ALLSMALLER (Dash sends a list of components for it)."""
    if not component_id.startswith("{"):
        return False
    try:
        parsed = json.loads(component_id)
    except ValueError:
        return False
    return any(value in (["ALL"], ["ALLSMALLER"]) for value in parsed.values())


def _is_dependency(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("id"), (str, dict))
            and isinstance(item.get("property"), str))


def _matches(declared: list[dict], sent) -> bool:
    if not isinstance(sent, list) or len(sent) != len(declared):
        return False
    for spec, item in zip(declared, sent):
        if _is_wildcard(spec["id"]):
            if not isinstance(item, list) or not all(_is_dependency(i) for i in item):
                return False
        elif not _is_dependency(item):
            return False
    return True


def problem(app: dash.Dash, body) -> str | None:
    """Why `body` is not a request for one of `app`'s callbacks, or None when it is."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    entry = app.callback_map.get(output) if isinstance(output, str) else None
    if entry is None:
        return "no such callback"
    if not _matches(entry["inputs"], body.get("inputs")):
        return "the inputs do not match the callback"
    if not _matches(entry["state"], body.get("state", [])):
        return "the state does not match the callback"
    declared = declared_outputs(output.split("@")[0] if not output.startswith("..") else output)
    outputs = body.get("outputs")
    if isinstance(declared, list):
        if not isinstance(outputs, list) or len(outputs) != len(declared):
            return "the outputs do not match the callback"
    elif not (_is_dependency(outputs) or isinstance(outputs, list)):
        return "the outputs do not match the callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
        return "changedPropIds is not a list of strings"
    return None


def install(app: dash.Dash) -> None:
    server = app.server
    server.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    if server.config["MAX_CONTENT_LENGTH"] is None:
        server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @server.before_request
    def check_callback_request():
        request = flask.request
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        reason = problem(app, body)
        if reason is None:
            return None
        response = flask.jsonify(error=f"Malformed callback request: {reason}.")
        response.status_code = 400
        return response
