"""Reads a raw declarative rule (a mapping from YAML, TOML or Python) into a `Declaration`.

Everything is checked here, once, so a bad rule is one clear error naming the key — never a
crash or a rule that silently matches nothing. `DeclarationError.key` is the dotted key
(`require.max`, `match.when[0].pod`) that the configuration layer prefixes with file and rule.
"""
from __future__ import annotations

import re
import string
from typing import Any

from .declarative import SCOPES, Condition, Declaration, FixTemplate, Match, Requirement, display
from .model import Applicability, Lever, Scope, Severity
from .quantity import parse_quantity
from .selectors import ArgSelector, EnvSelector, JsonPathSelector, Selector

BUILTIN_CODE = re.compile(r"^CS\d{3}$")
CUSTOM_CODE = re.compile(r"^[A-Z]{1,8}\d{3}$")
NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
KEYS = ("code", "name", "severity", "message", "missing-message", "summary", "docs", "lever", "scope",
        "match", "select", "arg", "env", "require", "optional", "fix")
MATCH_KEYS = ("kinds", "engine", "gpu", "namespaces", "labels", "selector", "when")
REQUIRE_KINDS = ("exists", "absent", "equals", "one-of", "matches", "min", "max")
FIX_KEYS = ("set", "remove", "patch", "safe", "title")
PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
LEVELS = ("object", "pod", "container")


class DeclarationError(ValueError):
    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def parse_declaration(raw: Any, *, builtin: bool = False) -> Declaration:
    if not isinstance(raw, dict):
        raise DeclarationError("rule", "expected a mapping with code, name, select, require and message")
    unknown = [str(k) for k in raw if k not in KEYS]
    if unknown:
        raise DeclarationError(unknown[0], f"unknown key (known: {', '.join(KEYS)})")
    code = _code(raw.get("code"), builtin)
    name = _text(raw, "name", required=True)
    if not NAME.match(name):
        raise DeclarationError("name", f"expected a kebab-case name such as gpu-limit-set, got {name!r}")
    selector = _selector(raw)
    scope = _scope(raw.get("scope"), selector)
    match = _match(raw.get("match", {}), scope)
    requirement = _requirement(raw.get("require"))
    fix = _fix(raw.get("fix"), selector, requirement)
    message = _message(raw, "message", required=True)
    summary = _text(raw, "summary") or f"Custom rule {name}: {selector.kind} `{selector.text}` " \
                                        f"{requirement.describe()}"
    return Declaration(
        code=code, name=name, severity=_severity(raw.get("severity", "warning")),
        lever=_lever(raw.get("lever", Lever.INPUT.value)), scope=scope, selector=selector,
        requirement=requirement, message=message, summary=summary.rstrip("."),
        missing_message=_message(raw, "missing-message"), optional=_bool(raw, "optional"),
        match=match, fix=fix, docs=_text(raw, "docs"))


def _code(value: Any, builtin: bool) -> str:
    if not isinstance(value, str):
        raise DeclarationError("code", "required: a prefix of capital letters and three digits, such as X101")
    if builtin:
        if not BUILTIN_CODE.match(value):
            raise DeclarationError("code", f"built-in codes are CS + three digits, got {value!r}")
        return value
    if value.upper().startswith("CS"):
        raise DeclarationError("code", f"{value!r}: the CS prefix is reserved for cslint's own rules")
    if not CUSTOM_CODE.match(value):
        raise DeclarationError("code", f"expected capital letters and three digits such as X101, got {value!r}")
    return value


def _text(raw: dict, key: str, required: bool = False) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise DeclarationError(key, "required, a non-empty string" if value is None else "expected a non-empty string")
    return value


