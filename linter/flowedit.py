"""Edits inside flow collections (`{a: 1}`, `[x, y]`, whole JSON documents), planned per collection.

Every add and remove of a batch only updates the collection's final list of entries (original
entries in order, plus the text of new ones); `plan_edits` then writes the gaps between entries
once: new entries go after their surviving left neighbour (or before the right one), a removed
run goes with one of its commas. Planning first and writing last keeps a removal and an insertion
at the same place from overlapping, whatever the order of the operations. Collections written one
entry per line (JSON, hand-wrapped lists) stay one entry per line.

Comments between entries stay put: an entry with a trailing comment keeps it on its line (new
entries go on lines below), a removed entry's trailing comment goes with its line, comment lines
stay; a comma written after the comment it follows (`a  # c` then `, b`) goes with the entry
after it. A layout where that cannot hold raises `FlowEditError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import yaml

from .flowgaps import (
    FlowEditError,
    Fresh,
    bare_comma,
    column,
    comma_after,
    gap_comments,
    gap_stop,
    indentation,
    isolated,
    line_removal,
    lines_at,
    own_line,
    rest_blank,
    span,
)
from .flowrefill import refill_commented, rewrite_interior
from .textspan import line_after, line_start

__all__ = ["FlowEditError", "FlowPlan", "Fresh", "is_flow", "plan_edits"]


Entry = Union[Any, tuple, Fresh]  # a sequence item node, a mapping (key, value) pair, or new text


def _check_in_place(node: Any) -> None:
    """Every entry's text lies inside the collection's brackets, in order. An alias (`*e`) among
    the entries is composed as the anchored node, whose marks point at the anchor elsewhere in
    the document: gaps computed from them would write at the wrong place."""
    at = node.start_mark.index
    for entry in node.value:
        for part in entry if isinstance(entry, tuple) else (entry,):
            if part.start_mark.index < at or part.end_mark.index > node.end_mark.index:
                raise FlowEditError("cannot edit a flow collection that holds an alias (*name): "
                                    "its text is not where the node it refers to is")
            at = part.end_mark.index


@dataclass
class FlowPlan:
    node: Any
    items: list[Entry]

    @classmethod
    def of(cls, node: Any) -> "FlowPlan":
        return cls(node, list(node.value))

    def copy(self) -> "FlowPlan":
        return FlowPlan(self.node, list(self.items))

    def changed(self) -> bool:
        return len(self.items) != len(self.node.value) or any(a is not b for a, b in zip(self.items, self.node.value))


def plan_edits(text: str, plan: FlowPlan, comma: str, newline: str, pad: bool,
               json: bool = False) -> list[tuple[int, int, str]]:
    """The (start, end, content) edits that turn the collection's text into its planned entries.
    New collection values are written one entry a line when the collection is, and the document
    is JSON or one of the entries already is. `json` also forbids trailing commas. Comments
    between entries stay where they are; a removed entry's trailing comment goes with it."""
    originals = plan.node.value
    _check_in_place(plan.node)
    comments = gap_comments(text, plan.node)
    kept_ids = {id(e) for e in plan.items if not isinstance(e, Fresh)}
    kept = [i for i, e in enumerate(originals) if id(e) in kept_ids]
    if not kept:
        edits = (refill_commented(text, plan, comma, newline) if comments else
                 rewrite_interior(text, plan, comma, newline, pad, json))
        _check_comments(text, plan.node, edits, comments, set(range(len(originals))))
        return edits
    spans = [span(e) for e in originals]
    close = plan.node.end_mark.index - 1
    removed = [i for i in range(len(originals)) if i not in set(kept)]
    by_lines = bool(comments and removed and all(isolated(text, spans, i, close) for i in removed))
    edits: list[tuple[int, int, str]] = []
    expand = json or any("\n" in text[a:b] for a, b in spans)
    for prev, nxt, fresh in _fresh_groups(plan, originals):
        ref = prev if prev is not None else nxt
        sep = _separator(text, spans, ref, comma, newline)
        texts = [f.text for f in fresh]
        if expand and own_line(text, spans[ref][0]):
            indent = column(text, spans[ref][0])
            step = max(indent - indentation(text, plan.node.start_mark.index), 1)
            texts = [f.expanded(indent, step) for f in fresh]
        lo, hi = 0 if prev is None else prev + 1, len(spans) if nxt is None else nxt
        if by_lines and lo < hi:  # in place of the removed entries they follow, before comments after those
            edits.append(lines_at(text, spans, lo, texts, newline, nxt is not None))
            continue
        after = (_after_comment(text, spans, prev, nxt, plan.node, texts, comma, newline)
                 if comments and prev is not None else None)
        if after is not None:
            edits.extend(after)
        elif prev is not None:
            edits.append((spans[prev][1], spans[prev][1], "".join(sep + t for t in texts)))
        else:
            edits.append((spans[nxt][0], spans[nxt][0], "".join(t + sep for t in texts)))
    if by_lines:
        edits.extend(line_removal(text, spans[i]) for i in removed)
    else:
        for first, last in _removed_runs(kept, len(originals)):
            edits.extend(_remove_run(text, spans, first, last, json))
    _check_comments(text, plan.node, edits, comments, set(removed))
    return edits


