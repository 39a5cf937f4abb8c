"""Documents written as people hand-wrap flow YAML: one entry a line, with comments after entries
and on lines of their own. Shared by the flow property tests (test_fix_flow, test_flow_comments).

Every comment is unique (a number ends it) and says where it sits: `# t <path> |n` trails the
entry at <path> (a JSON pointer), `# o <path> |n` is a line of its own (or follows the opening
bracket) inside the collection at <path>.
"""
from __future__ import annotations

import random
import re
from typing import Any

import yaml


def scalar(value: Any) -> str:
    """A scalar as flow YAML writes it (quoted when it must be)."""
    return yaml.safe_dump([value], default_flow_style=True, width=10_000, allow_unicode=True).strip()[1:-1]


def escape(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


class _Notes(random.Random):
    """A seeded choice of where comments go, numbering them."""
    count = 0

    def note(self, kind: str, path: str) -> str:
        self.count += 1
        return f"# {kind} {path or '/'} |{self.count}"


def flow_lines(data: Any, rng: _Notes | None = None, indent: int = 0, path: str = "", wrap: bool = False) -> str:
    """`data` in flow style, each entry of a non-empty collection on a line of its own. With
    `rng`, comments are sprinkled: after an entry (and its comma), on lines of their own between
    entries, after the opening bracket. With `wrap` too, some entries share the line of the one
    before (or of the opening bracket), and some closing brackets end the last entry's line."""
    if not isinstance(data, (dict, list)) or not data:
        return scalar(data)
    inner = " " * (indent + 2)
    entries = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
    trailing_comma = bool(rng and rng.random() < 0.3)
    lines = ["{" if isinstance(data, dict) else "["]
    if rng and rng.random() < 0.2:
        lines[0] += "  " + rng.note("o", path)
    for n, (key, value) in enumerate(entries):
        here = f"{path}/{escape(key)}"
        text = flow_lines(value, rng, indent + 2, here, wrap)
        if isinstance(data, dict):
            text = f"{scalar(key)}: {text}"
        comma = "," if n + 1 < len(entries) or trailing_comma else ""
        comment = "  " + rng.note("t", here) if rng and rng.random() < 0.5 else ""
        if wrap and rng and "#" not in lines[-1] and "\n" not in text and rng.random() < 0.4:
            lines[-1] += ("" if len(lines) == 1 else " ") + text + comma + comment
            continue
        if rng and rng.random() < 0.3:
            lines.append(inner + rng.note("o", path))
        lines.append(inner + text + comma + comment)
    if rng and rng.random() < 0.2:
        lines.append(inner + rng.note("o", path))
    close = "}" if isinstance(data, dict) else "]"
    if wrap and rng and "#" not in lines[-1] and len(lines) > 1 and rng.random() < 0.5:
        return "\n".join(lines) + close
    return "\n".join(lines + [" " * indent + close])


def document(data: Any, seed: int | None, wrap: bool = False) -> str:
    """A whole document (`data` is its root) in `flow_lines` layout; no comments when `seed` is None."""
    return flow_lines(data, None if seed is None else _Notes(seed), wrap=wrap) + "\n"


_COMMENT = re.compile(r"(?:^|\s)(# [to] /[^#]*)$")


def comments(text: str) -> list[str]:
    """The `# t`/`# o` comments of a generated text, in order (paths never hold a `#`)."""
    found = (_COMMENT.search(line.rstrip("\r")) for line in text.split("\n"))
    return [m.group(1).strip() for m in found if m]
