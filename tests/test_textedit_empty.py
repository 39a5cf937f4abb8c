"""Removing the last entry of a block collection: the parent says `{}` / `[]` on its key's line
(keeping that line's comment), or in place of the entry for a document root or an item on its
dash line. Plus the block-collection replacements and insertions next to these shapes, and a
hypothesis property over randomly generated, commented block documents.
"""
from __future__ import annotations

import copy
import random

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from fuzzing import examples

import cslint.custom_rules  # noqa: F401  registers the provider of custom rules
from cslint.documents import parse_documents
from cslint.engine import Linter
from cslint.fixer import fix_text
from cslint.model import Applicability
from cslint.settings import Settings
from cslint.textedit import EditError
from fix_support import rewritten_lines
from test_fix_flow import DOCS, _edits_then_removes, add, operations, patch, remove, replace


@pytest.mark.parametrize("text,ops,expected", [
    ("resources:\n  limits:\n    cpu: 1\n", [remove("/resources/limits")], "resources: {}\n"),
    ("resources:  # c\n  # about limits\n  limits:  # per GPU\n    cpu: 1\nx: 1\n", [remove("/resources/limits")],
     "resources: {}  # c\n  # about limits\nx: 1\n"),
    ("r: &r  # anchored\n  a: 1\n", [remove("/r/a")], "r: &r {}  # anchored\n"),
    ("r: !!map\n  a: 1\n", [remove("/r/a")], "r: !!map {}\n"),
    ("r:\n  a: 1\n  b: 2\n", [remove("/r/a"), remove("/r/b")], "r: {}\n"),
    ("r:\n  a:\n    b: 1\n", [remove("/r/a/b")], "r:\n  a: {}\n"),
    ("args:\n  - a  # only\nx: 1\n", [remove("/args/0")], "args: []\nx: 1\n"),
    ("args:\n- a\n- b\nx: 1\n", [remove("/args/1"), remove("/args/0")], "args: []\nx: 1\n"),
    ("r:\r\n  a: 1\r\n", [remove("/r/a")], "r: {}\r\n"),
    # a document root, an item on its dash line
    ("# head\na: 1\n", [remove("/a")], "# head\n{}\n"),
    ("a: 1", [remove("/a")], "{}"),
    ("- a\n", [remove("/0")], "[]\n"),
    ("- limits:\n    cpu: 1  # d\n- x\n", [remove("/0/limits")], "- {}\n- x\n"),
    ("- - a\n- b\n", [remove("/0/0")], "- []\n- b\n"),
    ("-\n  a: 1\n", [remove("/0/a")], "-\n  {}\n"),
    # emptied, then refilled in the same batch: no marker
    ("args:\n- a\n- b\nx: 1\n", [remove("/args/0"), remove("/args/0"), add("/args/-", "c")], "args:\n- c\nx: 1\n"),
    ("r:\n  a: 1\n", [add("/r/c", 3), remove("/r/a")], "r:\n  c: 3\n"),
    ("r:\n  a: 1\n", [remove("/r/a"), add("/r/a", 2)], "r:\n  a: 2\n"),
    ("a: 1\n", [remove("/a"), add("/a", {})], "a: {}\n"),
    # a block collection replaced by a scalar or an empty one: after the key's colon
    ("b:  # keep\n  # inside\n- x\n- y\nc: 1\n", [replace("/b", "Memory")], "b: Memory  # keep\n  # inside\nc: 1\n"),
    ("r:\n  a: 1\nq: 2\n", [replace("/r", [])], "r: []\nq: 2\n"),
    # items at the key's own column replaced by a block value: indented under the key
    ("y:\n- null\nz: 1\n", [replace("/y", {"value": 5})], "y:\n  value: 5\nz: 1\n"),
])
def test_emptied_block_collections(text, ops, expected):
    assert patch(text, *ops) == expected


@pytest.mark.parametrize("text,ops,expected", [
    # a collection goes on the lines below the key, which keeps its comment
    ("env:\n", [replace("/env", [{"name": "A", "value": "1"}])], 'env:\n  - name: A\n    value: "1"\n'),
    ("env:  # c\nx: 1\n", [replace("/env", {"a": 1})], "env:  # c\n  a: 1\nx: 1\n"),
    ("env:", [add("/env", [1])], "env:\n  - 1"),
    ("s:\r\n  env:\r\n  x: 1\r\n", [add("/s/env", [1])], "s:\r\n  env:\r\n    - 1\r\n  x: 1\r\n"),
    ("s:\n  x: 1\n  env:\n", [add("/s/env", {"a": [1]}), add("/s/y", 2)], 's:\n  x: 1\n  env:\n    a:\n      - 1\n  "y": 2\n'),
    # anything else after the colon or dash, with a space; in a flow collection, at the next token
    ("env:  # c\nx: 1\n", [replace("/env", "v")], "env: v  # c\nx: 1\n"),
    ("l:\n-\n- b\n", [replace("/l/0", {"a": 1})], "l:\n- {a: 1}\n- b\n"),
    ("m: {a, b: }\n", [replace("/m/b", [1])], "m: {a, b: [1]}\n"),
    ("m: [a: ]\n", [replace("/m/0/a", 1)], "m: [a: 1]\n"),
])
def test_a_null_written_as_nothing_gets_its_value_apart_from_the_colon(text, ops, expected):
    assert patch(text, *ops) == expected


