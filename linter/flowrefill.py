"""Flow collections none of whose entries survive a batch: the inside of the brackets is
rewritten (no comments between entries) or cleared entry by entry around the comments, and the
new entries take the first old entry's place."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .flowgaps import (
    Fresh,
    bare_comma,
    brackets,
    column,
    gap_stop,
    indentation,
    isolated,
    line_removal,
    lines_at,
    own_line,
    span,
    uncommented,
)
from .textspan import line_after, line_start

if TYPE_CHECKING:
    from .flowedit import FlowPlan


def rewrite_interior(text: str, plan: FlowPlan, comma: str, newline: str, pad: bool,
                      json: bool = False) -> list[tuple[int, int, str]]:
    """No original entry survives (and no comment lies between them): the brackets' inside
    becomes the new entries, one a line at the old entries' column when each old entry had a
    line of its own, else on one line."""
    node = plan.node
    open_, close = brackets(text, node)
    fresh = [e for e in plan.items if isinstance(e, Fresh)]
    texts = [e.text for e in fresh]
    inner = text[open_ + 1:close]
    if not node.value and not texts:
        return []
    if node.value and texts and all(own_line(text, span(e)[0]) for e in node.value):
        indent = column(text, span(node.value[0])[0])
        if json or any("\n" in text[a:b] for a, b in map(span, node.value)):
            texts = [f.expanded(indent, max(indent - indentation(text, open_), 1)) for f in fresh]
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


def refill_commented(text: str, plan: FlowPlan, comma: str, newline: str) -> list[tuple[int, int, str]]:
    """No original entry survives but comments lie between them: an entry with lines of its own
    goes with them, one sharing a line goes with its comma and trailing comment; comment lines
    stay. New entries take the first entry's place: one a line if it had a line, else after
    the opening bracket."""
    node = plan.node
    open_, close = brackets(text, node)
    spans = [span(e) for e in node.value]
    deletions = [d for i, s in enumerate(spans)
                 for d in ([line_removal(text, s)] if isolated(text, spans, i, close) else _clear_entry(text, spans, i, close))]
    edits = _whole_lines(text, deletions)
    texts = [e.text for e in plan.items if isinstance(e, Fresh)]
    if texts and own_line(text, spans[0][0]):
        edits.insert(0, lines_at(text, spans, 0, texts, newline, False))
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
    return [(line_start(text, a), line_after(text, b), "") if own_line(text, a) and text[b:b + 1] in ("\r", "\n")
            else (a, b, c) for a, b, c in merged]


def _clear_entry(text: str, spans: list[tuple[int, int]], i: int, close: int) -> list[tuple[int, int, str]]:
    """Entry i's text with what follows it on its line up to the next entry: its comma, and its
    trailing comment when nothing else follows. A comma on a later line (after the comment)
    goes too, with the blanks after it, so that no comma is left in front of nothing."""
    start, end = spans[i]
    gap_end = gap_stop(spans, i, close)
    eol = text.find("\n", end)
    if eol < 0 or eol >= gap_end:  # the next entry or the bracket is on this line
        if i + 1 < len(spans):
            return [(start, gap_end, "")]
        tail = text[end:gap_end]
        return [(start, end + len(tail) - len(tail.lstrip(" \t,")), "")]
    cleared = [(start, eol - (text[eol - 1] == "\r"), "")]
    late = None if "," in text[end:eol].split("#", 1)[0] else bare_comma(text, eol, gap_end)
    if late is not None:
        after = late + 1
        while after < gap_end and text[after] in " \t":
            after += 1
        cleared.append((late, after, ""))
    return cleared
