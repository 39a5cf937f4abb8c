"""Fixes inside flow collections and JSON-ish documents: new entries go inside the braces in flow
style (spaced as the collection is, one a line when its entries are), removals take their comma,
keys are quoted as their siblings' are, and a JSON manifest stays JSON.

Every case is checked the way the fixer checks it (the edited text must parse to exactly the
jsonpatch result, else the fix is reverted), so an exact expected text here is also an applied fix.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from fuzzing import examples

from cslint.documents import parse_documents
from cslint.fixer import unshared_copy
from cslint.textedit import EditError, apply_edits, edits_for
from flow_layouts import document
from test_fix_properties import check_fix_properties

FLOW = Path(__file__).resolve().parent.parent / "fixtures" / "fix" / "flow"  # outside the style matrix


def patch(text: str, *ops: dict) -> str:
    """The engine's text for `ops`, asserted equal to jsonpatch's data (what the fixer verifies)."""
    doc = next(parse_documents("t.yaml", text))
    new = apply_edits(text, edits_for(text, doc.root, list(ops)))
    expected = jsonpatch.apply_patch(unshared_copy(doc.data), list(ops))  # as _verify does
    reparsed = list(parse_documents("t.yaml", new))
    assert len(reparsed) == 1 and reparsed[0].error is None, new
    assert reparsed[0].data == expected, new
    return new


def add(path, value):
    return {"op": "add", "path": path, "value": value}


def replace(path, value):
    return {"op": "replace", "path": path, "value": value}


def remove(path):
    return {"op": "remove", "path": path}


@pytest.mark.parametrize("text,ops,expected", [
    # add to a flow mapping, keeping its spacing
    ("m: {a: 1}\n", [add("/m/b", 2)], "m: {a: 1, b: 2}\n"),
    ("m: { a: 1 }\n", [add("/m/b", 2)], "m: { a: 1, b: 2 }\n"),
    ("m: {}\n", [add("/m/b", 2)], "m: {b: 2}\n"),
    ("m: { }\n", [add("/m/b", 2)], "m: { b: 2 }\n"),
    ("m: {a: 1}  # c\nn: 2\n", [add("/m/b", "x")], "m: {a: 1, b: x}  # c\nn: 2\n"),
    ("m: {a: 1, b: 2}\n", [add("/m/c", "x"), add("/m/d", "y")], 'm: {a: 1, b: 2, c: x, d: "y"}\n'),
    # nested object/list values are themselves flow
    ("m: {a: 1}\n", [add("/m/b", {"c": [1, 2], "d": {}})], "m: {a: 1, b: {c: [1, 2], d: {}}}\n"),
    ("m: { a: 1 }\n", [add("/m/b", {"c": [1]})], "m: { a: 1, b: { c: [ 1 ] } }\n"),
    ("m: {a: 1}\n", [add("/m/b", [])], "m: {a: 1, b: []}\n"),
    ("m: {a: [1, 2], b: {}}\n", [add("/m/a/-", 3), add("/m/b/e", "f")], "m: {a: [1, 2, 3], b: {e: f}}\n"),
    ("s: [{a: 1}, {b: 2}]\n", [add("/s/0/c", 3)], "s: [{a: 1, c: 3}, {b: 2}]\n"),
    # add to a flow sequence: append and index insert
    ("s: [x, y]\n", [add("/s/-", "z")], "s: [x, y, z]\n"),
    ("s: [ x, y ]\n", [add("/s/-", "z")], "s: [ x, y, z ]\n"),
    ("s: [x, y]\n", [add("/s/0", "w")], "s: [w, x, y]\n"),
    ("s: [x, y]\n", [add("/s/1", "w")], "s: [x, w, y]\n"),
    ("s: [x, y]\n", [add("/s/2", "w")], "s: [x, y, w]\n"),
    ("s: []\n", [add("/s/-", "c"), add("/s/-", "d")], "s: [c, d]\n"),
    ("s: [ ]\n", [add("/s/0", "w")], "s: [ w ]\n"),
    ("s: [a, b]\n", [add("/s/0", "c"), add("/s/0", "d")], "s: [d, c, a, b]\n"),
    ("s: [x]\n", [add("/s/-", {"a": 1, "b": [1]})], "s: [x, {a: 1, b: [1]}]\n"),
    ("s: [a, b,]\n", [add("/s/-", "z")], "s: [a, b, z,]\n"),
    # replace inside a flow collection
    ("m: {a: 1, b: 2}\n", [replace("/m/a", 5)], "m: {a: 5, b: 2}\n"),
    ("m: {a: 1, b: 2}\n", [replace("/m/a", {"x": 1})], "m: {a: {x: 1}, b: 2}\n"),
    ("s: [1, 2]\n", [replace("/s/0", [3])], "s: [[3], 2]\n"),
    ("m: {a: {x: 1, y: 2}}\n", [replace("/m/a", {"x": 1, "z": 3})], "m: {a: {x: 1, z: 3}}\n"),
    # remove: first, middle, last, only; with its comma
    ("s: [a, b, c]\n", [remove("/s/0")], "s: [b, c]\n"),
    ("s: [a, b, c]\n", [remove("/s/1")], "s: [a, c]\n"),
    ("s: [a, b, c]\n", [remove("/s/2")], "s: [a, b]\n"),
    ("s: [ a ]\n", [remove("/s/0")], "s: []\n"),
    ("s: [a, b]\n", [remove("/s/0"), remove("/s/0")], "s: []\n"),
    ("s: [a, b,]\n", [remove("/s/1")], "s: [a,]\n"),
    ("m: {a: 1, b: 2, c: 3}\n", [remove("/m/a")], "m: {b: 2, c: 3}\n"),
    ("m: {a: 1, b: 2, c: 3}\n", [remove("/m/b")], "m: {a: 1, c: 3}\n"),
    ("m: { a: 1, b: 2 }\n", [remove("/m/b")], "m: { a: 1 }\n"),
    ("m: {a: 1}\n", [remove("/m/a")], "m: {}\n"),
    ("m: {a: 1, b: 2}\n", [remove("/m/b"), add("/m/b", 3)], "m: {a: 1, b: 3}\n"),
    ("s: [a, b, c]\n", [remove("/s/2"), add("/s/-", "z")], "s: [a, b, z]\n"),
    ("s: [a, b]\n", [remove("/s/0"), remove("/s/0"), add("/s/-", "z")], "s: [z]\n"),
    # collections written one entry a line stay so
    ("m: {\n  a: 1,\n  b: 2\n}\n", [add("/m/c", 3)], "m: {\n  a: 1,\n  b: 2,\n  c: 3\n}\n"),
    ("m: {\n  a: 1,\n  b: 2,\n}\n", [add("/m/c", 3)], "m: {\n  a: 1,\n  b: 2,\n  c: 3,\n}\n"),
    ("s: [\n  a,\n  b\n]\n", [add("/s/0", "z")], "s: [\n  z,\n  a,\n  b\n]\n"),
    ("m: {\n  a: 1,\n  b: 2\n}\n", [remove("/m/a")], "m: {\n  b: 2\n}\n"),
    # the last entry of a multi-line collection goes with its line only: the comma before stays
    ("m: {\n  a: 1,\n  b: 2\n}\n", [remove("/m/b")], "m: {\n  a: 1,\n}\n"),
    ("s: [a, b,\n  c]\n", [remove("/s/2")], "s: [a, b,\n  ]\n"),
    # an entry ending a wrapped line goes with the comma before it: the next line is untouched
    ("s: [a, b,\n  c, d]\n", [remove("/s/1")], "s: [a,\n  c, d]\n"),
    ("s: [a,\n  c, d]\n", [remove("/s/0")], "s: [\n  c, d]\n"),
    ("m: {\n  a: 1,\n  # about b\n  b: 2\n}\n", [remove("/m/b")], "m: {\n  a: 1,\n  # about b\n}\n"),
    ("m: {\n  a: 1,  # one\n  # about b\n  b: 2\n}\n", [remove("/m/a")], "m: {\n  # about b\n  b: 2\n}\n"),
    ("m: {\n  a: 1,\n  b: 2\n}\n", [remove("/m/b"), add("/m/c", 3)], "m: {\n  a: 1,\n  c: 3,\n}\n"),
    ("s: [\n  {a: 1},\n  {\n    b: 2\n  }\n]\n", [add("/s/-", {"c": 3})],
     "s: [\n  {a: 1},\n  {\n    b: 2\n  },\n  {\n    c: 3\n  }\n]\n"),
])
def test_flow_edit(text, ops, expected):
    assert patch(text, *ops) == expected


@pytest.mark.parametrize("text,ops,expected", [
    ('"a": 1\n"b": 2\n', [add("/c", 3)], '"a": 1\n"b": 2\n"c": 3\n'),
    ("'a': 1\n'b': 2\n", [add("/c", {"d": "e"})], "'a': 1\n'b': 2\n'c':\n  'd': e\n"),
    ('"a": "x"\n"b": "y"\n', [add("/c", "z")], '"a": "x"\n"b": "y"\n"c": "z"\n'),  # strings quoted as siblings
    ('m:\n  "a": 1\nn:\n  b: 2\n', [add("/n/c", 3)], 'm:\n  "a": 1\nn:\n  b: 2\n  c: 3\n'),  # siblings decide
    ('l:\n- "name": "a"\n', [add("/l/-", {"name": "b", "value": "1"})],
     'l:\n- "name": "a"\n- "name": "b"\n  "value": "1"\n'),
    ('{"a": 1}\n', [add("/b", "x")], '{"a": 1, "b": "x"}\n'),
    ('{"a":1}\n', [add("/b", {"c": True})], '{"a":1,"b":{"c":true}}\n'),
    ('{\n  "a": 1,\n  "b": {\n    "c": "x"\n  }\n}\n', [add("/b/d", "y")],
     '{\n  "a": 1,\n  "b": {\n    "c": "x",\n    "d": "y"\n  }\n}\n'),
    ('{\n  "a": 1,\n  "b": 2\n}\n', [add("/e", {"f": [1, "on"]})],
     '{\n  "a": 1,\n  "b": 2,\n  "e": {\n    "f": [\n      1,\n      "on"\n    ]\n  }\n}\n'),
    ('["a", "b"]\n', [remove("/0"), add("/-", 1.5e20)], '["b", 1.5e+20]\n'),
    ('{\n  "a": 1,\n  "b": 2\n}\n', [remove("/b")], '{\n  "a": 1\n}\n'),  # JSON: no trailing comma
    ('[\n  "a",\n  "b"]\n', [remove("/1")], '[\n  "a"]\n'),
    ('{\n  "a": 1,\n  "b": 2\n}\n', [remove("/b"), add("/c", 3)], '{\n  "a": 1,\n  "c": 3\n}\n'),
])
def test_keys_and_strings_are_quoted_like_their_siblings(text, ops, expected):
    out = patch(text, *ops)
    assert out == expected
    if text.lstrip().startswith(("{", "[")):
        assert json.loads(out) == jsonpatch.apply_patch(json.loads(text), ops)


def _json_variants() -> list[tuple[str, str]]:
    data = json.loads((FLOW / "json_deployment.json").read_text())
    return [("indent2", (FLOW / "json_deployment.json").read_text()),
            ("indent4", json.dumps(data, indent=4)),
            ("compact", json.dumps(data, separators=(",", ":"))),
            ("one-line", json.dumps(data) + "\n")]


@pytest.mark.parametrize("name,text", _json_variants(), ids=lambda v: v if len(v) < 20 else "")
def test_json_manifest_is_fixed_and_stays_json(name, text):
    """The fixes apply (not reverted), the text is still JSON, only the changed lines differ."""
    outcome = check_fix_properties("deployment.json", text)
    assert {"CS401", "CS402", "CS403"} <= set(outcome.fixed)
    fixed = json.loads(outcome.text)
    env = fixed["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "NCCL_CUMEM_ENABLE", "value": "0"} in env
    if name.startswith("indent"):
        old, new = text.splitlines(), outcome.text.splitlines()
        assert len(new) > len(old) and all(len(ln) < 80 for ln in new)  # new objects pretty-printed too
        assert {ln for ln in old if ln.rstrip(",") not in {n.rstrip(",") for n in new}} == \
            {ln for ln in old if "0.95" in ln}  # every old line kept, bar a comma, except the changed value
    else:
        assert outcome.text.count("\n") == text.count("\n")  # one line stays one line


def test_quoted_keys_yaml_gets_quoted_keys():
    text = (FLOW / "quoted_keys.yaml").read_text()
    outcome = check_fix_properties("quoted.yaml", text)
    added = [ln.strip().lstrip("- ") for ln in outcome.text.splitlines() if ln not in text.splitlines()]
    assert added and all(ln.startswith('"') for ln in added), added
    assert '"value": "0"' in added and '"sizeLimit": "16Gi"' in added


# -- properties ---------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "name", "value", "on", "y", "x y", "1", "k:v"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.none(), st.sampled_from([0.5, 1e20]),
                    st.sampled_from(["x", "yes", "1", "", "a, b", "x: y", "#c", "Memory", "[x]", "it's", 'q"'])
                    | st.text(max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=6)
DOCS = st.dictionaries(KEYS, st.one_of(st.dictionaries(KEYS, VALUES, max_size=3), st.lists(VALUES, max_size=3)),
                       min_size=1, max_size=3)

_NEW = "\0new"  # in the shadow copy: a value this batch wrote (the engine does not edit inside those)


def _containers(node, path=""):
    if isinstance(node, (dict, list)):
        yield path, node
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            yield from _containers(v, f"{path}/{str(k).replace('~', '~0').replace('/', '~1')}")


@st.composite
def operations(draw, data):
    """Up to four operations valid in turn, none inside a value written by an earlier one and
    none on a container an earlier one edited inside (ops that would overlap in the text)."""
    shadow, touched, ops = copy.deepcopy(data), set(), []
    for _ in range(draw(st.integers(1, 4))):
        path, node = draw(st.sampled_from(list(_containers(shadow))))
        parent_path = path.rsplit("/", 1)[0]
        choices = ["add"]
        if path and node and not any(p.startswith(path + "/") or p == path for p in touched):
            choices.append("replace")
        kind = draw(st.sampled_from(choices + (["remove"] if node else [])))
        if kind == "replace":
            ops.append(replace(path, draw(VALUES)))
            jsonpatch.apply_patch(shadow, [replace(path, _NEW)], in_place=True)
            touched.add(parent_path)
            continue
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if kind == "remove":
            key = draw(st.sampled_from(keys))
            if node[key] == _NEW or any(t.startswith(f"{path}/{key}") for t in touched):
                continue
            op = remove(f"{path}/{key}")
        elif isinstance(node, dict):
            key = draw(KEYS.filter(lambda k: k not in node))
            op = add(f"{path}/{key}", draw(VALUES))
        else:
            op = add(f"{path}/{draw(st.sampled_from(keys + ['-']))}", draw(VALUES))
        ops.append(op)
        jsonpatch.apply_patch(shadow, [dict(op, value=_NEW) if "value" in op else op], in_place=True)
        touched.add(path)
    return ops


def _layout(data, kind: str) -> str:
    if kind in ("yaml-lines", "yaml-comments"):  # hand-wrapped: one entry a line, comments between
        return document(data, 7 if kind == "yaml-comments" else None)
    if kind == "json-indent":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if kind == "json-compact":
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    flow = yaml.safe_dump(data, default_flow_style=True, width=10_000, sort_keys=False)
    if kind == "yaml-padded":
        flow = flow.replace("{", "{ ").replace("}", " }") if "'" not in flow and '"' not in flow else flow
    return flow


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), doc=DOCS, kind=st.sampled_from(["json-indent", "json-compact", "yaml-flow", "yaml-padded",
                                                       "yaml-lines", "yaml-comments"]))
def test_random_flow_documents_and_operations(data, doc, kind):
    """Whatever the operations, the text parses to the jsonpatch result; JSON stays JSON; a
    one-line document stays one line (nothing written in block style)."""
    text = _layout(doc, kind)
    parsed = list(parse_documents("t.yaml", text))
    assume(len(parsed) == 1 and parsed[0].error is None)  # JSON with raw DEL or C1 controls is not YAML
    ops = data.draw(operations(doc))
    if not ops:
        return
    if _edits_then_removes(doc, ops):  # a known limit: right (patch asserts it) or refused, never garbled
        try:
            patch(text, *ops)
        except EditError:
            pass
        return
    out = patch(text, *ops)
    expected = jsonpatch.apply_patch(copy.deepcopy(doc), ops)
    if kind.startswith("json"):
        assert json.loads(out) == expected
    if kind != "json-indent" and text.count("\n") == 1:  # (a quoted scalar may span lines)
        assert out.count("\n") == 1, out


def _edits_then_removes(doc, ops) -> bool:
    """Whether an operation removes or replaces a collection an earlier operation of the batch
    edited inside (`add /a/1/-` then `remove /a/1`): the text engine drops the earlier edits, or
    refuses when the batch also edits what it added; no rule's fix does it."""
    state, edited = copy.deepcopy(doc), set()
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = state
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        if op["op"] in ("remove", "replace"):
            gone = parent[int(parts[-1])] if isinstance(parent, list) else parent[parts[-1]]
            if any(id(node) in edited for node in _nodes(gone)):
                return True
        edited.add(id(parent))
        state = jsonpatch.apply_patch(state, [op], in_place=True)
    return False


def _nodes(value):
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _nodes(child)


def test_a_batch_that_edits_inside_a_collection_then_removes_it_drops_those_edits():
    assert patch('{"a": [[], []]}\n', {"op": "add", "path": "/a/1/-", "value": []},
                 {"op": "remove", "path": "/a/0"}, {"op": "remove", "path": "/a/0"}) == '{"a": []}\n'
