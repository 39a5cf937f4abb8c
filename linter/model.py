"""Values that travel between the stages: rule metadata, violations, fixes and findings.

A rule yields `Violation`s (what is wrong, at which JSON pointer, with an optional `Fix`);
the engine turns them into `Finding`s by adding the rule's code and severity, the object and
container they concern and, last and only when needed, the source position.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Callable, NamedTuple


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None

    def __str__(self) -> str:
        return _SEVERITY_LABELS[self]  # every finding of a report prints it: no `name` lookup


_SEVERITY_LABELS = {s: s.name.lower() for s in Severity}


class Applicability(IntEnum):
    """Ordered as in ruff: a fix applies when its applicability is at least the one required."""

    UNSAFE = 1
    SAFE = 2

    def __str__(self) -> str:
        return self.name.lower()


class Lever(str, Enum):
    """The four additive cold-start levers, plus the two groups that are not levers."""

    WEIGHTS = "weight-load"
    IMAGE = "image-pull"
    NODE = "node-0-to-1"
    RUNTIME = "runtime"
    CONFIG = "engine-config"
    INPUT = "input"

    @property
    def title(self) -> str:
        return {
            "weight-load": "Weight load",
            "image-pull": "Image pull",
            "node-0-to-1": "Node 0→1",
            "runtime": "Runtime",
            "engine-config": "Engine configuration",
            "input": "Input",
        }[self.value]


class FixAvailability(str, Enum):
    ALWAYS = "always"
    SOMETIMES = "sometimes"
    NONE = "none"


class Scope(str, Enum):
    """What a rule's `check` receives."""

    FILE = "file"  # engine-level rules (CS000) that are reported by the parser, not checked
    OBJECT = "object"  # one Kubernetes object (K8sObject)
    WORKLOAD = "workload"  # one pod template with its owner (PodTemplate)
    CONTAINER = "container"  # one container of a pod template (Container)
    SET = "set"  # every object linted together (ObjectSet)


class RuleMeta(NamedTuple):
    """A rule's metadata, declared beside its check (`META`)."""
    code: str
    name: str
    lever: Lever
    severity: Severity
    summary: str
    scope: Scope
    fix: FixAvailability = FixAvailability.NONE
    profile: str | None = None  # None: portable, on by default; else only with that profile
    engine_only: bool = False  # container rules: only LLM engine containers
    gpu_only: bool = False  # container rules: skip engines that run on TPU/CPU/Neuron
    docs: str = ""
    # set rules: the kinds they read. The engine keeps parsed data only for files holding these
    # kinds until the set rules have run; empty means every kind (memory then grows with the run).
    kinds: tuple[str, ...] = ()
    # set rules: which objects `check` can use at all (obj -> bool), finer than `kinds`. The engine
    # keeps only those documents for the set pass, so memory and -j transfers stay small; it must
    # hold for every object that could change the rule's outcome. None: every object of `kinds`.
    reads: Callable[[Any], bool] | None = None

    @property
    def help_uri(self) -> str:
        return f"https://github.com/cslint/cslint/blob/main/docs/rules.md#{self.code.lower()}-{self.name}"


class Fix(NamedTuple):
    """A fix is data: RFC 6902 operations on the document plus how safe they are."""

    applicability: Applicability
    operations: tuple[dict[str, Any], ...]
    title: str
    # text-only edits the data cannot express (removing a comment): (start, end, new text),
    # offsets into the finding's document chunk
    comment_edits: tuple[tuple[int, int, str], ...] = ()
    # whole documents the fix adds (a PriorityClass, a pause Deployment): the fixer appends them
    # as `---` YAML at the end of the finding's file; an admission webhook can only warn about them
    new_documents: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = {"applicability": str(self.applicability), "title": self.title,
               "patch": [dict(op) for op in self.operations]}
        if self.comment_edits:
            out["comment_edits"] = [{"start": a, "end": b, "content": c} for a, b, c in self.comment_edits]
        if self.new_documents:
            out["new_documents"] = [dict(d) for d in self.new_documents]
        return out

    def __reduce__(self) -> tuple:
        # pickled as plain values (see `Finding.__reduce__`)
        return (_fix, (int(self.applicability), self.operations, self.title, self.comment_edits,
                       self.new_documents))


