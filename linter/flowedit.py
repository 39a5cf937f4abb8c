"""Edits inside flow collections (`{a: 1}`, `[x, y]`, whole JSON documents), planned per collection.

Every add and remove of a batch only updates the collection's final list of entries (original
entries in order, plus the text of new ones); `plan_edits` then writes the gaps between entries
once: new entries go after their surviving left neighbour (or before the right one), a removed
run goes with one of its commas. Planning first and writing last keeps a removal and an insertion
at the same place from overlapping, whatever the order of the operations. Collections written one
entry per line (JSON, hand-wrapped lists) stay one entry per line.

Comments between entries stay put: an entry with a trailing comment keeps it on its line (new
entries go on lines below), a removed entry's trailing comment goes with its line, comment lines
stay. A layout where that cannot hold (a comma after the comment it follows) raises
`FlowEditError`.
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

    def changed(self) -> bool:
        return len(self.items) != len(self.node.value) or any(a is not b for a, b in zip(self.items, self.node.value))


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
    is JSON or one of the entries already is. `json` also forbids trailing commas. Comments
    between entries stay where they are; a removed entry's trailing comment goes with it."""
    originals = plan.node.value
    comments = gap_comments(text, plan.node)
    kept_ids = {id(e) for e in plan.items if not isinstance(e, Fresh)}
    kept = [i for i, e in enumerate(originals) if id(e) in kept_ids]
    if not kept:
        edits = (_refill_commented(text, plan, comma, newline) if comments else
                 _rewrite_interior(text, plan, comma, newline, pad, json))
        _check_comments(text, plan.node, edits, comments, set(range(len(originals))))
        return edits
    spans = [span(e) for e in originals]
    close = plan.node.end_mark.index - 1
    removed = [i for i in range(len(originals)) if i not in set(kept)]
    by_lines = bool(comments and removed and all(_isolated(text, spans, i, close) for i in removed))
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
        lo, hi = 0 if prev is None else prev + 1, len(spans) if nxt is None else nxt
        if by_lines and lo < hi:  # in place of the removed entries they follow, before comments after those
            edits.append(_lines_at(text, spans, lo, texts, newline, nxt is not None))
            continue
        after = _after_comment(text, spans, prev, plan.node, texts, newline) if comments and prev is not None else None
        if after is not None:
            edits.extend(after)
        elif prev is not None:
            edits.append((spans[prev][1], spans[prev][1], "".join(sep + t for t in texts)))
        else:
            edits.append((spans[nxt][0], spans[nxt][0], "".join(t + sep for t in texts)))
    if by_lines:
        edits.extend(_line_removal(text, spans[i]) for i in removed)
    else:
        for first, last in _removed_runs(kept, len(originals)):
            edits.extend(_remove_run(text, spans, first, last, json))
    _check_comments(text, plan.node, edits, comments, set(removed))
    return edits


def gap_bounds(text: str, node: Any) -> list[tuple[int, int]]:
    """The text between a flow collection's entries: after `[`, between entries, before `]`."""
    bounds = [node.start_mark.index + 1] + [x for e in node.value for x in span(e)] + [node.end_mark.index - 1]
    return list(zip(bounds[::2], bounds[1::2]))


def gap_comments(text: str, node: Any) -> list[tuple[int, int, int]]:
    """(start, end, gap) of each comment between entries; gap g follows entry g - 1. Between
    entries only blanks, commas and comments occur, so every `#` there starts a comment."""
    out = []
    for g, (a, b) in enumerate(gap_bounds(text, node)):
        i = text.find("#", a, b)
        while i >= 0:
            eol = text.find("\n", i, b)
            eol = b if eol < 0 else eol - (text[eol - 1] == "\r")
            out.append((i, eol, g))
            i = text.find("#", eol, b)
    return out


def uncommented(segment: str) -> str:
    """A gap's text without its comments (a `#` in a gap always starts one)."""
    return "\n".join(line.split("#", 1)[0] for line in segment.split("\n"))


def _gap_end(spans: list[tuple[int, int]], i: int, close: int) -> int:
    return spans[i + 1][0] if i + 1 < len(spans) else close


def _isolated(text: str, spans: list[tuple[int, int]], i: int, close: int) -> bool:
    """Entry i has its lines to itself: it starts its line, and only its comma (which an entry
    that follows needs) and a comment come after it on its last line."""
    start, end = spans[i]
    gap_end = _gap_end(spans, i, close)
    eol = text.find("\n", end)
    if not own_line(text, start) or eol < 0 or eol >= gap_end:
        return False
    body = text[end:eol].split("#", 1)[0].strip()
    if i + 1 < len(spans):
        return body == ","
    return body in ("", ",") and "," not in uncommented(text[eol:gap_end])


def _lines_at(text: str, spans: list[tuple[int, int]], index: int, texts: list[str], newline: str,
              followed: bool) -> tuple[int, int, str]:
    """New entries as lines where entry `index` starts, at its column; the last one gets a comma
    when an entry follows, or when the collection's last entry had a trailing one."""
    trailing = followed or "," in text[spans[-1][1]:next_line(text, spans[-1][1])].split("#", 1)[0]
    indent = " " * column(text, spans[index][0])
    at = line_start(text, spans[index][0])
    return at, at, ("," + newline).join(indent + t for t in texts) + ("," if trailing else "") + newline


def _line_removal(text: str, entry: tuple[int, int]) -> tuple[int, int, str]:
    return line_start(text, entry[0]), next_line(text, entry[1]), ""


