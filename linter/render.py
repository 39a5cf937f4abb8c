"""Writing new YAML values in the style of the file they go into.

Only what fixes insert is rendered here: small mappings, lists and scalars. Existing text is
never re-emitted; `textedit` decides where these lines go.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from .scalars import render_scalar


@dataclass(frozen=True)
class Style:
    step: int = 2  # indentation of a nested mapping
    indent_sequences: bool = True  # `key:\n  - a` (True) or `key:\n- a` (False)
    newline: str = "\n"
    quote: str = '"'
    key_quote: str | None = None  # keys always quoted with this quote (`"name": x`, JSON-ish YAML)
    value_quote: str | None = None  # strings always quoted with this quote (JSON-ish YAML, JSON)
    pad: bool = False  # `{ a: 1 }` rather than `{a: 1}`
    comma: str = ", "  # between flow entries on one line (`,` in compact JSON)
    colon: str = ": "  # between a quoted key and its flow value (`"a":1` in compact JSON)
    json: bool = False  # the document is JSON and must stay JSON


@dataclass
class _Counts:
    keys: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    pad: list[bool] = field(default_factory=list)
    comma: list[str] = field(default_factory=list)
    colon: list[str] = field(default_factory=list)


_last_style: tuple[str, Any, Style] | None = None  # the last document's: a fixer retries one document's fixes


def detect_style(text: str, root: Any) -> Style:
    """The document's habits (`_detect_style`), remembered for the last document asked: trying
    each of a pod's fixes alone walked the whole document once per fix (quadratic in containers)."""
    global _last_style
    if _last_style is not None and _last_style[0] is text and _last_style[1] is root:
        return _last_style[2]
    style = _detect_style(text, root)
    _last_style = (text, root, style)
    return style


def _detect_style(text: str, root: Any) -> Style:
    """Habits of one document: indentation from its first nested mapping and sequence; key
    quoting and flow spacing by majority; JSON when the document is JSON."""
    step, indent_seq = None, None
    counts = _Counts()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                counts.keys.append(k)
                if isinstance(v, yaml.ScalarNode) and v.tag.endswith(":str"):
                    counts.values.append(v)
                if node.flow_style:
                    _count_colon(text, k, v, counts)
                if not node.flow_style and step is None and isinstance(v, yaml.MappingNode) and not v.flow_style \
                        and v.value and v.start_mark.line > k.start_mark.line:
                    step = v.start_mark.column - k.start_mark.column
                if not node.flow_style and indent_seq is None and isinstance(v, yaml.SequenceNode) \
                        and not v.flow_style and v.value:
                    dash = dash_column(text, v.value[0])
                    if dash is not None and v.value[0].start_mark.line > k.start_mark.line:
                        indent_seq = dash > k.start_mark.column
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style:
            _count_flow(text, node, counts)
    newline = "\r\n" if "\r\n" in text else "\n"
    quote = "'" if text.count("'") > text.count('"') * 2 else '"'
    style = Style(step if step and step > 0 else 2, True if indent_seq is None else indent_seq, newline, quote,
                  pad=_majority(counts.pad, False), colon=_majority(counts.colon, ": "),
                  comma=_majority(counts.comma, "," if _majority(counts.colon, ": ") == ":" else ", "))
    if isinstance(root, (yaml.MappingNode, yaml.SequenceNode)) and root.flow_style and _is_json(text):
        return replace(style, quote='"', key_quote='"', value_quote='"', json=True)
    key_quote = majority_quote(counts.keys)
    return replace(style, key_quote=key_quote, value_quote=majority_quote(counts.values) if key_quote else None)


def _count_colon(text: str, key: Any, value: Any, counts: _Counts) -> None:
    between = text[key.end_mark.index:value.start_mark.index]
    if getattr(key, "style", None) in ("'", '"') and between.startswith(":") and "\n" not in between and value.end_mark.index > \
            value.start_mark.index:
        counts.colon.append(": " if between[1:2] == " " else ":")


