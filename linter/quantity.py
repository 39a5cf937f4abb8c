"""Kubernetes resource quantities, compared exactly (Fraction, never float)."""
from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$")


def parse_quantity(value: object) -> Fraction | None:
    """`16Gi` → 17179869184; None for anything that is not a valid quantity."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    number, suffix, exponent = m.groups()
    base = Fraction(number)
    if exponent is not None:
        return base * Fraction(10) ** int(exponent)
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    return base * _DECIMAL[suffix or ""]


@lru_cache(maxsize=1024)  # rules format the same few thresholds for every container
def format_bytes(n: Fraction | int) -> str:
    """Shortest exact binary form (`16Gi`), else the plain number."""
    n = Fraction(n)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if n >= unit and (n / unit).denominator == 1:
            return f"{n / unit}{suffix}"
    return str(int(n)) if n.denominator == 1 else str(float(n))


def ceil_to_gi(n: Fraction | int) -> str:
    """Round up to whole GiB, the form a human would write in a manifest."""
    gi = 2**30
    whole = -(-Fraction(n) // gi)
    return f"{whole}Gi"


def human_size(n: int) -> str:
    """`12.3 GiB` style, for messages; exact bytes below 1 KiB."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"
