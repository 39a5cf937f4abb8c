"""`--jobs N`: spread the files of a large run over worker processes.

Parsing and rules are CPU-bound Python, so threads do not help; forked workers do. The parent
gathers the run-wide context first (the few files naming a context kind), each worker lints a
contiguous batch of files with the same `Linter`, and the results come back in file order, so
the report is identical to a serial run. Set rules run in the parent over the documents kept for
them: a worker sends back findings plus only the documents whose objects a set rule reads
(`RuleMeta.reads`). Small runs stay serial: forking costs more than it saves. (Measured: the
parent linting a share itself while it waits is slower than two workers, on 2 cores.)
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

from .engine import FileResult, Linter, RuleCrash
from .objectset import pack_objects
from .sources import PendingSource, SourceText
from .spool import Packed, dumps, loads

MIN_FILES = 64  # below this, a serial run is faster than starting workers
BATCHES_PER_JOB = 8  # small batches even out files of different sizes
# ... and bound what a worker sends back at once: the parent holds a batch's findings until it
# has stored them, so batch size, not the tree's size, sets that memory
MAX_BATCH_FILES = 64
# Parsing allocates millions of dicts and lists that live until their file is finished: with the
# default threshold (700 allocations) the cyclic GC runs constantly, ~15 % of a 10k-document lint.
# It must still run (K8sObject ⇄ PodTemplate ⇄ Container are cycles): every 50,000 allocations.
GC_THRESHOLD = (50_000, 20, 100)

_state: tuple[Linter, list[SourceText]] | None = None  # inherited by forked workers


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def lint_parallel(linter: Linter, sources: Iterable[SourceText], jobs: int | None = None) -> Sequence[FileResult]:
    """`linter.lint_sources(sources)`, with the per-file work spread over `jobs` processes (a run
    wraps it, and its report, in `fewer_collections`). Like it, a spilling run consumes a list."""
    sources = sources if isinstance(sources, list) and linter.spill else list(sources)
    return _lint(linter, sources, default_jobs() if jobs is None or jobs <= 0 else jobs)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage cycles less often during a run, and never scan what exists before it
    (modules, the sources; also keeps forked workers from touching those pages). The report
    too: reading 10k spooled findings back took 0.6 s under the default threshold, 0.13 s
    without collections (they hold no cycles; refcounting frees them)."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _lint(linter: Linter, sources: list[SourceText | PendingSource], jobs: int) -> Sequence[FileResult]:
    if jobs <= 1 or len(sources) < MIN_FILES:
        return linter.lint_sources(sources)
    import multiprocessing  # only for large runs: ~10 ms of imports a single file does not need
    if "fork" not in multiprocessing.get_all_start_methods():
        return linter.lint_sources(sources)
    linter.collect_context(sources)
    global _state
    _state = (linter, sources)
    try:
        from concurrent.futures import ProcessPoolExecutor
        count = max(jobs * BATCHES_PER_JOB, -(-len(sources) // MAX_BATCH_FILES))
        results = linter.new_results()
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for part in pool.map(_lint_batch, batches(len(sources), count)):  # in order, as they come
                if isinstance(part, str):  # a rule crashed in a worker
                    raise RuntimeError(part)
                for result in loads(part):
                    i = len(results)
                    if result.source is None:  # the worker left out a text the parent already holds
                        result.source = sources[i]
                    if linter.spill:  # the workers have their own copy: the result holds it now
                        sources[i] = None  # type: ignore[call-overload]
                    linter.settle(result)
                    results.append(result)
    finally:
        _state = None
    return linter.complete(results)


def batches(n: int, count: int) -> list[tuple[int, int]]:
    """`count` contiguous [start, end) ranges covering 0..n, in order."""
    count = max(1, min(count, n))
    bounds = [n * i // count for i in range(count + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if a < b]


def _lint_batch(bounds: tuple[int, int]) -> bytes | str:
    """A batch's results, pickled here with room for the deepest document the reader keeps
    (multiprocessing's own pickling runs at the default recursion limit)."""
    assert _state is not None
    linter, sources = _state
    linter.spool = None  # this forked copy's spool shares the parent's file: the parent stores
    out: list[FileResult] = []
    try:
        for i in range(*bounds):
            out.append(_portable(linter.lint_streamed(sources[i]), isinstance(sources[i], PendingSource), linter.spill))
    except RuleCrash as exc:  # its constructor does not survive pickling: send the message
        return str(exc)
    return dumps(out)


def _portable(result: FileResult, read_here: bool, spill: bool) -> FileResult:
    """What the parent needs back: findings, plus the documents set rules still need, plus the
    source when this worker read it (the parent then never holds the whole tree's text)."""
    if result.finished:
        result.documents = []
        for f in result.findings:
            f.extra.pop("document", None)
    if result.finished and spill:  # pickled here once: the parent stores the bytes as they come
        result.findings = Packed.findings(list(result.findings))  # type: ignore[assignment]
        if result.set_objects:
            result.set_objects = pack_objects(result.set_objects)  # type: ignore[assignment]
    else:
        result.set_objects = []  # the parent rebuilds them from the documents kept for set rules
    if not read_here:
        result.source = None  # type: ignore[assignment]  # the parent has it
    return result
