"""Can this workload scale to zero? Shared by every rule that needs it and by CS404's `auto` goal.

Facts (shared/reference/domain.md §2.2, §3): KServe defaults to Knative mode when the
deploymentMode annotation is absent and writes min-scale from `minReplicas` (1 when unset),
overriding hand-written min-scale annotations; Standard mode scales to zero only with KEDA;
Knative's own min-scale defaults to 0 under KPA; KEDA's minReplicaCount defaults to 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .workloads import K8sObject, PodTemplate, as_dict, as_list

KSERVE_MODE = "serving.kserve.io/deploymentMode"
KSERVE_AUTOSCALER = "serving.kserve.io/autoscalerClass"
KNATIVE_MIN_SCALE = "autoscaling.knative.dev/min-scale"
KNATIVE_MIN_SCALE_OLD = "autoscaling.knative.dev/minScale"


@dataclass
class ScaleContext:
    """Cross-object facts gathered before linting (KEDA targets), keyed by (namespace, kind, name)."""

    keda_zero_targets: set[tuple[str | None, str, str]] = field(default_factory=set)


def kserve_mode(obj: K8sObject) -> str:
    mode = str(obj.annotations.get(KSERVE_MODE, "")).lower()
    if mode in ("rawdeployment", "standard"):
        return "standard"
    if mode == "modelmesh":
        return "modelmesh"
    return "knative"  # Serverless/Knative, and the shipped default when absent


def _int(value: object, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def can_scale_to_zero(obj: K8sObject, template: PodTemplate | None = None,
                      context: ScaleContext | None = None) -> bool:
    kind, spec = obj.kind, obj.spec
    if context is not None and obj.name and (obj.namespace, kind, obj.name) in context.keda_zero_targets:
        return True
    if kind == "InferenceService":
        predictor = as_dict(spec.get("predictor"))
        min_replicas = _int(predictor.get("minReplicas"), 1)
        if min_replicas != 0:
            return False
        mode = kserve_mode(obj)
        return mode == "knative" or (mode == "standard" and str(obj.annotations.get(KSERVE_AUTOSCALER, "")).lower() == "keda")
    if kind == "Service" and obj.group == "serving.knative.dev":
        meta = as_dict(as_dict(spec.get("template")).get("metadata"))
        ann = as_dict(meta.get("annotations"))
        value = ann.get(KNATIVE_MIN_SCALE, ann.get(KNATIVE_MIN_SCALE_OLD))
        return _int(value, 0) == 0
    if kind in ("RayCluster", "RayService", "RayJob"):
        if template is not None and template.role.startswith("worker"):
            return _ray_group_min(obj, template) == 0
        return False
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "LeaderWorkerSet", "Rollout"):
        return _int(spec.get("replicas"), 1) == 0
    return False


def _ray_group_min(obj: K8sObject, template: PodTemplate) -> int | None:
    root = obj.spec
    if obj.kind == "RayService":
        root = as_dict(root.get("rayClusterConfig"))
    elif obj.kind == "RayJob":
        root = as_dict(root.get("rayClusterSpec"))
    for group in as_list(root.get("workerGroupSpecs")):
        group = as_dict(group)
        if as_dict(group.get("template")).get("spec") is template.spec:
            return _int(group.get("minReplicas"), 0)
    return None
