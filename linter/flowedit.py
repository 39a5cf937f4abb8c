"""Edits inside flow collections (`{a: 1}`, `[x, y]`, whole JSON documents), planned per collection.

Every add and remove of a batch only updates the collection's final list of entries (original
entries in order, plus the text of new ones); `plan_edits` then writes the gaps between entries
once: new entries go after their surviving left neighbour (or before the right one), a removed
run goes with one of its commas. Planning first and writing last keeps a removal and an insertion
at the same place from overlapping, whatever the order of the operations. Collections written one
entry per line (JSON, hand-wrapped lists) stay one entry per line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import yaml


class FlowEditError(Exception):
    """A flow collection edit that cannot be written exactly."""


@dataclass(frozen=True)
class Fresh:
    """An entry added by this batch: its one-line text (`b: 2`, `"x"`) and, for a collection
    value, what writing it one entry a line needs (`"b": ` + the value, in `style`)."""
    text: str
    prefix: str = ""
    value: Any = None
    style: Any = None

    def expanded(self, indent: int, step: int) -> str:
        if not isinstance(self.value, (dict, list)) or not self.value:
            return self.text
        from .render import flow_expanded
        return self.prefix + flow_expanded(self.value, indent, step, self.style)


Entry = Union[Any, tuple, Fresh]  # a sequence item node, a mapping (key, value) pair, or new text


@dataclass
class FlowPlan:
    node: Any
    items: list[Entry]

    @classmethod
    def of(cls, node: Any) -> "FlowPlan":
        return cls(node, list(node.value))

    def copy(self) -> "FlowPlan":
        return FlowPlan(self.node, list(self.items))


def span(entry: Any) -> tuple[int, int]:
    """Offsets of an original entry's own text; a mapping entry runs from its key to its value."""
    if isinstance(entry, tuple):
        key, value = entry
        return key.start_mark.index, max(key.end_mark.index, value.end_mark.index)
    return entry.start_mark.index, entry.end_mark.index


def own_line(text: str, offset: int) -> bool:
    return not text[text.rfind("\n", 0, offset) + 1:offset].strip()


