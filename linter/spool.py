"""Findings of finished files, held off the heap once a run has many: memory stays flat in N.

A long run's findings are the one output that grows with the tree, and reports walk them in file
order only once the run is over. The first `IN_MEMORY` findings stay plain lists (a pre-commit run
never touches the disk); past that, each finished file's findings are pickled to one anonymous
temporary file and read back, a file at a time, when a report walks them. What a report needs
before walking (how many findings are shown, the worst severity) is counted when they are stored.
"""
from __future__ import annotations

import pickle
from typing import IO, Iterable, Iterator, Sequence

from .model import Finding, Severity

IN_MEMORY = 2_000  # findings kept as lists before the spool starts writing (~2.5 MB)


class Spool:
    def __init__(self, in_memory: int | None = None):
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        self._held = 0
        self._file: IO[bytes] | None = None
        self._end = 0

    def store(self, findings: list[Finding]) -> Sequence[Finding]:
        """`findings`, or a handle that reads them back, once the in-memory share is used up."""
        if not findings or self._held + len(findings) <= self.in_memory:
            self._held += len(findings)
            return findings
        if self._file is None:
            import tempfile  # only runs with thousands of findings get here
            self._file = tempfile.TemporaryFile(prefix="cslint-findings-")
        data = pickle.dumps(findings, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(self._end)
        self._file.write(data)
        spooled = Spooled(self, self._end, len(data), len(findings), shown_count(findings),
                          worst_severity(findings))
        self._end += len(data)
        return spooled

    def _load(self, offset: int, size: int) -> list[Finding]:
        assert self._file is not None
        self._file.seek(offset)
        return pickle.loads(self._file.read(size))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class Spooled(Sequence[Finding]):
    """One file's findings on disk; iterating reads them back (each time: nothing is cached)."""

    def __init__(self, spool: Spool, offset: int, size: int, count: int, shown: int, worst: Severity | None):
        self._spool, self._offset, self._size, self._count = spool, offset, size, count
        self.shown, self.worst = shown, worst

    def _all(self) -> list[Finding]:
        return self._spool._load(self._offset, self._size)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._all())

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):  # noqa: ANN001, ANN204 - Sequence's overloads
        return self._all()[index]


def shown_count(findings: Iterable[Finding]) -> int:
    """How many of `findings` a report shows (not suppressed)."""
    if isinstance(findings, Spooled):
        return findings.shown
    return sum(1 for f in findings if not f.suppressed)


def worst_severity(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among the shown findings; None when none is shown."""
    if isinstance(findings, Spooled):
        return findings.worst
    return max((f.severity for f in findings if not f.suppressed), default=None)