def _entry_indent(text: str, spans: list[tuple[int, int]], prev: int, open_: int) -> int:
    """Column for an entry on a new line: its left neighbour's, another entry's that starts a
    line, or one step in from the line of the opening bracket."""
    for a, _ in [spans[prev]] + spans:
        if own_line(text, a):
            return column(text, a)
    return _indentation(text, open_) + 2


def _after_comment(text: str, spans: list[tuple[int, int]], prev: int, node: Any, texts: list[str],
                   newline: str) -> list[tuple[int, int, str]] | None:
    """New entries after one whose line ends in a comment go on lines of their own below it, so
    the comment stays with its entry; None when no comment follows `prev` on its line."""
    end = spans[prev][1]
    gap_end = _gap_end(spans, prev, node.end_mark.index - 1)
    eol = text.find("\n", end)
    hash_ = text.find("#", end, eol if 0 <= eol < gap_end else gap_end)
    if eol < 0 or eol >= gap_end or hash_ < 0:
        return None
    at = eol + 1
    indent = " " * _entry_indent(text, spans, prev, node.start_mark.index)
    if "," in text[end:hash_]:
        return [(at, at, "".join(indent + t + "," + newline for t in texts))]
    if prev + 1 < len(spans) or "," in uncommented(text[eol:gap_end]):
        raise FlowEditError("cannot add an entry after one whose comma follows its comment")
    return [(end, end, ","), (at, at, ("," + newline).join(indent + t for t in texts) + newline)]


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


def _rewrite_interior(text: str, plan: FlowPlan, comma: str, newline: str, pad: bool,
                      json: bool = False) -> list[tuple[int, int, str]]:
    """No original entry survives (and no comment lies between them): the brackets' inside
    becomes the new entries, one a line at the old entries' column when each old entry had a
    line of its own, else on one line."""
    node = plan.node
    open_, close = _brackets(text, node)
    fresh = [e for e in plan.items if isinstance(e, Fresh)]
    texts = [e.text for e in fresh]
    inner = text[open_ + 1:close]
    if not node.value and not texts:
        return []
    if node.value and texts and all(own_line(text, span(e)[0]) for e in node.value):
        indent = column(text, span(node.value[0])[0])
        if json or any("\n" in text[a:b] for a, b in map(span, node.value)):
            texts = [f.expanded(indent, max(indent - _indentation(text, open_), 1)) for f in fresh]
        tail = newline + " " * column(text, close) if own_line(text, close) else ""
        trailing = "," if not json and "," in uncommented(text[span(node.value[-1])[1]:close]) else ""
        body = ("," + newline).join(" " * indent + t for t in texts)
        return [(open_ + 1, close, newline + body + trailing + tail)]
    if node.value:
        pad = text[open_ + 1:open_ + 2] == " "
    elif inner:
        pad = True  # `{ }`: the author leaves room inside the braces
    space = " " if pad and texts else ""
    return [(open_ + 1, close, space + comma.join(texts) + space)]


def _refill_commented(text: str, plan: FlowPlan, comma: str, newline: str) -> list[tuple[int, int, str]]:
    """No original entry survives but comments lie between them: an entry with lines of its own
    goes with them, one sharing a line goes with its comma and trailing comment; comment lines
    stay. New entries take the first entry's place: one a line if it had a line, else after
    the opening bracket."""
    node = plan.node
    open_, close = _brackets(text, node)
    spans = [span(e) for e in node.value]
    edits = _whole_lines(text, [_line_removal(text, s) if _isolated(text, spans, i, close) else
                                _clear_entry(text, spans, i, close) for i, s in enumerate(spans)])
    texts = [e.text for e in plan.items if isinstance(e, Fresh)]
    if texts and own_line(text, spans[0][0]):
        edits.insert(0, _lines_at(text, spans, 0, texts, newline, False))
    elif texts:
        edits.insert(0, (open_ + 1, open_ + 1, comma.join(texts)))
    return edits


def _whole_lines(text: str, deletions: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Deletions joined where they touch; one that leaves only indentation on its line takes the
    line."""
    merged: list[tuple[int, int, str]] = []
    for start, end, _ in sorted(deletions):
        if merged and merged[-1][1] == start:
            start = merged.pop()[0]
        merged.append((start, end, ""))
    return [(line_start(text, a), next_line(text, b), "") if own_line(text, a) and text[b:b + 1] in ("\r", "\n")
            else (a, b, c) for a, b, c in merged]


def _clear_entry(text: str, spans: list[tuple[int, int]], i: int, close: int) -> tuple[int, int, str]:
    """Entry i's text with what follows it on its line up to the next entry: its comma, and its
    trailing comment when nothing else follows. A comma on a later line (after a comment) would
    be left alone in front of nothing: refused."""
    start, end = spans[i]
    gap_end = _gap_end(spans, i, close)
    eol = text.find("\n", end)
    if eol < 0 or eol >= gap_end:  # the next entry or the bracket is on this line
        if i + 1 < len(spans):
            return start, gap_end, ""
        tail = text[end:gap_end]
        return start, end + len(tail) - len(tail.lstrip(" \t,")), ""
    before = text[end:eol].split("#", 1)[0]
    if "," not in before and "," in uncommented(text[eol:gap_end]):
        raise FlowEditError("cannot empty a flow collection whose commas follow their comments")
    return start, eol - (text[eol - 1] == "\r"), ""


def _brackets(text: str, node: Any) -> tuple[int, int]:
    open_, close = node.start_mark.index, node.end_mark.index - 1
    if text[open_:open_ + 1] not in ("{", "[") or text[close:close + 1] not in ("}", "]"):
        raise FlowEditError("cannot find the brackets of a flow collection")
    return open_, close


def is_flow(node: Any) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and bool(node.flow_style)
