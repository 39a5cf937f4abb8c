"""A spilling run's per-file results, in file order, at a few bytes per file past a budget.

Every file of a run has a result until the report: its identity and its findings. Held as
objects that is ~1.5 KB of small allocations a file (result, source record, lists, handles),
which made a 50k-document run's heap grow with the tree even with findings on disk. So a file
that no later pass touches (finished, nothing kept for the set pass) is *done*: the first
`IN_MEMORY_FILES` done files stay objects; later ones are pickled whole (identity and findings)
to the run's spool, and the ledger keeps four numbers for each in arrays: where the record is,
its size, how many findings a report shows, the worst shown severity (~25 bytes). Reports read
those numbers before walking (totals, the exit code) and get the records back a file at a time.

A file holding objects for the set pass (a fifth of a typical tree) is *waiting*. While those
objects are within the set budget, it stays an object. Once they are parked on disk, its record
goes to disk as a done file's would, and the ledger keeps where its objects are parked and their
kinds (~30 bytes): the set pass streams these files from the ledger (`set_members`), and
only a file that gets set findings comes back, for the moment of joining them. (Brought back as
objects for the set pass instead, the records left peak memory where it was: the peak is there.)
"""
from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

from .model import Finding, Severity
from .sources import SourceText
from .spool import Packed, Parked, Spool, Spooled, dumps, shown_count, worst_severity

if TYPE_CHECKING:
    from .engine import FileResult
    from .workloads import K8sObject

IN_MEMORY_FILES = 2_000  # done files kept as objects before records go to disk
_LIVE, _NONE = -1, -1  # offset of a file held as an object; worst severity of a file showing none


def done(result: FileResult) -> bool:
    """Finished and not waiting for the set pass: nothing will change this file's result."""
    return result.finished and not result.set_objects and result.set_parked is None


def waiting(result: FileResult) -> bool:
    """Finished, with the objects the set pass reads parked on disk: until the set pass, nothing
    reads the rest of the result."""
    return (result.finished and result.set_parked is not None and not result.set_objects
            and result.held is None and not result.set_memo)


class Waiting:
    """The owner of a waiting file's objects during the set pass: its index in the run. Set rules
    see it as `set_owner`; the engine keys the file's set findings by it."""

    __slots__ = ("index",)
    finished = True  # as its record is: set findings get their positions at once

    def __init__(self, index: int):
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Waiting) and other.index == self.index

    def __hash__(self) -> int:
        return hash((Waiting, self.index))


