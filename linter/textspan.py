"""Small facts about node text that every edit needs: where a node's text ends, where the next
line starts, what data a node holds. Shared by the text engine and its helpers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml


class EditError(Exception):
    """An operation the text engine cannot apply exactly."""


@dataclass(frozen=True)
class TextEdit:
    start: int
    end: int
    content: str
    order: float = 0  # keeps insertions at one offset in operation order
    depth: int = 0  # at one offset, lines extending a deeper collection go first: they end the inner block
    owner: int = 0  # id of the node whose operation made it: a later replace of an ancestor drops it


def construct(node: Any) -> Any:
    """The data of one node, as the safe loader builds it."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def canon(value: Any) -> Any:
    """A hashable form of data that tells 1, 1.0 and True apart, to match list items."""
    if isinstance(value, dict):
        return "map", tuple((canon(k), canon(v)) for k, v in value.items())
    if isinstance(value, list):
        return "seq", tuple(canon(v) for v in value)
    return type(value).__name__, value


def common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def common_suffix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        n += 1
    return n


# `: *name` right after a key: an alias value, whose node (the anchored one) lies elsewhere
_ALIAS_VALUE = re.compile(r"[ \t]*:[ \t]+\*[^\s,\[\]{}]+")


def content_end(text: str, node: Any) -> int:
    """Where a node's own text ends (block collections' end marks run past comments)."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark.index
        if node.style in ("|", ">"):
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
        return end
    if node.flow_style or not node.value:
        return node.end_mark.index
    *before, last = node.value
    child = last[1] if isinstance(last, tuple) else last
    # an alias (`*e`) is composed as the anchored node, whose text is elsewhere (before it, maybe
    # inside an earlier entry): the collection's end cannot be read from it
    floor = node.start_mark.index
    for entry in before:
        value = entry[1] if isinstance(entry, tuple) else entry
        if value.start_mark.index >= floor:  # in place (an earlier alias is skipped)
            floor = value.end_mark.index
    if isinstance(last, tuple):
        floor = max(floor, last[0].end_mark.index)
    if child.start_mark.index < floor:
        found = _ALIAS_VALUE.match(text, last[0].end_mark.index) if isinstance(last, tuple) else None
        if found is None:  # an alias item of a sequence, or a value on a line of its own
            raise EditError("cannot find where this collection's text ends: its last entry is an alias (*name)")
        return found.end()
    return content_end(text, child)


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_after(text: str, offset: int) -> int:
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1
