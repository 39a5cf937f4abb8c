"""Cloud profiles: `portable` runs every untagged rule; a profile adds the rules tagged with it.

The list of profiles is read from the rules themselves, so an `eks` or `aks` profile is one rule
file away: declare `RuleMeta(profile="eks")` (or instantiate `lazy_pull_rule` with that cloud's
registry and feature) and `--profile eks` exists. Nothing else lists profiles by hand.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import click

from .model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from .settings import PROFILES

PORTABLE = "portable"


def known_profiles(rules: Iterable[Any] | None = None) -> tuple[str, ...]:
    """`portable`, the built-in profiles, and every profile a rule is tagged with."""
    if rules is None:
        from .registry import all_rules
        rules = all_rules()
    tags = {r.meta.profile for r in rules if r.meta.profile}
    return tuple(dict.fromkeys([PORTABLE, *PROFILES, *sorted(tags)]))


class ProfileChoice(click.Choice):
    """A click choice whose values come from the rules, looked up only when the option is used."""

    def __init__(self) -> None:
        super().__init__(list(PROFILES))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        self.choices = list(known_profiles())
        return super().convert(value, param, ctx)


class LazyPull(NamedTuple):
    """A cloud's lazy image-pull feature and the registries it streams from (one per profile)."""

    profile: str
    feature: str  # "GKE Image Streaming"
    registry_service: str  # "Artifact Registry"
    hosts: tuple[re.Pattern[str], ...]
    reference: str
    note_for: Callable[[str], str | None] = lambda host: None  # extra words for some hosts

    def eligible(self, host: str) -> bool:
        host = host.lower()
        return any(p.match(host) for p in self.hosts)


def lazy_pull_rule(code: str, name: str, spec: LazyPull, docs: str) -> tuple[RuleMeta, Callable]:
    """The mechanism shared by GKE Image Streaming and its peers: an engine image that the
    feature cannot stream is pulled whole before the container starts."""
    meta = RuleMeta(code=code, name=name, lever=Lever.IMAGE, severity=Severity.WARNING,
                    summary=f"The engine image is not in {spec.registry_service}, so {spec.feature} cannot lazy-pull it",
                    scope=Scope.CONTAINER, profile=spec.profile, engine_only=True, fix=FixAvailability.NONE,
                    docs=docs)

    def check(c: Any, settings: Any) -> Iterator[Violation]:
        from .images import parse_image
        ref = parse_image(c.image)
        if ref is None or "$" in c.image or spec.eligible(ref.registry):  # `$VAR`: substituted later
            return
        note = spec.note_for(ref.registry)
        yield Violation(f"engine image {c.image!r} is on {ref.registry}, not in {spec.registry_service}: "
                        f"{spec.feature} cannot stream it, so every new node pulls the whole image before vLLM "
                        f"starts — mirror it to {spec.registry_service}{'; ' + note if note else ''}", c.at("image"))

    return meta, check
