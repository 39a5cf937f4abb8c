"""JSON Patch (RFC 6902) operations that edit vLLM arguments wherever they live.

Rules describe fixes as data; the fixer turns operations into minimal text edits by diffing old
and new scalar values. So a list item is replaced or added as an item, and a word inside a shell
string (or `VLLM_ADDITIONAL_ARGS`) becomes one `replace` of the whole string with only that word
changed. Values are shell-quoted inside scripts and `$`-escaped against Kubernetes `$(VAR)`
expansion, so what vLLM receives is exactly the requested text.
"""
from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from .vllm_flags import split_flag

if TYPE_CHECKING:  # pragma: no cover
    from .vllm_args import EngineArgs, Flag, Token

__all__ = ["replace_token_ops", "set_flag_value_ops", "append_flags_ops", "remove_tokens_ops",
           "split_inline_ops", "positional_to_flag_ops"]

Op = dict[str, Any]
_Edit = tuple[int, int, str]  # (start, end, replacement) in one scalar's string value
_GAP = re.compile(r"(?:[ \t]|\\\n)*")
_QUOTING = re.compile(r"['\"\\]")


def _k8s_literal(text: str) -> str:
    """Escape `$` so the kubelet's `$(VAR)` expansion leaves `text` as written."""
    return text.replace("$", "$$") if ("$(" in text or "$$" in text) else text


def _word(value: str, token: Token) -> str:
    """How to write `value` next to/in place of `token`: quoted when inside a shell string."""
    return _k8s_literal(value if token.whole else shlex.quote(value))


def _list_slot(path: str) -> tuple[str, int] | None:
    """(list pointer, index) of a list item's pointer."""
    parent, _, last = path.rpartition("/")
    return (parent, int(last)) if last.isdigit() else None


def _edit_scalar(args: EngineArgs, path: str, edits: list[_Edit]) -> list[Op]:
    """One `replace` of a string scalar with `edits` applied (non-overlapping, any order)."""
    text = args.scalar(path)
    if text is None or not edits:
        return []
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return [{"op": "replace", "path": path, "value": text}]


def replace_token_ops(args: EngineArgs, token: Token, new_raw: str) -> list[Op]:
    """Replace the raw text of `token` with `new_raw` (written as is: no quoting or escaping)."""
    if token.whole:
        return [{"op": "replace", "path": token.path, "value": new_raw}]
    return _edit_scalar(args, token.path, [(token.start, token.end, new_raw)])


def _insert_after(args: EngineArgs, token: Token, words: list[str]) -> list[Op]:
    if token.whole:
        slot = _list_slot(token.path)
        if slot is None:
            return []
        return [{"op": "add", "path": f"{slot[0]}/{slot[1] + 1 + k}", "value": _word(w, token)}
                for k, w in enumerate(words)]
    text = "".join(" " + _word(w, token) for w in words)
    return _edit_scalar(args, token.path, [(token.end, token.end, text)])


def set_flag_value_ops(args: EngineArgs, flag: Flag, value: str) -> list[Op]:
    """Give `flag` the value `value`, keeping its spelling and form (`--x=v`, `--x v`, `-O3`).

    Extra values of an nargs='+' flag are removed; a flag written without a value (a boolean or a
    dangling option) gets `value` inserted right after it.
    """
    token = flag.token
    if flag.inline:
        spelling = split_flag(token.value)
        prefix = spelling.value_prefix if spelling else ""
        new_raw = prefix + value if token.whole else shlex.quote(prefix + value)
        return replace_token_ops(args, token, _k8s_literal(new_raw))
    if flag.value is None:
        return _insert_after(args, token, [value])
    first = replace_token_ops(args, flag.value, _word(value, flag.value))
    extra = list(flag.values[1:])
    if not extra:
        return first
    if flag.value.whole:
        return first + remove_tokens_ops(args, extra)
    edits = [(flag.value.start, flag.value.end, _word(value, flag.value))]
    return _edit_scalar(args, flag.value.path, edits + _cut_edits(args, flag.value.path, extra))


