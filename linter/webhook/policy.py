"""What the webhook does with findings: mode, failure mode, exemptions and limits.

Values come from the shared configuration (flat keys kept in `Settings.extra`: `mode`,
`failure-mode`, `exempt-namespaces`, `exempt-objects`, `allow-annotation-suppressions`,
`max-request-bytes`, `webhook-unsafe-fixes`, `update-policy`), then from `cslint serve` options.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from ..fixer import MAX_ITERATIONS
from ..settings import Settings

MODES = ("enforce", "warn", "audit")
FAILURE_MODES = ("open", "closed")
UPDATE_POLICIES = ("new-only", "all")  # on UPDATE: judge only what the update brings, or the whole object
DEFAULT_MAX_BODY = 3 * 1024 * 1024  # the API server's own request body limit

# Settings.extra key → WebhookPolicy field
EXTRA_KEYS = {
    "mode": "mode",
    "failure_mode": "failure_mode",
    "exempt_namespaces": "exempt_namespaces",
    "exempt_objects": "exempt_objects",
    "allow_annotation_suppressions": "annotation_suppressions",
    "max_request_bytes": "max_body_bytes",
    "webhook_unsafe_fixes": "unsafe_fixes",
    "update_policy": "update_policy",
}


@dataclass(frozen=True)
class WebhookPolicy:
    mode: str = "enforce"  # enforce: deny at fail-on; warn: warnings only; audit: audit annotations only
    failure_mode: str = "open"  # an internal error on one request → allowed (open) or denied (closed)
    update_policy: str = "new-only"  # new-only: an UPDATE is denied (or patched) only for findings oldObject lacked
    exempt_namespaces: tuple[str, ...] = ("kube-system",)
    exempt_objects: tuple[str, ...] = ()  # globs over "Kind/namespace/name", e.g. "Deployment/ml/*"
    annotation_suppressions: bool = True  # honour cslint.io/ignore annotations on admitted objects
    unsafe_fixes: bool = False  # /mutate also applies unsafe fixes
    annotate_fixes: bool = True  # /mutate records the fixed codes in metadata.annotations
    schema: bool = False  # CS001: the API server validates against its own, exact schema already
    max_body_bytes: int = DEFAULT_MAX_BODY
    body_timeout: float = 10.0  # seconds allowed to receive a request body
    max_fix_passes: int = MAX_ITERATIONS  # the CLI's bound: what `cslint check --fix` fixes, /mutate fixes

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        if self.failure_mode not in FAILURE_MODES:
            raise ValueError(f"failure-mode: expected open or closed, got {self.failure_mode!r}")
        if self.update_policy not in UPDATE_POLICIES:
            raise ValueError(f"update-policy: expected new-only or all, got {self.update_policy!r}")
        if self.max_body_bytes <= 0 or self.body_timeout <= 0:
            raise ValueError("max-request-bytes and the body timeout must be positive")

    def with_(self, **changes: Any) -> "WebhookPolicy":
        """Override only what was given (None means: keep)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def is_exempt(self, kind: str, namespace: str | None, name: str | None) -> bool:
        if namespace and namespace in self.exempt_namespaces:
            return True
        ref = f"{kind}/{namespace or '-'}/{name or '-'}"
        return any(fnmatchcase(ref, pattern) for pattern in self.exempt_objects)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WebhookPolicy":
        changes: dict[str, Any] = {}
        for extra_key, field_name in EXTRA_KEYS.items():
            value = settings.get_extra(extra_key)
            if value is not None:
                changes[field_name] = tuple(value) if isinstance(value, list) else value
        return cls().with_(**changes)