def _count_flow(text: str, node: Any, counts: _Counts) -> None:
    """Spacing of a one-line flow collection: padded brackets, space after commas."""
    pad = padded(text, node)
    if pad is not None:
        counts.pad.append(pad)
    items = [k for k, _ in node.value] if isinstance(node, yaml.MappingNode) else node.value
    ends = [v.end_mark.index for _, v in node.value] if isinstance(node, yaml.MappingNode) \
        else [n.end_mark.index for n in node.value]
    for end, nxt in zip(ends, items[1:]):
        between = text[end:nxt.start_mark.index]
        if between.startswith(",") and "\n" not in between:
            counts.comma.append(", " if between[1:2] == " " else ",")


def _majority(votes: list[Any], default: Any) -> Any:
    return max(set(votes), key=votes.count) if votes else default


def majority_quote(nodes: list[Any]) -> str | None:
    """The quote most of these scalars are written with, or None when most are plain."""
    styles = [n.style for n in nodes if isinstance(n, yaml.ScalarNode)]
    quoted = [st for st in styles if st in ("'", '"')]
    if not styles or len(quoted) * 2 <= len(styles):
        return None
    return max(('"', "'"), key=quoted.count)


def _is_json(text: str) -> bool:
    import json
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def local_style(text: str, node: Any, style: Style) -> Style:
    """`style` adjusted to the collection a new value goes into: its keys' and strings' quoting
    (siblings decide over the document), its bracket padding."""
    if style.json:
        return style
    keys: list[Any] = []
    values: list[Any] = []
    members = [node] if isinstance(node, yaml.MappingNode) else \
        [n for n in getattr(node, "value", []) if isinstance(n, yaml.MappingNode)]
    for m in members:
        keys += [k for k, _ in m.value if isinstance(k, yaml.ScalarNode)]
        values += [v for _, v in m.value if isinstance(v, yaml.ScalarNode) and v.tag.endswith(":str")]
    changes: dict[str, Any] = {}
    if keys:
        changes["key_quote"] = majority_quote(keys)
        changes["value_quote"] = majority_quote(values) if changes["key_quote"] and values else None
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style:
        pad = padded(text, node)
        if pad is not None:
            changes["pad"] = pad
    return replace(style, **changes) if changes else style


def render_key(key: Any, style: Style) -> str:
    quote = style.key_quote
    return render_scalar(key, quote or style.quote, force=quote is not None)


def render_value(value: Any, style: Style) -> str:
    quote = style.value_quote
    return render_scalar(value, quote or style.quote, force=quote is not None)


def padded(text: str, node: Any) -> bool | None:
    """Whether a one-line flow collection pads its brackets (`{ a: 1 }`); None when it cannot say."""
    inner = text[node.start_mark.index + 1:node.end_mark.index - 1]
    if "\n" in inner or not inner.strip():
        return None
    return inner[0] == " "


def flow_key(key: Any, style: Style) -> str:
    """`key: ` inside a flow mapping; the compact `"key":` only after a quoted key."""
    rendered = render_key(key, style)
    return rendered + (style.colon if rendered[:1] in ("'", '"') else ": ")


def flow_entry(key: Any, value: Any, style: Style) -> str:
    return flow_key(key, style) + flow(value, style)


def flow_expanded(value: Any, indent: int, step: int, style: Style) -> str:
    """A collection in flow style one entry a line, as pretty-printed JSON is: opening where it
    stands, entries at `indent + step`, the closing bracket at `indent`."""
    if not isinstance(value, (dict, list)) or not value:
        return flow(value, style)
    inner = " " * (indent + step)
    if isinstance(value, dict):
        parts = [flow_key(k, style) + flow_expanded(v, indent + step, step, style) for k, v in value.items()]
        brackets = "{}"
    else:
        parts = [flow_expanded(v, indent + step, step, style) for v in value]
        brackets = "[]"
    nl = style.newline
    return brackets[0] + nl + ("," + nl).join(inner + p for p in parts) + nl + " " * indent + brackets[1]


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
    """A value in flow style, spaced like the document's flow collections."""
    pad = " " if style.pad else ""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + pad + style.comma.join(flow_entry(k, v, style) for k, v in value.items()) + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + pad + style.comma.join(flow(v, style) for v in value) + pad + "]"
    return render_value(value, style)


def block(value: Any, indent: int, style: Style, flow_leaves: bool = False) -> list[str]:
    """Lines (with their indentation) of a collection written in block style at `indent`.
    With `flow_leaves`, nested collections of scalars are written in flow style (`{a: 1}`), as
    the siblings of the new value are."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = render_key(k, style)
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