def _bool(raw: dict, key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise DeclarationError(key, f"expected true or false, got {value!r}")
    return value


def _message(raw: dict, key: str, required: bool = False) -> str | None:
    text = _text(raw, key, required)
    if not text:
        return None
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise DeclarationError(key, f"{exc} (write {{{{ and }}}} for literal braces)") from None
    for _, name, _, conversion in fields:
        if name is not None and name not in ("value", "path"):
            raise DeclarationError(key, f"unknown placeholder {{{name}}} (use {{value}} and {{path}})")
        if conversion not in (None, "r", "s"):
            raise DeclarationError(key, f"unknown conversion !{conversion}")
    try:
        text.format(value="v", path="/p")
    except (ValueError, KeyError, IndexError) as exc:
        raise DeclarationError(key, f"cannot format: {exc}") from None
    return text


def _severity(value: Any) -> Severity:
    try:
        return Severity.parse(value) if isinstance(value, str) else Severity.parse("?")
    except ValueError:
        raise DeclarationError("severity", f"expected error, warning or info, got {value!r}") from None


def _lever(value: Any) -> Lever:
    try:
        return Lever(value)
    except ValueError:
        levers = ", ".join(lever.value for lever in Lever)
        raise DeclarationError("lever", f"expected one of {levers}, got {value!r}") from None


def _selector(raw: dict) -> Selector:
    given = [k for k in ("select", "arg", "env") if k in raw]
    if len(given) != 1:
        raise DeclarationError("select", "give exactly one of select (a JSONPath), arg (a vLLM flag) or env"
                               + (f"; got {', '.join(given)}" if given else ""))
    key = given[0]
    value = raw[key]
    if key == "select" and (not isinstance(value, str) or not value.strip()):
        raise DeclarationError(key, "expected a JSONPath such as $.resources.limits['nvidia.com/gpu']")
    cls = {"select": JsonPathSelector, "arg": ArgSelector, "env": EnvSelector}[key]
    try:
        return cls(value)
    except ValueError as exc:
        raise DeclarationError(key, str(exc)) from None


def _scope(value: Any, selector: Selector) -> Scope:
    needs_container = not isinstance(selector, JsonPathSelector)
    if value is None:
        return Scope.CONTAINER if needs_container else Scope.OBJECT
    if value not in SCOPES:
        raise DeclarationError("scope", f"expected document, pod or container, got {value!r}")
    scope = SCOPES[value]
    if needs_container and scope != Scope.CONTAINER:
        raise DeclarationError("scope", f"{selector.kind} selects from a container: use scope: container")
    return scope


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise DeclarationError(key, "expected a non-empty list of strings")
    return tuple(value)


def _match(raw: Any, scope: Scope) -> Match:
    if not isinstance(raw, dict):
        raise DeclarationError("match", "expected a mapping (kinds, engine, gpu, namespaces, labels, selector, when)")
    unknown = [str(k) for k in raw if k not in MATCH_KEYS]
    if unknown:
        raise DeclarationError(f"match.{unknown[0]}", f"unknown key (known: {', '.join(MATCH_KEYS)})")
    kinds = _strings(raw["kinds"], "match.kinds") if "kinds" in raw else ()
    namespaces = _strings(raw["namespaces"], "match.namespaces") if "namespaces" in raw else ()
    flags = {}
    for key in ("engine", "gpu"):
        flags[key] = raw.get(key, False)
        if not isinstance(flags[key], bool):
            raise DeclarationError(f"match.{key}", f"expected true or false, got {flags[key]!r}")
    if flags["gpu"] and scope != Scope.CONTAINER:
        raise DeclarationError("match.gpu", "only for scope: container")
    labels, expressions = _label_selector(raw)
    when = _when(raw.get("when", []), scope)
    return Match(kinds, flags["engine"], flags["gpu"], namespaces, labels, expressions, when)


def _label_selector(raw: dict) -> tuple[tuple, tuple]:
    """`labels: {k: v}` is shorthand for `selector: {matchLabels: {k: v}}` (a Kubernetes LabelSelector)."""
    selector = raw.get("selector", {})
    if not isinstance(selector, dict) or any(k not in ("matchLabels", "matchExpressions") for k in selector):
        raise DeclarationError("match.selector", "expected a LabelSelector: matchLabels and/or matchExpressions")
    labels = {**_label_map(raw.get("labels", {}), "match.labels"),
              **_label_map(selector.get("matchLabels", {}), "match.selector.matchLabels")}
    expressions = []
    for i, expr in enumerate(selector.get("matchExpressions", []) or []):
        key = f"match.selector.matchExpressions[{i}]"
        if not isinstance(expr, dict) or not isinstance(expr.get("key"), str) \
                or expr.get("operator") not in LABEL_OPERATORS:
            raise DeclarationError(key, f"expected key and operator ({', '.join(LABEL_OPERATORS)})")
        values = expr.get("values", [])
        if expr["operator"] in ("In", "NotIn"):
            values = _strings(values, f"{key}.values")
        expressions.append((expr["key"], expr["operator"], tuple(values or ())))
    return tuple(labels.items()), tuple(expressions)


def _label_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise DeclarationError(key, "expected a mapping of label to value")
    return {k: display(v) for k, v in value.items()}


def _when(raw: Any, scope: Scope) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        raise DeclarationError("match.when", "expected a list of conditions such as {pod: $.nodeSelector.x, equals: y}")
    allowed = {Scope.OBJECT: ("object",), Scope.WORKLOAD: ("object", "pod"),
               Scope.CONTAINER: LEVELS}.get(scope, ("object",))
    out = []
    for i, cond in enumerate(raw):
        key = f"match.when[{i}]"
        levels = [lv for lv in LEVELS if isinstance(cond, dict) and lv in cond]
        if len(levels) != 1 or levels[0] not in allowed:
            raise DeclarationError(key, f"give one JSONPath under one of {', '.join(allowed)} "
                                        "(what it is relative to), plus a requirement")
        level = levels[0]
        try:
            selector = JsonPathSelector(cond[level]) if isinstance(cond[level], str) else None
        except ValueError as exc:
            raise DeclarationError(f"{key}.{level}", str(exc)) from None
        if selector is None:
            raise DeclarationError(f"{key}.{level}", "expected a JSONPath string")
        rest = {k: v for k, v in cond.items() if k != level}
        requirement = _requirement(rest or "exists", key)
        out.append(Condition(level, selector, requirement))
    return tuple(out)


def _requirement(raw: Any, key: str = "require") -> Requirement:
    if isinstance(raw, str):
        raw = {raw: True}
    if not isinstance(raw, dict) or not raw:
        raise DeclarationError(key, f"expected one of {', '.join(REQUIRE_KINDS)} (e.g. require: {{max: 32768}})")
    kinds = [str(k) for k in raw]
    unknown = [k for k in kinds if k not in REQUIRE_KINDS]
    if unknown:
        raise DeclarationError(f"{key}.{unknown[0]}" if key != "require" or len(kinds) > 1 else key,
                               f"unknown requirement {unknown[0]!r} (known: {', '.join(REQUIRE_KINDS)})")
    if len(kinds) > 1 and set(kinds) != {"min", "max"}:
        raise DeclarationError(key, f"one requirement per rule (min with max is the only pair), got {', '.join(kinds)}")
    kind = kinds[0]
    value = raw[kind]
    if kind in ("exists", "absent"):
        if value is not True:
            raise DeclarationError(f"{key}.{kind}", "write `require: exists` (or exists: true)")
        return Requirement(kind)
    if kind == "equals":
        return Requirement("equals", (value,))
    if kind == "one-of":
        if not isinstance(value, list) or not value:
            raise DeclarationError(f"{key}.one-of", "expected a non-empty list of values")
        return Requirement("one-of", tuple(value))
    if kind == "matches":
        if not isinstance(value, str):
            raise DeclarationError(f"{key}.matches", "expected a regular expression string")
        try:
            return Requirement("matches", pattern=re.compile(value))
        except re.error as exc:
            raise DeclarationError(f"{key}.matches", f"invalid regular expression: {exc}") from None
    return _range(raw, key)


def _range(raw: dict, key: str) -> Requirement:
    bounds = {}
    for bound in ("min", "max"):
        if bound in raw:
            number = parse_quantity(raw[bound])
            if number is None:
                raise DeclarationError(f"{key}.{bound}", f"expected a number or a Kubernetes quantity such as 16Gi, "
                                                         f"got {raw[bound]!r}")
            bounds[bound] = (number, display(raw[bound]))
    low, high = bounds.get("min"), bounds.get("max")
    if low and high and low[0] > high[0]:
        raise DeclarationError(f"{key}.min", f"{low[1]} is above max {high[1]}")
    return Requirement("range", low=low[0] if low else None, high=high[0] if high else None,
                       low_text=low[1] if low else "", high_text=high[1] if high else "")


def _fix(raw: Any, selector: Selector, requirement: Requirement) -> FixTemplate | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DeclarationError("fix", "expected a mapping with one of set, remove or patch, and safe")
    unknown = [str(k) for k in raw if k not in FIX_KEYS]
    if unknown:
        raise DeclarationError(f"fix.{unknown[0]}", f"unknown key (known: {', '.join(FIX_KEYS)})")
    actions = [k for k in ("set", "remove", "patch") if k in raw]
    if len(actions) != 1:
        raise DeclarationError("fix", "give exactly one of set, remove or patch")
    if "safe" not in raw or not isinstance(raw["safe"], bool):
        raise DeclarationError("fix.safe", "required: true when the fix cannot change behaviour beyond the "
                                           "rule's intent, false otherwise (applied only with --unsafe-fixes)")
    applicability = Applicability.SAFE if raw["safe"] else Applicability.UNSAFE
    action = actions[0]
    if action == "remove" and raw["remove"] is not True:
        raise DeclarationError("fix.remove", "write remove: true")
    if action == "set" and isinstance(raw["set"], (dict, list)) and not isinstance(selector, JsonPathSelector):
        raise DeclarationError("fix.set", f"a {selector.kind} value is a single word or number")
    patch = _patch(raw["patch"], selector) if action == "patch" else ()
    title = raw.get("title") or {"set": f"Set {selector.text} to {display(raw.get('set'))}",
                                 "remove": f"Remove {selector.text}", "patch": f"Apply the fix of {selector.text}"}[action]
    if not isinstance(title, str):
        raise DeclarationError("fix.title", "expected a string")
    return FixTemplate(applicability, title, action, raw.get("set"), patch)


def _patch(raw: Any, selector: Selector) -> tuple[dict[str, Any], ...]:
    if not isinstance(selector, JsonPathSelector):
        raise DeclarationError("fix.patch", f"JSON Patch needs a JSONPath selector; use set or remove for {selector.kind}")
    if not isinstance(raw, list) or not raw:
        raise DeclarationError("fix.patch", "expected a non-empty list of JSON Patch operations")
    ops = []
    for i, op in enumerate(raw):
        key = f"fix.patch[{i}]"
        if not isinstance(op, dict) or op.get("op") not in PATCH_OPS:
            raise DeclarationError(f"{key}.op", f"expected one of {', '.join(PATCH_OPS)}")
        for ptr_key in ("path",) + (("from",) if op["op"] in ("move", "copy") else ()):
            ptr = op.get(ptr_key)
            if not isinstance(ptr, str) or (ptr and not ptr.startswith("/")):
                raise DeclarationError(f"{key}.{ptr_key}", "expected a JSON pointer relative to the selected path "
                                                          "(\"\" for the selected value itself, or /child)")
            _check_dash(ptr, op["op"], f"{key}.{ptr_key}", target=ptr_key == "path")
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise DeclarationError(f"{key}.value", "required for this operation")
        ops.append(dict(op))
    return tuple(ops)


def _check_dash(pointer: str, op: str, key: str, target: bool) -> None:
    """`-` names the end of a list: only the last segment of where an add, move or copy puts a value."""
    parts = pointer.split("/")[1:]
    for i, part in enumerate(parts):
        if part == "-" and not (target and op in ("add", "move", "copy") and i == len(parts) - 1):
            raise DeclarationError(key, "`-` (the end of a list) is only valid as the last segment of the "
                                        "path of an add, move or copy")
