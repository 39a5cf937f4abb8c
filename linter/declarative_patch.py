"""A declared JSON Patch made to apply: missing parent mappings created, everything else verified.

A team writes `add /limits/nvidia.com~1gpu` relative to what its rule selects; on an object whose
container has no `resources` yet, RFC 6902 rejects that `add` (its parent must exist) and the
webhook would answer with a patch the API server refuses. Built-in rules create the parents
themselves (`patches.resources_path`, CS506's annotations), so a declared patch gets the same:
an `add` whose parent is missing becomes one `add` of the first missing mapping, holding the
rest. A missing parent that would have to be a list (a `-` or index segment under it) cannot be
guessed, and an operation that does not apply to this object (`replace` of nothing, a failed
`test`) cannot be repaired: the fix is refused with the reason — the finding stays, unfixed.
"""
from __future__ import annotations

import copy
from typing import Any

from .documents import join_pointer, split_pointer

Op = dict[str, Any]


class PatchRefused(ValueError):
    """The declared patch cannot be applied to this object; the message says why."""


def complete_patch(ops: list[Op], data: Any, pointer: str) -> list[Op]:
    """`ops` (absolute pointers under `pointer`, the node whose value is `data`), each `add` given
    the parents it lacks, every op checked against the node as the ops before it leave it.

    An op that lands inside a value an earlier op of the same fix adds is folded into that value:
    the text engine edits nodes the file has, not ones the same batch is still inserting."""
    import jsonpatch
    doc = copy.deepcopy(data)  # the simulation; `data` is the linted document and stays as it is
    out: list[Op] = []
    created: list[tuple[list[str], int]] = []  # (path, index in out) of values added whole
    for op in ops:
        rel = _relative(op, pointer)
        if rel["op"] == "add":
            rel = with_parents(doc, rel, pointer)
        doc = _apply(doc, rel, op)
        parts = split_pointer(rel["path"])
        home = _inside(created, parts)
        if home is not None:
            where, index = home
            out[index]["value"] = copy.deepcopy(_resolve(doc, where))
            continue
        if "from" in rel and _inside(created, split_pointer(rel["from"]), strict=False) is not None:
            raise PatchRefused(f"`{op['op']} {op['path']}` moves or copies a value the same fix adds")
        if rel["op"] in ("add", "replace"):
            created.append((_landed(doc, parts), len(out)))
        out.append(rel)
    if jsonpatch.apply_patch(data, out) != doc:  # the folding kept the meaning, or nothing is offered
        raise PatchRefused("its operations could not be arranged for this object")
    return [_absolute(o, pointer) for o in out]


def _apply(doc: Any, rel: Op, op: Op) -> Any:
    import jsonpatch
    import jsonpointer
    try:
        return jsonpatch.apply_patch(doc, [copy.deepcopy(rel)], in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            TypeError, KeyError, IndexError, ValueError) as exc:
        raise PatchRefused(f"`{op['op']} {op['path'] or '/'}` does not apply here ({_reason(exc)})") from None


def _inside(created: list[tuple[list[str], int]], parts: list[str],
            strict: bool = True) -> tuple[list[str], int] | None:
    """The latest added value that `parts` points into (strictly, unless told), and its op's index."""
    for path, index in reversed(created):
        if parts[:len(path)] == path and (len(parts) > len(path) or not strict):
            return path, index
    return None


def _landed(doc: Any, parts: list[str]) -> list[str]:
    """Where an added value now is: `-` becomes the index of the appended item."""
    if parts and parts[-1] == "-":
        parent = _resolve(doc, parts[:-1])
        return parts[:-1] + [str(len(parent) - 1)]
    return parts


def _resolve(doc: Any, parts: list[str]) -> Any:
    node = doc
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def with_parents(doc: Any, op: Op, pointer: str = "") -> Op:
    """An `add` whose parent is missing → an `add` of the first missing mapping, nesting the value.

    `add /a/b/c: 1` where `/a` exists and `/a/b` does not becomes `add /a/b: {c: 1}`. A segment to
    be created that is `-` or a number would need a list there: refused rather than guessed."""
    parts = split_pointer(op["path"])
    node = doc
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            return _create_from(parts, i, op, pointer)
        else:
            return op  # a scalar or a list on the way: applying it says why it fails
    return op


def _create_from(parts: list[str], first_missing: int, op: Op, pointer: str) -> Op:
    missing = join_pointer(parts[:first_missing + 1])
    for part in parts[first_missing:]:
        if part == "-" or part.isdigit():
            raise PatchRefused(f"cannot add {pointer}{join_pointer(parts)}: {pointer}{missing} is missing, and "
                               f"`{part}` would need a list there — only mappings are created")
    value = op["value"]
    for part in reversed(parts[first_missing + 1:]):
        value = {part: value}
    return {**op, "path": missing, "value": value}


def _relative(op: Op, pointer: str) -> Op:
    out = dict(op)
    for key in ("path", "from"):
        if key in out:
            path = out[key]
            if path != pointer and not path.startswith(pointer + "/"):
                raise PatchRefused(f"`{op['op']} {path}` lies outside {pointer or 'the document'}")
            out[key] = path[len(pointer):]
    return out


def _absolute(op: Op, pointer: str) -> Op:
    out = dict(op)
    for key in ("path", "from"):
        if key in out:
            out[key] = pointer + out[key]
    return out


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]
