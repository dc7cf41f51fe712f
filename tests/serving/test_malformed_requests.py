"""No request is a 500: malformed callback bodies get 400, unknown files 404.

Every server-side callback the app registers (taken from its callback map, so a new
one is covered without editing this file) is sent the body Dash's renderer would send,
then that body mutated by hypothesis: any part replaced by another JSON value, a wrong
id shape (a string where a dictionary id belongs, a wildcard pattern, a list), a
list unwrapped or wrapped, a key dropped, an output added. The app is built by
`create_app` over the tiny warehouse (its views missing, so the callbacks' error paths
run too). A hand-written battery of the cases a hostile-request run found comes after.
"""

from __future__ import annotations

import copy
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_support import build_callback_body, is_all

from app import create_app
from serving.dash_requests import MAX_DEPTH, nesting_depth

CALLBACK_PATH = "/_dash-update-component"


@pytest.fixture(scope="module")
def tiny_app(make_tiny_warehouse, tmp_path_factory):
    path = make_tiny_warehouse(tmp_path_factory.mktemp("tiny") / "accurx.duckdb", [(1, "A"), (2, "B")])
    return create_app({"ACCURX_DUCKDB_PATH": str(path), "ACCURX_WAREHOUSE": "duckdb"})


@pytest.fixture(scope="module")
def client(tiny_app):
    logging.getLogger("accurx").setLevel(logging.ERROR)  # thousands of refused requests
    yield tiny_app.server.test_client()
    logging.getLogger("accurx").setLevel(logging.NOTSET)


def server_callback_keys(app) -> list[str]:
    return sorted(key for key, entry in app.callback_map.items()
                  if getattr(entry.get("callback"), "__wrapped__", None) is not None)


def valid_body(app, key: str) -> dict:
    entry = app.callback_map[key]
    values = [[] if is_all(spec["id"]) else None for spec in entry["inputs"] + entry["state"]]
    changed = next((i for i, spec in enumerate(entry["inputs"]) if not is_all(spec["id"])), None)
    return build_callback_body(app, key, values, changed=changed)


def paths_of(node, prefix=()):
    """Every path (tuple of keys and indexes) into a JSON value, the root included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths_of(value, (*prefix, index))


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=False), st.text(max_size=30))
json_values = st.recursive(
    json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                          st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
# Values aimed at the shapes a callback body has.
hostile_values = st.one_of(
    json_values,
    st.sampled_from([
        "url", "page", "x.y", "{", '{"type":"grid"}', "..a.b...c.d..", ["ALL"], ["MATCH"],
        {"type": ["ALL"]}, {"type": "grid", "name": ["MATCH"]}, {"param": ["ALLSMALLER"], "type": "url-param-value"},
        {"id": "url", "property": "pathname"}, [{"id": "url", "property": "pathname"}],
        {"id": {"param": "x", "type": "url-param-value"}, "property": "value", "value": "x"},
        [[{"id": "x", "property": "value"}]], [["a"]], [], {}, "", "\x00", 10**30,
    ]),
)


def mutate(body: dict, data) -> dict:
    """`body` with one part replaced, dropped, wrapped in a list or taken out of one."""
    body = copy.deepcopy(body)
    paths = list(paths_of(body))
    path = data.draw(st.sampled_from(paths), label="path")
    how = data.draw(st.sampled_from(["replace", "drop", "wrap", "unwrap", "duplicate"]), label="how")
    if not path:
        return data.draw(hostile_values, label="body")
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last, value = path[-1], parent[path[-1]]
    if how == "drop":
        del parent[last]
    elif how == "wrap":
        parent[last] = [value]
    elif how == "unwrap" and isinstance(value, list) and value:
        parent[last] = value[0]
    elif how == "duplicate" and isinstance(value, list):
        parent[last] = value + value[:1]
    else:
        parent[last] = data.draw(hostile_values, label="value")
    return body


def test_the_renderers_body_is_accepted(tiny_app, client):
    """The generated bodies start from requests the checks let through."""
    refused = []
    for key in server_callback_keys(tiny_app):
        response = client.post(CALLBACK_PATH, json=valid_body(tiny_app, key))
        if response.status_code not in (200, 204):
            refused.append(f"{key[:60]}: {response.status_code} {response.get_data(as_text=True)[:100]}")
    assert not refused, "\n".join(refused)


def survives_mutations(client, key: str, base: dict):
    """A hypothesis test: mutations of `base`, the body of callback `key`, are no 500."""

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def survives(data):
        body = mutate(base, data)
        response = client.post(CALLBACK_PATH, json=body)
        assert response.status_code < 500, (key, json.dumps(body)[:500])
        if response.status_code == 400:
            assert response.get_json()["error"].startswith("Malformed callback request")

    return survives


def test_every_callback_survives_generated_malformed_bodies(tiny_app, client):
    """No status >= 500 for any mutation of any registered callback's body."""
    keys = server_callback_keys(tiny_app)
    assert len(keys) >= 25
    for key in keys:
        survives_mutations(client, key, valid_body(tiny_app, key))()


