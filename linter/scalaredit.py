"""Replacing a scalar in place: a string keeps its quoting and only the changed substring is
rewritten; a `|` block is rewritten whole at its indentation; anything else is rendered anew.
Mixed into the text editor (uses its `text`, `style` and `owner`)."""
from __future__ import annotations

from typing import Any

from .render import render_value
from .scalars import (
    encode_fragment,
    needs_quotes,
    render_literal,
    render_scalar,
    source_map,
)
from .textspan import TextEdit, common_prefix, common_suffix, content_end


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
