"""Flow collections with comments between their entries, and whole flow lists replaced.

Rules: a comment after an entry stays on that entry's line (new entries go on lines of their own
below it); a comment on a line of its own stays; a removed entry's trailing comment goes with
it. A `replace` of a whole flow list keeps the items it still holds (with their comments) and
writes the new ones in the list's layout: one a line when each old item had a line, else one
line. Layouts the engine cannot edit that way are refused with a clear `EditError`.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from fuzzing import examples

from cslint.documents import parse_documents
from cslint.textedit import EditError
from flow_layouts import comments, document
from test_fix_flow import DOCS, _edits_then_removes, add, operations, patch, remove, replace
from test_fix_properties import check_fix_properties

FLOW = Path(__file__).resolve().parent.parent / "fixtures" / "fix" / "flow"

MAP = "m: {\n  a: 1,  # one\n  # about b\n  b: 2  # two\n}\n"
SEQ = "s: [\n  a,  # one\n  # mid\n  b,  # two\n]\n"


@pytest.mark.parametrize("text,ops,expected", [
    # add after an entry with a trailing comment: below it, the comment stays on its line
    (MAP, [add("/m/c", 3)], "m: {\n  a: 1,  # one\n  # about b\n  b: 2,  # two\n  c: 3\n}\n"),
    (SEQ, [add("/s/-", "z")], "s: [\n  a,  # one\n  # mid\n  b,  # two\n  z,\n]\n"),
    (SEQ, [add("/s/1", "z")], "s: [\n  a,  # one\n  z,\n  # mid\n  b,  # two\n]\n"),
    ("s: [\n  a,  # one\n  b  # two\n]\n", [add("/s/-", "y"), add("/s/-", "z")],
     's: [\n  a,  # one\n  b,  # two\n  "y",\n  z\n]\n'),
    ("s: [  # head\n  a,  # one\n  b  # two\n]\n", [add("/s/0", "z")], "s: [  # head\n  z,\n  a,  # one\n  b  # two\n]\n"),
    ("s: [a, b,  # two\n  c]\n", [add("/s/1", "z")], "s: [a, z, b,  # two\n  c]\n"),
    # remove: the entry's own trailing comment goes with it, comment lines stay
    (MAP, [remove("/m/b")], "m: {\n  a: 1,  # one\n  # about b\n}\n"),
    (MAP, [remove("/m/a")], "m: {\n  # about b\n  b: 2  # two\n}\n"),
    (MAP, [remove("/m/a"), remove("/m/b")], "m: {\n  # about b\n}\n"),
    (SEQ, [remove("/s/0"), remove("/s/0")], "s: [\n  # mid\n]\n"),
    ("s: [a, b,  # two\n  c]\n", [remove("/s/1")], "s: [a,  # two\n  c]\n"),
    ("s: [\n  a  # one\n  , b  # two\n]\n", [remove("/s/0")], "s: [\n  b  # two\n]\n"),
    # remove and add in one batch: the new entry takes the removed one's place
    (MAP, [remove("/m/b"), add("/m/c", 3)], "m: {\n  a: 1,  # one\n  # about b\n  c: 3\n}\n"),
    (MAP, [remove("/m/a"), remove("/m/b"), add("/m/c", 3)], "m: {\n  c: 3\n  # about b\n}\n"),
    # replace an entry's value: the comments around it stay
    (MAP, [replace("/m/a", {"z": 1})], "m: {\n  a: {z: 1},  # one\n  # about b\n  b: 2  # two\n}\n"),
    (MAP, [replace("/m", {"a": 1, "b": 5, "c": 3})],
     "m: {\n  a: 1,  # one\n  # about b\n  b: 5,  # two\n  c: 3\n}\n"),
    # replace the whole list: kept items keep their comments, new ones take the old places
    (SEQ, [replace("/s", ["x", "b"])], "s: [\n  x,\n  # mid\n  b,  # two\n]\n"),
    (SEQ, [replace("/s", ["a", "x", "y"])], 's: [\n  a,  # one\n  # mid\n  x,\n  "y",\n]\n'),
    (SEQ, [replace("/s", [])], "s: [\n  # mid\n]\n"),
])
def test_comments_between_flow_entries(text, ops, expected):
    assert patch(text, *ops) == expected


@pytest.mark.parametrize("text,ops,expected", [
    ("s: [\n  a,\n  b\n]\n", [replace("/s", ["x", "y", "z"])], 's: [\n  x,\n  "y",\n  z\n]\n'),
    ("s: [\n  a,\n  b,\n]\n", [replace("/s", ["x", "a", "z"])], "s: [\n  x,\n  a,\n  z,\n]\n"),
    ("c:\n  args: [\n    --a,\n    --b\n  ]\n", [replace("/c/args", ["--x", "--b", "--c"])],
     "c:\n  args: [\n    --x,\n    --b,\n    --c\n  ]\n"),
    ('args: [\n  "--a",\n  "--b"]\n', [replace("/args", ["--c"])], 'args: [\n  "--c"]\n'),
    ("m: {\n  a: 1,\n  b: 2\n}\n", [replace("/m", {"x": 1, "y": 2})], 'm: {\n  x: 1,\n  "y": 2\n}\n'),
    ('{\n  "s": [\n    "a",\n    "b"\n  ]\n}\n', [replace("/s", ["x", {"k": 1}])],
     '{\n  "s": [\n    "x",\n    {\n      "k": 1\n    }\n  ]\n}\n'),
    # not one item a line: one line
    ("s: [a, b,\n  c]\n", [replace("/s", ["x", "y"])], 's: [x, "y"]\n'),
    ("s: [a, b]\n", [replace("/s", ["x", "y", "z"])], 's: [x, "y", z]\n'),
    ("s: [ a, b ]\n", [replace("/s", ["b", "c"])], "s: [ b, c ]\n"),
    ("s: [\n  a,\n  b\n]\n", [replace("/s", [])], "s: []\n"),
])
def test_replaced_flow_list_keeps_its_layout(text, ops, expected):
    assert patch(text, *ops) == expected


@pytest.mark.parametrize("text,ops,why", [
    # the comma after the comment, and the entry after it removed: nothing to put a new one before
    # (other comma-after-comment layouts are edited: see test_flow_edit_limits)
    ("s: [a  # c\n  , b]\n", [remove("/s/1"), add("/s/-", "z")], "comma follows its comment"),
])
def test_layouts_that_would_move_a_comment_are_refused(text, ops, why):
    with pytest.raises(EditError, match=why):
        patch(text, *ops)


@pytest.mark.parametrize("text,ops,expected", [
    # entries sharing lines: each goes with its comma, and with its comment when it ends the line
    ("s: [a,  # one\n  b]\n", [remove("/s/0"), remove("/s/0")], "s: [\n  ]\n"),
    ("s: [a,  # one\n  b]\n", [replace("/s", ["x"])], "s: [x\n  ]\n"),
    ("s: [a, b,  # c\n  d, e]\n", [replace("/s", [])], "s: [\n  ]\n"),
    ("s: [  # head\n  a, b,  # c\n  d\n]\n", [replace("/s", ["x"])], "s: [  # head\n  x\n]\n"),
    ("m: {a: 1,  # one\n  b: 2}\n", [replace("/m", {"c": 1})], "m: {c: 1\n  }\n"),
])
def test_emptying_entries_that_share_lines_keeps_the_other_comments(text, ops, expected):
    assert patch(text, *ops) == expected


def test_commented_pod_fixture_keeps_every_comment_but_the_removed_flags():
    text = (FLOW / "commented_args.yaml").read_text()
    doc = next(parse_documents("x.yaml", text))
    assert doc.data["spec"]["containers"][0]["args"][1] == "--gpu-memory-utilization=0.95"
    ops = [remove("/spec/containers/0/args/1"), add("/spec/containers/0/args/-", "--enforce-eager"),
           replace("/spec/containers/0/resources", {"limits": {"nvidia.com/gpu": 1}}),
           add("/spec/volumes/0/emptyDir/sizeLimit", "16Gi")]
    out = patch(text, *ops)

    def notes(t: str) -> list[str]:
        return [line.split("#", 1)[1] for line in t.splitlines() if "#" in line]
    assert notes(out) == [n for n in notes(text) if "greedy" not in n]
    assert "      --max-model-len=8192,  # fits one A10G\n      --enforce-eager,\n    ]\n" in out
    assert "      limits: {nvidia.com/gpu: 1},  # one GPU\n    }\n" in out
    assert "    emptyDir: {medium: Memory, sizeLimit: 16Gi}  # shared memory\n" in out
    assert [ln for ln in text.splitlines() if not any(w in ln for w in ("greedy", "requests", "emptyDir"))] == \
        [ln for ln in out.splitlines() if "enforce-eager" not in ln and "sizeLimit" not in ln]  # nothing else moved


def test_fixer_keeps_trailing_comments_on_their_entries_in_a_commented_flow_pod():
    """The built-in fixes (env, shm, cache volume, utilization) go into commented flow lists: all
    the fixer's invariants hold, and each trailing comment stays on the line of its entry."""
    outcome = check_fix_properties("pod.yaml", (FLOW / "commented_flow_pod.yaml").read_text())
    assert {"CS401", "CS402", "CS403", "CS405"} <= set(outcome.fixed)
    lines = [ln.strip() for ln in outcome.text.splitlines()]
    assert '{name: NCCL_CUMEM_ENABLE, value: "0"},  # set by the base image' in lines
    assert "{name: dshm, mountPath: /dev/shm},  # shared memory" in lines
    assert "{name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}},  # too small by default" in lines
    assert "--gpu-memory-utilization=0.8  # too greedy" in lines
    assert lines[lines.index('{name: NCCL_CUMEM_ENABLE, value: "0"},  # set by the base image') + 1] \
        .startswith("{name: HF_HUB_OFFLINE")