class RunResults(Sequence["FileResult"]):
    def __init__(self, spool: Spool, in_memory: int | None = None):
        self._spool = spool
        self._budget = IN_MEMORY_FILES if in_memory is None else in_memory
        self._kept: set[int] = set()  # done files held as objects (at most the budget)
        self._live: dict[int, FileResult] = {}
        self._offset, self._size = array("q"), array("q")
        self._shown, self._worst = array("q"), array("b")
        # waiting files, in file order: index, where their objects are parked, those objects' kinds
        # (shared frozensets)
        self._waiting, self._parked_at, self._parked_size = array("q"), array("q"), array("q")
        self._parked_kinds: list[frozenset[str]] = []

    # -- filling ------------------------------------------------------------------------------
    def append(self, result: FileResult) -> None:
        i = len(self._offset)
        self._offset.append(_LIVE)
        self._size.append(0)
        self._shown.append(0)
        self._worst.append(_NONE)
        self._live[i] = result
        self._file(i)

    def refile(self) -> None:
        """After the set pass: the files it finished become done like the rest, but stay objects
        past the budget: they were in memory through the run, and writing them now, just before
        the report reads every file back, cost time and no peak memory (10k documents: 765
        records, ~0.1 s written and ~0.15 s read, peak RSS the same at 10k, 50k and 100k). Files
        whose findings the set pass changed were filed already (`refile_one`)."""
        for i in list(self._live):
            self._file(i, to_disk=False)

    def indexes(self) -> dict[int, int]:
        """Index of each live result, by `id`: for `refile_one` during the set pass."""
        return {id(r): i for i, r in self._live.items()}

    def refile_one(self, i: int) -> None:
        """A file the set pass changed is filed as soon as it is done (its findings through the
        findings budget again, its record to disk past the budget), instead of every changed
        file's findings waiting for the last."""
        if i in self._live:
            self._file(i)

    def _file(self, i: int, to_disk: bool = True) -> None:
        """A done file past the budget goes to disk whole, and so does a waiting file; any other
        keeps its findings under the spool's findings budget. After the set pass (not `to_disk`)
        a done file only counts as done."""
        result = self._live[i]
        if done(result):
            if to_disk and i not in self._kept and len(self._kept) >= self._budget and self._write(i, result):
                return
            self._kept.add(i)
        elif waiting(result):
            parked = result.set_parked
            assert parked is not None
            if self._write(i, result):
                self._waiting.append(i)
                self._parked_at.append(parked.offset)
                self._parked_size.append(parked.size)
                self._parked_kinds.append(parked.kinds)
                return
        if to_disk and result.finished and isinstance(result.findings, (list, Packed)):
            result.findings = self._spool.store(result.findings)

    def _write(self, i: int, result: FileResult) -> bool:
        held = result.findings
        findings: list[Finding] | Packed | tuple[int, int]
        if isinstance(held, Packed):  # pickled in a worker: the record carries those bytes
            findings, shown, worst = held, held.shown, held.worst
        elif isinstance(held, Spooled):  # already on disk (a set file the set pass finished)
            findings, shown, worst = held.location, held.shown, held.worst
        else:
            findings = list(held)
            shown, worst = shown_count(findings), worst_severity(findings)
        # the file's identity as a plain tuple (pickling the record by class costs more), and its
        # findings as they are held: a list, a worker's bytes, or where the spool has them
        written = self._spool.write(dumps((tuple(result.source), findings)))
        if written is None:  # no usable disk: the spool said why, the file stays an object
            return False
        del self._live[i]
        self._offset[i], self._size[i] = written
        self._shown[i], self._worst[i] = shown, _NONE if worst is None else int(worst)
        return True

    # -- the set pass -------------------------------------------------------------------------
    def set_members(self, member: Callable[[FileResult], tuple], load: Callable[[Parked], list[K8sObject]]
                    ) -> SetMembers:
        """The set pass's members, in file order: `member(result)` for each result held as an
        object that keeps objects for the set pass, and one made from the ledger for each waiting
        file (`load` turns its parked objects into the objects of a visit)."""
        return SetMembers(self, member, load)

    def join(self, i: int, findings: list[Finding], joiner: Callable[[FileResult, list[Finding]], None]) -> None:
        """A waiting file's set findings: its record comes back, `joiner` adds them, and it is
        filed again at once."""
        result = self._record(i)
        joiner(result, findings)
        self._live[i] = result
        self._file(i)

    def set_files(self) -> Iterator[tuple[int, FileResult | Parked]]:
        """(index, what the set pass reads) of each set file in file order: the result of a file
        held as an object, where a waiting file's objects are parked."""
        live = [i for i in sorted(self._live) if self._live[i].for_set]
        n = 0
        for w, i in enumerate(self._waiting):
            while n < len(live) and live[n] < i:
                yield live[n], self._live[live[n]]
                n += 1
            yield i, Parked(self._spool, self._parked_at[w], self._parked_size[w], self._parked_kinds[w])
        for i in live[n:]:
            yield i, self._live[i]

    def waiting_count(self) -> int:
        return len(self._waiting)

    def end_waiting(self) -> None:
        """The set pass is over: the waiting files' records are done records."""
        self._waiting, self._parked_at, self._parked_size = array("q"), array("q"), array("q")
        self._parked_kinds = []

    # -- reading ------------------------------------------------------------------------------
    def live(self) -> Iterator[FileResult]:
        """The results held as objects, in file order."""
        return (self._live[i] for i in sorted(self._live))

    def __len__(self) -> int:
        return len(self._offset)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]
        live = self._live.get(i)
        return live if live is not None else self._record(i)

    def _record(self, i: int) -> FileResult:
        source, findings = self._spool.load(self._offset[i], self._size[i])
        if isinstance(findings, Packed):
            findings = findings.unpack()
        elif isinstance(findings, tuple):  # where the spool holds them
            findings = self._spool.load(*findings)
        from .engine import FileResult  # engine imports this module
        return FileResult(SourceText(*source), [], findings, finished=True)

    def __iter__(self) -> Iterator[FileResult]:
        for i in range(len(self)):
            yield self[i]

    def counts(self) -> Iterator[tuple[int, Severity | None]]:
        """(shown findings, worst shown severity) of each file in order, without reading records."""
        for i in range(len(self)):
            live = self._live.get(i)
            if live is not None:
                yield shown_count(live.findings), worst_severity(live.findings)
            else:
                worst = self._worst[i]
                yield self._shown[i], None if worst == _NONE else Severity(worst)


class SetMembers:
    """`ObjectSet` members for a spilling run's set files, in file order, as a re-iterable stream:
    the waiting files' members are made as a pass reaches them, and nothing of such a file
    outlives its visit but what `ObjectSet.matching` found in it."""

    def __init__(self, results: RunResults, member: Callable[[FileResult], tuple],
                 load: Callable[[Parked], list[K8sObject]]):
        self._results, self._member, self._load = results, member, load
        self._found: dict[tuple[int, str], list] = {}  # `matching`'s memo for waiting files: finds only
        self._asked: dict[str, bytearray] = {}  # per key, whether each waiting file was searched

    def __iter__(self) -> Iterator[tuple]:
        w = 0
        for i, held in self._results.set_files():
            if isinstance(held, Parked):
                yield (partial(self._load, held), Waiting(i), held.kinds, _Memo(self, w))
                w += 1
            else:
                yield self._member(held)

    def waiting(self) -> int:
        return self._results.waiting_count()


class _Memo:
    """One waiting file's view of the memo (the `dict` protocol `ObjectSet.matching` uses)."""

    __slots__ = ("_members", "_n")

    def __init__(self, members: SetMembers, n: int):
        self._members, self._n = members, n

    def get(self, key: str) -> list | None:
        asked = self._members._asked.get(key)
        if asked is None or not asked[self._n]:
            return None
        return self._members._found.get((self._n, key), [])

    def __setitem__(self, key: str, found: list) -> None:
        asked = self._members._asked.get(key)
        if asked is None:
            asked = self._members._asked[key] = bytearray(self._members.waiting())
        asked[self._n] = 1
        if found:
            self._members._found[(self._n, key)] = found


def file_counts(results: Iterable[FileResult]) -> Iterator[tuple[int, Severity | None]]:
    """(shown, worst) per file of any run's results: the ledger's numbers when it has them."""
    if isinstance(results, RunResults):
        return results.counts()
    return ((shown_count(r.findings), worst_severity(r.findings)) for r in results)
