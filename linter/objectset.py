"""The objects set rules read, gathered across the files of one run.

Set rules (warm buffers, the `vllm` Service, ComputeClasses…) need objects from many files at
once, so those objects wait for the set pass. To keep a long run's memory flat, the engine keeps
their documents in memory only up to `IN_MEMORY_CHARS` of document text; later files' documents
are parked on disk and their objects rebuilt for each pass a rule makes over the set.

For rule authors: `objset.objects` is a stream you may iterate several times. Keep what you
report (and small indexes such as PriorityClasses or buffers); do not hold every object, and do
not compare objects by `id` across passes — a parked object is a new one on each pass.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from .workloads import K8sObject

# document text (characters) whose objects stay in memory for the set pass: with their data,
# objects and parsed engine arguments they take ~15× that (measured at 50k documents: ~5 M
# characters held ~75 MB). The 10k-document bench keeps ~1.2 M characters for ~900 engine objects.
IN_MEMORY_CHARS = 1_000_000

# (one file's objects, its owner or None, the kinds among them when known: a pass over other
# kinds skips the file without loading it)
Member = tuple[Callable[[], Iterable[K8sObject]], Any, "frozenset[str] | None"]


class ObjectSet:
    """Every object set rules read, linted together."""

    def __init__(self, members: list[Member] | None = None, objects: Iterable[K8sObject] = ()):
        self._members = list(members or [])
        listed = list(objects)
        if listed:  # a plain list of objects (tests)
            self._members.append((lambda: listed, None, None))

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
