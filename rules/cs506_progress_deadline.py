"""## What it does
For engine workloads that Knative runs — a Knative Service, or a KServe InferenceService in
Knative mode (the shipped default) — checks that `serving.knative.dev/progress-deadline` is
set and at least the cold-start budget (`startup-budget`, 600 s by default). Knative Services
carry it in `spec.template.metadata.annotations`. An InferenceService's predictor, transformer
and explainer are each a Knative Service of their own, and each that runs an engine is judged by
the annotations KServe gives its revision: the component's own `spec.<component>.annotations`,
over the InferenceService's `metadata.annotations`, over (for the predictor) the
`spec.annotations` of the ServingRuntime it names.

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
The ServingRuntime's deadline counts only when the runtime is linted in the same run: the one
the predictor names (`model.runtime`: a ServingRuntime in the InferenceService's namespace, else
a ClusterServingRuntime), or, without a name, the one KServe auto-selects by model format when
the run decides it (a ServingRuntime of the namespace that alone holds the top `priority` among
those auto-selecting the format). ClusterServingRuntime candidates alone, or a priority tie
(settled by creation times, which manifests do not carry), leave it unresolved, as does a
runtime installed in the cluster but absent from the run: a deadline set only there is not seen. Multi-node
`workerSpec` pods run in Standard mode only, so they are never judged here.

## Fix safety
Unsafe: sets the deadline to the cold-start budget plus the cluster autoscaler's default
`--max-node-provision-time` (15 min), so a revision that will never start is reported later.
The value is raised where the short one is written in the document; a deadline that is missing,
or short in a ServingRuntime (another object), is set on the component, which wins over both.

## References
- https://knative.dev/docs/serving/configuration/deployment/#configuring-progress-deadlines
"""
import re
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import escape, op_replace
from cslint.scaling import kserve_mode
from cslint.settings import Settings
from cslint.workloads import K8sObject, PodTemplate, as_dict

META = RuleMeta(code="CS506", name="progress-deadline-too-short", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="Knative's progress deadline is shorter than the cold-start budget",
                scope=Scope.OBJECT, fix=FixAvailability.ALWAYS, docs=__doc__)
PROGRESS_DEADLINE = "serving.knative.dev/progress-deadline"
KNATIVE_DEFAULT = 600
NODE_PROVISION_TIME = 15 * 60  # cluster-autoscaler --max-node-provision-time default
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


# the InferenceService components KServe runs as Knative Services (predictor.go Reconcile hands the
# Knative reconciler no worker spec: multi-node workers exist only in Standard mode)
KNATIVE_COMPONENTS = ("predictor", "transformer", "explainer")


def check(obj: K8sObject, settings: Settings) -> Iterator[Violation]:
    if obj.kind == "Service" and obj.group == "serving.knative.dev":
        if any(c.is_engine for t in obj.templates for c in t.containers):
            yield from _knative_service(obj, settings.startup_budget)
    elif obj.kind == "InferenceService" and kserve_mode(obj) == "knative":
        for tpl in obj.templates:
            if tpl.role in KNATIVE_COMPONENTS and any(c.is_engine for c in tpl.containers):
                yield from _component(obj, tpl, settings.startup_budget)


def _knative_service(obj: K8sObject, budget: int) -> Iterator[Violation]:
    parts = ("spec", "template", "metadata", "annotations")
    node: object = obj.data
    for p in parts:
        node = as_dict(node).get(p)
    raw = as_dict(node).get(PROGRESS_DEADLINE)
    if too_short(raw, budget):
        value = f"{budget + NODE_PROVISION_TIME}s"
        yield Violation(_message(raw, "", budget, value), obj.at(*parts, PROGRESS_DEADLINE),
                        _fix(_set_annotation_ops(obj, parts, value), value))


def _component(obj: K8sObject, tpl: PodTemplate, budget: int) -> Iterator[Violation]:
    """One component's revision, by its merged annotations; the finding sits where the short value
    is written in this document, else on the component's own annotations."""
    raw = tpl.annotations.get(PROGRESS_DEADLINE)
    if not too_short(raw, budget):
        return
    value = f"{budget + NODE_PROVISION_TIME}s"
    source = tpl.annotation_source(PROGRESS_DEADLINE)
    own = ("spec", tpl.role, "annotations")
    if source is not None and source.pointer is not None:  # the InferenceService's or the component's own
        path = f"{source.pointer}/{escape(PROGRESS_DEADLINE)}"
        ops = [op_replace(path, value)]
    else:  # missing, or from the ServingRuntime: the component's own annotation wins over both
        path, ops = obj.at(*own, PROGRESS_DEADLINE), _set_annotation_ops(obj, own, value)
    origin = f" (from {source.label})" if source is not None and source.label != f"spec.{tpl.role}.annotations" else ""
    yield Violation(_message(raw, f"the {tpl.role}'s ", budget, value, origin), path, _fix(ops, value))


def too_short(raw: object, budget: int) -> bool:
    """Unset (Knative's 600 s default: no margin over even the default budget) or a duration below
    the budget; a value that is not a Go duration is Knative's to reject, not ours to judge."""
    if raw is None:
        return True
    seconds = parse_duration(raw)
    return seconds is not None and seconds < budget


def _message(raw: object, whose: str, budget: int, value: str, origin: str = "") -> str:
    if raw is None and KNATIVE_DEFAULT >= budget:  # the default meets the budget with nothing to spare
        have = f"is unset ({KNATIVE_DEFAULT}s default), no margin over the {budget}s cold-start budget"
    else:
        have = f"is {raw}{origin}" if raw is not None else f"is unset ({KNATIVE_DEFAULT}s default)"
        have += f", below the {budget}s cold-start budget"
    return (f"{whose}{PROGRESS_DEADLINE} {have}: Knative marks a slow first start Failed and scales it to "
            f"zero — set it to {value}")


def _fix(ops: list[dict], value: str) -> Fix:
    return Fix(Applicability.UNSAFE, tuple(ops), f"Set {PROGRESS_DEADLINE}: {value}")


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
