"""Runs the active rules over documents and turns their violations into findings.

Flow: documents → objects → pod templates → containers, each level handed to the rules of that
scope; then set-level rules over every object linted together; then positions, only for the
documents that have findings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .documents import Document, parse_documents
from .model import Finding, Lever, Position, Scope, Severity, Violation
from .registry import Rule, active_rules, get_rule
from .settings import Settings
from .sources import SourceText
from .workloads import Container, K8sObject, PodTemplate, iter_objects

PARSE_ERROR_CODE = "CS000"


@dataclass
class ObjectSet:
    """Every object linted together, for rules that reason across objects."""

    objects: list[K8sObject] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> Iterator[K8sObject]:
        return (o for o in self.objects if o.kind in kinds)


@dataclass
class FileResult:
    source: SourceText
    documents: list[Document]
    findings: list[Finding] = field(default_factory=list)


# Post-processing stages added by other parts (suppressions): (results, settings) -> None
_finding_filters: list[Callable[[list[FileResult], Settings], None]] = []


def register_filter(fn: Callable[[list[FileResult], Settings], None]) -> None:
    if fn not in _finding_filters:
        _finding_filters.append(fn)


class Linter:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.rules = active_rules(settings)
        self._parse_rule = get_rule(PARSE_ERROR_CODE)

    # -- entry points -------------------------------------------------------------------------
    def lint_sources(self, sources: Iterable[SourceText]) -> list[FileResult]:
        results = [self.lint_file(src) for src in sources]
        self.lint_set(results)
        self.finish(results)
        return results

    def lint_file(self, src: SourceText) -> FileResult:
        if src.text is None:
            result = FileResult(src, [])
            result.findings.append(self._parse_finding(src.path, 0, src.error or "unreadable",
                                                       Position(src.error_line + 1, src.error_column + 1,
                                                                src.error_line + 1, src.error_column + 1)))
            return result
        docs = list(parse_documents(src.path, src.text))
        result = FileResult(src, docs)
        for doc in docs:
            result.findings.extend(self.lint_document(doc))
        return result

    def lint_document(self, doc: Document) -> list[Finding]:
        if doc.error is not None:
            line = doc.chunk.line + doc.error.line
            pos = Position(line + 1, doc.error.column + 1, line + 1, doc.error.column + 1)
            return [self._parse_finding(doc.file, doc.index, doc.error.message, pos)]
        out: list[Finding] = []
        for obj in iter_objects(doc.data, "", doc):
            out.extend(self.lint_object(obj))
        return out

    def lint_object(self, obj: K8sObject) -> list[Finding]:
        out: list[Finding] = []
        doc = obj.document
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
        del doc
        return out

    def lint_set(self, results: list[FileResult]) -> None:
        rules = self.rules[Scope.SET]
        if not rules:
            return
        objset = ObjectSet()
        owner: dict[int, FileResult] = {}
        for result in results:
            for doc in result.documents:
                if doc.error is None:
                    for obj in iter_objects(doc.data, "", doc):
                        objset.objects.append(obj)
                        owner[id(obj)] = result
        for rule in rules:
            for obj, violation in self._safe_check(rule, objset):
                finding = self._finding(rule, violation, obj, violation.container)
                owner[id(obj)].findings.append(finding)

    def finish(self, results: list[FileResult]) -> None:
        for fn in _finding_filters:
            fn(results, self.settings)
        for result in results:
            resolve_positions(result)
            result.findings.sort(key=Finding.sort_key)

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _templates(obj: K8sObject) -> list[PodTemplate]:
        try:
            return obj.templates
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - defensive
            return []

    def _run(self, rule: Rule, target: Any, obj: K8sObject, container: str | None) -> Iterator[Finding]:
        for violation in self._safe_check(rule, target):
            yield self._finding(rule, violation, obj, violation.container or container)

    def _safe_check(self, rule: Rule, target: Any) -> Iterator[Any]:
        if rule.check is None:
            return iter(())
        try:
            return iter(list(rule.check(target, self.settings)))
        except RecursionError:
            return iter(())
        except Exception as exc:  # a rule bug must not hide other findings
            raise RuleCrash(rule.code, exc) from exc

    def _finding(self, rule: Rule, v: Violation, obj: K8sObject, container: str | None) -> Finding:
        doc = obj.document
        return Finding(
            code=rule.code, name=rule.meta.name,
            severity=self.settings.severity_for(rule.code, rule.meta.severity),
            message=v.message, file=doc.file if doc else "<object>", document=doc.index if doc else 0,
            path=v.path, object=obj.ref, container=container, fix=v.fix, span=v.span, key=v.key,
            lever=rule.meta.lever, extra={"document": doc},
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


def resolve_positions(result: FileResult) -> None:
    """Positions and Helm sources, computed only for findings that need them."""
    for f in result.findings:
        doc: Document | None = f.extra.get("document")
        if doc is None:
            continue
        f.source = doc.source
        if f.position is None:
            f.position = doc.position(f.path, f.span, f.key)
