"""Replacing a scalar in place: a string keeps its quoting and only the changed substring is
rewritten; a `|` block is rewritten whole at its indentation; anything else is rendered anew.
A null written as nothing (`env:`) has no text to replace: its value goes after the colon or
dash, or on the lines below the key. Mixed into the text editor (uses its `text`, `style`,
`owner` and `insert_lines`)."""
from __future__ import annotations

import re
from typing import Any

import yaml

from .render import block, flow, local_style, render_value
from .scalars import (
    encode_fragment,
    needs_quotes,
    render_literal,
    render_scalar,
    source_map,
)
from .textspan import EditError, TextEdit, common_prefix, common_suffix, content_end, line_after

_REST_OF_LINE = re.compile(r"[ \t]*(?:#[^\n]*)?\r?(?:\n|\Z)")  # nothing but a comment after the colon


class ScalarEdits:
    def replace_scalar(self, node: Any, value: Any) -> TextEdit:
        start, end = node.start_mark.index, node.end_mark.index
        old = node.value
        if isinstance(value, str) and node.tag == "tag:yaml.org,2002:str":
            mapping = source_map(self.text, node)
            if mapping is not None:
                a = common_prefix(old, value)
                b = common_suffix(old[a:], value[a:])
                middle = encode_fragment(value[a:len(value) - b], node.style)
                if middle is not None and (node.style not in (None, "") or value and not _plain_risky(value)):
                    return TextEdit(mapping[a], mapping[len(old) - b], middle, owner=self.owner)
        if node.style in ("'", '"') and isinstance(value, str):
            rendered = render_scalar(value, node.style) if _needs_any_quote(value) else None
            rendered = rendered or (node.style + encode_fragment(value, node.style) + node.style)
        elif node.style == "|" and isinstance(value, str):
            rendered = self.literal(node, value) or render_scalar(value, self.style.quote)
        else:
            rendered = render_value(value, self.style)
        if node.style in ("|", ">"):
            end = content_end(self.text, node)
        return TextEdit(start, end, rendered, owner=self.owner)

    def replace_nothing(self, key: Any, node: Any, parent: Any, value: Any, depth: int) -> None:
        """A value for a null written as nothing (`env:`, `env:  # c`, `-`). The null starts right
        after the colon or dash, so the value needs a space (`env:[a]` does not parse); a
        non-empty collection under a block mapping's key goes on the lines below the key, which
        keeps its comment. In a flow collection the null starts at the next token and the value
        goes there."""
        at = node.start_mark.index
        before = self.text[at - 1:at]
        if before not in (":", "-", " ", "\t"):
            raise EditError("cannot write a value where the key has no colon")
        if (before == ":" and key is not None and isinstance(parent, yaml.MappingNode) and not parent.flow_style
                and isinstance(value, (dict, list)) and value and _REST_OF_LINE.match(self.text, at)):
            style = local_style(self.text, parent, self.style)
            indent = key.start_mark.column + (style.step if isinstance(value, dict) or style.indent_sequences else 0)
            self.insert_lines(line_after(self.text, at), block(value, indent, style), depth)
            return
        space = " " if before in (":", "-") else ""
        rendered = flow(value, self.style) if isinstance(value, (dict, list)) else render_value(value, self.style)
        self.edits.append(TextEdit(at, at, space + rendered, owner=self.owner))

    def literal(self, node: Any, value: str) -> str | None:
        """A `|` block rewritten whole, at its old indentation, when a script changed in ways the
        substring edit cannot express; None when `value` cannot be a clip/strip literal."""
        text = self.text
        header_end = text.find("\n", node.start_mark.index)
        if header_end < 0 or "#" in text[node.start_mark.index:header_end]:
            return None
        body = text[header_end + 1:node.end_mark.index]
        firsts = [ln for ln in body.split("\n") if ln.strip()]
        indent = len(firsts[0]) - len(firsts[0].lstrip(" ")) if firsts else node.start_mark.column + self.style.step
        return render_literal(value, indent, self.style.newline)


def _plain_risky(value: str) -> bool:
    return needs_quotes(value)


def _needs_any_quote(value: str) -> bool:
    return "\n" in value
