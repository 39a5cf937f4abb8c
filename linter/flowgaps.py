"""Text facts about the gaps of a flow collection (`[a, b]`, `{a: 1}`): where entries start and
end, which commas and comments lie between them, which entries have lines of their own. Shared
by the planner of flow edits (flowedit) and the rewrite of emptied collections (flowrefill)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .textspan import line_after, line_start


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


def rest_blank(text: str, offset: int) -> bool:
    """Nothing but blanks or a comment after `offset` on its line."""
    rest = text[offset:line_after(text, offset)].strip()
    return not rest or rest.startswith("#")


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


def gap_stop(spans: list[tuple[int, int]], i: int, close: int) -> int:
    return spans[i + 1][0] if i + 1 < len(spans) else close


def isolated(text: str, spans: list[tuple[int, int]], i: int, close: int) -> bool:
    """Entry i has its lines to itself: it starts its line, and only its comma (which an entry
    that follows needs) and a comment come after it on its last line."""
    start, end = spans[i]
    gap_end = gap_stop(spans, i, close)
    eol = text.find("\n", end)
    if not own_line(text, start) or eol < 0 or eol >= gap_end:
        return False
    body = text[end:eol].split("#", 1)[0].strip()
    if i + 1 < len(spans):
        return body == ","
    return body in ("", ",") and "," not in uncommented(text[eol:gap_end])


def lines_at(text: str, spans: list[tuple[int, int]], index: int, texts: list[str], newline: str,
              followed: bool) -> tuple[int, int, str]:
    """New entries as lines where entry `index` starts, at its column; the last one gets a comma
    when an entry follows, or when the collection's last entry had a trailing one."""
    trailing = followed or "," in text[spans[-1][1]:line_after(text, spans[-1][1])].split("#", 1)[0]
    indent = " " * column(text, spans[index][0])
    at = line_start(text, spans[index][0])
    return at, at, ("," + newline).join(indent + t for t in texts) + ("," if trailing else "") + newline


def line_removal(text: str, entry: tuple[int, int]) -> tuple[int, int, str]:
    return line_start(text, entry[0]), line_after(text, entry[1]), ""


def indentation(text: str, offset: int) -> int:
    start = line_start(text, offset)
    line = text[start:line_after(text, offset)]
    return len(line) - len(line.lstrip(" "))


def brackets(text: str, node: Any) -> tuple[int, int]:
    open_, close = node.start_mark.index, node.end_mark.index - 1
    if text[open_:open_ + 1] not in ("{", "[") or text[close:close + 1] not in ("}", "]"):
        raise FlowEditError("cannot find the brackets of a flow collection")
    return open_, close


def bare_comma(text: str, start: int, stop: int) -> int | None:
    """Offset of the first comma in a gap's text[start:stop] that no comment holds (a `#` in a
    gap always starts a comment, which runs to its line's end)."""
    i = start
    while i < stop:
        if text[i] == "#":
            nl = text.find("\n", i, stop)
            if nl < 0:
                return None
            i = nl
        elif text[i] == ",":
            return i
        i += 1
    return None