def column(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


def comma_after(text: str, end: int) -> int | None:
    """Offset of the comma that follows an entry ending at `end`, if any."""
    i = end
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i if i < len(text) and text[i] == "," else None


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def next_line(text: str, offset: int) -> int:
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


def rest_blank(text: str, offset: int) -> bool:
    """Nothing but blanks or a comment after `offset` on its line."""
    rest = text[offset:next_line(text, offset)].strip()
    return not rest or rest.startswith("#")


def plan_edits(text: str, plan: FlowPlan, comma: str, newline: str, pad: bool,
               json: bool = False) -> list[tuple[int, int, str]]:
    """The (start, end, content) edits that turn the collection's text into its planned entries.
    New collection values are written one entry a line when the collection is, and the document
    is JSON or one of the entries already is. `json` also forbids trailing commas."""
    originals = plan.node.value
    kept_ids = {id(e) for e in plan.items if not isinstance(e, Fresh)}
    kept = [i for i, e in enumerate(originals) if id(e) in kept_ids]
    if not kept:
        return _rewrite_interior(text, plan, comma, newline, pad)
    spans = [span(e) for e in originals]
    edits: list[tuple[int, int, str]] = []
    expand = json or any("\n" in text[a:b] for a, b in spans)
    for prev, nxt, fresh in _fresh_groups(plan, originals):
        ref = prev if prev is not None else nxt
        sep = _separator(text, spans, ref, comma, newline)
        texts = [f.text for f in fresh]
        if expand and own_line(text, spans[ref][0]):
            indent = column(text, spans[ref][0])
            step = max(indent - _indentation(text, plan.node.start_mark.index), 1)
            texts = [f.expanded(indent, step) for f in fresh]
        if prev is not None:
            edits.append((spans[prev][1], spans[prev][1], "".join(sep + t for t in texts)))
        else:
            edits.append((spans[nxt][0], spans[nxt][0], "".join(t + sep for t in texts)))
    for first, last in _removed_runs(kept, len(originals)):
        edits.extend(_remove_run(text, spans, first, last, json))
    return edits


def _separator(text: str, spans: list[tuple[int, int]], ref: int, comma: str, newline: str) -> str:
    start = spans[ref][0]
    if own_line(text, start):
        return "," + newline + " " * column(text, start)
    return comma


def _indentation(text: str, offset: int) -> int:
    start = line_start(text, offset)
    line = text[start:next_line(text, offset)]
    return len(line) - len(line.lstrip(" "))


def _fresh_groups(plan: FlowPlan, originals: list[Any]) -> list[tuple[int | None, int | None, list[Fresh]]]:
    """New entries grouped by the original neighbours (left, right) they sit between."""
    index = {id(e): i for i, e in enumerate(originals)}
    groups: list[tuple[int | None, int | None, list[Fresh]]] = []
    prev, texts = None, []
    for entry in plan.items + [None]:
        if isinstance(entry, Fresh):
            texts.append(entry)
            continue
        nxt = None if entry is None else index[id(entry)]
        if texts:
            groups.append((prev, nxt, texts))
        prev, texts = nxt, []
    return groups


def _removed_runs(kept: list[int], count: int) -> list[tuple[int, int]]:
    runs, start = [], None
    kept_set = set(kept)
    for i in range(count + 1):
        if i < count and i not in kept_set:
            start = i if start is None else start
        elif start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def _remove_run(text: str, spans: list[tuple[int, int]], first: int, last: int,
                json: bool) -> list[tuple[int, int, str]]:
    """Removes entries first..last (some entry survives): with the comma after them when an entry
    follows, else with the comma before them. Whole lines go when the entries had lines of their
    own, so comment lines between entries stay; then, outside JSON, the comma before them stays
    too (a trailing comma is YAML) so that the line of the entry before is not rewritten."""
    start, end = spans[first][0], spans[last][1]
    if last + 1 < len(spans):
        nxt = spans[last + 1][0]
        comma = comma_after(text, end)
        if comma is not None and own_line(text, start) and "\n" in text[comma + 1:nxt]:
            return [(line_start(text, start), next_line(text, comma), "")]
        if comma is not None and "\n" in text[comma + 1:nxt]:  # the run ends its line: keep the break
            return [(spans[first - 1][1], end, "")] if first > 0 else [(start, comma + 1, "")]
        return [(start, nxt, "")]
    prev_end = spans[first - 1][1]
    prev_comma = comma_after(text, prev_end)
    trailing = comma_after(text, end)
    tail = trailing + 1 if trailing is not None else end
    if prev_comma is not None and own_line(text, start) and "\n" in text[prev_comma + 1:start]:
        if not rest_blank(text, tail):  # the closing bracket follows on the entry's line
            return [(start, tail, "")] if not json else [(prev_end, end, "")]
        edits = [(line_start(text, start), next_line(text, tail), "")]
        if trailing is None and json:  # the entry before becomes the last one: JSON takes its comma
            edits.append((prev_comma, prev_comma + 1, ""))
        return edits
    return [(prev_end, end, "")]


def _rewrite_interior(text: str, plan: FlowPlan, comma: str, newline: str, pad: bool) -> list[tuple[int, int, str]]:
    """No original entry survives: the brackets' inside becomes the new entries (or nothing)."""
    node = plan.node
    open_, close = node.start_mark.index, node.end_mark.index - 1
    if text[open_:open_ + 1] not in ("{", "[") or text[close:close + 1] not in ("}", "]"):
        raise FlowEditError("cannot find the brackets of a flow collection")
    texts = [e.text for e in plan.items if isinstance(e, Fresh)]
    inner = text[open_ + 1:close]
    if not node.value and not texts:
        return []
    bounds = [open_ + 1] + [x for e in node.value for x in span(e)] + [close]
    if any("#" in text[a:b] for a, b in zip(bounds[::2], bounds[1::2])):  # between entries: a comment
        raise FlowEditError("cannot empty or refill a flow collection that holds comments")
    if node.value and own_line(text, span(node.value[0])[0]) and texts:
        indent = " " * column(text, span(node.value[0])[0])
        tail = newline + " " * column(text, close) if own_line(text, close) else ""
        return [(open_ + 1, close, newline + indent + ("," + newline + indent).join(texts) + tail)]
    if node.value:
        pad = text[open_ + 1:open_ + 2] == " "
    elif inner:
        pad = True  # `{ }`: the author leaves room inside the braces
    space = " " if pad and texts else ""
    return [(open_ + 1, close, space + comma.join(texts) + space)]


def is_flow(node: Any) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and bool(node.flow_style)
