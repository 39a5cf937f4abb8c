"""Writing new YAML values in the style of the file they go into.

Only what fixes insert is rendered here: small mappings, lists and scalars. Existing text is
never re-emitted; `textedit` decides where these lines go.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .scalars import render_scalar


@dataclass(frozen=True)
class Style:
    step: int = 2  # indentation of a nested mapping
    indent_sequences: bool = True  # `key:\n  - a` (True) or `key:\n- a` (False)
    newline: str = "\n"
    quote: str = '"'


def detect_style(text: str, root: Any) -> Style:
    """Indentation habits of one document, read from its first nested mapping and sequence."""
    step, indent_seq = None, None
    stack = [root]
    while stack and (step is None or indent_seq is None):
        node = stack.pop()
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for k, v in node.value:
                if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value and step is None:
                    if v.start_mark.line > k.start_mark.line:
                        step = v.start_mark.column - k.start_mark.column
                if isinstance(v, yaml.SequenceNode) and not v.flow_style and v.value and indent_seq is None:
                    dash = dash_column(text, v.value[0])
                    if dash is not None and v.value[0].start_mark.line > k.start_mark.line:
                        indent_seq = dash > k.start_mark.column
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    newline = "\r\n" if "\r\n" in text else "\n"
    quote = "'" if text.count("'") > text.count('"') * 2 else '"'
    return Style(step if step and step > 0 else 2, True if indent_seq is None else indent_seq, newline, quote)


def dash_column(text: str, item: Any) -> int | None:
    """Column of the `-` that introduces a block sequence item."""
    i = item.start_mark.index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i >= 0 and text[i] == "-":
        line_start = text.rfind("\n", 0, i) + 1
        return i - line_start
    return None


def flow(value: Any, style: Style) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{render_scalar(k, style.quote)}: {flow(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, style) for v in value) + "]"
    return render_scalar(value, style.quote)


def block(value: Any, indent: int, style: Style, flow_leaves: bool = False) -> list[str]:
    """Lines (with their indentation) of a collection written in block style at `indent`.
    With `flow_leaves`, nested collections of scalars are written in flow style (`{a: 1}`), as
    the siblings of the new value are."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = render_scalar(k, style.quote)
            if isinstance(v, (dict, list)) and v and not (flow_leaves and _is_leaf(v)):
                nested = indent + (style.step if isinstance(v, dict) or style.indent_sequences else 0)
                lines.append(f"{pad}{key}:")
                lines.extend(block(v, nested, style, flow_leaves))
            else:
                lines.append(f"{pad}{key}: {flow(v, style)}")
        return lines
    if isinstance(value, list):
        for item in value:
            lines.extend(sequence_item(item, indent, style, None, flow_leaves))
        return lines
    return [pad + flow(value, style)]


def _is_leaf(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) for v in items)


def sequence_item(item: Any, dash_col: int, style: Style, item_col: int | None = None,
                  flow_leaves: bool = False) -> list[str]:
    """`- item` lines; mapping items put their first key on the dash line."""
    item_col = dash_col + 2 if item_col is None else item_col
    pad = " " * dash_col
    gap = " " * max(1, item_col - dash_col - 1)
    if isinstance(item, dict) and item:
        inner = block(item, item_col, style, flow_leaves)
        return [pad + "-" + gap + inner[0][item_col:]] + inner[1:]
    return [pad + "-" + gap + flow(item, style)]


def sibling_flow_style(item: Any) -> tuple[bool, bool]:
    """(item is flow, its nested collections are all flow): how a sibling of a new item is written."""
    if not isinstance(item, (yaml.MappingNode, yaml.SequenceNode)):
        return False, False
    if item.flow_style:
        return True, True
    nested = [v for _, v in item.value] if isinstance(item, yaml.MappingNode) else list(item.value)
    nested = [v for v in nested if isinstance(v, (yaml.MappingNode, yaml.SequenceNode)) and v.value]
    return False, bool(nested) and all(v.flow_style for v in nested)
