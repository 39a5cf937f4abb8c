"""The first entry of a block collection that sits on its parent's dash line (`- name: x`,
`- - a`): the part of the text editor that removes it, inserts before it and refills after it.

Such an entry has no line of its own, so it cannot go with its lines as other entries do.
Removing it is decided once the batch is known (`resolve_heads`): the collection's next entry
moves up onto the dash line (`- image: y`) when only removed lines lie between; else the dash
keeps its line alone (`-` then the entries below it, where comment lines stay); with no entry
left it becomes `{}` / `[]`. A new item before it takes the dash line and pushes it down.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .emptyblock import item_dash
from .textspan import EditError, content_end, line_after, line_start

_DASHES = re.compile(r"[ \t]*(?:-[ \t]+)+(?:[&!][^ \t\r\n]*[ \t]+)*")  # `- - &anchor ` before the entry


@dataclass(frozen=True)
class DashHead:
    """A collection's first entry on a dash line: where it starts (its key, or its own dash),
    where its text ends, and which kind of empty collection it leaves."""
    collection: Any
    at: int
    end: int
    empty: str


def dash_head(text: str, collection: Any) -> DashHead | None:
    """The collection's first entry when it shares its line with outer dashes, else None."""
    if not collection.value:
        return None
    first = collection.value[0]
    if isinstance(first, tuple):
        at, end, empty = first[0].start_mark.index, content_end(text, first[1]), "{}"
    else:
        at, end, empty = item_dash(text, first), content_end(text, first), "[]"
    begin = line_start(text, at)
    if not text[begin:at].strip():
        return None
    if _DASHES.fullmatch(text, begin, at) is None:
        raise EditError("cannot edit an entry that shares its line with something other than dashes")
    return DashHead(collection, at, end, empty)


def line_end(text: str, offset: int) -> int:
    """End of the offset's line, before its line break."""
    eol = text.find("\n", offset)
    return len(text) if eol < 0 else eol - (text[eol - 1:eol] == "\r")


class DashLineHeads:
    """Mixed into the text editor; uses its `text`, `edits`, `heads` (id → DashHead of removed
    first entries), `sequences`, `added_keys`, `removed_keys` and edit methods."""

    def remove_head(self, collection: Any, entry_start: int) -> bool:
        """Records the removal of the collection's first entry when it is on a dash line."""
        head = dash_head(self.text, collection)
        if head is None or head.at != entry_start:
            return False
        self.heads[id(collection)] = head
        return True

    def resolve_heads(self) -> None:
        for head in self.heads.values():
            self.resolve_head(head)

    def resolve_head(self, head: DashHead) -> None:
        text = self.text
        below = line_after(text, head.end)  # the first line after the removed entry
        first = self.first_entry(head.collection)
        if first is None:
            self.edit(head.at, line_end(text, head.end), head.empty)
            return
        kind, at, edit = first
        if kind == "prefix":  # new items took the dash line: the last one's line break is enough
            content = edit.content.rstrip(" ")
            if below >= len(text) and not text.endswith("\n"):
                content = content.rstrip("\r\n")
            self.edits[self.edits.index(edit)] = _with(edit, content)
            self.edit(head.at, below, "")
            return
        start = at if kind == "new" else line_start(text, at)  # new lines go at a line start, or at the end
        if self.covered(below, start) and (edit is None or self.applied_first(edit)):
            self.edit(head.at, below, "")
            if edit is None:
                self.edit(start, at, "")
            else:
                self.edits[self.edits.index(edit)] = _with(edit, _unindented(edit.content))
            return
        # lines that stay (comments) lie between: the dash keeps its line alone
        stop = head.at
        while stop > 0 and text[stop - 1] in " \t":
            stop -= 1
        self.edit(stop, line_end(text, head.end), "")

    def first_entry(self, collection: Any) -> tuple[str, int, Any] | None:
        """The collection's first entry after the batch: ("orig", where it starts, None), ("new",
        where its lines go, its insertion), ("prefix", ..., the last insertion on the dash line);
        None when it has none."""
        if isinstance(collection, yaml.MappingNode):
            for key, _ in collection.value:
                if id(key) not in self.removed_keys:
                    return "orig", key.start_mark.index, None
            added = self.added_keys.get(id(collection), [])
            return ("new", added[0][0], self.edit_of(*added[0])) if added else None
        items = self.sequences.get(id(collection), [])
        if not items:
            return None
        head_at = self.heads[id(collection)].at
        prefix = [e for e in items if getattr(e, "at", None) == head_at]
        if prefix:
            return "prefix", head_at, self.edit_of(head_at, max(e.order for e in prefix))
        first = items[0]
        if hasattr(first, "order"):
            return "new", first.at, self.edit_of(first.at, first.order)
        return "orig", item_dash(self.text, first), None

    def edit_of(self, at: int, order: float) -> Any:
        for e in self.edits:
            if e.start == e.end == at and e.order == order:
                return e
        raise EditError("lost track of an inserted entry")

    def covered(self, start: int, stop: int) -> bool:
        """Whether deletions of this batch take all of text[start:stop]."""
        pos = start
        while pos < stop:
            ends = [e.end for e in self.edits if e.start == pos and e.end > pos and not e.content]
            if not ends:
                return False
            pos = max(ends)
        return pos == stop

    def applied_first(self, edit: Any) -> bool:
        """The insertion is the first text written at its offset."""
        same = [e for e in self.edits if e.start == e.end == edit.start]
        return min(same, key=lambda e: (-e.depth, e.order)) is edit


def _unindented(content: str) -> str:
    """Inserted lines, their first one moved up onto a dash line: no line break before it (an
    append to a text without a final newline starts with one) and no indentation."""
    body = content.lstrip("\r\n")
    return body.lstrip(" ")


def _with(edit: Any, content: str) -> Any:
    from dataclasses import replace
    return replace(edit, content=content)
