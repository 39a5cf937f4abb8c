"""Custom rules: a team's own cold-start policy, declared in `.cslint.yaml` / `[tool.cslint]`.

```yaml
rules:
  - code: X101
    name: engine-priority-class
    scope: pod
    match: {kinds: [Deployment, LeaderWorkerSet], engine: true}
    select: $.priorityClassName
    require: {equals: llm-serving}
    message: "priority class is {value}: engine pods must use llm-serving"
    fix: {set: llm-serving, safe: false}
```

A `fix: {patch: [...]}` is RFC 6902 relative to the selected path. An `add` under a missing
mapping creates the mapping first (as built-in fixes do), so `add /limits/memory` works on a
container without `resources`; a list cannot be guessed, so `add /-` under a missing parent, or an
op that does not apply to the object, leaves the finding unfixed and says why in its message.

The configuration layer keeps the raw `rules:` list in `Settings.extra["custom_rules"]` and
validates it through `parse_custom_rules` (a bad rule is a `ConfigError`, exit 2, naming the file,
the rule and the key). Importing this module registers the provider through which `all_rules`
and `active_rules` see them, so the engine, fixer, reporters and webhook treat them as their own.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from .config import ConfigError
from .declarative import Declaration, build
from .declarative_parse import DeclarationError, parse_declaration
from .model import Scope
from .registry import Rule, builtin_rules, register_provider
from .settings import Settings

EXTRA_RULES = "custom_rules"
EXTRA_SOURCE = "custom_rules_source"
MODULE_PREFIX = "config:"
_SCOPE_WORDS = {Scope.OBJECT: "document", Scope.WORKLOAD: "pod", Scope.CONTAINER: "container"}
_CACHE_MAX = 64
_cache: dict[tuple[str, int], tuple[Any, tuple[Rule, ...]]] = {}  # (source, id(raw)) → (raw, rules)


def parse_custom_rules(raw: Any, source: str) -> tuple[Rule, ...]:
    """Validate and build the declared rules; cached per source and raw list *object*: the
    provider runs for every registry lookup, and a key built from the list's contents (its repr)
    would expand data that YAML anchors share. The entry holds `raw`, so its id stays its own."""
    key = (source, id(raw))
    hit = _cache.get(key)
    if hit is not None and hit[0] is raw:
        return hit[1]
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: rules: expected a list of rule declarations")
    builtin = builtin_rules()
    taken_codes = {r.code: "a built-in rule" for r in builtin}
    taken_names = {r.meta.name: f"built-in rule {r.code}" for r in builtin}
    rules: list[Rule] = []
    for i, item in enumerate(raw):
        code = item.get("code") if isinstance(item, dict) else None
        label = f"{source}: rules[{i}]" + (f" (code {code})" if isinstance(code, str) else "")
        try:
            decl = parse_declaration(item)
        except DeclarationError as exc:
            raise ConfigError(f"{label}: {exc.key}: {exc.problem}") from None
        if decl.code in taken_codes:
            raise ConfigError(f"{label}: code: {decl.code} is already used by {taken_codes[decl.code]}")
        if decl.name in taken_names:
            raise ConfigError(f"{label}: name: {decl.name} is already used by {taken_names[decl.name]}")
        taken_codes[decl.code] = f"rules[{i}]"
        taken_names[decl.name] = f"rules[{i}] ({decl.code})"
        meta, check = build(replace(decl, docs=rule_docs(decl, source)))
        rules.append(Rule(meta, check, MODULE_PREFIX + source))
    if len(_cache) >= _CACHE_MAX:  # a long-lived process (webhook, tests) reloads configurations
        _cache.clear()
    _cache[key] = (raw, tuple(rules))
    return _cache[key][1]


def custom_rules(settings: Settings) -> tuple[Rule, ...]:
    """The registry provider: the rules declared in the configuration these settings came from."""
    raw = settings.get_extra(EXTRA_RULES)
    if not raw:
        return ()
    return parse_custom_rules(raw, settings.get_extra(EXTRA_SOURCE) or "configuration")


def is_custom(rule: Rule) -> bool:
    return rule.module.startswith(MODULE_PREFIX)


def rule_docs(decl: Declaration, source: str) -> str:
    """What `cslint rule CODE` prints: the team's own docs, then what the declaration checks."""
    m = decl.match
    where = [f"Scope: {_SCOPE_WORDS[decl.scope]}."]
    if m.kinds:
        where.append(f"Kinds: {', '.join(m.kinds)}.")
    if m.engine:
        where.append("Only LLM engine containers" + (" on GPUs." if m.gpu else "."))
    if m.namespaces:
        where.append(f"Namespaces: {', '.join(m.namespaces)}.")
    if m.match_labels:
        where.append("Labels: " + ", ".join(f"{k}={v}" for k, v in m.match_labels) + ".")
    for c in m.when:
        where.append(f"When {c.level} `{c.selector.text}` {c.requirement.describe()}.")
    selects = {"select": "JSONPath", "arg": "vLLM argument", "env": "environment variable"}[decl.selector.kind]
    lines = [decl.docs.strip() or f"## What it does\n{decl.summary}.", "",
             "## Declaration", f"Declared in `{source}`. " + " ".join(where),
             f"The {selects} `{decl.selector.text}` {decl.requirement.describe()}"
             + (" when present." if decl.optional else ".")]
    if decl.fix is not None:
        lines += ["", "## Fix safety",
                  f"{decl.fix.title} ({'safe' if decl.fix.applicability.name == 'SAFE' else 'unsafe'}, "
                  "as declared)."]
    return "\n".join(lines) + "\n"


register_provider(custom_rules)
