"""Runs the active rules over documents and turns their violations into findings.

Flow: documents → objects → pod templates → containers, each level handed to the rules of that
scope; then set-level rules over every object linted together; then positions, only for the
documents that have findings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable, Sequence

from . import objectset
from .documents import Document, parse_documents
from .masking import mask, secret_values
from .model import Finding, Lever, Position, Scope, Severity, Violation
from .objectset import ObjectSet, pack_objects, set_reader, set_text_size
from .placement import attach_lines, attach_lines_from, inside_chunk, resolve_position, resolve_positions
from .registry import Rule, active_rules, get_rule
from .results import RunResults, Waiting
from .scaling import ScaleContext, collect_scale_context
from .settings import Settings
from .sources import PendingSource, SourceText, loaded
from .spool import Packed, Parked, Spool
from .workloads import K8sObject, PodTemplate, iter_objects

PARSE_ERROR_CODE = "CS000"
# kinds `collect_scale_context` reads: only files whose text names one are parsed in the pre-pass
# ("ServingRuntime" also matches "ClusterServingRuntime")
CONTEXT_KINDS = ("ScaledObject", "ServingRuntime")


@dataclass(slots=True)  # one per file of the run: no per-instance dict
class FileResult:
    """One file's documents and findings, and what it keeps for the set pass."""
    source: SourceText
    documents: list[Document]
    # a list while the file is linted; once finished, possibly spooled to disk (`Linter(spill=True)`)
    findings: list[Finding] | Sequence[Finding] = field(default_factory=list)
    finished: bool = False  # filters run and positions resolved
    # indexes of `documents` holding objects set rules read, ascending (most files: none); a tuple,
    # as every set file of a long run keeps it: 48 bytes against a set's 216
    for_set: tuple[int, ...] = ()
    # those objects (rebuilt from `documents` when empty); a file finished before the set pass
    # keeps only them (with their documents and what rules computed on them), and past the run's
    # budget they wait on disk instead
    set_objects: list[K8sObject] = field(default_factory=list, repr=False)
    set_parked: Parked | None = field(default=None, repr=False)
    set_memo: dict | None = field(default=None, repr=False)  # `ObjectSet.matching`'s, for this file
    # a file held whole for the set pass (a filter must see its set findings) past the run's
    # budget: its documents, findings so far and set objects wait on disk, pickled together
    held: Parked | None = field(default=None, repr=False)


def without_text(src: SourceText) -> SourceText:
    """The file's identity without its text, once nothing will read the text again."""
    return src._replace(text=None) if src.text is not None else src


def release(result: FileResult) -> None:
    """Drop the documents of a finished file (data, node trees, chunk texts): its findings have
    their positions, and a long run must not hold the repository it has read. Findings and the
    file's text stay for the report."""
    for doc in result.documents:
        doc.release()
    result.documents = []
    let_go_set_objects(result)
    for f in result.findings:
        f.extra.pop("document", None)


def let_go_set_objects(result: FileResult) -> None:
    """The set pass is over for this file: its objects go, their object ⇄ template ⇄ container
    cycles broken so that refcounting frees them at once (left to the cyclic collector, ~90k
    objects a 50k-document run had let go waited for it)."""
    dispose(result.set_objects)
    result.set_objects, result.set_parked, result.set_memo = [], None, None


def dispose(objects: Iterable[K8sObject]) -> None:
    if isinstance(objects, list):  # not a worker's packed objects
        for obj in objects:
            obj.dispose()


# Post-processing stages added by other parts (suppressions): (results, settings) -> None, each
# with a test of whether it has work on a file: (result, settings) -> bool
_finding_filters: list[Callable[[list[FileResult], Settings], None]] = []
_filter_applies: list[Callable[[FileResult, Settings], bool]] = []


def register_filter(fn: Callable[[list[FileResult], Settings], None],
                    applies: Callable[[FileResult, Settings], bool] = lambda result, settings: True) -> None:
    """`applies` lets a file held for set rules be finished before the set pass when no filter
    would touch it (its set findings then join without filtering)."""
    if fn not in _finding_filters:
        _finding_filters.append(fn)
        _filter_applies.append(applies)