# -- properties ---------------------------------------------------------------------------------

def _lost_paths(doc, ops) -> tuple[set[str], set[str]]:
    """(entries removed, values replaced or removed) in original paths, following the index shifts
    of the operations: comments of those may go, every other one must stay."""
    def label(value, path):
        if isinstance(value, dict):
            return [path, {k: label(v, f"{path}/{str(k).replace('~', '~0').replace('/', '~1')}")
                           for k, v in value.items()}]
        if isinstance(value, list):
            return [path, [label(v, f"{path}/{i}") for i, v in enumerate(value)]]
        return [path, None]

    tree, gone, emptied = label(copy.deepcopy(doc), ""), set(), set()
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node = tree
        for part in parts[:-1]:
            node = node[1][int(part)] if isinstance(node[1], list) else node[1][part]
        sub, last = node[1], parts[-1]
        if isinstance(sub, list):
            index = len(sub) if last == "-" else int(last)
            if op["op"] == "add":
                sub.insert(index, [None, None])
                continue
            old = sub[index]
        else:
            old = sub.get(last)
        if old is not None and old[0] is not None:
            (gone if op["op"] == "remove" else emptied).add(old[0])
        if op["op"] == "remove":
            del sub[int(last) if isinstance(sub, list) else last]
        elif isinstance(sub, list):
            sub[index] = [old[0] if old else None, None]
        else:
            sub[last] = [old[0] if old else None, None]
    return gone, emptied


