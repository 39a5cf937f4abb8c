"""## What it does
Finds engine workloads that request an accelerator (`nvidia.com/gpu`, `amd.com/gpu`,
`google.com/tpu`), can scale to zero, and have no warm buffer in the linted set: a
Deployment/ReplicaSet of pause-image pods with a negative-priority PriorityClass that requests
the same accelerator and requires (at least) the same node labels, through `nodeSelector` or a
required node affinity with one term (its `In` expressions; several terms are alternatives and
bind nothing).

A workload can scale to zero when `spec.replicas` is 0; KServe `minReplicas: 0` in Knative mode
(the default) or in Standard mode with the KEDA autoscaler; a Knative Service of the KPA class
(the default) with `min-scale` 0 or unset; a KEDA ScaledObject of the run targets it with `minReplicaCount` 0 or unset (or
`idleReplicaCount: 0`); a Ray worker group with `minReplicas: 0`.

## Why it matters for cold start
Scaling from zero on accelerators usually needs a new node: the cluster autoscaler provisions
it (it allows up to `--max-node-provision-time`, 15 min by default), then drivers, image pull and
weight load follow. A warm buffer keeps one such node up with pause pods at a priority the real
pods preempt at once, so the first replica schedules on a warm node.

## Known problems
Only objects linted together are seen: a buffer deployed from another repository is invisible
(select the files together, or ignore the rule). A buffer whose PriorityClass is not in the set
counts as a buffer; CS302 checks the ones it can see. Tolerations are not compared.

## Example
```yaml
kind: Deployment
spec:
  replicas: 0
  template: {spec: {containers: [{image: vllm/vllm-openai, resources: {limits: {nvidia.com/gpu: 1}}}]}}
```

## Use instead
Add a PriorityClass with `value: -10` and a pause Deployment requesting `nvidia.com/gpu: 1`
with the workload's nodeSelector and tolerations (what the fix appends).

## Fix safety
Unsafe: appends a PriorityClass and a pause Deployment that keep an accelerator node (and its
cost) running permanently.

## References
- https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#how-can-i-configure-overprovisioning-with-cluster-autoscaler
- https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.scaling import scale_to_zero_reason
from cslint.settings import Settings
from cslint.warmbuffer import (BUFFER_SET_KINDS, accelerated_engines, buffer_documents, classes_and_buffers,
                               in_buffer_set, serves)
from cslint.workloads import K8sObject

META = RuleMeta(code="CS301", name="no-warm-buffer", lever=Lever.NODE, severity=Severity.WARNING,
                summary="An accelerator workload can scale to zero and no warm buffer holds a node for it",
                scope=Scope.SET, fix=FixAvailability.ALWAYS, kinds=BUFFER_SET_KINDS, reads=in_buffer_set, docs=__doc__)


def check(objset, settings: Settings) -> Iterator[tuple[K8sObject, Violation]]:  # noqa: ANN001
    """Buffers and classes first (few), then the engines as a stream (`ObjectSet`)."""
    classes, buffers = classes_and_buffers(objset)
    buffers = [b for b in buffers if _negative(b, classes)]
    for engine in accelerated_engines(objset.subjects):  # findings are on engines only
        reason = scale_to_zero_reason(engine.obj, engine.template, getattr(engine.obj, "context", None))
        if not reason or any(serves(b, engine) for b in buffers):
            continue
        fix = Fix(Applicability.UNSAFE, (), f"Append a warm buffer for {engine.count} {engine.resource}",
                  new_documents=buffer_documents(engine, classes))
        yield engine.obj, Violation(
            f"can scale to zero ({reason}) and no warm buffer holds a {engine.resource} node: the first request "
            f"waits for a new node, then image pull and weight load — add a pause Deployment with a "
            f"-10 PriorityClass requesting {engine.count} {engine.resource}",
            engine.resource_path, fix, container=engine.container.name or None, key=True)


def _negative(buffer, classes) -> bool:  # noqa: ANN001
    """A buffer counts when its class is negative, or not in the set (its value is unknown)."""
    if buffer.priority_class is None:
        return False
    pc = classes.get(buffer.priority_class)
    return pc is None or pc.value is None or pc.value < 0
