"""Secret masking: a literal credential in a manifest never reaches a report.

Findings travel to CI logs, SARIF uploads and PR comments, places with a wider audience than the
repository. Rules quote what they see (an env value, a shell token, a schema error's instance), so
the engine masks every finding's message and fix title in one place: the literal values of
secret-named env vars of the object's containers, and the value after a secret-named flag or
`NAME=` assignment. A `valueFrom` secret reference carries no value and needs no masking.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable

MASK = "****"
MIN_SECRET = 4  # shorter values ("1", "yes") would mask unrelated text
_SECRET_WORDS = frozenset({"token", "password", "passwd", "secret", "apikey"})
# Names are matched word by word: HF_TOKEN and --api-key are secrets, --max-num-batched-tokens,
# --tokenizer and TOKENIZERS_PARALLELISM are not (their values are numbers and model names).
_FLAG_VALUE = re.compile(r"(?i)(--?(?:[a-z0-9]+-)*(?:(?:token|password|passwd|secret|apikey)(?:-[a-z0-9]+)*|key))"
                         r"(=|\s+)(?!\*\*\*\*|\$)([^\s'\"`,;)]+)")
_ASSIGNMENT = re.compile(r"\b((?:[A-Za-z0-9]+_)*(?:(?:TOKEN|PASSWORD|PASSWD|SECRET|APIKEY)(?:_[A-Za-z0-9]+)*|KEY))"
                         r"=(?!\*\*\*\*|\$)([^\s'\"`,;)]+)")
_NAME_HINTS = ("token", "passw", "secret", "apikey", "key")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=4096)  # env names and flags repeat across a repository
def is_secret_name(name: str) -> bool:
    """HF_TOKEN, DB_PASSWORD, NGC_API_KEY, hfToken, --hf-token: a secret word, or `key` last."""
    words = [w for w in re.split(r"[-_.]+", _CAMEL.sub(r"\1_\2", name).lower()) if w]
    return bool(words) and (words[-1] == "key" or any(w in _SECRET_WORDS for w in words))


def secret_values(obj: Any) -> tuple[str, ...]:
    """Literal values of secret-named env vars in the object's containers (longest first)."""
    cached = getattr(obj, "_secret_values", None)
    if cached is not None:
        return cached
    found: set[str] = set()
    try:
        for template in obj.templates:
            for container in template.containers:
                for name, (_, value) in container.env.items():
                    if isinstance(value, str) and len(value) >= MIN_SECRET and is_secret_name(name):
                        found.add(value)
                found.update(flag_values(container.data.get("command")) + flag_values(container.data.get("args")))
    except (AttributeError, TypeError, ValueError):
        pass
    values = tuple(sorted(found, key=len, reverse=True))
    try:
        obj._secret_values = values
    except AttributeError:  # pragma: no cover - a slotted object
        pass
    return values


def flag_values(tokens: Any) -> tuple[str, ...]:
    """Values of secret-named flags in an argument list: `--hf-token VALUE` as two items is
    invisible to the flag pattern once a rule quotes the value alone."""
    if not isinstance(tokens, list):
        return ()
    found = []
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not token.startswith("-"):
            continue
        flag, eq, value = token.partition("=")
        if not is_secret_name(flag.lstrip("-")):
            continue
        if not eq:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            value = nxt if isinstance(nxt, str) and not nxt.startswith("-") else ""
        if len(value) >= MIN_SECRET and not value.startswith("$"):
            found.append(value)
    return tuple(found)


@functools.lru_cache(maxsize=16)  # the findings of one line come together: a minified manifest
def mask_same_width(text: str, secrets: tuple[str, ...] = ()) -> str:  # is one line for all of them
    """`text` (a source line shown under a finding) with secret values starred out character for
    character, so the caret line below it still points at the right columns."""
    return _masked(text, secrets, lambda value: "*" * len(value))


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with secret values and the values of secret-named flags and assignments masked."""
    return _masked(text, secrets, lambda value: MASK)


def _masked(text: str, secrets: tuple[str, ...], hide: Callable[[str], str]) -> str:
    if not text:
        return text
    for value in secrets:
        if value in text:
            text = text.replace(value, hide(value))
    if not any(map(text.lower().__contains__, _NAME_HINTS)):  # both patterns need one of these words
        return text
    if "-" in text:
        text = _FLAG_VALUE.sub(lambda m: m.group(1) + m.group(2) + hide(m.group(3)), text)
    if "=" in text:
        text = _ASSIGNMENT.sub(lambda m: m.group(1) + "=" + hide(m.group(2)), text)
    return text


def mask_json(value: Any, secrets: tuple[str, ...]) -> Any:
    """A JSON-like value (a fix's patch for reports) with every string masked."""
    if isinstance(value, str):
        return mask(value, secrets)
    if isinstance(value, dict):
        return {k: mask_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v, secrets) for v in value]
    return value