class Violation(NamedTuple):
    """What a rule yields. `path` is a JSON pointer into the document; when the offending field
    is missing, the path of what is missing (the position falls back to its nearest parent).
    `span` narrows the position to a substring of a scalar (a token inside a shell string)."""

    message: str
    path: str
    fix: Fix | None = None
    container: str | None = None
    span: tuple[int, int] | None = None
    key: bool = False  # point at the key of `path` rather than its value


class ObjectRef(NamedTuple):
    """The Kubernetes object a finding concerns."""
    api_version: str
    kind: str
    namespace: str | None
    name: str | None

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace or '-'}/{self.name or '-'}"

    def to_json(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind,
                "namespace": self.namespace, "name": self.name}


class Position(NamedTuple):
    """A span in the file, 1-based (the end column exclusive)."""
    line: int  # 1-based
    column: int  # 1-based, in code points
    end_line: int
    end_column: int  # 1-based, exclusive


@dataclass
class Finding:
    """One reported problem: a rule's violation with its object, position and fix."""
    code: str
    name: str
    severity: Severity
    message: str
    file: str
    document: int  # index of the document in the file
    path: str  # JSON pointer within the document
    object: ObjectRef | None = None
    container: str | None = None
    fix: Fix | None = None
    position: Position | None = None
    source: str | None = None  # Helm template from '# Source:'
    span: tuple[int, int] | None = None
    key: bool = False
    lever: Lever = Lever.INPUT
    suppressed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.position.line if self.position else 1

    @property
    def column(self) -> int:
        return self.position.column if self.position else 1

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.code)

    def __reduce__(self) -> tuple:
        """Pickled as plain values, enums and position flattened: a `-j2` run sends every finding
        from its workers and a long run spools them, and the default form (a class lookup and a
        state dict per object, an enum call per member) took ~2.5× as long to read back."""
        pos = self.position
        return (_finding, (self.code, self.name, int(self.severity), self.message, self.file, self.document,
                           self.path, self.object, self.container, self.fix,
                           None if pos is None else (pos.line, pos.column, pos.end_line, pos.end_column),
                           self.source, self.span, self.key, self.lever.value, self.suppressed, self.extra))

    def _fix_json(self) -> dict[str, Any] | None:
        """The fix as reported: operations keep their data for --fix, reports mask credentials."""
        if self.fix is None:
            return None
        from .masking import mask_json  # only when a report is written
        return mask_json(self.fix.to_json(), self.extra.get("secrets", ()))

    def to_json(self) -> dict[str, Any]:
        pos = self.position or Position(1, 1, 1, 1)
        return {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "lever": self.lever.value,
            "message": self.message,
            "file": self.file,
            "line": pos.line,
            "column": pos.column,
            "end_line": pos.end_line,
            "end_column": pos.end_column,
            "source": self.source,
            "document": self.document,
            "object": self.object.to_json() if self.object else None,
            "container": self.container,
            "path": self.path,
            "fix": self._fix_json(),
        }


_SEVERITIES = {int(s): s for s in Severity}
_APPLICABILITIES = {int(a): a for a in Applicability}
_LEVERS = {lever.value: lever for lever in Lever}


def _finding(code: str, name: str, severity: int, message: str, file: str, document: int, path: str,
             obj: ObjectRef | None, container: str | None, fix: Fix | None,
             position: tuple[int, int, int, int] | None, source: str | None, span: tuple[int, int] | None,
             key: bool, lever: str, suppressed: bool, extra: dict[str, Any]) -> Finding:
    return Finding(code, name, _SEVERITIES[severity], message, file, document, path, obj, container, fix,
                   None if position is None else Position(*position), source, span, key, _LEVERS[lever],
                   suppressed, extra)


def _fix(applicability: int, operations: tuple, title: str, comment_edits: tuple, new_documents: tuple) -> Fix:
    return Fix(_APPLICABILITIES[applicability], operations, title, comment_edits, new_documents)
