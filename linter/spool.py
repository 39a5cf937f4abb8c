"""What a long run must keep until its end, held off the heap past a budget: memory stays bounded.

Two things outlive a file's lint: its findings (reports walk them in file order once the run is
over) and the documents holding objects set rules read (the set pass needs every file's). The
first `IN_MEMORY` findings stay plain lists, so a pre-commit run never touches the disk; past that,
each finished file's findings are pickled to one anonymous temporary file and read back, a file at
a time, when a report walks them. What a report needs before walking (how many findings are
shown, the worst severity) is counted when they are stored. Set-rule objects (with their
documents) are parked the same way by the engine once their budget (`objectset.IN_MEMORY_CHARS`)
is used, and whole per-file records by `results.RunResults` past its own budget. The file is
unlinked from the start: it goes away with the process.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import IO, Any, Iterable, Iterator, Sequence

from .model import Finding, Severity

IN_MEMORY = 10_000  # findings kept as lists before the spool starts writing (~12 MB): pickling
# them costs ~5 % of a lint, so a run of a typical repository never pays it


class Spool:
    def __init__(self, in_memory: int | None = None):
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        self._held = 0
        self._file: IO[bytes] | None = None
        self._end = 0
        self.error: str | None = None  # why the disk could not be used: everything stays in memory

    def store(self, findings: "list[Finding] | Packed") -> Sequence[Finding]:
        """`findings`, or a handle that reads them back, once the in-memory share is used up."""
        packed = findings if isinstance(findings, Packed) else None
        count = packed.weight if packed else len(findings)
        if not count or self._held + count <= self.in_memory:
            self._held += count
            return packed.unpack() if packed else findings  # type: ignore[union-attr]
        as_bytes = packed or Packed.findings(findings)  # type: ignore[arg-type]
        written = self.write(as_bytes.data)
        if written is None:
            return packed.unpack() if packed else findings  # type: ignore[return-value]
        return Spooled(self, *written, count, as_bytes.shown, as_bytes.worst)

    def park(self, packed: "Packed") -> "Parked | None":
        """The packed value on disk until `Parked.load` (each load is a fresh copy); None when the
        disk cannot take it (the caller keeps the value)."""
        written = self.write(packed.data)
        return None if written is None else Parked(self, *written, kinds=packed.kinds)

    def write(self, data: bytes) -> tuple[int, int] | None:
        """(offset, size) of `data` in the spool file; None once the disk has failed (no usable
        temporary directory, disk full): a run never fails for want of a spool, it only keeps
        what it would have written in memory, and says so (`error`).

        Unbuffered, at an explicit offset: the OS takes or refuses every byte here, so a record
        reported written is on disk. (A buffered file accepted a record into its buffer and
        failed at the next flush, inside a later write or a read: the record was lost and the
        run ended with an internal error.) A refused record may leave bytes past `_end`, which no
        offset names; after a refusal the spool writes nothing more."""
        if self.error is not None:
            return None
        try:
            if self._file is None:
                import tempfile  # only long runs get here
                self._file = tempfile.TemporaryFile(prefix="cslint-spool-", buffering=0)
            _write_at(self._file, data, self._end)
        except OSError as exc:
            self.error = f"cannot use a temporary file ({exc.strerror or exc}): findings stay in memory"
            return None
        self._end += len(data)
        return self._end - len(data), len(data)

    def load(self, offset: int, size: int) -> Any:
        assert self._file is not None
        return loads(_read_at(self._file, size, offset))


def _write_at(file: Any, data: bytes, offset: int) -> None:
    """All of `data` at `offset`, or OSError (a write may take only part: the rest follows)."""
    view = memoryview(data)
    while view:
        if _PWRITE is not None:
            n = _PWRITE(file.fileno(), view, offset)
        else:  # pragma: no cover - no pwrite (Windows)
            file.seek(offset)
            n = file.write(view)
        if not n:
            raise OSError(f"the spool file took no bytes at {offset}")
        view, offset = view[n:], offset + n


def _read_at(file: Any, size: int, offset: int) -> bytes:
    if _PREAD is None:  # pragma: no cover - no pread (Windows)
        file.seek(offset)
        return file.read(size)
    data = _PREAD(file.fileno(), size, offset)
    while len(data) < size:  # a short read: the rest (the spool wrote every byte it names)
        more = _PREAD(file.fileno(), size - len(data), offset + len(data))
        if not more:
            raise OSError(f"spool file ends at {offset + len(data)}, before the {size}-byte record at {offset}")
        data += more
    return data


_PWRITE = getattr(os, "pwrite", None)
_PREAD = getattr(os, "pread", None)


# pickle recurses about twice per level of nesting; the reader turns documents nested deeper than
# its own recursion allows (~500 levels) into CS000, so this depth covers every document it keeps
PICKLE_RECURSION = 5_000


@contextmanager
def _deep_enough() -> Iterator[None]:
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, PICKLE_RECURSION))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def dumps(value: object) -> bytes:
    """Pickled for this run's spool or for its parent process (never for anyone else)."""
    import pickle  # here: a one-file run spools nothing and spares its import (~1.3 ms)

    with _deep_enough():
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """Bytes this run wrote itself (its spool file) or its own forked workers sent: the same trust
    as multiprocessing's own pickled results."""
    import pickle

    with _deep_enough():
        return pickle.loads(data)


class Packed:
    """A value pickled where it was made (a worker process), with what the parent needs to know
    before unpacking it: the parent stores the bytes as they are instead of building the objects
    only to pickle them again (that doubled the parent's work at `-j2`)."""

    __slots__ = ("data", "weight", "shown", "worst", "kinds")

    def __init__(self, value: object, weight: int, shown: int = 0, worst: Severity | None = None,
                 kinds: frozenset[str] = frozenset()):
        self.data, self.weight, self.shown, self.worst, self.kinds = dumps(value), weight, shown, worst, kinds

    @classmethod
    def findings(cls, findings: list[Finding]) -> "Packed":
        return cls(findings, len(findings), shown_count(findings), worst_severity(findings))

    def unpack(self) -> Any:
        return loads(self.data)


class Parked:
    __slots__ = ("_spool", "offset", "size", "kinds")  # one per parked file

    def __init__(self, spool: Spool, offset: int, size: int, kinds: frozenset[str] = frozenset()):
        self._spool, self.offset, self.size = spool, offset, size
        self.kinds = kinds  # of the objects parked, so a pass over other kinds can skip them

    def load(self) -> Any:
        return self._spool.load(self.offset, self.size)


class Spooled(Sequence[Finding]):
    """One file's findings on disk; iterating reads them back (each time: nothing is cached)."""

    __slots__ = ("_spool", "_offset", "_size", "_count", "shown", "worst")  # one per spooled file

    def __init__(self, spool: Spool, offset: int, size: int, count: int, shown: int, worst: Severity | None):
        self._spool, self._offset, self._size, self._count = spool, offset, size, count
        self.shown, self.worst = shown, worst

    @property
    def location(self) -> tuple[int, int]:
        """(offset, size) in the spool: a record written later points here instead of copying."""
        return self._offset, self._size

    def _all(self) -> list[Finding]:
        return self._spool.load(self._offset, self._size)

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
