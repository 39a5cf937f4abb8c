"""Finds the rule modules of `cslint.rules` and indexes them by code. Knows no rule by name."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from types import ModuleType
from typing import Callable, Iterator, NamedTuple

from .model import RuleMeta, Scope
from .settings import Settings, code_matches, is_selected

BUILTIN_PREFIX = "CS"


class Rule(NamedTuple):
    """A rule of the pack: its metadata and its check."""
    meta: RuleMeta
    check: Callable | None  # None for rules reported by the engine itself (CS000)
    module: str

    @property
    def code(self) -> str:
        return self.meta.code


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    import cslint.rules as package
    found: list[Rule] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(_rules_of(module))
    found.sort(key=lambda r: r.code)
    codes = [r.code for r in found]
    dupes = {c for c in codes if codes.count(c) > 1}
    if dupes:  # pragma: no cover - a packaging bug, caught by the tests
        raise RuntimeError(f"duplicate rule codes: {sorted(dupes)}")
    return tuple(found)


def _rules_of(module: ModuleType) -> Iterator[Rule]:
    """A module declares META + check, or RULES = [(META, check), ...] for a family."""
    if hasattr(module, "META"):
        yield Rule(module.META, getattr(module, "check", None), module.__name__)
    for meta, check in getattr(module, "RULES", ()):
        yield Rule(meta, check, module.__name__)


_extra_providers: list[Callable[[Settings], tuple[Rule, ...]]] = []


def register_provider(provider: Callable[[Settings], tuple[Rule, ...]]) -> None:
    """Extension point: rules that come from configuration (custom rules)."""
    if provider not in _extra_providers:
        _extra_providers.append(provider)


def all_rules(settings: Settings | None = None) -> tuple[Rule, ...]:
    rules = builtin_rules()
    if settings is not None:
        for provider in _extra_providers:
            rules = rules + provider(settings)
    return rules


def unknown_selectors(settings: Settings) -> list[str]:
    """Codes and prefixes of the settings that name no rule, each with where it was given: a
    typo in `select` (`CS4O1`) would otherwise turn the linter into a check that always passes."""
    codes = [r.code for r in all_rules(settings)]

    def known(selector: str) -> bool:
        return any(code_matches(code, (selector,)) for code in codes)
    named = [("select", s) for s in settings.select] + [("extend-select", s) for s in settings.extend_select]
    named += [("ignore", s) for s in settings.ignore] + [("severity", s) for s, _ in settings.severity_overrides]
    named += [(f"per-file-ignores {glob!r}", s) for glob, selectors in settings.per_file_ignores for s in selectors]
    return [f"{selector!r} in {where}" for where, selector in named if not known(selector)]


def get_rule(code: str, settings: Settings | None = None) -> Rule | None:
    for rule in all_rules(settings):
        if rule.code == code.upper() or rule.meta.name == code:
            return rule
    return None


def active_rules(settings: Settings) -> dict[Scope, list[Rule]]:
    by_scope: dict[Scope, list[Rule]] = {s: [] for s in Scope}
    for rule in all_rules(settings):
        if rule.meta.profile is not None and rule.meta.profile != settings.profile:
            continue
        if rule.meta.code == "CS001" and not settings.schema:
            continue
        if is_selected(rule.code, settings) or _declared_and_default(rule, settings):
            by_scope[rule.meta.scope].append(rule)
    return by_scope


def _declared_and_default(rule: Rule, settings: Settings) -> bool:
    """Rules declared in configuration join the default selection (declaring them is the opt-in);
    an explicit `select` narrows as usual, and `ignore` turns them off."""
    return (not rule.code.startswith(BUILTIN_PREFIX) and settings.select == Settings().select
            and not code_matches(rule.code, settings.ignore))
