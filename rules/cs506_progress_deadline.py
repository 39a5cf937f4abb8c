"""## What it does
For engine workloads that Knative runs — a Knative Service, or a KServe InferenceService in
Knative mode (the shipped default) — checks that `serving.knative.dev/progress-deadline` is
set and at least the cold-start budget (`startup-budget`, 600 s by default). Knative Services
carry it in `spec.template.metadata.annotations`; InferenceServices in
`spec.predictor.annotations` or `metadata.annotations` (KServe merges both into the Knative
Service, the predictor's winning).

## Why it matters for cold start
When a revision cannot reach its initial scale within the progress deadline (600 s by
default), Knative scales it to zero and marks it Failed. A GPU cold start — node provisioning,
image pull, weight download, compilation — routinely takes longer, so a correct but slow first
start is reported as a failed deployment.

## Example
```yaml
kind: InferenceService
spec:
  predictor:
    model: {modelFormat: {name: huggingface}}
```

## Use instead
```yaml
spec:
  predictor:
    annotations:
      serving.knative.dev/progress-deadline: "1500s"
```

## Known problems
KServe also merges the ServingRuntime's `spec.annotations`; a deadline set only there is not seen.

## Fix safety
Unsafe: sets the deadline to the cold-start budget plus the cluster autoscaler's default
`--max-node-provision-time` (15 min), so a revision that will never start is reported later.

## References
- https://knative.dev/docs/serving/configuration/deployment/#configuring-progress-deadlines
"""
import re
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.scaling import kserve_mode
from cslint.settings import Settings
from cslint.workloads import K8sObject, as_dict

META = RuleMeta(code="CS506", name="progress-deadline-too-short", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="Knative's progress deadline is shorter than the cold-start budget",
                scope=Scope.OBJECT, fix=FixAvailability.ALWAYS, docs=__doc__)
PROGRESS_DEADLINE = "serving.knative.dev/progress-deadline"
KNATIVE_DEFAULT = 600
NODE_PROVISION_TIME = 15 * 60  # cluster-autoscaler --max-node-provision-time default
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def check(obj: K8sObject, settings: Settings) -> Iterator[Violation]:
    where = annotations_path(obj)
    if where is None or not any(c.is_engine for t in obj.templates for c in t.containers):
        return
    parts, annotations = where
    budget = settings.startup_budget
    raw = annotations.get(PROGRESS_DEADLINE)
    if raw is None and obj.kind == "InferenceService" and PROGRESS_DEADLINE in obj.annotations:
        parts, raw = ("metadata", "annotations"), obj.annotations[PROGRESS_DEADLINE]  # KServe merges these
    seconds = parse_duration(raw) if raw is not None else KNATIVE_DEFAULT
    if raw is not None and (seconds is None or seconds >= budget):
        return
    value = f"{budget + NODE_PROVISION_TIME}s"
    fix = Fix(Applicability.UNSAFE, tuple(_set_annotation_ops(obj, parts, value)),
              f"Set {PROGRESS_DEADLINE}: {value}")
    have = f"is {raw}" if raw is not None else f"is unset ({KNATIVE_DEFAULT}s default)"
    yield Violation(f"{PROGRESS_DEADLINE} {have}, below the {budget}s cold-start budget: Knative marks a slow "
                    f"first start Failed and scales it to zero — set it to {value}",
                    obj.at(*parts, PROGRESS_DEADLINE), fix)


def annotations_path(obj: K8sObject) -> tuple[tuple[str, ...], dict] | None:
    """Where Knative reads the revision's annotations for this object, with their current value."""
    if obj.kind == "Service" and obj.group == "serving.knative.dev":
        parts = ("spec", "template", "metadata", "annotations")
    elif obj.kind == "InferenceService" and kserve_mode(obj) == "knative":
        parts = ("spec", "predictor", "annotations")
    else:
        return None
    node: object = obj.data
    for p in parts:
        node = as_dict(node).get(p)
    return parts, as_dict(node)


def parse_duration(text: object) -> float | None:
    """A Go duration (`600s`, `10m`, `1h30m`); None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        number, unit = float(m.group(1)), m.group(2)
        total += number * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
        pos = m.end()
    return total if pos == len(text) else None


def _set_annotation_ops(obj: K8sObject, parts: tuple[str, ...], value: str) -> list[dict]:
    """Create the missing maps on the way (template, metadata, annotations), then set the key."""
    node: object = obj.data
    for i, p in enumerate(parts):
        child = as_dict(node).get(p)
        if not isinstance(child, dict):
            nested: dict = {PROGRESS_DEADLINE: value}
            for q in reversed(parts[i + 1:]):
                nested = {q: nested}
            op = "replace" if p in as_dict(node) else "add"
            return [{"op": op, "path": obj.at(*parts[:i + 1]), "value": nested}]
        node = child
    op = "replace" if PROGRESS_DEADLINE in as_dict(node) else "add"
    return [{"op": op, "path": obj.at(*parts, PROGRESS_DEADLINE), "value": value}]