@pytest.mark.parametrize("text,ops,why", [
    # dash-line shapes (`- - a`, `- a: 1` then siblings, refills) are edited: see test_flow_edit_limits
    ("? a\n: 1\nb: 2\n", [remove("/a")], "shares its line with something other than dashes"),
    ("r:\n  a: 1\n", [remove("/r/a"), add("/r/a", 2), remove("/r/a")], "an operation of the same fix added it"),
    ("s:\n- a\n", [add("/s/-", {"k": 1}), add("/s/1/j", 2)], "inserted in the same fix"),
    ("m: {a, b: }\n", [replace("/m/a", [1])], "the key has no colon"),
    ("? a\n", [replace("/a", 1)], "the key has no colon"),
])
def test_irregular_layouts_are_refused_with_a_reason(text, ops, why):
    with pytest.raises(EditError, match=why):
        patch(text, *ops)


POD = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: x:1
    args:
    - --enforce-eager  # slow start
    resources:  # sized for one GPU
      limits:  # CPU limits throttle the tokenizer
        cpu: "4"
"""


@pytest.mark.parametrize("select,expected,rewritten", [
    ("$.resources.limits.cpu", POD.replace('limits:  # CPU limits throttle the tokenizer\n        cpu: "4"\n',
                                           "limits: {}  # CPU limits throttle the tokenizer\n"), {10, 11}),
    ("$.resources.limits", POD.replace('resources:  # sized for one GPU\n      limits:  # CPU limits throttle the '
                                       'tokenizer\n        cpu: "4"\n', "resources: {}  # sized for one GPU\n"),
     {9, 10, 11}),
    ("$.args[0]", POD.replace("args:\n    - --enforce-eager  # slow start\n", "args: []\n"), {7, 8}),
])
def test_the_fixer_removes_the_only_entry_through_a_custom_rule(select, expected, rewritten):
    """End to end: a declarative `remove` fix of the only key or item is applied (verified by the
    fixer against jsonpatch), is idempotent, and rewrites only the removed lines and the parent's
    key line."""
    rules = [{"code": "T101", "name": "t", "scope": "container", "message": "{value} at {path}",
              "select": select, "require": "absent", "fix": {"remove": True, "safe": True}}]
    linter = Linter(Settings(extra=(("custom_rules", rules), ("custom_rules_source", "t.yaml")), select=("T",)))
    outcome = fix_text("p.yaml", POD, linter, Applicability.SAFE)
    assert outcome.error is None and outcome.fixed["T101"] == 1
    assert outcome.text == expected
    assert rewritten_lines(POD, outcome.text) == rewritten
    again = fix_text("p.yaml", outcome.text, linter, Applicability.SAFE)
    assert again.text == outcome.text and not again.fixed


# -- properties ---------------------------------------------------------------------------------

# What the block engine still refuses (each with its reason), all outside the shapes rules write.
KNOWN_REFUSALS = ("shares its line with something other than dashes",)


def block_document(doc: dict, seed: int) -> str:
    """`doc` in block style, with comments after some lines and on lines of their own."""
    text = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False, width=10_000, allow_unicode=True)
    rng = random.Random(seed)
    lines = []
    for line in text.splitlines():
        if rng.random() < 0.2:
            lines.append(" " * (len(line) - len(line.lstrip())) + "# own line")
        lines.append(line + ("  # trailing" if rng.random() < 0.3 else ""))
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), doc=DOCS, seed=st.integers(0, 2**16))
def test_random_block_documents_and_operations(data, doc, seed):
    """Whatever removes, adds and replaces hit a commented block document (emptying collections
    included), the text parses to the jsonpatch result or the batch is refused for a known
    reason; batches that only add keep every comment."""
    text = block_document(doc, seed)
    parsed = list(parse_documents("t.yaml", text))
    assume(len(parsed) == 1 and parsed[0].error is None and parsed[0].data == doc)
    ops = data.draw(operations(doc))
    if not ops:
        return
    try:
        out = patch(text, *ops)
    except EditError as exc:
        assert _edits_then_removes(doc, ops) or any(r in str(exc) for r in KNOWN_REFUSALS), str(exc)
        return
    assert [d.data for d in parse_documents("t.yaml", out)] == [jsonpatch.apply_patch(copy.deepcopy(doc), ops)]
    if all(op["op"] == "add" for op in ops):
        assert out.count("# own line") == text.count("# own line")
        assert out.count("# trailing") == text.count("# trailing")
