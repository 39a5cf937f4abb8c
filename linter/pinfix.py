"""The fix CS201 and CS104 share: replace a reference with the pin the lock file records.

The lock is read once per run (`cslint.prepare`) and reaches the rules through Settings, so the
fix is only offered when `cslint pin` has resolved the reference; the digest is the one its tag
pointed to then, hence safe.
"""
from __future__ import annotations

from .lockfile import pin_reference
from .model import Applicability, Fix
from .patches import op_replace
from .prepare import locked_digest
from .settings import Settings

RUN_PIN = "run `cslint pin` to resolve it into the lock file"


def lock_fix(written: str, pointer: str, settings: Settings) -> Fix | None:
    """A safe `replace` of the reference at `pointer` with `repo:tag@digest`, when locked."""
    digest = locked_digest(settings, written)
    if digest is None:
        return None
    return Fix(Applicability.SAFE, (op_replace(pointer, pin_reference(written, digest)),),
               f"Pin to {digest} (from the lock file)")


def advice(fix: Fix | None) -> str:
    """The end of the message: what the user can do about it now."""
    return "`cslint --fix` pins it from the lock file" if fix else RUN_PIN