class Linter:
    def __init__(self, settings: Settings, keep_data: bool = False, keep_text: bool = True,
                 spill: bool = False, lines: bool = False):
        self.settings = settings
        self.keep_data = keep_data  # keep every document's data (the cold-start report reads it)
        # keep each file's text for the fixer; without it a finished file keeps only its findings
        self.keep_text = keep_text
        # a plain lint (not the fixer): a file is finished as soon as it can be and its findings may
        # go to disk until the report reads them
        self.spill = spill
        self.spool = Spool() if spill else None
        self._set_chars = 0  # document text held in memory for the set pass, up to the budget
        self._set_budget = objectset.IN_MEMORY_CHARS
        # each finding carries its line's text (`extra["line"]`): source excerpts, SARIF fingerprints
        self.lines = lines
        self.rules = active_rules(settings)
        self._parse_rule = get_rule(PARSE_ERROR_CODE)
        self.context = ScaleContext()  # run-wide facts (KEDA targets), attached to every object
        self._reads = set_reader(self.rules[Scope.SET])  # None: no set rule is active
        # the last run's files holding objects set rules read, by path: the fixer's re-lint of one
        # file runs the set rules over these (and their cached objects), not over the whole run
        self._set_results: dict[str, FileResult] = {}
        # their `ObjectSet` members, made once: a fix run re-lints thousands of files, each against
        # every other file's objects
        self._set_members: dict[str, objectset.Member] = {}
        self._visiting: list[K8sObject] = []  # the parked file's objects the set pass last loaded

    # -- entry points -------------------------------------------------------------------------
    def lint_sources(self, sources: Iterable[SourceText | PendingSource]) -> Sequence[FileResult]:
        """Every file's result in order. A spilling run consumes a list it is given (each entry
        is dropped once linted: its result holds the file's identity from then on)."""
        sources = sources if isinstance(sources, list) and self.spill else list(sources)
        early = self.collect_context(sources)
        results = self.new_results()
        for i, src in enumerate(sources):
            src, docs = early.pop(i, (src, None))
            if self.spill:
                sources[i] = None  # type: ignore[call-overload]
            results.append(self.lint_streamed(src, docs))
        return self.complete(results)

    def new_results(self) -> "list[FileResult] | RunResults":
        """Where a run's results go: a spilling run keeps few of them as objects."""
        return RunResults(self.spool) if self.spool is not None else []

    def collect_context(self, sources: list[SourceText | PendingSource]
                        ) -> dict[int, tuple[SourceText, list[Document]]]:
        """Cheap pre-pass for cross-object facts per-object rules need (KEDA ScaledObject targets).
        Only files that mention a context kind are parsed (and kept read); their text and
        documents are returned by index so they are not read or parsed twice."""
        early = {}
        for i, pending in enumerate(sources):
            if isinstance(pending, PendingSource) and not pending.mentions(CONTEXT_KINDS):
                continue  # read when linted, not now
            src = loaded(pending)
            if src.text is not None and any(k in src.text for k in CONTEXT_KINDS):
                early[i] = (src, self._parse(src))
        self.context = collect_scale_context(
            obj for _, docs in early.values() for doc in docs if doc.error is None
            for obj in iter_objects(doc.data, "", doc))
        return early

    def lint_streamed(self, src: SourceText | PendingSource, docs: list[Document] | None = None) -> FileResult:
        """Lint one file and finish it at once when it can be: memory stays flat in the number of
        files. A file holding objects set rules read keeps those objects (with their documents'
        data, no node tree); it is held whole until the set pass only when a filter must see its
        set findings too (suppressions, per-file ignores), or when the fixer may re-lint it."""
        result = self.lint_file(loaded(src), docs)
        if self.keep_data:
            resolve_positions(result.findings)
        elif not result.for_set or (self.spill and not self._filtered(result)):
            objects = result.set_objects
            self.finish([result])
            for i, doc in enumerate(result.documents):
                doc.release_tree() if i in result.for_set else doc.release()
            result.documents, result.set_objects = [], []  # the kept ones live on in their objects
            release(result)
            result.set_objects = objects
            if not self.keep_text:
                result.source = without_text(result.source)
            self.settle(result)
        else:
            resolve_positions(result.findings)
            for doc in result.documents:  # filters read every document at the finish
                doc.release_tree()
            self.settle(result)
        return result

    def _filtered(self, result: FileResult) -> bool:
        return any(applies(result, self.settings) for applies in _filter_applies)

    def complete(self, results: "list[FileResult] | RunResults") -> "Sequence[FileResult]":
        """Set rules over the files kept for them; then filters and positions for the files held
        whole, while set findings join the files already finished. Files a spilling run has
        already written away are done: none of this reads them, and files waiting on disk for
        the set pass (`results.py`) are read only as the set rules reach them."""
        ledger = results if isinstance(results, RunResults) else None
        live = list(ledger.live()) if ledger is not None else results
        # kept for the fixer's re-lints only: a spilling run is never re-linted, and holding its
        # set files' results kept every finding the set pass joined to them (7 MB at 100k documents)
        self._set_results = {r.source.path: r for r in live if r.for_set} if self.spool is None else {}
        self._set_members = {}
        pending = [r for r in live if not r.finished]
        if ledger is None:
            late = self.lint_set([r for r in live if r.for_set])
        else:  # every set file in file order, the waiting ones streamed from the ledger; those given
            # set findings come back for the join, one at a time
            late = self.lint_set([], ledger.set_members(lambda r: self._member(r, r), self._visit_parked))
            for owner in [k for k in late if isinstance(k, Waiting)]:
                ledger.join(owner.index, late.pop(owner), self._join)
            ledger.end_waiting()
        # a spilling run files each changed result as soon as it is done (its findings leave the
        # heap then, not after every other file's: 23 MB of findings at 100k documents)
        where = ledger.indexes() if ledger is not None else {}
        for result in pending:
            result.findings.extend(late.pop(id(result), ()))
        for result in live:
            changed = id(result) in late
            if changed:
                self._join(result, late.pop(id(result)))
            if result.finished:  # the set pass is over
                let_go_set_objects(result)
                if changed and id(result) in where:
                    ledger.refile_one(where[id(result)])  # type: ignore[union-attr]
        for result in pending:  # one at a time: a held file is back in memory only for its finish
            self._unhold(result)
            self.finish([result])
            if not self.keep_data:  # set-rule findings have positions now: drop their node trees
                if self.spool is not None:  # no re-lint will read them (the fixer does not spill)
                    release(result)
                for doc in result.documents:  # the fixer's re-lint reads their data
                    doc.release_tree()
                if not self.keep_text:
                    result.source = without_text(result.source)
                self.settle(result)
            if id(result) in where:
                ledger.refile_one(where[id(result)])  # type: ignore[union-attr]
        if ledger is not None:
            ledger.refile()  # the files the set pass finished without changing them
        return results

    def _join(self, result: FileResult, findings: list[Finding]) -> None:
        """Set findings (placed already) into a file finished before the set pass."""
        result.findings = list(result.findings) + findings
        result.findings.sort(key=Finding.sort_key)

    def _place(self, f: Finding) -> None:
        """Position and line of a set finding for a finished file, now: its document may be a
        parked copy that must not live on."""
        doc = f.extra.pop("document", None)
        if doc is None:
            return
        resolve_position(f, doc)
        if self.lines:
            attach_lines_from(f, doc.chunk.text, doc.chunk.line)

    def settle(self, result: FileResult) -> None:
        """What a file keeps for the set pass leaves the heap past its budget when the run spills
        (see `spool`); a finished file's record and findings are `RunResults`'s."""
        if self.spool is None:
            return
        if not result.finished:
            self._hold(result)
            return
        if isinstance(result.findings, list):  # their findings' budget: `RunResults`
            for f in result.findings:
                f.extra.pop("document", None)
        if result.set_objects:
            packed = result.set_objects if isinstance(result.set_objects, Packed) else None
            chars = packed.weight if packed else set_text_size(result.set_objects)
            if self._set_chars + chars <= self._set_budget:
                self._set_chars += chars
                if packed:
                    result.set_objects = self._adopt(packed.unpack())
            else:
                objects = result.set_objects
                packed = packed or pack_objects(objects)
                result.set_parked = self.spool.park(packed)
                result.set_objects = [] if result.set_parked else self._adopt(packed.unpack())
                if result.set_parked:  # refcounting frees them now, not the cyclic collector
                    dispose(objects)

    def _hold(self, result: FileResult) -> None:
        """A file held whole until the set pass (filters must see its set findings) counts its
        documents' text against the same budget as set objects; past it, documents, findings
        and set objects go to disk in one pickle (so findings and objects keep their documents)."""
        if self.keep_data or result.held is not None or not result.documents:
            return
        chars = sum(len(doc.chunk.text) for doc in result.documents)
        if self._set_chars + chars <= self._set_budget:
            self._set_chars += chars
            return
        objects = self._objects_of(result)  # a worker's result comes with documents only
        objectset.detach(objects)
        packed = Packed((result.documents, list(result.findings), objects), chars, kinds=objectset.kinds_of(objects))
        held = self.spool.park(packed) if self.spool is not None else None
        if held is None:  # the disk failed: it stays in memory
            self._adopt(objects)
            return
        result.held = held
        result.documents, result.findings, result.set_objects = [], [], []

    def _unhold(self, result: FileResult) -> None:
        """A held file back for its finish: its documents, and its findings before the set pass's."""
        if result.held is None:
            return
        documents, findings, objects = result.held.load()
        dispose(objects)
        result.held = None
        result.documents = documents
        result.findings = findings + list(result.findings)

    def lint_in_run(self, src: SourceText) -> FileResult:
        """Lint one file again within the last run (the fixer's re-lint): set rules still see the
        run's other files, and later re-lints see this file's new text."""
        result = self.lint_file(src)
        self._set_results.pop(src.path, None)
        self._set_members.pop(src.path, None)
        if result.for_set:  # set rules report only objects in the set: none here, nothing to run
            if not self._set_members:  # the first re-lint after a run (`complete` empties it)
                self._set_members = {path: self._member(r, None) for path, r in self._set_results.items()}
            result.findings.extend(self.lint_set([result], self._set_members.values()).get(id(result), ()))
            self._set_results[src.path] = result
            self._set_members[src.path] = self._member(result, None)
        self.finish([result])
        return result

    @staticmethod
    def lighten(result: FileResult) -> None:
        """A re-linted file's final result keeps what the report and later re-lints read: its
        findings (placed) and, when it holds objects set rules read, their data. Node trees —
        ten times the data — go: a fix run over 10k documents held every fixed file's trees."""
        if result.for_set:
            for doc in result.documents:
                doc.release_tree()
        else:
            release(result)

    @staticmethod
    def _parse(src: SourceText) -> list[Document]:
        return [] if src.text is None else list(parse_documents(src.path, src.text))

    def lint_file(self, src: SourceText, docs: list[Document] | None = None) -> FileResult:
        if src.text is None:
            result = FileResult(src, [])
            result.findings.append(self._parse_finding(src.path, 0, src.error or "unreadable",
                                                       Position(src.error_line + 1, src.error_column + 1,
                                                                src.error_line + 1, src.error_column + 1)))
            return result
        docs = self._parse(src) if docs is None else docs
        result = FileResult(src, docs)
        for_set = set()
        for i, doc in enumerate(docs):
            kept = len(result.set_objects)
            result.findings.extend(self.lint_document(doc, result.set_objects))
            if len(result.set_objects) > kept:
                for_set.add(i)
        if for_set:
            result.for_set = tuple(sorted(for_set))
        return result

    def lint_document(self, doc: Document, set_objects: list[K8sObject] | None = None) -> list[Finding]:
        """Findings of one document; its objects some set rule reads are appended to `set_objects`."""
        if doc.error is not None:
            line, column = inside_chunk(doc.chunk.text, doc.error.line, doc.error.column)
            line += doc.chunk.line
            pos = Position(line + 1, column + 1, line + 1, column + 1)
            return [self._parse_finding(doc.file, doc.index, doc.error.message, pos)]
        out: list[Finding] = []
        for obj in iter_objects(doc.data, "", doc):
            obj.context = self.context  # type: ignore[attr-defined]
            out.extend(self.lint_object(obj))
            if set_objects is not None and self._read_by_set(obj):
                set_objects.append(obj)
            else:
                obj.dispose()
        return out

    def lint_object(self, obj: K8sObject) -> list[Finding]:
        out: list[Finding] = []
        for rule in self.rules[Scope.OBJECT]:
            out.extend(self._run(rule, obj, obj, None))
        for tpl in self._templates(obj):
            for rule in self.rules[Scope.WORKLOAD]:
                out.extend(self._run(rule, tpl, obj, None))
            for c in tpl.containers:
                for rule in self.rules[Scope.CONTAINER]:
                    if rule.meta.engine_only and not c.is_engine:
                        continue
                    if rule.meta.gpu_only and not c.on_gpu:
                        continue
                    out.extend(self._run(rule, c, obj, c.name or None))
        return out

    def lint_set(self, results: list[FileResult], others: Iterable[objectset.Member] = ()
                 ) -> dict[int | Waiting, list[Finding]]:
        """Set rules over the objects of `results` and of `others` (a re-iterable stream of members:
        files read, not reported, `_member(result, None)`, or a run's waiting files); findings by
        `id` of their file's result, or by the `Waiting` owner of a waiting file."""
        rules = self.rules[Scope.SET]
        found: dict[int | Waiting, list[Finding]] = {}
        if not rules:
            return found
        # unchanged files (the fixer's re-lint) are read, not reported: their owner is None
        objset = ObjectSet([self._member(r, r) for r in results], others)
        for rule in rules:
            for owner, finding in self._set_findings(rule, objset):
                if owner.finished:
                    self._place(finding)
                found.setdefault(owner if isinstance(owner, Waiting) else id(owner), []).append(finding)
        self._visit([])  # the last visit's objects go too
        return found

    def _set_findings(self, rule: Rule, objset: ObjectSet) -> list[tuple[FileResult, Finding]]:
        """One set rule's findings with the file that owns each, made as the rule yields (a parked
        object lives only as long as its finding needs it)."""
        def owned(pair: tuple[K8sObject, Violation]) -> tuple[FileResult, Finding] | None:
            obj, violation = pair
            owner = getattr(obj, "set_owner", None)
            return None if owner is None else (owner, self._finding(rule, violation, obj, violation.container))
        return [found for found in self._safe_check(rule, objset, owned) if found is not None]

    def _member(self, result: FileResult, owner: FileResult | None) -> objectset.Member:
        if result.set_memo is None:
            result.set_memo = {}
        return (partial(self._objects_of, result), owner, _kinds(result), result.set_memo)

    def _objects_of(self, result: FileResult) -> list[K8sObject]:
        """The objects of `result` some set rule reads: those linted in this process, or rebuilt from
        the documents kept for them (a worker sends documents back, not objects; parked documents
        are rebuilt on each pass and not cached)."""
        if result.set_parked is not None:
            return self._visit_parked(result.set_parked)
        if result.held is not None:
            return self._visit(result.held.load()[2])
        if result.for_set and not result.set_objects:
            result.set_objects = self._build(dict(enumerate(result.documents)), result.for_set)
        return result.set_objects

    def _visit_parked(self, parked: Parked) -> list[K8sObject]:
        return self._visit(parked.load())

    def _visit(self, objects: list[K8sObject]) -> list[K8sObject]:
        """A parked file's objects, loaded anew for one visit of a pass. The previous visit's are
        let go here: their object ⇄ template ⇄ container cycles broken, refcounting frees them
        at once (left to the cyclic collector, RSS after a 50k-document run's set pass was 103 MB,
        now 97). A rule still holding one keeps a working object; its templates are rebuilt."""
        dispose(self._visiting)
        self._visiting = objects
        return self._adopt(objects)

    def _adopt(self, objects: list[K8sObject]) -> list[K8sObject]:
        """Objects unpickled from a worker or the spool get this run's context back."""
        for obj in objects:
            obj.context = self.context  # type: ignore[attr-defined]
        return objects

    def _build(self, documents: dict[int, Document], indexes: tuple[int, ...]) -> list[K8sObject]:
        out = []
        for i in indexes:
            for obj in iter_objects(documents[i].data, "", documents[i]):
                obj.context = self.context  # type: ignore[attr-defined]
                if self._read_by_set(obj):
                    out.append(obj)
        return out

    def _read_by_set(self, obj: K8sObject) -> bool:
        if self._reads is None:
            return False
        try:
            return self._reads(obj)
        except Exception:  # keep the object: the rule's own check then reports the crash as before
            return True

    def finish(self, results: list[FileResult]) -> None:
        for fn in _finding_filters:
            fn(results, self.settings)
        for result in results:
            resolve_positions(result.findings)
            result.findings.sort(key=Finding.sort_key)
            if self.lines:
                attach_lines(result.findings, result.source.text)
            result.finished = True

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _templates(obj: K8sObject) -> list[PodTemplate]:
        try:
            return obj.templates
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - defensive
            return []

    def _run(self, rule: Rule, target: Any, obj: K8sObject, container: str | None) -> list[Finding]:
        return [self._finding(rule, violation, obj, violation.container or container)
                for violation in self._safe_check(rule, target)]

    def _safe_check(self, rule: Rule, target: Any, convert: Callable[[Any], Any] | None = None) -> list[Any]:
        """The rule's violations, each through `convert` as it comes when given; all or nothing:
        a RecursionError gives none, any other exception is the rule's crash."""
        if rule.check is None:
            return []
        try:
            found = rule.check(target, self.settings)
            return list(found) if convert is None else [convert(v) for v in found]
        except RecursionError:
            return []
        except Exception as exc:  # a rule bug must not hide other findings
            raise RuleCrash(rule.code, exc) from exc

    def _finding(self, rule: Rule, v: Violation, obj: K8sObject, container: str | None) -> Finding:
        doc = obj.document
        secrets = secret_values(obj)  # reports go to CI logs and SARIF uploads: never a credential
        fix = v.fix
        if fix is not None and fix.title and mask(fix.title, secrets) != fix.title:
            fix = fix._replace(title=mask(fix.title, secrets))
        return Finding(
            code=rule.code, name=rule.meta.name,
            severity=self.settings.severity_for(rule.code, rule.meta.severity),
            message=mask(v.message, secrets), file=doc.file if doc else "<object>",
            document=doc.index if doc else 0,
            path=v.path, object=obj.ref, container=container, fix=fix, span=v.span, key=v.key,
            lever=rule.meta.lever, extra={"document": doc, "secrets": secrets} if secrets else {"document": doc},
        )

    def _parse_finding(self, file: str, index: int, message: str, pos: Position) -> Finding:
        meta = self._parse_rule.meta if self._parse_rule else None
        return Finding(code=PARSE_ERROR_CODE, name=meta.name if meta else "invalid-yaml",
                       severity=Severity.ERROR, message=message, file=file, document=index, path="",
                       position=pos, lever=Lever.INPUT)


class RuleCrash(Exception):
    def __init__(self, code: str, exc: BaseException):
        super().__init__(f"internal error in rule {code}: {type(exc).__name__}: {exc}")
        self.code = code


def _kinds(result: FileResult) -> frozenset[str] | None:
    """The kinds of a file's set objects, when known without loading them."""
    if result.set_parked is not None:
        return result.set_parked.kinds
    if result.held is not None:
        return result.held.kinds
    objects = result.set_objects
    return objectset.kinds_of(objects) if isinstance(objects, list) and objects else None
