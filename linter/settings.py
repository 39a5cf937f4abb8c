"""The effective settings of one run: thresholds, profile, goal and rule selection.

Defaults live here once; the configuration file and the command line only override them.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from .model import Severity

GOALS = ("auto", "cold-start", "throughput")
PROFILES = ("portable", "gke")


@dataclass(frozen=True)
class Settings:
    """A run's resolved configuration (command line over configuration file over defaults)."""
    profile: str = "portable"
    goal: str = "auto"
    k8s_version: str = "1.33"
    schema: bool = True
    select: tuple[str, ...] = ("CS",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    fail_on: Severity = Severity.WARNING
    severity_overrides: tuple[tuple[str, Severity], ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    disallow_suppressions: bool = False
    # thresholds
    shm_min: int = 16 * 1024**3  # bytes
    gpu_memory_utilization_max: float = 0.8
    engine_rss: int = 8 * 1024**3  # bytes
    startup_budget: int = 600  # seconds, vLLM's own engine-ready timeout
    cache_claim: str = "vllm-cache"
    region: str | None = None
    insecure_registries: tuple[str, ...] = ()
    # extension point for issues built on the core (custom rules, lock files, ...)
    extra: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    def severity_for(self, code: str, default: Severity) -> Severity:
        """The override of the most specific code or prefix that matches (`CS4: info`, then
        `CS403: error` for that one rule)."""
        best, length = default, -1
        for prefix, sev in self.severity_overrides:
            specificity = selector_specificity(code, (prefix,))
            if specificity > length:
                best, length = sev, specificity
        return best

    def get_extra(self, key: str, default: Any = None) -> Any:
        for k, v in self.extra:
            if k == key:
                return v
        return default

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def code_matches(code: str, selectors: tuple[str, ...] | list[str]) -> bool:
    """True when a selector is the code or a prefix of it (`CS4` selects CS401…CS408); `ALL` selects all."""
    return any(sel == "ALL" or code.startswith(sel) for sel in selectors)


def selector_specificity(code: str, selectors: tuple[str, ...] | list[str]) -> int:
    best = -1
    for sel in selectors:
        if sel == "ALL":
            best = max(best, 0)
        elif code.startswith(sel):
            best = max(best, len(sel))
    return best


def is_selected(code: str, settings: Settings) -> bool:
    """ruff's resolution: the most specific of select/extend-select vs ignore wins."""
    chosen = selector_specificity(code, tuple(settings.select) + tuple(settings.extend_select))
    ignored = selector_specificity(code, settings.ignore)
    return chosen >= 0 and chosen > ignored
