"""The callback requests a browser sends to show one page, sent in-process.

`PageVisit(client, referer).open(pathname, search)` plays what Dash's renderer does when
a browser opens a URL of the app, through the app's own request path (a Flask test
client): it reads `/_dash-layout` and `/_dash-dependencies`, lets `dcc.Location` report
the URL, fires every callback the renderer fires on first load (initial calls of the
layout and of each chunk a callback inserts, then the observers of every property a
callback returned), in the renderer's order (a callback waits while another pending
callback produces one of its inputs), and applies each answer to its copy of the
layout. The request bodies are built as the renderer builds them (dash-renderer's
`fetchCallback`: output, outputs, inputs, changedPropIds, parsedChangedPropsIds,
state; values missing from the layout left out, compact JSON), so what is rendered
and stored on the way is what a browser opening that URL asks for.

Used by serving/warm_up.py; it knows nothing of this app's pages or callbacks.
MATCH callbacks are not played (no page of this app fires one on load).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

CALLBACK_PATH = "/_dash-update-component"
# What a current chromium offers; the response cache keeps one body per encoding.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
# A page whose callbacks keep triggering each other is abandoned after this many requests.
MAX_REQUESTS_PER_PAGE = 200
# Components that set a property when they mount, which triggers its callbacks again:
# (type, property) whose null in the layout becomes undefined (dcc.Store in memory,
# dcc.DatePickerSingle). Seen in chromium's requests for every page of this app.
MOUNT_RESETS = (("Store", "data"), ("DatePickerSingle", "date"))


def stringify_id(component_id: Any) -> str:
    """dash-renderer's stringifyId: a dict id as JSON with sorted keys, no spaces."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(component_id)


def _browser_id(component_id: Any) -> Any:
    """The id as the renderer sends it: a dict id with its keys sorted."""
    return dict(sorted(component_id.items())) if isinstance(component_id, dict) else component_id


def _as_js_json(value: Any) -> Any:
    """The value as the browser holds it after JSON.parse: whole floats become ints
    (JSON.stringify writes 3.0 as 3)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _as_js_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_js_json(v) for v in value]
    return value


def body_bytes(payload: dict) -> bytes:
    """`payload` serialised as the renderer's JSON.stringify does."""
    return json.dumps(_as_js_json(payload), separators=(",", ":"), ensure_ascii=False).encode()


def _components(node: Any) -> Iterator[dict]:
    """Every component of a layout (sub)tree, depth first, in document order."""
    if isinstance(node, list):
        for child in node:
            yield from _components(child)
    elif isinstance(node, dict) and "props" in node and "type" in node:
        yield node
        for value in node["props"].values():
            if isinstance(value, (dict, list)):
                yield from _components(value)


