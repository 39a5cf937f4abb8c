"""Mapping between a scalar's value and its source text, and writing new scalars safely.

Used to point at (and replace) one token inside a shell string without touching the rest of
the line, whatever the scalar's quoting style. Styles whose value is folded across lines
(`>`, multi-line plain or quoted) are not mapped: callers then treat the scalar as a whole.
"""
from __future__ import annotations

import json
import re
from typing import Any

import yaml

_DQ_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
               "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
               "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}

# Words that YAML 1.1 readers (go-yaml v2 behind kubectl) resolve to something other than a string.
_YAML11_SPECIAL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
    r"null|Null|NULL|~|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NUMBERISH = re.compile(r"^[-+]?(?:[0-9][0-9_:.]*(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|\.[0-9]+)$")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_RESOLVER = yaml.resolver.Resolver()


def source_map(text: str, node: Any) -> list[int] | None:
    """Source offset of every value character (plus one past the end), or None when unmappable."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    src = text[node.start_mark.index:node.end_mark.index]
    base = node.start_mark.index
    style = node.style
    if style is None or style == "":
        if src == node.value:
            return [base + i for i in range(len(src) + 1)]
        out: list[int] = []
        i = 0
        while i < len(src):
            if src[i] in " \t\r\n":
                i = _fold(src, i, base, out, len(src))
            else:
                out.append(base + i)
                i += 1
        out.append(base + len(src))
        return out if len(out) == len(node.value) + 1 else None
    if style == "'":
        return _map_single(src, base, node.value)
    if style == '"':
        return _map_double(src, base, node.value)
    if style == "|":
        return _map_literal(src, base, node.value)
    return None


def _map_single(src: str, base: int, value: str) -> list[int] | None:
    if "\n" in src:
        return None
    out, i = [], 1
    while i < len(src) - 1:
        out.append(base + i)
        i += 2 if src[i] == "'" else 1
    out.append(base + len(src) - 1)
    return out if len(out) == len(value) + 1 else None


def _map_double(src: str, base: int, value: str) -> list[int] | None:
    out, i = [], 1
    while i < len(src) - 1:
        ch = src[i]
        if ch in " \t\r\n":
            i = _fold(src, i, base, out, len(src) - 1)
            continue
        out.append(base + i)
        if ch == "\\":
            nxt = src[i + 1] if i + 1 < len(src) else ""
            if nxt in "\r\n":  # escaped line break: no character, skip to the next line's text
                out.pop()
                j = i + 1
                while j < len(src) - 1 and src[j] in " \t\r\n":
                    j += 1
                i = j
                continue
            i += 2 + _HEX_LEN.get(nxt, 0)
        else:
            i += 1
    out.append(base + len(src) - 1)
    return out if len(out) == len(value) + 1 else None


def _fold(src: str, i: int, base: int, out: list[int], stop: int) -> int:
    """A whitespace run: kept as is on one line; folded (one break → a space) across lines."""
    j = i
    while j < stop and src[j] in " \t\r\n":
        j += 1
    run = src[i:j]
    breaks = run.count("\n")
    if breaks == 0:
        out.extend(base + k for k in range(i, j))
    else:
        out.extend([base + i] * (1 if breaks == 1 else breaks - 1))
    return j


def _map_literal(src: str, base: int, value: str) -> list[int] | None:
    header_end = src.find("\n")
    if header_end < 0:
        return None
    body = src[header_end + 1:]
    lines = body.split("\n")
    indent = None
    for line in lines:
        if line.strip():
            indent = len(line) - len(line.lstrip(" "))
            break
    if indent is None:
        return None
    out: list[int] = []
    pos = base + header_end + 1
    for line in lines:
        content = line[indent:] if len(line) >= indent else ""
        start = pos + (indent if len(line) >= indent else len(line))
        for j in range(len(content.rstrip("\r"))):
            out.append(start + j)
        out.append(start + len(content.rstrip("\r")))  # the line break
        pos += len(line) + 1
    if len(out) < len(value) + 1:
        return None
    out = out[: len(value) + 1]
    # a line break is read at its `\r` in CRLF files: it stands for the value's "\n"
    rebuilt = "".join(src[o - base] if o - base < len(src) and src[o - base] != "\r" else "\n"
                      for o in out[:-1])
    return out if rebuilt == value else None


def value_span_to_source(text: str, node: Any, span: tuple[int, int]) -> tuple[int, int] | None:
    mapping = source_map(text, node)
    a, b = span
    if mapping is None or not (0 <= a <= b < len(mapping)):
        return None
    return mapping[a], mapping[b]


def encode_fragment(fragment: str, style: str | None) -> str | None:
    """Text that, put inside a scalar of `style`, reads back as `fragment`."""
    if style in (None, ""):
        return fragment if "#" not in fragment and ": " not in fragment else None
    if style == "'":
        return fragment.replace("'", "''")
    if style == '"':
        return double_quoted(fragment)[1:-1]
    if style == "|":
        return fragment if "\n" not in fragment else None
    return None


def needs_quotes(value: str) -> bool:
    """Whether `value` written plain could read back as anything else, in block or flow context,
    for PyYAML and for YAML 1.1 readers (go-yaml v2 behind kubectl)."""
    if not value or value != value.strip() or not value.isprintable() or value.startswith(("---", "...")):
        return True
    first, second = value[0], value[1:2]
    if first in _INDICATORS and not (first == "-" and second and second not in " ,[]{}"):
        return True
    if ": " in value or " #" in value or value.endswith(":") or any(c in value for c in ",[]{}"):
        return True
    if _YAML11_SPECIAL.match(value) or _NUMBERISH.match(value):
        return True
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str"


def render_scalar(value: Any, quote: str = '"', force: bool = False) -> str:
    """A scalar as it should be written in a manifest: strings quoted when a YAML 1.1 reader could
    read them as anything but a string (so env values are always `"1"`, never `1` or `yes`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, int):
        return repr(value)
    text = str(value)
    if not force and not needs_quotes(text):
        return text
    if quote == "'" and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return double_quoted(text)


def render_float(value: float) -> str:
    """A float YAML 1.1 readers read back as that float: `1.0e+20`, not `1e+20` (a string to
    PyYAML), and `.inf`/`.nan`, not `inf`. Finite values are valid JSON too."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def double_quoted(text: str) -> str:
    """A `"..."` scalar (valid JSON as well) that reads back as `text`: characters YAML would
    refuse or fold (DEL, C1 controls, NEL, line/paragraph separators, BOM) are escaped. Astral
    characters stay raw: YAML and JSON both take them, and a JSON surrogate pair is not YAML."""
    out = json.dumps(text, ensure_ascii=False)
    if out.isprintable():
        return out
    return "".join(ch if ch.isprintable() or ord(ch) >= 0x10000 else f"\\u{ord(ch):04x}" for ch in out)


def render_literal(value: str, indent: int, newline: str = "\n") -> str | None:
    """`value` as a `|` (clip) or `|-` (strip) block scalar whose lines sit at `indent`; None when
    a literal cannot hold it exactly (leading blank, keep-chomping, control characters)."""
    if not value.strip() or value[0] in " \t\n" or value.endswith("\n\n") or "\r" in value:
        return None
    if any(not (ch.isprintable() or ch == "\t") for ch in value.replace("\n", "")):
        return None
    chomp = "" if value.endswith("\n") else "-"
    lines = (value[:-1] if value.endswith("\n") else value).split("\n")
    return "|" + chomp + "".join(newline + (" " * indent + line if line else "") for line in lines)
