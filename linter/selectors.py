"""What a declarative rule looks at: a JSONPath over its scope's node, a vLLM argument, an env var.

Every selected value carries the JSON pointer (absolute in the document) of where it lives, and a
missing one the pointer of where it would be, so declarative findings get positions, suppressions
and fixes exactly like built-in ones. Each selector also knows how to set or remove what it
selects, as RFC 6902 operations: the fixer never learns that a finding came from a declaration.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .documents import join_pointer
from .patches import op_add, op_remove, op_replace, set_env_ops
from .workloads import Container, K8sObject, PodTemplate, as_list

Op = dict[str, Any]


class ScopeNode(NamedTuple):
    """The part of a document a declarative rule evaluates: an object, a pod spec or a container."""

    data: dict
    pointer: str
    obj: K8sObject
    template: PodTemplate | None = None
    container: Container | None = None


class Selected(NamedTuple):
    """One selected value. `known` is False when only the cluster knows it (`valueFrom`)."""

    value: Any
    path: str
    span: tuple[int, int] | None = None
    known: bool = True
    flag: Any = None  # the vLLM Flag, for argument fixes


@dataclass(frozen=True)
class Selection:
    """What a selector found; `known` is False when absence cannot be told (`envFrom`, no args)."""

    found: list[Selected] = field(default_factory=list)
    missing_path: str = ""
    known: bool = True


class JsonPathSelector:
    """A JSONPath (jsonpath-ng's extended syntax: filters, slices) relative to the scope's node."""

    kind = "select"

    def __init__(self, text: str):
        from jsonpath_ng.ext import parse  # the parser tables load in ~50 ms: only when rules exist
        try:
            self.expr = parse(text)
        except Exception as exc:  # jsonpath-ng raises bare Exception subclasses for lexer/parser errors
            raise ValueError(f"invalid JSONPath {text!r}: {' '.join(str(exc).split())}") from None
        self.text = text
        self.steps, self.concrete = concrete_steps(self.expr)

    def select(self, node: ScopeNode) -> Selection:
        try:
            matches = self.expr.find(node.data)
        except Exception:  # a filter comparing unlike types: nothing selected, never a crash
            matches = []
        found = []
        for m in matches:
            parts = pointer_parts(m, node.data)
            path = node.pointer + join_pointer(parts) if parts is not None else node.pointer
            found.append(Selected(m.value, path))
        return Selection(found, node.pointer + join_pointer(self.steps))

    def set_ops(self, node: ScopeNode, selected: Selected | None, value: Any) -> list[Op] | None:
        if selected is not None:
            return [op_replace(selected.path, value)]
        return add_creating(node, self.steps, value) if self.concrete else None

    def remove_ops(self, node: ScopeNode, selected: Selected) -> list[Op] | None:
        return [op_remove(selected.path)]


class ArgSelector:
    """A vLLM argument read through the argument model, whatever way the engine is started."""

    kind = "arg"

    def __init__(self, text: str):
        from .vllm_flags import canonical_name
        if not isinstance(text, str) or not text.startswith("-") or len(text.strip("-")) == 0:
            raise ValueError(f"expected a vLLM flag such as --max-model-len, got {text!r}")
        self.text = text
        self.name = canonical_name(text)

    def select(self, node: ScopeNode) -> Selection:
        args = node.container.engine_args if node.container is not None else None
        if args is None:
            return Selection(known=False)
        anchor = args.tokens[0].path if args.tokens else (
            node.container.at("args") if "args" in node.container.data else node.pointer)
        flag = args.get(self.name)
        if flag is None:
            return Selection([], anchor)
        tok = flag.value or flag.token
        return Selection([Selected(flag.value_text, tok.path, tok.span, flag=flag)], anchor)

    def set_ops(self, node: ScopeNode, selected: Selected | None, value: Any) -> list[Op] | None:
        from .vllm_args import append_flags_ops, set_flag_value_ops
        args = node.container.engine_args if node.container is not None else None
        if args is None:
            return None
        if selected is not None:
            return None if value is True else set_flag_value_ops(args, selected.flag, scalar_text(value))
        words = [self.text] if value is True else [self.text, scalar_text(value)]
        return append_flags_ops(args, words) or None

    def remove_ops(self, node: ScopeNode, selected: Selected) -> list[Op] | None:
        from .vllm_args import remove_tokens_ops
        args = node.container.engine_args if node.container is not None else None
        if args is None:
            return None
        tokens = []
        for flag in args.all(self.name):  # every occurrence: argparse would take an earlier one
            tokens.append(flag.token)
            if not flag.inline:
                tokens.extend(flag.values or ((flag.value,) if flag.value else ()))
        return remove_tokens_ops(args, tokens) or None


class EnvSelector:
    """An environment variable of the container, with Kubernetes' last-definition-wins."""

    kind = "env"

    def __init__(self, text: str):
        if not isinstance(text, str) or not text or "=" in text:
            raise ValueError(f"expected an environment variable name, got {text!r}")
        self.text = text

    def select(self, node: ScopeNode) -> Selection:
        c = node.container
        if c is None:
            return Selection(known=False)
        entry = c.env.get(self.text)
        if entry is None:
            return Selection([], c.at("env") if "env" in c.data else c.pointer, known=not c.has_env_from)
        index, value = entry
        item = as_list(c.data.get("env"))[index]
        path = c.at("env", index, "value") if value is not None else c.at("env", index)
        return Selection([Selected(value, path, known=value is not None and "valueFrom" not in item)])

    def set_ops(self, node: ScopeNode, selected: Selected | None, value: Any) -> list[Op] | None:
        return set_env_ops(node.container, {self.text: scalar_text(value)}) if node.container else None

    def remove_ops(self, node: ScopeNode, selected: Selected) -> list[Op] | None:
        c = node.container
        if c is None:
            return None
        indices = [i for i, e in enumerate(as_list(c.data.get("env")))
                   if isinstance(e, dict) and e.get("name") == self.text]
        return [op_remove(c.at("env", i)) for i in sorted(indices, reverse=True)]


Selector = JsonPathSelector | ArgSelector | EnvSelector


# -- JSONPath → JSON pointer ------------------------------------------------------------------------
def pointer_parts(datum: Any, root: Any) -> list[str | int] | None:
    """The path of a jsonpath-ng match as pointer parts, or None for computed values (`len`).

    The steps are replayed on the real data rather than trusted: jsonpath-ng treats a non-list
    under `[*]` as `[itself]`, an index step that has no place in a JSON pointer.
    """
    from jsonpath_ng.jsonpath import Fields, Index, Root, This
    steps = []
    cur = datum
    while cur is not None:
        steps.append(cur.path)
        cur = cur.context
    parts: list[str | int] = []
    value = root
    for step in reversed(steps):
        if isinstance(step, Fields) and len(step.fields) == 1:
            if not isinstance(value, dict) or step.fields[0] not in value:
                return None
            parts.append(step.fields[0])
            value = value[step.fields[0]]
        elif isinstance(step, Index):
            i = index_of(step)
            if isinstance(value, str):
                return None  # a character of a string: no pointer reaches it
            if not isinstance(value, list):
                if i not in (0, -1):
                    return None
                continue  # the wrapped non-list is the value itself
            if not -len(value) <= i < len(value):
                return None
            parts.append(i % len(value))
            value = value[i]
        elif not isinstance(step, (Root, This)):
            return None
    return parts


def concrete_steps(expr: Any) -> tuple[list[str | int], bool]:
    """The leading plain field/index steps of a JSONPath, and whether that is all of it.

    `$.resources.limits['nvidia.com/gpu']` is fully concrete, so a missing value still has a
    pointer (to anchor the finding and to add the value); `$.env[?(@.name=='X')]` stops at `/env`.
    """
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root, This
    if isinstance(expr, (Root, This)):
        return [], True
    if isinstance(expr, Child):
        left, complete = concrete_steps(expr.left)
        if not complete:
            return left, False
        right, complete = concrete_steps(expr.right)
        return left + right, complete
    if isinstance(expr, Fields) and len(expr.fields) == 1 and expr.fields[0] != "*":
        return [expr.fields[0]], True
    if isinstance(expr, Index) and len(getattr(expr, "indices", (0,))) == 1 and index_of(expr) >= 0:
        return [index_of(expr)], True
    return [], False


def index_of(step: Any) -> int:
    indices = getattr(step, "indices", None)  # jsonpath-ng ≥ 1.7; older versions have `.index`
    return indices[0] if indices else step.index


def add_creating(node: ScopeNode, steps: list[str | int], value: Any) -> list[Op] | None:
    """Operations that put `value` at `steps` under the node, adding missing parent mappings."""
    cur: Any = node.data
    pointer = node.pointer
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        child = pointer + join_pointer([step])
        if isinstance(cur, dict) and isinstance(step, str) and step in cur:
            if last:
                return [op_replace(child, value)]
            cur, pointer = cur[step], child
        elif isinstance(cur, list) and isinstance(step, int) and step < len(cur):
            if last:
                return [op_replace(child, value)]
            cur, pointer = cur[step], child
        elif isinstance(cur, dict) and isinstance(step, str):
            nested = value
            for inner in reversed(steps[i + 1:]):
                if not isinstance(inner, str):
                    return None  # cannot invent a list index
                nested = {inner: nested}
            return [op_add(child, nested)]
        else:
            return None
    return None


def scalar_text(value: Any) -> str:
    """How a value is written into an env var or a command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