def _split_output(output: str) -> list[tuple[str, str]]:
    """The (id text, property) pairs of a dependencies `output` string."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(part.rsplit(".", 1)) for part in parts]


def _parse_id(text: str) -> Any:
    return json.loads(text) if text.startswith("{") else text


def _wildcard(value: Any) -> str | None:
    return value[0] if isinstance(value, list) and len(value) == 1 and value[0] in (
        "ALL", "MATCH", "ALLSMALLER") else None


class _Callback:
    def __init__(self, spec: dict):
        self.output = spec["output"]
        self.outputs = [(_parse_id(i), p) for i, p in _split_output(self.output)]
        self.inputs = [(_parse_id(d["id"]) if isinstance(d["id"], str) else d["id"], d["property"])
                       for d in spec["inputs"]]
        self.state = [(_parse_id(d["id"]) if isinstance(d["id"], str) else d["id"], d["property"])
                      for d in spec.get("state", [])]
        self.prevent_initial_call = bool(spec.get("prevent_initial_call"))
        self.clientside = spec.get("clientside_function") is not None
        self.multi = self.output.startswith("..")
        self.uses_match = any(_wildcard(v) == "MATCH" for i, _ in self.outputs + self.inputs
                              if isinstance(i, dict) for v in i.values())


class PageVisit:
    """One simulated first load of a URL (see the module docstring)."""

    def __init__(self, client, referer_base: str = "http://localhost"):
        self.client = client
        self.referer_base = referer_base
        self.layout: Any = None
        self.callbacks: list[_Callback] = []
        self.statuses: list[int] = []
        self._index: dict[str, dict] = {}

    # -- layout
    def _reindex(self) -> None:
        self._index = {stringify_id(c["props"]["id"]): c["props"]
                       for c in _components(self.layout) if "id" in c["props"]}

    def _resolve(self, component_id: Any) -> list[str]:
        """The id texts of the components in the layout matching `component_id`."""
        if not isinstance(component_id, dict):
            key = stringify_id(component_id)
            return [key] if key in self._index else []
        found = []
        for key, props in self._index.items():
            cid = props["id"]
            if isinstance(cid, dict) and cid.keys() == component_id.keys() and all(
                    _wildcard(v) or cid[k] == v for k, v in component_id.items()):
                found.append(key)
        return found

    def _multi(self, component_id: Any) -> bool:
        return isinstance(component_id, dict) and any(
            _wildcard(v) in ("ALL", "ALLSMALLER") for v in component_id.values())

    def _values(self, specs) -> list | None:
        """The renderer's fillVals: None when a single-valued dependency is missing."""
        values = []
        for component_id, prop in specs:
            keys = self._resolve(component_id)
            items = []
            for key in keys:
                props = self._index[key]
                item = {"id": _browser_id(props["id"]), "property": prop}
                if prop in props:
                    item["value"] = props[prop]
                items.append(item)
            if self._multi(component_id):
                values.append(items)
            elif len(keys) != 1:
                return None
            else:
                values.append(items[0])
        return values

    def _targets(self, callback: _Callback) -> set[tuple[str, str]]:
        return {(key, prop) for cid, prop in callback.outputs for key in self._resolve(cid)}

    def _sources(self, callback: _Callback) -> set[tuple[str, str]]:
        return {(key, prop) for cid, prop in callback.inputs for key in self._resolve(cid)}

    # -- the renderer's queue
    def open(self, pathname: str, search: str = "") -> list[int]:
        """Load the page at `pathname` + `search`; the HTTP statuses of its callbacks."""
        self.layout = self.client.get("/_dash-layout").get_json()
        self.callbacks = [_Callback(spec) for spec in self.client.get("/_dash-dependencies").get_json()
                          if spec.get("clientside_function") is None]
        self._reindex()
        self.referer = self.referer_base + pathname + search
        pending: dict[str, dict[str, None]] = {}  # callback output -> changedPropIds (ordered)
        self._add_initial(pending, set(self._index))
        self._mount(pending, self.layout)
        for location in _components(self.layout):
            if location["type"] == "Location" and "id" in location["props"]:
                # dcc.Location reports the address when it mounts (pathname, href, hash, search).
                location["props"].update(pathname=pathname, hash="", search=search)
                key = stringify_id(location["props"]["id"])
                self._add_observers(pending, [(key, "pathname"), (key, "search")])
        while pending and len(self.statuses) < MAX_REQUESTS_PER_PAGE:
            busy = set().union(*(self._targets(self._callback(o)) for o in pending))
            ready = [o for o in pending if not self._sources(self._callback(o)) & (
                busy - self._targets(self._callback(o)))] or list(pending)[:1]
            for output in ready:
                self._fire(self._callback(output), pending.pop(output), pending)
        return self.statuses

    def _callback(self, output: str) -> _Callback:
        return next(cb for cb in self.callbacks if cb.output == output)

    def _add_initial(self, pending: dict, keys: set[str]) -> list[str]:
        """Initial calls of the callbacks with an input or output among `keys` (added to
        `pending`, and returned)."""
        added = []
        for cb in self.callbacks:
            if cb.prevent_initial_call or cb.uses_match or cb.output in pending:
                continue
            touched = {k for k, _ in self._targets(cb) | self._sources(cb)}
            if touched & keys and self._values(cb.inputs) is not None and self._targets(cb):
                pending[cb.output] = {}
                added.append(cb.output)
        return added

    def _add_observers(self, pending: dict, changed: list[tuple[str, str]]) -> None:
        for cb in self.callbacks:
            if cb.uses_match:
                continue
            sources = self._sources(cb)
            hits = [f"{key}.{prop}" for key, prop in changed if (key, prop) in sources]
            if hits and self._values(cb.inputs) is not None:
                merged = pending.setdefault(cb.output, {})
                merged.update(dict.fromkeys(hits))

    def _fire(self, cb: _Callback, changed: dict, pending: dict, apply: bool = True) -> None:
        inputs = self._values(cb.inputs)
        outputs = []
        for cid, prop in cb.outputs:
            items = [{"id": _browser_id(self._index[key]["id"]), "property": prop}
                     for key in self._resolve(cid)]
            outputs.append(items if self._multi(cid) else (items[0] if items else None))
        if inputs is None or any(o is None for o in outputs):
            return
        changed_ids = list(changed)
        payload = {
            "output": cb.output,
            "outputs": outputs if cb.multi else outputs[0],
            "inputs": inputs,
            "changedPropIds": changed_ids,
            "parsedChangedPropsIds": [json.loads(p.rsplit(".", 1)[0]) if p.startswith("{")
                                      else p for p in changed_ids],
        }
        if cb.state:
            payload["state"] = self._values(cb.state)
        response = self.client.post(
            CALLBACK_PATH, data=body_bytes(payload),
            headers={"Content-Type": "application/json", "Accept-Encoding": ACCEPT_ENCODING,
                     "Referer": self.referer})
        self.statuses.append(response.status_code)
        if response.status_code != 200 or not apply:
            return
        answer = json.loads(_decoded(response))
        updated: list[tuple[str, str]] = []
        inserted: set[str] = set()
        for key, props in (answer.get("response") or {}).items():
            for prop, value in props.items():
                prop = prop.split("@")[0]
                if key in self._index:
                    self._index[key][prop] = value
                    updated.append((key, prop))
                    inserted |= {stringify_id(c["props"]["id"]) for c in _components(value)
                                 if "id" in c["props"]}
        self._reindex()
        initial = self._add_initial(pending, inserted)
        self._add_observers(pending, updated)
        for key, prop in updated:
            self._mount(pending, self._index[key].get(prop) if key in self._index else None, initial)

    def _mount(self, pending: dict, tree: Any, initial: list[str] = ()) -> None:
        """What the components of `tree` do when they mount (MOUNT_RESETS): merged into
        the pending callbacks, as the renderer merges them when they are not sent yet.
        The renderer may also have sent an `initial` call before the mount, with the
        layout's values: that request is sent too (its answer is not applied)."""
        changed = []
        resets = {(stringify_id(c["props"]["id"]), prop) for c in _components(tree)
                  for kind, prop in MOUNT_RESETS
                  if c["type"] == kind and "id" in c["props"] and c["props"].get(prop, 0) is None}
        for output in initial:
            callback = self._callback(output)
            if output in pending and self._sources(callback) & resets:
                self._fire(callback, {}, pending, apply=False)
        for component in _components(tree):
            props = component["props"]
            for kind, prop in MOUNT_RESETS:
                if component["type"] == kind and "id" in props and prop in props and props[prop] is None:
                    del props[prop]
                    changed.append((stringify_id(props["id"]), prop))
        self._add_observers(pending, changed)


def _decoded(response) -> bytes:
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding", "identity")
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    if encoding == "gzip":
        import gzip

        return gzip.decompress(data)
    return data