def append_flags_ops(args: EngineArgs, words: list[str]) -> list[Op]:
    """Add words at the end of the engine's arguments (before `&&` etc. in a script)."""
    point = args.append_point
    if point is None or not words:
        return []
    if point.offset is None:
        if not point.exists:
            return [{"op": "add", "path": point.path, "value": [_k8s_literal(w) for w in words]}]
        return [{"op": "add", "path": point.path + "/-", "value": _k8s_literal(w)} for w in words]
    text = "".join(" " + _k8s_literal(shlex.quote(w)) for w in words)
    return _edit_scalar(args, point.path, [(point.offset, point.offset, text)])


def _skip_blanks_back(text: str, i: int) -> int:
    while i > 0:
        if text[i - 1] in " \t" and not (i >= 2 and text[i - 2] == "\\"):
            i -= 1
        elif i >= 2 and text[i - 2 : i] == "\\\n":
            i -= 2
        else:
            break
    return i


def _cut_edits(args: EngineArgs, path: str, tokens: list[Token]) -> list[_Edit]:
    """Deletions for `tokens` of one string, each taking one adjacent run of blanks with it.

    Neighbouring tokens are cut as one range so that removing `--x 1` leaves no double space;
    the run before a token is preferred (it may span `\\`-continued lines).
    """
    text = args.scalar(path) or ""
    spans = sorted({(t.start, t.end) for t in tokens})
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and _GAP.fullmatch(text, merged[-1][1], start):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    edits: list[_Edit] = []
    for start, end in merged:
        before = _skip_blanks_back(text, start)
        if before < start:
            edits.append((before, end, ""))
        else:
            edits.append((start, _GAP.match(text, end).end(), ""))
    return edits


def remove_tokens_ops(args: EngineArgs, tokens: list[Token]) -> list[Op]:
    """Delete tokens: list items by index (highest first), shell words by cutting the string."""
    items: dict[str, set[int]] = {}
    words: dict[str, list[Token]] = {}
    for token in tokens:
        slot = _list_slot(token.path) if token.whole else None
        if slot is not None:
            items.setdefault(slot[0], set()).add(slot[1])
        elif not token.whole:
            words.setdefault(token.path, []).append(token)
    ops: list[Op] = []
    for parent, indices in items.items():
        ops += [{"op": "remove", "path": f"{parent}/{i}"} for i in sorted(indices, reverse=True)]
    for path, group in words.items():
        ops += _edit_scalar(args, path, _cut_edits(args, path, group))
    return ops


def split_inline_ops(args: EngineArgs, flag: Flag) -> list[Op]:
    """`--config=FILE` → `--config FILE` (vLLM only loads the file in the two-word form)."""
    token = flag.token
    if not flag.inline:
        return []
    text = args.scalar(token.path)
    if text is None:
        return []
    raw = text if token.whole else text[token.start : token.end]
    literal = token.whole or not _QUOTING.search(raw)
    source = raw if literal else token.value
    spelling = split_flag(source)
    if spelling is None or not spelling.value_prefix:
        return []
    name = spelling.value_prefix.removesuffix("=")
    value = source[len(spelling.value_prefix):]
    if token.whole:
        slot = _list_slot(token.path)
        if slot is None:
            return []
        return [{"op": "replace", "path": token.path, "value": name},
                {"op": "add", "path": f"{slot[0]}/{slot[1] + 1}", "value": value}]
    if literal:
        return replace_token_ops(args, token, f"{name} {value}")
    return replace_token_ops(args, token, _k8s_literal(f"{shlex.quote(name)} {shlex.quote(value)}"))


def positional_to_flag_ops(args: EngineArgs, token: Token, flag: str = "--model") -> list[Op]:
    """Put `flag` before a positional word, e.g. api_server's ignored positional model."""
    if token.whole:
        slot = _list_slot(token.path)
        return [{"op": "add", "path": f"{slot[0]}/{slot[1]}", "value": flag}] if slot else []
    return _edit_scalar(args, token.path, [(token.start, token.start, flag + " ")])
