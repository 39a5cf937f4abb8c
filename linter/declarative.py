"""Declarative rules: a selector, a requirement and a message, turned into a rule's `check`.

One mechanism for the rules teams declare in configuration (`custom_rules`) and for the built-in
rules that are only "this value must be that" (CS402): a declaration says where to look (a JSONPath,
a vLLM argument or an env var, relative to an object, a pod spec or a container), what must hold,
and how to fix it; `build` makes the `RuleMeta` and the generator the engine runs like any other.
Parsing a raw declaration lives in `declarative_parse`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterator, NamedTuple

from .model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from .quantity import parse_quantity
from .selectors import JsonPathSelector, ScopeNode, Selected, Selection, Selector
from .settings import Settings
from .workloads import Container, K8sObject, PodTemplate, as_dict

SCOPES = {"document": Scope.OBJECT, "pod": Scope.WORKLOAD, "container": Scope.CONTAINER}
MISSING_TEXT = "<missing>"


def display(value: Any) -> str:
    """A selected value as a message shows it: strings bare, the rest as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)
    except ValueError:  # a self-referencing structure from YAML anchors
        return "<value>"


def same_value(a: Any, b: Any) -> bool:
    """Scalars compare by their text (`1` equals `"1"`: manifests quote inconsistently)."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a == b
    return display(a) == display(b)


class Requirement(NamedTuple):
    """What must hold of the selection: `exists`, `absent`, or a test on each selected value."""

    kind: str  # exists | absent | equals | one-of | matches | range
    values: tuple[Any, ...] = ()
    pattern: re.Pattern | None = None
    low: Fraction | None = None
    high: Fraction | None = None
    low_text: str = ""
    high_text: str = ""

    @property
    def on_presence(self) -> bool:
        return self.kind in ("exists", "absent")

    def accepts(self, value: Any) -> bool:
        if self.kind in ("equals", "one-of"):
            return any(same_value(value, v) for v in self.values)
        if self.kind == "matches":
            return not isinstance(value, (dict, list)) and value is not None and \
                self.pattern.fullmatch(display(value)) is not None
        number = parse_quantity(value)  # exact: 16Gi and 17179869184 are the same number
        if number is None:
            return False
        return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)

    def describe(self) -> str:
        if self.kind in ("exists", "absent"):
            return "must exist" if self.kind == "exists" else "must be absent"
        if self.kind == "equals":
            return f"must equal `{display(self.values[0])}`"
        if self.kind == "one-of":
            return "must be one of " + ", ".join(f"`{display(v)}`" for v in self.values)
        if self.kind == "matches":
            return f"must match the regular expression `{self.pattern.pattern}` (whole value)"
        bounds = [f"at least `{self.low_text}`" if self.low is not None else "",
                  f"at most `{self.high_text}`" if self.high is not None else ""]
        return "must be a number or quantity " + " and ".join(b for b in bounds if b)

    def holds(self, selection: Selection) -> bool:
        """For `when` conditions: the requirement holds of everything selected."""
        if self.kind == "exists":
            return bool(selection.found)
        if self.kind == "absent":
            return not selection.found
        return bool(selection.found) and all(s.known and self.accepts(s.value) for s in selection.found)


class Condition(NamedTuple):
    """A `match.when` entry: a JSONPath on the object, the pod spec or the container, and a test."""

    level: str  # object | pod | container
    selector: JsonPathSelector
    requirement: Requirement


class Match(NamedTuple):
    """Which nodes a declaration applies to."""

    kinds: tuple[str, ...] = ()
    engine: bool = False
    gpu: bool = False
    namespaces: tuple[str, ...] = ()
    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (key, operator, values)
    when: tuple[Condition, ...] = ()

    def admits(self, node: ScopeNode, scope: Scope) -> bool:
        obj = node.obj
        if self.kinds and obj.kind not in self.kinds:
            return False
        if self.namespaces and (obj.namespace or "default") not in self.namespaces:
            return False
        if (self.match_labels or self.match_expressions) and not self._labels_match(node):
            return False
        if self.engine and scope != Scope.CONTAINER and not any(c.is_engine for c in _containers(node)):
            return False
        return all(c.requirement.holds(c.selector.select(_level_node(node, c.level))) for c in self.when)

    def _labels_match(self, node: ScopeNode) -> bool:
        labels = {k: v for k, v in as_dict(node.obj.metadata.get("labels")).items() if isinstance(k, str)}
        if node.template is not None:  # a pod template's labels are the pod's
            labels.update((k, v) for k, v in as_dict(node.template.metadata.get("labels")).items()
                          if isinstance(k, str))
        if any(not same_value(labels.get(k), v) for k, v in self.match_labels):
            return False
        for key, operator, values in self.match_expressions:
            present = key in labels
            inside = present and any(same_value(labels[key], v) for v in values)
            ok = {"In": inside, "NotIn": not inside, "Exists": present, "DoesNotExist": not present}[operator]
            if not ok:
                return False
        return True


def _containers(node: ScopeNode) -> list[Container]:
    if node.container is not None:
        return [node.container]
    templates = [node.template] if node.template is not None else node.obj.templates
    return [c for t in templates for c in t.containers]


def _level_node(node: ScopeNode, level: str) -> ScopeNode:
    if level == "object":
        return ScopeNode(node.obj.data, node.obj.pointer, node.obj)
    if level == "pod" and node.template is not None:
        return ScopeNode(node.template.spec, node.template.spec_pointer, node.obj, node.template)
    return node


class FixTemplate(NamedTuple):
    """A declared fix: set the selected value, remove it, or JSON Patch ops based at its path
    (an `add` under a missing mapping creates it first: `declarative_patch`)."""

    applicability: Applicability
    title: str
    action: str  # set | remove | patch
    value: Any = None
    patch: tuple[dict[str, Any], ...] = ()

    def operations(self, selector: Selector, node: ScopeNode, selected: Selected | None,
                   selection: Selection) -> list[dict[str, Any]] | None:
        if self.action == "set":
            return selector.set_ops(node, selected, self.value)
        if self.action == "remove":
            return selector.remove_ops(node, selected) if selected is not None else None
        if selected is not None:
            base = selected.path
        elif isinstance(selector, JsonPathSelector) and selector.concrete:
            base = selection.missing_path
        else:
            return None
        from .declarative_patch import complete_patch  # raises PatchRefused, with the reason
        return complete_patch([rebase(op, base) for op in self.patch], node.data, node.pointer)


def rebase(op: dict[str, Any], base: str) -> dict[str, Any]:
    """`{"op": "add", "path": "/x"}` relative to the selected path becomes absolute."""
    out = dict(op)
    for key in ("path", "from"):
        if key in out:
            out[key] = base + out[key]
    return out


@dataclass(frozen=True)
class Declaration:
    """A parsed, validated declarative rule."""

    code: str
    name: str
    severity: Severity
    lever: Lever
    scope: Scope
    selector: Selector
    requirement: Requirement
    message: str
    summary: str
    missing_message: str | None = None
    optional: bool = False
    match: Match = field(default_factory=Match)
    fix: FixTemplate | None = None
    docs: str = ""

    def evaluate(self, node: ScopeNode) -> Iterator[Violation]:
        selection = self.selector.select(node)
        if not selection.known:
            return
        req = self.requirement
        if req.kind == "absent":
            for s in selection.found:
                yield self._violation(node, selection, s)
            return
        if not selection.found:
            if req.kind == "exists" or not self.optional:
                yield self._violation(node, selection, None)
            return
        if req.kind == "exists":
            return
        for s in selection.found:
            if s.known and not req.accepts(s.value):
                yield self._violation(node, selection, s)

    def _violation(self, node: ScopeNode, selection: Selection, s: Selected | None) -> Violation:
        path = s.path if s is not None else selection.missing_path
        template = self.missing_message if s is None and self.missing_message else self.message
        message = template.format(value=display(s.value) if s is not None else MISSING_TEXT, path=path)
        fix = None
        if self.fix is not None:
            from .declarative_patch import PatchRefused
            try:
                ops = self.fix.operations(self.selector, node, s, selection)
            except PatchRefused as exc:  # the rule's author learns why `--fix` leaves it
                ops, message = None, f"{message} (declared fix not applied: {exc})"
            if ops:
                fix = Fix(self.fix.applicability, tuple(ops), self.fix.title)
        return Violation(message, path, fix, span=s.span if s is not None else None)

    @property
    def fix_availability(self) -> FixAvailability:
        if self.fix is None:
            return FixAvailability.NONE
        always = (self.fix.action == "set" and not (isinstance(self.selector, JsonPathSelector)
                                                    and not self.selector.concrete)) \
            or (self.fix.action == "remove" and self.requirement.kind == "absent")
        return FixAvailability.ALWAYS if always else FixAvailability.SOMETIMES


def build(decl: Declaration) -> tuple[RuleMeta, Callable[[Any, Settings], Iterator[Violation]]]:
    """The `RuleMeta` and `check` of a declaration: the engine cannot tell it from a module."""
    meta = RuleMeta(code=decl.code, name=decl.name, lever=decl.lever, severity=decl.severity,
                    summary=decl.summary, scope=decl.scope, fix=decl.fix_availability,
                    engine_only=decl.match.engine and decl.scope == Scope.CONTAINER,
                    gpu_only=decl.match.gpu and decl.scope == Scope.CONTAINER, docs=decl.docs)

    def check(target: Any, settings: Settings) -> Iterator[Violation]:
        node = scope_node(target)
        if node is not None and decl.match.admits(node, decl.scope):
            yield from decl.evaluate(node)

    check.__qualname__ = f"check[{decl.code}]"
    return meta, check


def scope_node(target: Any) -> ScopeNode | None:
    if isinstance(target, Container):
        return ScopeNode(target.data, target.pointer, target.template.owner, target.template, target)
    if isinstance(target, PodTemplate):
        return ScopeNode(target.spec, target.spec_pointer, target.owner, target)
    if isinstance(target, K8sObject):
        return ScopeNode(target.data, target.pointer, target)
    return None


def declare(raw: dict[str, Any], docs: str = "", *, builtin: bool = False):  # -> (RuleMeta, check)
    """For rule modules: `META, check = declare({...}, __doc__, builtin=True)`."""
    from .declarative_parse import parse_declaration
    decl = parse_declaration(raw, builtin=builtin)
    if docs:
        from dataclasses import replace
        decl = replace(decl, docs=docs)
    return build(decl)
