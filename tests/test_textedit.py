"""The text-edit engine on small documents: each test is one style rule of issue 3."""
from __future__ import annotations

import pytest
import yaml

from cslint.scalars import needs_quotes, render_literal, render_scalar
from cslint.textedit import EditError, TextEdit, apply_edits, edits_for


def patch(text: str, *ops: dict) -> str:
    new = apply_edits(text, edits_for(text, yaml.compose(text), list(ops)))
    yaml.safe_load(new)  # always parses
    return new


def add(path, value):
    return {"op": "add", "path": path, "value": value}


def replace(path, value):
    return {"op": "replace", "path": path, "value": value}


def test_new_key_copies_sibling_indentation_and_goes_before_trailing_comments():
    text = "c:\n    a: 1   # one\n    # about b\n\nd: 2\n"
    assert patch(text, add("/c/b", "x")) == "c:\n    a: 1   # one\n    b: x\n    # about b\n\nd: 2\n"


def test_new_item_copies_dash_and_item_columns():
    text = "l:\n-   name: a\n    v: 1\nz: 0\n"
    assert patch(text, add("/l/-", {"name": "b", "v": "1"})) == \
        'l:\n-   name: a\n    v: 1\n-   name: b\n    v: "1"\nz: 0\n'


def test_insert_before_an_item():
    assert patch("l:\n  - a\n  - c\n", add("/l/1", "b")) == "l:\n  - a\n  - b\n  - c\n"


def test_flow_collections_get_flow_insertions():
    text = "v: {medium: Memory}\ne: {}\nargs: [\n  a,\n  b\n]\n"
    out = patch(text, add("/v/sizeLimit", "16Gi"), add("/e/k", "v"), add("/args/-", "c"))
    assert out == "v: {medium: Memory, sizeLimit: 16Gi}\ne: {k: v}\nargs: [\n  a,\n  b,\n  c\n]\n"  # one item a line


def test_new_items_copy_sibling_quoting_and_flow_style():
    text = 'args: ["--a", "1"]\nm:\n- {name: x}\n'
    out = patch(text, add("/args/-", "--b"), add("/m/-", {"name": "z"}))
    assert out == 'args: ["--a", "1", "--b"]\nm:\n- {name: x}\n- {name: z}\n'


def test_nested_insertions_at_one_offset_close_the_inner_block_first():
    """A key added to the last container and a key added to the pod spec land at the same offset."""
    text = "spec:\n  containers:\n  - name: c\n    env:\n    - name: A\n      value: '1'\n"
    out = patch(text, add("/spec/volumes", [{"name": "v"}]), add("/spec/containers/0/volumeMounts", [{"name": "v"}]),
                add("/spec/containers/0/env/-", {"name": "B", "value": "0"}))
    assert yaml.safe_load(out) == {"spec": {"containers": [{"name": "c", "env": [
        {"name": "A", "value": "1"}, {"name": "B", "value": "0"}], "volumeMounts": [{"name": "v"}]}],
        "volumes": [{"name": "v"}]}}


@pytest.mark.parametrize("text,value,expected", [
    ("- --config=/x.yaml\n", "--config", "- --config\n"),  # plain stays plain
    ("- '0.95'  # greedy\n", "0.8", "- '0.8'  # greedy\n"),
    ('- "0.95"\n', "0.8", '- "0.8"\n'),
    ("- 'it''s 0.95'\n", "it's 0.8", "- 'it''s 0.8'\n"),
    ("- yes-no\n", "yes", '- "yes"\n'),  # would turn boolean: quoted
])
def test_replaced_scalar_keeps_its_quoting(text, value, expected):
    assert patch(text, replace("/0", value)) == expected


def test_shell_string_edit_replaces_only_the_substring():
    text = ('- "pip install x && \\\n  vllm serve m \\\n    --gpu-memory-utilization 0.95 --port 8000\\t# c"\n')
    value = yaml.safe_load(text)[0].replace("0.95", "0.8")
    assert patch(text, replace("/0", value)) == text.replace("0.95", "0.8")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_literal_block_edit_keeps_line_endings(newline):
    text = "c: |\n  set -e\n  vllm serve m --gpu-memory-utilization 0.95 \\\n    --port 8000\nd: 1\n".replace("\n", newline)
    value = yaml.safe_load(text)["c"].replace("0.95", "0.8")
    assert patch(text, replace("/c", value)) == text.replace("0.95", "0.8")


def test_literal_block_rewritten_whole_when_lines_are_added():
    text = "c: |\n    echo 1\n    vllm serve m\nd: 1\n"
    out = patch(text, replace("/c", "echo 1\nexport A=1\nvllm serve m\n"))
    assert out == "c: |\n    echo 1\n    export A=1\n    vllm serve m\nd: 1\n"


def test_mapping_replaced_entry_by_entry_keeps_unchanged_entries():
    text = "- name: 'cache'   # keep\n  emptyDir: {}\n"
    out = patch(text, replace("/0", {"name": "cache", "persistentVolumeClaim": {"claimName": "c"}}))
    assert out == "- name: 'cache'   # keep\n  persistentVolumeClaim:\n    claimName: c\n"


def test_removals_take_whole_lines_or_flow_items():
    text = "args:\n- serve   # dup\n- m\nf: [a, b, c]\n"
    out = patch(text, {"op": "remove", "path": "/args/0"}, {"op": "remove", "path": "/f/2"})
    assert out == "args:\n- m\nf: [a, b]\n"


def test_missing_final_newline_stays_missing_and_crlf_stays_crlf():
    text = "a:\r\n  b: 1"
    assert patch(text, add("/a/c", "x")) == "a:\r\n  b: 1\r\n  c: x"


def test_unsupported_operations_raise_edit_error():
    with pytest.raises(EditError):
        edits_for("a: 1\n", yaml.compose("a: 1\n"), [{"op": "move", "from": "/a", "path": "/b"}])
    with pytest.raises(EditError):
        edits_for("a: 1\n", yaml.compose("a: 1\n"), [replace("/x/y", 1)])
    with pytest.raises(EditError):
        apply_edits("abc", [TextEdit(0, 2, "x"), TextEdit(1, 3, "y")])


@pytest.mark.parametrize("value", ["1", "0", "yes", "on", "y", "N", "~", "null", "1e3", "0o17", "0x1F",
                                   "2024-01-01", "1:20", ".inf", "", " x", "a: b", "x #y", "*x", "&x", "!x",
                                   "- x", "[x]", "x,y", "@x", "`x"])
def test_values_yaml_would_misread_are_quoted(value):
    assert needs_quotes(value)
    assert yaml.safe_load(f"v: {render_scalar(value)}") == {"v": value}


@pytest.mark.parametrize("value", ["Memory", "16Gi", "/dev/shm", "--config", "-O3", "vllm/vllm-openai:v1",
                                   "http://x/y", "Grüße"])
def test_ordinary_values_stay_plain(value):
    assert not needs_quotes(value)


def test_env_values_are_written_as_quoted_strings():
    assert render_scalar("1") == '"1"' and render_scalar("0") == '"0"'


def test_render_literal_refuses_what_it_cannot_hold():
    assert render_literal(" leading", 2) is None
    assert render_literal("keep\n\n", 2) is None
    assert render_literal("a\nb", 2) == "|-\n  a\n  b"