# ---------------------------------------------------------------- the battery's cases
def _key(app, name: str) -> str:
    return next(k for k in server_callback_keys(app) if app.callback_map[k]["callback"].__wrapped__.__name__ == name)


def _wrong_outputs(body):
    body["outputs"] = [body["outputs"]] * 3 if isinstance(body["outputs"], dict) else body["outputs"][:1]


def _string_id_for_dict(body):
    body["inputs"][0]["id"] = "url-param-value"


def _wildcard_id(body):
    body["inputs"][0]["id"] = {"param": ["ALL"], "type": "url-param-value"}


def _list_for_string(body):
    body["inputs"][0]["property"] = ["value"]


def _list_id(body):
    body["outputs"]["id"] = ["x"]


def _match_disagrees(body):
    body["outputs"]["id"]["name"] = "other"


def _changed_not_sent(body):
    body["changedPropIds"] = ['{"bad json.n_clicks']


BATTERY = [
    ("list_customer_choices", _wrong_outputs),          # single output sent as three
    ("show_period", _wrong_outputs),                     # six ALL outputs sent as one
    ("list_customer_choices", _string_id_for_dict),      # a string id where a dict id belongs
    ("list_customer_choices", _wildcard_id),             # a wildcard pattern as an id
    ("list_customer_choices", _list_for_string),         # a list where a string belongs
    ("list_customer_choices", _list_id),                 # a list as an output id
    ("export_grid_csv", _match_disagrees),                   # MATCH input and output disagree
    ("export_grid_csv", _changed_not_sent),                  # a trigger that was not sent
]


@pytest.mark.parametrize("name,change", BATTERY, ids=[f"{n}-{c.__name__.strip('_')}" for n, c in BATTERY])
def test_hand_made_malformed_bodies_get_400(tiny_app, client, name, change):
    key = _key(tiny_app, name)
    body = valid_body(tiny_app, key)
    change(body)
    response = client.post(CALLBACK_PATH, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"].startswith("Malformed callback request")


@pytest.mark.parametrize("raw", [
    "[" * 50_000 + "]" * 50_000,
    '{"output":' * 5_000 + "1" + "}" * 5_000,
    '{"output": "x", "inputs": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}",
], ids=["array-50000", "object-5000", "just-too-deep"])
def test_deeply_nested_json_gets_400(client, raw):
    response = client.post(CALLBACK_PATH, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["error"]


def test_nesting_depth_counts_brackets_outside_strings():
    assert nesting_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert nesting_depth(b'"\\"[[["') == 0
    assert nesting_depth(b"1") == 0


@pytest.mark.parametrize("path", [
    "/_dash-component-suites/dash/nope.js",
    "/_dash-component-suites/no_such_package/x.js",
    "/_dash-component-suites/dash/dcc/nope.v1_0_0m123.js",
    "/_dash-component-suites/dash/../../etc/passwd",
    "/assets/nope.js",
    "/assets/../app.py",
])
def test_unknown_static_files_are_404(client, path):
    assert client.get(path).status_code == 404


def test_known_component_suite_files_are_still_served(tiny_app, client):
    page = client.get("/").get_data(as_text=True)
    scripts = [part.split('"')[0] for part in page.split('src="')[1:] if "_dash-component-suites" in part]
    assert scripts
    assert client.get(scripts[0]).status_code == 200
