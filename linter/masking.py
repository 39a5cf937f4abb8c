"""Secret masking: a literal credential in a manifest never reaches a report.

Findings travel to CI logs, SARIF uploads and PR comments, places with a wider audience than the
repository. Rules quote what they see (an env value, a shell token, a schema error's instance), so
the engine masks every finding's message and fix title in one place: the literal values of
secret-named env vars of the object's containers, and the value after a secret-named flag or
`NAME=` assignment. A `valueFrom` secret reference carries no value and needs no masking.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "****"
MIN_SECRET = 4  # shorter values ("1", "yes") would mask unrelated text
_SECRET_NAME = re.compile(r"(?i)(?:token|password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|_key$|^key$)")
_FLAG_VALUE = re.compile(r"(?i)(--?[a-z0-9-]*(?:token|password|secret|api-key|access-key)[a-z0-9-]*)(=|\s+)(?!\*\*\*\*|\$)([^\s'\"`,;)]+)")
_ASSIGNMENT = re.compile(r"\b([A-Za-z0-9_]*(?:TOKEN|PASSWORD|SECRET|_KEY)[A-Za-z0-9_]*)=(?!\*\*\*\*|\$)([^\s'\"`,;)]+)")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


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
    except (AttributeError, TypeError, ValueError):
        pass
    values = tuple(sorted(found, key=len, reverse=True))
    try:
        obj._secret_values = values
    except AttributeError:  # pragma: no cover - a slotted object
        pass
    return values


def mask(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with secret values and the values of secret-named flags and assignments masked."""
    if not text:
        return text
    for value in secrets:
        if value in text:
            text = text.replace(value, MASK)
    if "-" in text:
        text = _FLAG_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    if "=" in text:
        text = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}={MASK}", text)
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
