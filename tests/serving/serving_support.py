"""Helpers of the serving tests: requests as Dash's renderer makes them, test users.

`build_callback_body(app, key, values)` is the JSON POSTed to `/_dash-update-component`
for callback `key` with one value per input and state; `callback_key(app, name)` finds
a callback by its function's name; `page_callbacks(app, client, path)` opens a URL the
way the browser does (render_page, then the callbacks of the controls it rendered).

`USERS` are the sign-in provider's test users, `signed_in_user(sub, groups)` the
session record the app keeps for a user it has just signed in; `browser_fixtures` is
tests/browser/conftest.py loaded from its file (its gunicorn `serve_app` and chromium
settings), so both folders serve and drive the app the same way.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

from serving.dash_requests import declared_outputs

BROWSER_CONFTEST = Path(__file__).resolve().parents[1] / "browser" / "conftest.py"
_spec = importlib.util.spec_from_file_location("accurx_browser_fixtures", BROWSER_CONFTEST)
browser_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_fixtures)

ALLOWED_GROUP = "accurx-commercial"
PII_GROUP = "accurx-user-data"
ALLOWED_DOMAIN = "accurx.example"
ALLOWED_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"  # Entra's tenant of personal accounts
# sub -> claims. alice may use the dashboard, bob may not, carol may also see user ids.
# dave and erin are in the allowed group, but only dave's account is of the allowed
# Workspace domain (`hd`) and Entra tenant (`tid`); frank's hosted domain is right but
# his e-mail address is not of it.
USERS = {
    "alice": {"groups": [ALLOWED_GROUP], "email": "alice@example.org", "name": "Alice Example"},
    "bob": {"groups": ["accurx-finance"], "email": "bob@example.org", "name": "Bob Example"},
    "carol": {"groups": [ALLOWED_GROUP, PII_GROUP], "email": "carol@example.org"},
    "dave": {"groups": [ALLOWED_GROUP], "hd": ALLOWED_DOMAIN, "tid": ALLOWED_TENANT,
             "email": f"dave@{ALLOWED_DOMAIN}"},
    "erin": {"groups": [ALLOWED_GROUP], "hd": "elsewhere.example", "tid": OTHER_TENANT,
             "email": "erin@elsewhere.example"},
    "frank": {"groups": [ALLOWED_GROUP], "hd": ALLOWED_DOMAIN, "tid": ALLOWED_TENANT,
              "email": "frank@gmail.example"},
}


def signed_in_user(sub: str, groups: list[str], at: float | None = None) -> dict:
    """The session's record of `sub`, signed in (and checked with the issuer) at `at`."""
    at = time.time() if at is None else at
    return {"sub": sub, "groups": groups, "at": at, "checked": at, "sid": f"test-session-{sub}"}

WILDCARDS = (["ALL"], ["MATCH"], ["ALLSMALLER"])


def concrete_id(spec_id: str, fill: str = "x"):
    """A component id matching `spec_id` (its wildcards replaced by `fill`)."""
    if not spec_id.startswith("{"):
        return spec_id
    parsed = json.loads(spec_id)
    return {k: (fill if v in WILDCARDS else v) for k, v in parsed.items()}


def is_all(spec_id: str) -> bool:
    return spec_id.startswith("{") and any(
        v in (["ALL"], ["ALLSMALLER"]) for v in json.loads(spec_id).values())


def _dependency(spec: dict, value, fill: str):
    if is_all(spec["id"]):
        values = value if isinstance(value, list) else [value]
        return [{"id": concrete_id(spec["id"], fill), "property": spec["property"], "value": v}
                for v in values]
    return {"id": concrete_id(spec["id"], fill), "property": spec["property"], "value": value}


def _output(spec: dict, fill: str):
    prop = spec["property"].split("@")[0]
    if is_all(spec["id"]):
        return [{"id": concrete_id(spec["id"], fill), "property": prop}]
    return {"id": concrete_id(spec["id"], fill), "property": prop}


def prop_id(component_id, prop: str) -> str:
    """Dash's "id.prop" string of a (possibly dictionary) component id."""
    if isinstance(component_id, dict):
        component_id = json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return f"{component_id}.{prop}"


