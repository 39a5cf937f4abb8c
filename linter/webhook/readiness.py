"""What `/readyz` answers: ready only when an admission request would get a real answer.

Two things can make a running server useless to the API server: a certificate it no longer
trusts (expired, or rotated on disk but not loadable here), and a rule set that cannot lint (no
rule enabled, or a rule that raises on an ordinary object, which failure-mode open would turn
into a silent "allowed" for every request). The first is checked on every probe; the second once,
at startup, by linting and fixing a built-in vLLM Deployment.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from ..model import Scope
from .admission import Admission

log = logging.getLogger("cslint.webhook")
ADMISSION_SCOPES = (Scope.OBJECT, Scope.WORKLOAD, Scope.CONTAINER)  # what `Linter.lint_object` runs

# A vLLM Deployment with findings of several scopes (object, pod, container, args) and safe fixes.
CANARY = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "cslint-self-check", "namespace": "cslint-self-check"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "self-check"}}, "template": {
        "metadata": {"labels": {"app": "self-check"}},
        "spec": {"containers": [{
            "name": "vllm", "image": "vllm/vllm-openai:v0.11.0",
            "args": ["--model", "Qwen/Qwen3-8B", "--gpu-memory-utilization", "0.97"],
            "resources": {"limits": {"nvidia.com/gpu": "1"}},
        }]},
    }},
}


def rules_problem(admission: Admission) -> str | None:
    """Why the rule set cannot answer requests, or None; run once at startup."""
    if not any(admission.linter.rules[scope] for scope in ADMISSION_SCOPES):
        return "no rule that checks an admitted object is enabled (check --select, --ignore and the configuration)"
    try:
        admission.lint(CANARY)
        admission.plan_patch(CANARY)
    except Exception as exc:  # the self-check reports any rule failure instead of raising it
        log.error("self-check: linting a built-in Deployment failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
        return f"self-check failed: {type(exc).__name__}: {exc}"[:200]
    return None


@dataclass(frozen=True)
class Readiness:
    """The rule-set verdict found at startup and the live certificate check, as one answer."""

    rules: str | None
    certificate: Callable[[], str | None]

    def problem(self) -> str | None:
        return self.rules or self.certificate()
