"""## What it does
GKE profile. Checks that a GPU engine workload selects a custom ComputeClass
(`nodeSelector: {cloud.google.com/compute-class: NAME}`, or a required node affinity on that
label) and, when that ComputeClass is in the linted set, that its `spec.priorities` try a
`spot: true` entry and then an on-demand one (`spot` false or unset).

## Why it matters for cold start
Scaling from zero needs a GPU node, and GPU capacity of one kind is often short in a zone. A
ComputeClass is an ordered fallback list the autoscaler walks when an entry cannot be
provisioned: spot first (more often available, cheaper), then on-demand so a spot shortage
does not leave the first replica pending. Without a class, the autoscaler only tries the node
pools that match the pod.

## Known problems
A default ComputeClass set on the namespace or cluster is not visible in manifests. A class
that is not in the linted set is not checked.

## Example
```yaml
kind: ComputeClass
spec:
  priorities:
    - {machineFamily: g2}
```

## Use instead
```yaml
kind: ComputeClass
spec:
  priorities:
    - {machineFamily: g2, spot: true}
    - {machineFamily: g2, spot: false}
```

## References
- https://docs.cloud.google.com/kubernetes-engine/docs/concepts/about-custom-compute-classes
- https://docs.cloud.google.com/kubernetes-engine/docs/reference/crds/computeclass
"""
from typing import Iterator

from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.warmbuffer import COMPUTE_CLASS_LABEL, WORKLOAD_KINDS, AcceleratedEngine, accelerated_engines, runs_engine
from cslint.workloads import GPU_RESOURCES, K8sObject, as_dict, as_list

META = RuleMeta(code="CS303", name="no-spot-fallback", lever=Lever.NODE, severity=Severity.WARNING,
                summary="A GPU workload has no ComputeClass with a spot-then-on-demand fallback",
                scope=Scope.SET, fix=FixAvailability.NONE, profile="gke",
                kinds=WORKLOAD_KINDS + ("ComputeClass",),
                reads=lambda obj: obj.kind == "ComputeClass" or runs_engine(obj), docs=__doc__)


def check(objset, settings: Settings) -> Iterator[tuple[K8sObject, Violation]]:  # noqa: ANN001
    classes = {o.name: o for o in objset.of_kind("ComputeClass") if o.group == "cloud.google.com" and o.name}
    last_template = None  # a template requesting two GPU resources comes twice in a row
    checked_classes: set[str] = set()
    # a class's finding comes from the first engine naming it; an engine's only from itself
    engines = objset.objects if any(objset.is_subject(cc) for cc in classes.values()) else objset.subjects
    for engine in accelerated_engines(engines, GPU_RESOURCES):
        if engine.template is last_template:
            continue
        last_template = engine.template
        name = compute_class_of(engine)
        if name is None:
            yield engine.obj, Violation(
                f"this GPU workload selects no ComputeClass ({COMPUTE_CLASS_LABEL}): a scale-up tries only the "
                "node pools that match it, with no spot-then-on-demand fallback when GPUs are short",
                engine.template.at("nodeSelector"))
            continue
        cc = classes.get(name)
        if cc is None or name in checked_classes:
            continue
        checked_classes.add(name)
        problem = fallback_problem(as_list(cc.spec.get("priorities")))
        if problem:
            yield cc, Violation(f"ComputeClass {name} {problem}: add a `spot: true` priority followed by an "
                                f"on-demand one so GPU shortages fall back instead of leaving pods pending",
                                cc.at("spec", "priorities"))


def compute_class_of(engine: AcceleratedEngine) -> str | None:
    spec = engine.template.spec
    name = as_dict(spec.get("nodeSelector")).get(COMPUTE_CLASS_LABEL)
    if isinstance(name, str):
        return name
    required = as_dict(as_dict(as_dict(spec.get("affinity")).get("nodeAffinity"))
                       .get("requiredDuringSchedulingIgnoredDuringExecution"))
    for term in as_list(required.get("nodeSelectorTerms")):
        for expr in as_list(as_dict(term).get("matchExpressions")):
            expr = as_dict(expr)
            values = as_list(expr.get("values"))
            if expr.get("key") == COMPUTE_CLASS_LABEL and expr.get("operator") == "In" and values:
                return str(values[0])
    return None


def fallback_problem(priorities: list) -> str | None:
    """None when some `spot: true` entry is followed by an on-demand one."""
    spots = [i for i, p in enumerate(priorities) if as_dict(p).get("spot") is True]
    on_demand = [i for i, p in enumerate(priorities) if as_dict(p).get("spot") is not True]
    if not spots:
        return "has no spot priority" if priorities else "has no priorities"
    if not on_demand or max(on_demand) < spots[0]:
        return "has no on-demand priority after its spot ones"
    return None
