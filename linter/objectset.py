"""The objects set rules read, gathered across the files of one run.

Set rules (warm buffers, the `vllm` Service, ComputeClasses…) need objects from many files at
once, so those objects wait for the set pass. To keep a long run's memory bounded, the engine
keeps them in memory only up to `IN_MEMORY_CHARS` of their documents' text; later files' objects
are parked on disk (pickled with what rules computed on them) and loaded again for each pass a
rule makes over the set.

For rule authors: `objset.objects` is a stream you may iterate several times. Keep what you
report (and small indexes such as PriorityClasses or buffers); do not hold every object, and do
not compare objects by `id` across passes — a parked object is a new one on each pass.
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
# kinds skips the file without loading it)
Member = tuple[Callable[[], Iterable[K8sObject]], Any, "frozenset[str] | None"]


class ObjectSet:
    """Every object set rules read, linted together."""

    def __init__(self, members: list[Member]):
        self._members = members

    @property
    def objects(self) -> Iterable[K8sObject]:
        return _Pass(self._members)

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        """The objects of these kinds; files known to hold none are not even loaded."""
        wanted = frozenset(kinds)
        members = [m for m in self._members if m[2] is None or m[2] & wanted]
        return (o for o in _Pass(members) if o.kind in wanted)


class _Pass:
    """Re-iterable: each iteration walks every member again, tagging each object with the file
    result that owns its findings (`set_owner`; None for files only read, not reported)."""

    def __init__(self, members: list[Member]):
        self._members = members

    def __iter__(self) -> Iterator[K8sObject]:
        for objects_of, owner, _ in self._members:
            for obj in objects_of():
                obj.set_owner = owner  # type: ignore[attr-defined]
                yield obj


def set_reader(rules: list[Rule]) -> Callable[[K8sObject], bool] | None:
    """One predicate: does some set rule read this object (`RuleMeta.reads`, else its `kinds`,
    else every object)?"""
    if not rules:
        return None
    tests = [rule.meta.reads or _of_kinds(rule.meta.kinds) for rule in rules]
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
    for obj in objects:
        obj.__dict__.pop("context", None)
        obj.__dict__.pop("set_owner", None)
    return Packed(objects, set_text_size(objects), kinds=frozenset(o.kind for o in objects))
