"""One engine that turns RFC 6902 operations into minimal edits of a document's YAML text.

Edits are computed from PyYAML node positions (code-point offsets into the document chunk):
a replaced scalar keeps its quoting and, for strings, only the changed substring is rewritten
(scalaredit); inserted keys and items copy their siblings' indentation and sequence style;
removals take whole lines, and a block collection left empty says `{}`/`[]` (emptyblock); the
first entry on a dash line (`- name: x`, `- - a`) is settled once the batch is known (dashline);
flow collections are edited entry by entry, around their comments (flowedit). A replace or
removal of a collection drops what earlier operations of the batch did inside it (editstate).
Anything it cannot do exactly (a node an alias refers to, an edit of what the batch itself
added) raises `EditError`, and the caller reverts.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from .dashline import DashHead, DashLineHeads
from .documents import child_node, split_pointer
from .editstate import EditState
from .emptyblock import BlockRemovals, item_dash
from .flowedit import FlowEditError, FlowPlan, Fresh, plan_edits
from .render import (
    Style,
    block,
    dash_column,
    detect_style,
    flow,
    flow_entry,
    flow_key,
    local_style,
    render_key,
    sequence_item,
    sibling_flow_style,
)
from .scalaredit import ScalarEdits
from .scalars import render_scalar
from .textspan import EditError, TextEdit, canon, construct, content_end, line_after

__all__ = ["EditError", "TextEdit", "apply_edits", "construct", "content_end", "edits_for", "line_after"]


@dataclass(frozen=True)
class _New:
    """A block sequence item inserted earlier in the same batch: where its lines go, and the
    order of their edit (an item inserted before it goes at the same place, just before)."""
    at: int
    order: float


class _Editor(BlockRemovals, DashLineHeads, EditState, ScalarEdits):
    def __init__(self, text: str, root: Any):
        if root is None:
            raise EditError("document has no node tree")
        self.text = text
        self.root = root
        self.style: Style = detect_style(text, root)
        self.edits: list[TextEdit] = []
        self.owner = 0  # id of the node the current operation edits in or under
        self.sequences: dict[int, list[Any]] = {}  # current items of block sequences touched so far
        self.plans: dict[int, FlowPlan] = {}  # final entries of flow collections touched so far
        self.key_counts: dict[int, int] = {}  # keys left in block mappings this batch changed
        self.emptied: dict[int, tuple[Any, Any, str]] = {}  # (node, key, pointer) of emptied block collections
        self.heads: dict[int, DashHead] = {}  # removed first entries on dash lines (`- name: x`)
        self.added_keys: dict[int, list[tuple[int, float]]] = {}  # (offset, order) of keys added to block mappings
        self.removed_keys: set[int] = set()  # keys of block mappings this batch removed
        self.shared: dict[int, str] | None = None  # nodes no edit may touch, and why (found when first needed)
        self.replaced: set[int] = set()  # collections this batch replaced (their nodes are the old value)

    # -- navigation ---------------------------------------------------------------------------
    def resolve(self, parts: list[str]) -> tuple[Any, Any]:
        """(key node, node) at the path, following earlier insertions/removals in sequences;
        EditError when the path runs into what an alias refers to (every operation resolves its
        node or its parent here)."""
        node, key = self.root, None
        prefix = ""
        path = []
        for part in parts:
            if id(node) in self.replaced:  # the path runs into the new value, not into these nodes
                raise EditError(f"cannot edit inside {prefix}: an operation of the same fix added it")
            if isinstance(node, yaml.SequenceNode):
                items = self.items(node, prefix)
                if not part.isdigit() or int(part) >= len(items):
                    raise EditError(f"no item {part} at {prefix or '/'}")
                key, node = None, items[int(part)]
                if isinstance(node, (_New, Fresh)):
                    raise EditError("cannot edit inside an item inserted in the same fix")
            else:
                found = child_node(node, part)
                if found is None:
                    raise EditError(f"no key {part!r} at {prefix or '/'}")
                if self.removed(node, found[0], part):
                    # removed, then added again by the same fix: these nodes are the removed value
                    # (found by the property in test_flow_edit_limits: the edit went to the old text)
                    raise EditError(f"cannot edit {prefix}/{part}: an operation of the same fix added it")
                key, node = found
            prefix += "/" + part
            path.append(node)
        self.refuse_shared_path(path)
        if id(node) in self.replaced:  # edited again, or the parent of an edit: written already
            raise EditError(f"cannot edit {prefix or '/'} again: an operation of the same fix added it")
        return key, node

    def items(self, seq: Any, pointer: str) -> list[Any]:
        """The sequence's current items (the list itself: callers insert and pop)."""
        if seq.flow_style:
            return self.plan(seq).items
        return self.sequences.setdefault(id(seq), list(seq.value))

    def plan(self, node: Any) -> FlowPlan:
        return self.plans.setdefault(id(node), FlowPlan.of(node))

    def removed(self, mapping: Any, key_node: Any, key: str) -> bool:
        """A key of `mapping` (block or flow) this batch removed: its nodes are no longer the value."""
        return id(key_node) in self.removed_keys or self.removed_from_flow(mapping, key)

    def removed_from_flow(self, mapping: Any, key: str) -> bool:
        """A key of a flow mapping this batch removed (adding it again appends a new entry)."""
        plan = self.plans.get(id(mapping))
        return plan is not None and not any(isinstance(e, tuple) and e[0].value == key for e in plan.items)

    def finish(self) -> list[TextEdit]:
        """The edits, with those of flow collections written once their final entries are known."""
        self.resolve_heads()
        self.write_emptied()
        for plan in self.plans.values():
            style = local_style(self.text, plan.node, self.style)
            try:
                edits = plan_edits(self.text, plan, style.comma, style.newline, style.pad, style.json)
            except FlowEditError as exc:
                raise EditError(str(exc)) from None
            for start, end, content in edits:
                self.edit(start, end, content)
        return self.edits

    # -- operations ---------------------------------------------------------------------------
    def apply(self, op: dict[str, Any]) -> None:
        kind, parts = op.get("op"), split_pointer(op.get("path", ""))
        if not parts:
            raise EditError("cannot replace the whole document")
        if kind == "replace":
            self.replace(parts, op["value"])
        elif kind == "add":
            self.add(parts, op["value"])
        elif kind == "remove":
            self.remove(parts)
        else:
            raise EditError(f"unsupported operation {kind!r}")

    def replace(self, parts: list[str], value: Any) -> None:
        key, node = self.resolve(parts)  # refuses a key this batch removed (and added again)
        self.refuse_shared(node, whole=False)
        if not isinstance(node, yaml.ScalarNode):
            self.forget_inside(node)
        self.owner = id(node)
        if isinstance(node, yaml.MappingNode) and isinstance(value, dict) and self.replace_entries(parts, node, value):
            return
        if isinstance(node, yaml.SequenceNode) and node.flow_style and isinstance(value, list):
            self.replace_items(node, value)
            return
        if isinstance(node, yaml.ScalarNode) and node.start_mark.index == node.end_mark.index:
            self.replace_nothing(key, node, self.resolve(parts[:-1])[1], value, len(parts))
            return
        if isinstance(node, yaml.ScalarNode) and not isinstance(value, (dict, list)):
            self.edits.append(self.replace_scalar(node, value))
            return
        self.refuse_shared(node)
        self.owner = id(node)
        if not isinstance(node, yaml.ScalarNode):  # its text is rewritten whole: the nodes are the old value
            self.replaced.add(id(node))
        start, end = node.start_mark.index, content_end(self.text, node)
        if isinstance(node, yaml.ScalarNode) or node.flow_style:
            self.edit(start, end, flow(value, self.style))
            return
        if key is not None and self.replace_under_key(key, node, value):
            return
        column = node.start_mark.column
        lines = block(value, column, self.style) if isinstance(value, (dict, list)) and value else None
        if lines is None:
            self.edit(start, end, flow(value, self.style))
            return
        self.edit(start, end, self.style.newline.join([lines[0][column:]] + lines[1:]))

    def replace_entries(self, parts: list[str], node: Any, value: dict[str, Any]) -> bool:
        """Replace a block mapping entry by entry, so unchanged entries keep their bytes (quoting,
        comments). False, with nothing recorded, when that cannot be done."""
        old = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag.endswith(":str")}
        if len(old) != len(node.value) or not all(isinstance(k, str) for k in value):
            return False
        if not set(old) & set(value) and not node.flow_style:
            return False
        if node.flow_style and self.edited_inside(node):
            return False
        saved = self.snapshot()
        if node.flow_style:  # the value replaces what earlier operations did to its entries
            self.plan(node).items[:] = list(node.value)
        try:
            for key, new in value.items():
                if key not in old:
                    self.add_key(node, key, new, len(parts))
                elif construct(old[key]) != new or type(construct(old[key])) is not type(new):
                    self.replace(parts + [key], new)
            for key in old:
                if key not in value:
                    self.remove(parts + [key])
        except EditError:
            self.restore(saved)
            return False
        return True

    def replace_items(self, seq: Any, value: list[Any]) -> None:
        """A flow sequence replaced item by item: items equal to old ones keep their text (and the
        comments around them), the rest are written in the list's layout (one a line if it was)."""
        if self.edited_inside(seq):
            raise EditError("cannot replace a list that an earlier operation of the same fix edited inside")
        style = local_style(self.text, seq, self.style)
        olds = list(seq.value)
        matcher = difflib.SequenceMatcher(None, [canon(construct(n)) for n in olds], [canon(v) for v in value],
                                          autojunk=False)
        items: list[Any] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                items += olds[i1:i2]
            else:
                for old in olds[i1:i2]:
                    self.refuse_shared(old)
                items += [Fresh(self.sibling_scalar(seq, v) or flow(v, style), "", v, style) for v in value[j1:j2]]
        plan = self.plan(seq)
        plan.items[:] = items

    def edited_inside(self, node: Any) -> bool:
        """Whether an edit or a changed flow plan of this batch lies inside the node's text."""
        start, end = node.start_mark.index, node.end_mark.index
        return (any(start <= e.start < end for e in self.edits) or
                any(p.node is not node and start <= p.node.start_mark.index < end and p.changed()
                    for p in self.plans.values()))

    def add(self, parts: list[str], value: Any) -> None:
        _, parent = self.resolve(parts[:-1])
        self.owner = id(parent)
        last = parts[-1]
        if isinstance(parent, yaml.MappingNode):
            found = child_node(parent, last)
            if found is not None and not self.removed(parent, found[0], last):
                self.replace(parts, value)
            else:
                self.add_key(parent, last, value, len(parts) - 1)
        elif isinstance(parent, yaml.SequenceNode):
            self.add_item(parent, "/" + "/".join(parts[:-1]), last, value, len(parts) - 1)
        else:
            raise EditError("add needs a mapping or a sequence as parent")

    def add_key(self, mapping: Any, key: str, value: Any, depth: int) -> None:
        """A new entry written as its siblings are: in the braces of a flow mapping, as a line of a
        block one, its key quoted as theirs are."""
        style = local_style(self.text, mapping, self.style)
        if mapping.flow_style:
            self.plan(mapping).items.append(Fresh(flow_entry(key, value, style), flow_key(key, style), value, style))
            return
        self.key_counts[id(mapping)] = self.key_counts.get(id(mapping), len(mapping.value)) + 1
        rendered_key = render_key(key, style)
        column = mapping.value[0][0].start_mark.column
        if isinstance(value, (dict, list)) and value:
            child_indent = column + (style.step if isinstance(value, dict) or style.indent_sequences else 0)
            lines = [" " * column + rendered_key + ":"] + block(value, child_indent, style)
        else:
            lines = [" " * column + f"{rendered_key}: {flow(value, style)}"]
        at = line_after(self.text, content_end(self.text, mapping))
        self.added_keys.setdefault(id(mapping), []).append((at, self.insert_lines(at, lines, depth)))

    def add_item(self, seq: Any, pointer: str, index: str, value: Any, depth: int) -> None:
        items = self.items(seq, pointer)
        pos = len(items) if index == "-" else int(index) if index.isdigit() else -1
        if not 0 <= pos <= len(items):
            raise EditError(f"index {index} out of range")
        style = local_style(self.text, seq, self.style)
        scalar = self.sibling_scalar(seq, value)
        if seq.flow_style:
            items.insert(pos, Fresh(scalar or flow(value, style), "", value, style))
            return
        first = seq.value[0]
        dash = dash_column(self.text, first)
        if dash is None:
            raise EditError("cannot find the sequence's dash")
        item_col = first.start_mark.column
        whole_flow, flow_leaves = sibling_flow_style(first)
        if scalar is not None or whole_flow:
            text = scalar or flow(value, style)
            lines = [" " * dash + "-" + " " * max(1, item_col - dash - 1) + text]
        else:
            lines = sequence_item(value, dash, style, item_col, flow_leaves)
        nxt = items[pos] if pos < len(items) else None
        order = None
        if isinstance(nxt, _New):  # before an item this batch inserted: same place, just before it
            prev = items[pos - 1] if pos else None
            low = prev.order if isinstance(prev, _New) and prev.at == nxt.at else nxt.order - 1
            at, order = nxt.at, (low + nxt.order) / 2
        elif nxt is not None:
            at = self.text.rfind("\n", 0, nxt.start_mark.index) + 1
            if self.text[at:item_dash(self.text, nxt)].strip():  # `- - a`: the new item takes the dash line
                at = item_dash(self.text, nxt)
        else:
            at = line_after(self.text, content_end(self.text, seq))
        if at < len(self.text) and self.text[self.text.rfind("\n", 0, at) + 1:at].strip():
            nl = self.style.newline
            order = self.insert(at, nl.join([lines[0][dash:]] + lines[1:]) + nl + " " * dash, depth, order)
        else:
            order = self.insert_lines(at, lines, depth, order)
        items.insert(pos, _New(at, order))

    @staticmethod
    def sibling_scalar(seq: Any, value: Any) -> str | None:
        """A new string item quoted like its siblings (`args: ["--a", "1"]` gets `"--b"`)."""
        if not isinstance(value, str) or "\n" in value:
            return None
        styles = [n.style for n in seq.value if isinstance(n, yaml.ScalarNode)]
        quoted = [st for st in styles if st in ("'", '"')]
        if not styles or len(quoted) * 2 <= len(styles):
            return None
        quote = max(("'", '"'), key=quoted.count)
        return render_scalar(value, quote, force=True)

    def remove(self, parts: list[str]) -> None:
        parent_key, parent = self.resolve(parts[:-1])
        self.owner = id(parent)
        last, pointer = parts[-1], "/" + "/".join(parts[:-1])
        if isinstance(parent, yaml.SequenceNode):
            items = self.items(parent, pointer)
            if not last.isdigit() or int(last) >= len(items):
                raise EditError(f"cannot remove item {last}")
            if isinstance(items[int(last)], (_New, Fresh)):
                raise EditError(f"cannot remove item {last}: an operation of the same fix added it")
            self.refuse_shared(items[int(last)])
            self.forget_inside(items[int(last)])  # what earlier operations did inside it goes with it
            if parent.flow_style:  # flow items are written out by finish()
                items.pop(int(last))
            else:
                self.remove_item(parent, parent_key, pointer, items, int(last))
            return
        found = child_node(parent, last) if isinstance(parent, yaml.MappingNode) else None
        if found is None:
            raise EditError(f"no key {last!r} to remove")
        if self.removed(parent, found[0], last):
            raise EditError(f"cannot remove key {last!r}: an operation of the same fix added it")
        key, node = found
        self.refuse_shared(key)
        self.refuse_shared(node)
        self.forget_inside(node)
        if parent.flow_style:
            items = self.plan(parent).items
            items[:] = [e for e in items if not (isinstance(e, tuple) and e[0] is key)]
            return
        self.remove_key(parent, parent_key, pointer, key, node)

    # -- text helpers -------------------------------------------------------------------------
    def remove_lines(self, start: int, end: int) -> None:
        self.edit(start, line_after(self.text, end), "")

    def insert_lines(self, at: int, lines: list[str], depth: int, order: float | None = None) -> float:
        """Whole lines at a line start; `depth` is the tree depth of the collection they extend.
        Returns the edit's order."""
        nl = self.style.newline
        body = nl.join(lines)
        if at >= len(self.text) and self.text and not self.text.endswith("\n"):
            return self.insert(at, nl + body, depth, order)  # keep the missing final newline missing
        return self.insert(at, body + nl, depth, order)

    def insert(self, at: int, content: str, depth: int = 0, order: float | None = None) -> float:
        order = len(self.edits) if order is None else order
        self.edits.append(TextEdit(at, at, content, order, depth, self.owner))
        return order

    def edit(self, start: int, end: int, content: str) -> None:
        self.edits.append(TextEdit(start, end, content, len(self.edits), owner=self.owner))


def edits_for(text: str, root: Any, operations: list[dict[str, Any]]) -> list[TextEdit]:
    editor = _Editor(text, root)
    for op in operations:
        editor.apply(op)
    return editor.finish()


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end, -e.depth, e.order))
    out, pos = [], 0
    for e in ordered:
        if e.start < pos:
            raise EditError("overlapping edits")
        out.append(text[pos:e.start])
        out.append(e.content)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)
