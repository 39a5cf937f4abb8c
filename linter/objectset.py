"""The objects set rules read, gathered across the files of one run.

Set rules (warm buffers, the `vllm` Service, ComputeClasses…) need objects from many files at
once, so those objects wait for the set pass. To keep a long run's memory bounded, the engine
keeps them in memory only up to `IN_MEMORY_CHARS` of their documents' text; later files' objects
are parked on disk (pickled with what rules computed on them) and loaded again for each pass a
rule makes over the set.

For rule authors: `objset.objects` is a stream you may iterate several times. Keep what you
report (and small indexes such as PriorityClasses or buffers); do not hold every object, and do
not compare objects by `id` across passes — a parked object is a new one on each pass. Once the
pass has moved past its file, such an object still answers everything, but its pod templates
(and their containers) are built again when asked: the engine breaks their cycles so that
refcounting, not the cyclic collector, frees each visit's objects. In a long run the files
whose objects are parked are themselves streamed from the run's ledger (`results.SetMembers`):
an object's `set_owner` is opaque (a file's result, or a file's place in the run).

`objset.subjects` streams only the objects whose findings are wanted. In a run that is every
object; when the fixer re-lints one file within the run, it is that file's objects, the rest
being read for context only. A rule that reports each object from facts about it and a small
index (buffers, classes, namespaces) loops over `subjects`: a fix run over N files then costs
O(N) set work per re-lint instead of O(N) engines judged and thrown away.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .spool import Packed
from .workloads import K8sObject

if TYPE_CHECKING:
    from .registry import Rule

# document text (characters) whose objects stay in memory for the set pass: with their data,
# objects and parsed engine arguments they take ~15× that (measured at 50k documents: ~5 M
# characters held ~75 MB). The 10k-document bench keeps ~1.2 M characters for ~900 engine objects.
IN_MEMORY_CHARS = 1_000_000

# (one file's objects, its owner or None, the kinds among them when known: a pass over other
# kinds skips the file without loading it, the file's memo for `ObjectSet.matching`: a dict, or
# what reads and writes like one)
Member = tuple[Callable[[], Iterable[K8sObject]], Any, "frozenset[str] | None", dict]


class ObjectSet:
    """Every object set rules read, linted together."""

    def __init__(self, members: Iterable[Member], *more: Iterable[Member]):
        """`members`, then each of `more`: re-iterable, and walked again by each pass (a stream
        may make its members as a pass reaches them: files waiting on disk, `results.py`)."""
        self._groups = (members, *more)

    def _members(self) -> Iterator[Member]:
        for group in self._groups:
            yield from group

    @property
    def objects(self) -> Iterable[K8sObject]:
        return _Pass(self._members)

    @property
    def subjects(self) -> Iterable[K8sObject]:
        """The objects whose findings are reported (see the module docstring)."""
        return _Pass(lambda: (m for m in self._members() if m[1] is not None))

    @staticmethod
    def is_subject(obj: K8sObject) -> bool:
        """Whether findings on this object (met in this pass) are reported: a rule whose finding
        on one object depends on every other (a buffer no engine uses) loops over `objects` when
        such an object is a subject, over `subjects` otherwise."""
        return getattr(obj, "set_owner", None) is not None

    def matching(self, key: str, test: Callable[[K8sObject], bool], kinds: tuple[str, ...] = ()
                 ) -> Iterator[K8sObject]:
        """The objects `test` selects (of these kinds, when given), remembered per file under
        `key`: the fixer re-lints each file against every other, and a rule's index (buffers,
        classes, the `vllm` Services) is then read from each file's memo instead of re-walking
        its objects. `test` must select few objects: a parked file's memo keeps them loaded."""
        wanted = frozenset(kinds)
        for objects_of, owner, member_kinds, memo in self._members():
            if wanted and member_kinds is not None and not member_kinds & wanted:
                continue
            found = memo.get(key)
            if found is None:
                found = memo[key] = [o for o in objects_of() if (not wanted or o.kind in wanted) and test(o)]
            for obj in found:
                obj.set_owner = owner  # type: ignore[attr-defined]
                yield obj

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        """The objects of these kinds; files known to hold none are not even loaded."""
        wanted = frozenset(kinds)

        def members() -> Iterator[Member]:
            return (m for m in self._members() if m[2] is None or m[2] & wanted)
        return (o for o in _Pass(members) if o.kind in wanted)


class _Pass:
    """Re-iterable: each iteration walks every member again, tagging each object with the file
    result that owns its findings (`set_owner`; None for files only read, not reported)."""

    def __init__(self, members: Callable[[], Iterable[Member]]):
        self._members = members

    def __iter__(self) -> Iterator[K8sObject]:
        for objects_of, owner, _, _ in self._members():
            for obj in objects_of():
                obj.set_owner = owner  # type: ignore[attr-defined]
                yield obj


def set_reader(rules: list[Rule]) -> Callable[[K8sObject], bool] | None:
    """One predicate: does some set rule read this object (`RuleMeta.reads`, else its `kinds`,
    else every object)?"""
    if not rules:
        return None
    tests = [rule.meta.reads or _of_kinds(rule.meta.kinds) for rule in rules]
    tests = list(dict.fromkeys(tests))  # CS301 and CS302 share one: asked once per object
    return lambda obj: any(test(obj) for test in tests)


def _of_kinds(kinds: tuple[str, ...]) -> Callable[[K8sObject], bool]:
    return (lambda obj: obj.kind in kinds) if kinds else (lambda obj: True)


def set_text_size(objects: list[K8sObject]) -> int:
    """What the set budget counts: the text of the documents kept for set rules."""
    docs = {id(o.document): o.document for o in objects if o.document is not None}
    return sum(len(doc.chunk.text) for doc in docs.values())


def pack_objects(objects: list[K8sObject]) -> Packed:
    """Objects for set rules, pickled with what rules computed on them (pod templates, engine
    arguments: unpickling is ~3× cheaper than rebuilding them) but without the run's context."""
    detach(objects)
    return Packed(objects, set_text_size(objects), kinds=kinds_of(objects))


def detach(objects: list[K8sObject]) -> None:
    """Drop what ties objects to this run (its context, the file owning them in the last pass)
    before they are pickled; the engine's `_adopt` gives the context back."""
    for obj in objects:
        obj.__dict__.pop("context", None)
        obj.__dict__.pop("set_owner", None)


_KINDS: dict[frozenset[str], frozenset[str]] = {}


def kinds_of(objects: list[K8sObject]) -> frozenset[str]:
    """The kinds among `objects`, one shared frozenset per combination: every parked file keeps
    its kinds, and a tree has a handful of combinations (216 bytes a file at 100k documents)."""
    kinds = frozenset(o.kind for o in objects)
    return _KINDS.setdefault(kinds, kinds) if len(_KINDS) < 1024 else kinds
