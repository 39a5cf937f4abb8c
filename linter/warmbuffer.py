"""Warm buffers (overprovisioning pause pods) and pod priorities, as the cluster autoscaler sees them.

A warm buffer is a Deployment/ReplicaSet of pause-image pods with a negative-priority
PriorityClass that requests an accelerator: it keeps a node of that kind up, and a real pod
preempts it and starts on the warm node instead of waiting for a new one. The autoscaler's
expendable cutoff is -10 by default: pods below it never trigger a scale-up
(shared/reference/domain.md §4.4). CS301, CS302 and `explain-cold-start` share this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from .images import parse_image
from .workloads import ACCELERATOR_RESOURCES, Container, K8sObject, PodTemplate, as_dict, as_list

EXPENDABLE_CUTOFF = -10  # cluster-autoscaler --expendable-pods-priority-cutoff default
BUFFER_PRIORITY_CLASS = "cold-start-warm-buffer"
# registry.k8s.io/pause:3.10 (multi-arch index), as pinned by many public manifests
PAUSE_IMAGE = "registry.k8s.io/pause:3.10@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a"
BUFFER_KINDS = ("Deployment", "ReplicaSet")
COMPUTE_CLASS_LABEL = "cloud.google.com/compute-class"


def _workload_kinds() -> tuple[str, ...]:
    """Every kind that holds pod templates (podtemplates' table), for `RuleMeta.kinds`."""
    from .podtemplates import _CORE, RAY_CLUSTER_ROOTS
    return tuple(dict.fromkeys([*_CORE, *RAY_CLUSTER_ROOTS, "Pod", "Service", "InferenceService", "ServingRuntime",
                                "ClusterServingRuntime"]))


WORKLOAD_KINDS = _workload_kinds()
BUFFER_SET_KINDS = WORKLOAD_KINDS + ("PriorityClass", "ScaledObject")  # what CS301/CS302 read


class PriorityClass(NamedTuple):
    """A PriorityClass as the autoscaler and the scheduler read it."""
    obj: K8sObject
    name: str
    value: int | None
    preemption_policy: str
    global_default: bool


class WarmBuffer(NamedTuple):
    """A warm buffer: pause pods holding accelerator nodes at a priority."""
    obj: K8sObject
    template: PodTemplate
    priority_class: str | None
    resources: dict[str, int]  # accelerator → count per pod

    @property
    def node_selector(self) -> dict:
        return node_selector(self.template)


@dataclass(frozen=True)
class AcceleratedEngine:
    """A pod template running an LLM engine that requests an accelerator."""

    obj: K8sObject
    template: PodTemplate
    container: Container  # the engine container requesting the most of `resource`
    resource: str
    count: int  # per pod

    @property
    def resource_path(self) -> str:
        res = as_dict(self.container.data.get("resources"))
        section = "limits" if self.resource in as_dict(res.get("limits")) else "requests"
        return self.container.at("resources", section, self.resource)


def priority_classes(objects: Iterable[K8sObject]) -> dict[str, PriorityClass]:
    out: dict[str, PriorityClass] = {}
    for obj in objects:
        if obj.kind == "PriorityClass" and obj.group == "scheduling.k8s.io" and obj.name:
            value = obj.data.get("value")
            policy = obj.data.get("preemptionPolicy")
            out.setdefault(obj.name, PriorityClass(
                obj, obj.name, value if isinstance(value, int) and not isinstance(value, bool) else None,
                policy if isinstance(policy, str) else "PreemptLowerPriority", obj.data.get("globalDefault") is True))
    return out


def classes_and_buffers(objset) -> tuple[dict[str, PriorityClass], list[WarmBuffer]]:  # noqa: ANN001
    """`priority_classes` and `warm_buffers` of a set rule's `ObjectSet`: the few objects that are
    either, remembered per file (`ObjectSet.matching`) — the fixer re-lints each file against
    every other, and CS301 and CS302 both ask."""
    classes: list[K8sObject] = []
    buffers: list[WarmBuffer] = []
    for obj in objset.matching("classes-and-buffers", _class_or_buffer, ("PriorityClass", *BUFFER_KINDS)):
        if obj.kind == "PriorityClass":
            classes.append(obj)
        else:
            buffers.extend(warm_buffers([obj]))
    return priority_classes(classes), buffers


def _class_or_buffer(obj: K8sObject) -> bool:
    return obj.kind == "PriorityClass" or bool(warm_buffers([obj]))


def is_pause_image(image: str) -> bool:
    if "pause" not in image:
        return False
    ref = parse_image(image)
    return ref is not None and ref.repository.rsplit("/", 1)[-1] == "pause"


def warm_buffers(objects: Iterable[K8sObject]) -> list[WarmBuffer]:
    found = []
    for obj in objects:
        if obj.kind not in BUFFER_KINDS:
            continue
        for tpl in obj.templates:
            apps = [c for c in tpl.containers if not c.init]
            if not apps or not all(is_pause_image(c.image) for c in apps):
                continue
            resources = {r: tpl.requested(r) for r in ACCELERATOR_RESOURCES if tpl.requested(r)}
            pc = tpl.spec.get("priorityClassName")
            found.append(WarmBuffer(obj, tpl, pc if isinstance(pc, str) else None, resources))
    return found


def accelerated_engines(objects: Iterable[K8sObject], resources: tuple[str, ...] = ACCELERATOR_RESOURCES
                        ) -> Iterator[AcceleratedEngine]:
    for obj in objects:
        for tpl in obj.templates:
            engines = [c for c in tpl.containers if c.is_engine]
            if not engines:
                continue
            for res in resources:
                count = tpl.requested(res)
                if count:
                    holder = max(engines, key=lambda c: c.resource_count(res))
                    if not holder.resource_count(res):
                        holder = max((c for c in tpl.containers if not c.init), key=lambda c: c.resource_count(res))
                    yield AcceleratedEngine(obj, tpl, holder, res, count)


def runs_engine(obj: K8sObject) -> bool:
    """Some pod template of the object runs an LLM engine container."""
    return any(c.is_engine for tpl in obj.templates for c in tpl.containers)


def in_buffer_set(obj: K8sObject) -> bool:
    """An object CS301/CS302 can use: a PriorityClass, a ScaledObject (scale-to-zero), a warm buffer
    or an accelerated engine (`RuleMeta.reads`: every other object is dropped before the set pass)."""
    return (obj.kind in ("PriorityClass", "ScaledObject") or bool(warm_buffers([obj]))
            or next(accelerated_engines([obj]), None) is not None)


def node_constraints(tpl: PodTemplate) -> dict[str, frozenset]:
    """Node label → the values a pod's node must carry: `nodeSelector`, and the `In` expressions of
    a required node affinity with one term (several terms are alternatives: none of them binds)."""
    out: dict[str, frozenset] = {k: frozenset([v]) for k, v in as_dict(tpl.spec.get("nodeSelector")).items()
                                 if isinstance(k, str)}
    required = as_dict(as_dict(as_dict(tpl.spec.get("affinity")).get("nodeAffinity")).get(
        "requiredDuringSchedulingIgnoredDuringExecution"))
    terms = as_list(required.get("nodeSelectorTerms"))
    if len(terms) != 1:
        return out
    for expr in as_list(as_dict(terms[0]).get("matchExpressions")):
        expr = as_dict(expr)
        key, values = expr.get("key"), expr.get("values")
        if expr.get("operator") == "In" and isinstance(key, str) and isinstance(values, list):
            allowed = frozenset(v for v in values if isinstance(v, str))
            out[key] = out[key] & allowed if key in out else allowed
    return out


def node_selector(tpl: PodTemplate) -> dict:
    """The node labels a pod pins to one value (for a buffer written to match it)."""
    return {k: next(iter(v)) for k, v in node_constraints(tpl).items() if len(v) == 1}


def serves(buffer: WarmBuffer, engine: AcceleratedEngine) -> bool:
    """The buffer holds a node the engine can use: same accelerator, at least as many per pod, and
    every node label the engine requires (nodeSelector or required node affinity) is required by
    the buffer too, with no value the engine does not allow (so its node carries one the engine
    accepts). Namespaces do not matter: preemption is cluster-wide."""
    if buffer.resources.get(engine.resource, 0) < engine.count:
        return False
    have = node_constraints(buffer.template)
    return all(k in have and have[k] <= v for k, v in node_constraints(engine.template).items())


def pod_priority(tpl: PodTemplate, classes: dict[str, PriorityClass]) -> tuple[int | None, PriorityClass | None]:
    """The pod's priority value and class; (None, None) when its class is not in the set."""
    name = tpl.spec.get("priorityClassName")
    if isinstance(name, str) and name:
        pc = classes.get(name)
        return (pc.value, pc) if pc else (None, None)
    return default_priority(classes)


def default_priority(classes: dict[str, PriorityClass]) -> tuple[int | None, PriorityClass | None]:
    """What a pod without priorityClassName gets: the globalDefault class, else 0."""
    default = next((pc for pc in classes.values() if pc.global_default), None)
    return (default.value, default) if default else (0, None)


def buffer_documents(engine: AcceleratedEngine, classes: dict[str, PriorityClass]) -> tuple[dict, ...]:
    """The PriorityClass (unless the set has it) and a pause Deployment sized to one engine pod."""
    spec = engine.template.spec
    selector = node_selector(engine.template)
    tolerations = [t for t in as_list(spec.get("tolerations")) if isinstance(t, dict)]
    name = buffer_name(engine.resource, engine.count, selector, tolerations)
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "warm-buffer"}
    pod: dict = {"priorityClassName": BUFFER_PRIORITY_CLASS, "terminationGracePeriodSeconds": 0}
    if selector:
        pod["nodeSelector"] = dict(selector)
    if tolerations:
        pod["tolerations"] = tolerations
    pod["containers"] = [{"name": "pause", "image": PAUSE_IMAGE,
                          "resources": {"limits": {engine.resource: engine.count}}}]
    meta: dict = {"name": name}
    if engine.obj.namespace:
        meta["namespace"] = engine.obj.namespace
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                           "template": {"metadata": {"labels": labels}, "spec": pod}}}
    if BUFFER_PRIORITY_CLASS in classes:
        return (deployment,)
    priority = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": BUFFER_PRIORITY_CLASS}, "value": EXPENDABLE_CUTOFF,
                "preemptionPolicy": "Never", "globalDefault": False,
                "description": "Warm-buffer pause pods: the lowest priority that still triggers a cluster-autoscaler "
                               "scale-up; any pod at priority >= 0 preempts them."}
    return (priority, deployment)


def buffer_name(resource: str, count: int, selector: dict, tolerations: list) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", resource.lower().replace(".com/", "-")).strip("-")
    name = f"warm-buffer-{slug}-{count}"
    if selector or tolerations:
        import hashlib
        digest = hashlib.sha256(repr((sorted(selector.items()), tolerations)).encode()).hexdigest()[:6]
        name = f"{name}-{digest}"
    return name[:63].rstrip("-")