def _entry_indent(text: str, spans: list[tuple[int, int]], prev: int, open_: int) -> int:
    """Column for an entry on a new line: its left neighbour's, another entry's that starts a
    line, or one step in from the line of the opening bracket."""
    for a, _ in [spans[prev]] + spans:
        if own_line(text, a):
            return column(text, a)
    return indentation(text, open_) + 2


def _after_comment(text: str, spans: list[tuple[int, int]], prev: int, nxt: int | None, node: Any,
                   texts: list[str], comma: str, newline: str) -> list[tuple[int, int, str]] | None:
    """New entries after one whose line ends in a comment go on lines of their own below it, so
    the comment stays with its entry; None when no comment follows `prev` on its line. When the
    comma comes after the comment (`a  # c` then `, b`), they go before the entry that follows,
    or after that comma when it is the collection's trailing one."""
    end = spans[prev][1]
    gap_end = gap_stop(spans, prev, node.end_mark.index - 1)
    eol = text.find("\n", end)
    hash_ = text.find("#", end, eol if 0 <= eol < gap_end else gap_end)
    if eol < 0 or eol >= gap_end or hash_ < 0:
        return None
    at = eol + 1
    indent = " " * _entry_indent(text, spans, prev, node.start_mark.index)
    if "," in text[end:hash_]:
        return [(at, at, "".join(indent + t + "," + newline for t in texts))]
    late = bare_comma(text, eol, gap_end)
    if late is None and prev + 1 == len(spans):
        return [(end, end, ","), (at, at, ("," + newline).join(indent + t for t in texts) + newline)]
    if nxt is not None:
        sep = _separator(text, spans, nxt, comma, newline)
        return [(spans[nxt][0], spans[nxt][0], "".join(t + sep for t in texts))]
    if late is not None and prev + 1 == len(spans):
        lead = " " if comma.endswith(" ") else ""
        return [(late + 1, late + 1, lead + comma.join(texts))]
    raise FlowEditError("cannot add an entry after one whose comma follows its comment")


def _check_comments(text: str, node: Any, edits: list[tuple[int, int, str]],
                    comments: list[tuple[int, int, int]], removed: set[int]) -> None:
    """Every comment between entries survives unchanged, bar the trailing comment of a removed
    entry (on the line that entry ends); nothing is written inside or onto the end of one."""
    spans = [span(e) for e in node.value]
    for start, end, gap in comments:
        owned = gap - 1 in removed and "\n" not in text[spans[gap - 1][1]:start]
        for a, b, content in edits:
            lost = a < end and b > start and not owned
            appended = a == b and (start < a < end or a == end and content[:1] not in ("\r", "\n"))
            if lost or appended:
                raise FlowEditError(f"cannot edit this flow collection without moving the comment "
                                    f"{text[start:end].strip()[:40]!r}")


def _separator(text: str, spans: list[tuple[int, int]], ref: int, comma: str, newline: str) -> str:
    start = spans[ref][0]
    if own_line(text, start):
        return "," + newline + " " * column(text, start)
    return comma


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
            return [(line_start(text, start), line_after(text, comma), "")]
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
        edits = [(line_start(text, start), line_after(text, tail), "")]
        if trailing is None and json:  # the entry before becomes the last one: JSON takes its comma
            edits.append((prev_comma, prev_comma + 1, ""))
        return edits
    late = bare_comma(text, prev_end, start) if prev_comma is None else None
    if late is not None and "#" not in text[late:start]:  # `a  # c` then `, b`: the comma goes with b
        if own_line(text, late) and rest_blank(text, tail) and "\n" not in text[late:end]:
            return [(line_start(text, late), line_after(text, tail), "")]
        return [(late, tail, "")]
    return [(prev_end, end, "")]


def is_flow(node: Any) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and bool(node.flow_style)