def _may_go(comment: str, gone: set[str], emptied: set[str]) -> bool:
    kind, path = comment[2], comment[4:].rsplit(" |", 1)[0]
    path = "" if path == "/" else path
    under = [p for p in gone | emptied if path == p and kind == "o" or path.startswith(p + "/")]
    return bool(under) or kind == "t" and path in gone


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), doc=DOCS, seed=st.integers(0, 2**16), wrap=st.booleans())
def test_random_commented_flow_documents_keep_their_comments(data, doc, seed, wrap):
    """Hand-wrapped flow documents with comments everywhere (one entry a line, or several on
    some lines): the text parses to the jsonpatch result, and every comment survives once
    unless it belonged to a removed or replaced part."""
    text = document(doc, seed, wrap)
    parsed = list(parse_documents("t.yaml", text))
    assume(len(parsed) == 1 and parsed[0].error is None and parsed[0].data == doc)
    ops = data.draw(operations(doc))
    if not ops:
        return
    try:
        out = patch(text, *ops)
    except EditError:
        assert _edits_then_removes(doc, ops)  # the one known limit (see test_fix_flow)
        return
    gone, emptied = _lost_paths(doc, ops)
    after = comments(out)
    assert len(after) == len(set(after)), out  # none duplicated
    missing = [c for c in comments(text) if c not in after and not _may_go(c, gone, emptied)]
    assert not missing, (missing, out)
