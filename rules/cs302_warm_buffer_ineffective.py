"""## What it does
Checks each warm buffer (pause-pod Deployment/ReplicaSet with a PriorityClass in the set):
its PriorityClass must not be below -10, must be below the priority of the workloads it
serves (0 for pods without a class, or the `globalDefault` class), and those workloads must be
allowed to preempt (`preemptionPolicy` not `Never`).

## Why it matters for cold start
The cluster autoscaler treats pods below `--expendable-pods-priority-cutoff` (-10 by default)
as expendable: they never trigger a scale-up, so a buffer at -100 holds no node at all. A
buffer at or above the workload's priority cannot be preempted, and a workload with
`preemptionPolicy: Never` waits for a new node instead of evicting the pause pod: either way
the warm node is never used and the cold start pays for a new node.

## Known problems
OpenShift documents its own cutoff default as 0; a cluster started with another
`--expendable-pods-priority-cutoff` needs the rule ignored for that buffer.

## Example
```yaml
kind: PriorityClass
value: -100
```

## Use instead
```yaml
kind: PriorityClass
value: -10
preemptionPolicy: Never
```

## Fix safety
Unsafe, and only for a class below the cutoff: sets `value: -10`, which makes the buffer
trigger node scale-ups (and cost) it did not trigger before.

## References
- https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#how-can-i-configure-overprovisioning-with-cluster-autoscaler
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.warmbuffer import (BUFFER_SET_KINDS, EXPENDABLE_CUTOFF, AcceleratedEngine, PriorityClass, WarmBuffer,
                               accelerated_engines, classes_and_buffers, default_priority, in_buffer_set, pod_priority,
                               serves)
from cslint.workloads import K8sObject

META = RuleMeta(code="CS302", name="warm-buffer-ineffective", lever=Lever.NODE, severity=Severity.WARNING,
                summary="A warm buffer's priority never triggers scale-up or cannot be preempted",
                scope=Scope.SET, fix=FixAvailability.SOMETIMES, kinds=BUFFER_SET_KINDS, reads=in_buffer_set, docs=__doc__)


def check(objset, settings: Settings) -> Iterator[tuple[K8sObject, Violation]]:  # noqa: ANN001
    """Classes and buffers first (few); then one stream over the engines (`ObjectSet`), keeping
    per buffer only the first engine it fails to serve."""
    classes, buffers = classes_and_buffers(objset)
    if not classes:
        return  # a buffer's priority is judged only when its PriorityClass is in the set
    judged: list[tuple[WarmBuffer, PriorityClass]] = []
    reported_classes: set[str] = set()
    for buffer in buffers:
        pc = classes.get(buffer.priority_class or "")
        if pc is None or pc.value is None:
            continue
        if pc.value >= EXPENDABLE_CUTOFF:
            judged.append((buffer, pc))
        elif pc.name not in reported_classes:
            reported_classes.add(pc.name)
            yield pc.obj, _below_cutoff(pc)
    if not judged:
        return
    found: dict[int, Violation] = {}  # buffer's index in `judged` → its violation
    served_any: set[int] = set()
    reported = None  # the template last reported: one comes once per accelerator it requests
    # a buffer's finding depends on every engine; an engine's only on itself and the buffers
    reported_buffer = any(objset.is_subject(buffer.obj) for buffer, _ in judged)
    for engine in accelerated_engines(objset.objects if reported_buffer else objset.subjects):
        preempts = None if engine.template is not reported else False
        for i, (buffer, pc) in enumerate(judged):
            if not serves(buffer, engine):
                continue
            served_any.add(i)
            if i not in found:
                v = _not_preemptible(buffer, pc, engine, classes)
                if v is not None:
                    found[i] = v
            if preempts is None:
                preempts = _cannot_preempt(engine, buffer, classes)
                if preempts is not None:
                    reported = engine.template
                    yield engine.obj, preempts
    for i, (buffer, pc) in enumerate(judged):
        v = found.get(i) if i in served_any else _below_default(buffer, pc, classes)
        if v is not None:
            yield buffer.obj, v


def _below_cutoff(pc: PriorityClass) -> Violation:
    fix = Fix(Applicability.UNSAFE, ({"op": "replace", "path": pc.obj.at("value"), "value": EXPENDABLE_CUTOFF},),
              f"Set value to {EXPENDABLE_CUTOFF}")
    return Violation(f"PriorityClass {pc.name} is {pc.value}, below the cluster autoscaler's expendable cutoff "
                     f"({EXPENDABLE_CUTOFF}): its pause pods never trigger a scale-up, so the warm buffer holds no "
                     f"node — use {EXPENDABLE_CUTOFF}", pc.obj.at("value"), fix)


def _not_preemptible(buffer: WarmBuffer, pc: PriorityClass, engine: AcceleratedEngine,
                     classes: dict[str, PriorityClass]) -> Violation | None:
    """The buffer cannot be preempted by an engine it serves."""
    value, _ = pod_priority(engine.template, classes)
    if value is not None and pc.value >= value:
        return Violation(f"warm buffer priority {pc.value} ({pc.name}) is not below the priority {value} of "
                         f"{engine.obj.kind}/{engine.obj.name or '-'}: it cannot preempt the pause pods, so the "
                         f"warm node stays taken — give the buffer a negative class (≥ {EXPENDABLE_CUTOFF})",
                         buffer.template.at("priorityClassName"))
    return None


def _below_default(buffer: WarmBuffer, pc: PriorityClass, classes: dict[str, PriorityClass]) -> Violation | None:
    """A buffer serving no engine in the set: it must at least be below pods without a class."""
    value, default = default_priority(classes)
    if value is not None and pc.value >= value:
        who = f"the globalDefault class {default.name}" if default else "the default priority"
        return Violation(f"warm buffer priority {pc.value} ({pc.name}) is not below {who} ({value}): pods "
                         f"without a higher class cannot preempt it — use a negative class "
                         f"(≥ {EXPENDABLE_CUTOFF})", buffer.template.at("priorityClassName"))
    return None


def _cannot_preempt(engine: AcceleratedEngine, buffer: WarmBuffer,
                    classes: dict[str, PriorityClass]) -> Violation | None:
    spec_policy = engine.template.spec.get("preemptionPolicy")
    _, pc = pod_priority(engine.template, classes)
    if spec_policy == "Never":
        path = engine.template.at("preemptionPolicy")
    elif pc is not None and pc.preemption_policy == "Never":
        named = "priorityClassName" in engine.template.spec  # else the globalDefault class applies
        path = engine.template.at("priorityClassName") if named else engine.template.spec_pointer
    else:
        return None
    return Violation(f"preemptionPolicy is Never: this workload waits for a new node instead of preempting the warm "
                     f"buffer {buffer.obj.name or '-'} — use PreemptLowerPriority", path)
