"""How hard the property tests search.

`make test` (and CI) checks the same examples on every run: Hypothesis derives them from each
test, so a red run is a regression, never an unlucky draw. `make fuzz` sets `CSLINT_FUZZ=N` to
draw fresh random examples, N times as many per test: the exploration that finds new bugs (the
random-edits property found one that way), run by hand or on a schedule, not on every commit.
"""
from __future__ import annotations

import os

from hypothesis import settings

FUZZ = max(0, int(os.environ.get("CSLINT_FUZZ", "0") or 0))

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, max_examples=100 * max(FUZZ, 1))
settings.load_profile("explore" if FUZZ else "repeatable")


def examples(n: int) -> int:
    """A property's example count: as written, or `CSLINT_FUZZ` times it under `make fuzz`."""
    return n * FUZZ if FUZZ else n
