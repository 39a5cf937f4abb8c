"""Where `{}` or `[]` goes when a fix removes every entry of a block collection.

A block mapping or sequence cannot be written with no entries: once its last line is gone the
parent must say `{}` / `[]` itself, or YAML reads null. The marker goes where the collection
starts: after its key's colon (`resources: {}  # comment`, the comment kept) or after its anchor
or tag, also when those have a line of their own (`&a {}`); or in place of its first entry (a
document root, an item written below its dash). Anything less regular (a complex key) is
refused by returning None.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .render import block, flow
from .textspan import EditError, content_end, line_after, line_start

_PROPERTIES = re.compile(r"((?:[ \t]+[&!][^ \t\r\n#]*)*)[ \t]*(?:#.*)?\r?")  # ` &anchor !tag  # comment`
_BLANK_OR_COMMENT_LINES = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\r?\n)*")


@dataclass(frozen=True)
class EmptyMarker:
    """An insertion that writes an emptied collection: `content` at `at`."""
    at: int
    content: str


def item_dash(text: str, item: Any) -> int:
    """Offset of the `-` that introduces a block sequence item (the item's own start if none)."""
    start = item.start_mark.index
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i if i >= 0 and text[i] == "-" else start


def first_child_start(text: str, node: Any) -> int:
    """Where the collection's first entry begins: its first key, or its first item's dash."""
    first = node.value[0]
    return first[0].start_mark.index if isinstance(first, tuple) else item_dash(text, first)


def marker_after_key(text: str, key: Any, node: Any, empty: str) -> EmptyMarker | None:
    """` {}` after `key:` and after any anchor or tag of the collection, there or on a line of
    their own below it (`&a {}`), when only blank and comment lines lie between that line and
    the collection's first entry."""
    colon = key.end_mark.index
    while colon < len(text) and text[colon] in " \t":
        colon += 1
    if colon >= len(text) or text[colon] != ":":
        return None
    eol = text.find("\n", colon)
    eol = len(text) if eol < 0 else eol
    match = _PROPERTIES.fullmatch(text, colon + 1, eol)
    if match is None:
        return None
    at, below, first = match.end(1), min(eol + 1, len(text)), first_child_start(text, node)
    if below <= node.start_mark.index < first:  # the properties have a line of their own
        own = line_start(text, node.start_mark.index)
        if not _BLANK_OR_COMMENT_LINES.fullmatch(text, below, own):
            return None
        eol = text.find("\n", own)
        eol = len(text) if eol < 0 else eol
        match = _PROPERTIES.fullmatch(text, own, eol)
        if match is None or not match.group(1):
            return None
        at, below = match.end(1), min(eol + 1, len(text))
    if not _BLANK_OR_COMMENT_LINES.fullmatch(text, below, line_start(text, first)):
        return None
    return EmptyMarker(at, " " + empty)


def has_tag(text: str, key: Any, node: Any) -> bool:
    """Whether the collection under `key:` carries a tag (`!!map`), on the key's line or below."""
    props = text[key.end_mark.index:first_child_start(text, node)]
    return any(word.startswith("!") for line in props.split("\n") for word in line.split("#", 1)[0].split())


def marker_in_place(text: str, node: Any, empty: str, newline: str, removed_to: int) -> EmptyMarker | None:
    """`{}` on the line of the first entry (whose lines are removed up to `removed_to`), at its
    column: for a document root, or an item whose entries start below its dash."""
    start = first_child_start(text, node)
    begin = line_start(text, start)
    if text[begin:start].strip():
        return None
    tail = newline if removed_to < len(text) or text.endswith("\n") else ""
    return EmptyMarker(begin, " " * (start - begin) + empty + tail)


class BlockRemovals:
    """The removal half of the text editor for block collections (mixed into it): an entry goes
    with its lines, and the collection left with none gets its `{}`/`[]`; a collection replaced
    by a scalar or an empty one is written after its key's colon the same way. Uses the editor's
    `text`, `style`, `sequences`, `key_counts`, `emptied`, `heads`, `removed_keys` and its edit
    methods, and `remove_head` (dashline) for a first entry on a dash line."""

    def remove_item(self, seq: Any, seq_key: Any, pointer: str, items: list[Any], index: int) -> None:
        """An item goes with its lines, from its dash; the last one leaves `[]` behind. The first
        item on an outer dash line (`- - a`) is left to `resolve_heads`."""
        node = items[index]
        dash = item_dash(self.text, node)
        if self.text[dash:dash + 1] != "-":
            raise EditError("cannot find the item's dash")
        items.pop(index)
        if node is seq.value[0] and self.remove_head(seq, dash):
            return
        start = self.text.rfind("\n", 0, dash) + 1
        if self.text[start:dash].strip():
            raise EditError("item does not start its line")
        self.remove_lines(start, content_end(self.text, node))
        if not items and id(seq) not in self.heads:
            self.emptied[id(seq)] = (seq, seq_key, pointer)

    def remove_key(self, mapping: Any, mapping_key: Any, pointer: str, key: Any, node: Any) -> None:
        """An entry goes with its lines; the last one leaves `{}` behind. The first key on a dash
        line (`- name: x`) is left to `resolve_heads`."""
        left = self.key_counts.get(id(mapping), len(mapping.value)) - 1
        self.removed_keys.add(id(key))
        self.key_counts[id(mapping)] = left
        if key is mapping.value[0][0] and self.remove_head(mapping, key.start_mark.index):
            return
        start = self.text.rfind("\n", 0, key.start_mark.index) + 1
        if self.text[start:key.start_mark.index].strip():
            raise EditError("key does not start its line")
        self.remove_lines(start, content_end(self.text, node))
        if not left and id(mapping) not in self.heads:
            self.emptied[id(mapping)] = (mapping, mapping_key, pointer)

    def write_emptied(self) -> None:
        """`{}`/`[]` for the block collections this batch left with no entries."""
        for node, key, pointer in self.emptied.values():
            mapping = isinstance(node, yaml.MappingNode)
            if self.key_counts.get(id(node)) if mapping else self.sequences.get(id(node)):
                continue  # refilled by a later operation
            empty = "{}" if mapping else "[]"
            removed_to = line_after(self.text, content_end(self.text, node))
            marker = (marker_after_key(self.text, key, node, empty) if key is not None else
                      marker_in_place(self.text, node, empty, self.style.newline, removed_to))
            if marker is None:
                raise EditError(f"cannot write the emptied collection as {empty} here")
            self.insert(marker.at, marker.content)

    def replace_under_key(self, key: Any, node: Any, value: Any) -> bool:
        """A block collection under `key:` replaced by a scalar or an empty collection (written
        after the colon), or by a block value when its items sit at the key's own column (a
        sequence not indented under its key); False when neither applies or the layout is
        irregular."""
        first = first_child_start(self.text, node)
        begin = self.text.rfind("\n", 0, first) + 1
        if self.text[begin:first].strip():
            return False
        end = content_end(self.text, node)
        if not isinstance(value, (dict, list)) or not value:
            kind = yaml.MappingNode if isinstance(value, dict) else yaml.SequenceNode if isinstance(value, list) else None
            if not isinstance(node, kind or ()) and has_tag(self.text, key, node):
                return False  # the tag goes with the old value
            marker = marker_after_key(self.text, key, node, flow(value, self.style))
            if marker is None:
                return False
            self.insert(marker.at, marker.content)
            self.remove_lines(begin, end)
            return True
        if node.start_mark.column > key.start_mark.column:
            return False
        style = self.style
        indent = key.start_mark.column + (style.step if isinstance(value, dict) or style.indent_sequences else 0)
        self.edit(begin, end, style.newline.join(block(value, indent, style)))
        return True