def build_callback_body(app, key: str, values: list, changed: int | None = 0, fill: str = "x") -> dict:
    """The request body for callback `key`: `values` are its inputs then its states, in
    order (a list per ALL wildcard); `changed` is the index of the input that changed."""
    entry = app.callback_map[key]
    n_inputs = len(entry["inputs"])
    assert len(values) == n_inputs + len(entry["state"]), key
    inputs = [_dependency(spec, v, fill) for spec, v in zip(entry["inputs"], values)]
    state = [_dependency(spec, v, fill) for spec, v in zip(entry["state"], values[n_inputs:])]
    declared = declared_outputs(key)
    outputs = ([_output(o, fill) for o in declared] if isinstance(declared, list)
               else _output(declared, fill))
    changed_ids = []
    if changed is not None:
        item = inputs[changed]
        for dep in item if isinstance(item, list) else [item]:
            changed_ids.append(prop_id(dep["id"], dep["property"]))
    return {"output": key, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": changed_ids}


def callback_key(app, name: str) -> str:
    """The callback map key of the server-side callback function called `name`."""
    keys = [k for k, v in app.callback_map.items()
            if getattr(v.get("callback"), "__wrapped__", None) is not None
            and v["callback"].__wrapped__.__name__ == name]
    assert len(keys) == 1, (name, keys)
    return keys[0]


def page_callbacks(app, client, path: str, feeds: str | None = "*"):
    """render_page for `path`, then every callback whose inputs are on the page it
    rendered, fed the values the page's controls got from the URL (only those with an
    input fed by `feeds`: a URL parameter name or a component id; "*" for all), then
    (once each) those whose inputs the answers brought (a callback that waits for a store
    another writes or inserts: the customer page's sections)."""
    pathname, _, search = path.partition("?")
    key = next(k for k, e in app.callback_map.items()
               if e.get("callback") and e["callback"].__wrapped__.__name__ == "render_page")
    body = build_callback_body(app, key, [pathname, f"?{search}" if search else "", None])
    response = client.post("/_dash-update-component", json=body)
    yield "render_page", response
    if response.status_code != 200:
        return
    page = response.get_json()["response"]["page"]["children"]
    values = control_values(page)
    fired: set[str] = set()
    while True:
        brought: dict = {}
        for key, entry in app.callback_map.items():
            func = getattr(entry.get("callback"), "__wrapped__", None)
            if key in fired or func is None or func.__name__ in ("render_page", "write_controls_to_url"):
                continue
            specs = entry["inputs"] + entry["state"]
            if any(is_all(s["id"]) for s in specs):
                continue
            if not any(_id_key(s["id"], s["property"]) in values for s in entry["inputs"]):
                continue
            if feeds != "*" and not any(s["id"] == feeds or f'"param":"{feeds}"' in s["id"]
                                        for s in entry["inputs"]):
                continue
            args = [values.get(_id_key(s["id"], s["property"])) for s in specs]
            response = client.post("/_dash-update-component", json=build_callback_body(app, key, args))
            fired.add(key)
            yield func.__name__, response
            if response.status_code == 200:
                answer = response.get_json().get("response") or {}
                brought.update(control_values([v for props in answer.values() for v in props.values()]))
                for component_id, props in answer.items():
                    for prop, value in props.items():
                        if prop != "children":
                            brought[_id_key(component_id, prop)] = value
        if not set(brought) - set(values):
            return
        values = {**values, **brought}


def _id_key(component_id, prop: str) -> str:
    if isinstance(component_id, str) and component_id.startswith("{"):
        component_id = json.loads(component_id)
    return prop_id(component_id, prop)


def control_values(tree) -> dict:
    """{"id.prop": value} of every component with an id in a serialised layout."""
    found: dict = {}

    def walk(node):
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if "id" in props:
                    for prop, value in props.items():
                        if prop not in ("children", "id"):
                            found[_id_key(props["id"], prop)] = value
                    found.setdefault(_id_key(props["id"], "id"), props["id"])
                for value in props.values():
                    walk(value)
    walk(tree)
    return found
