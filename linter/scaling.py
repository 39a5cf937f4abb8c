"""Can this workload scale to zero? Shared by every rule that needs it and by CS404's `auto` goal.

Facts (shared/reference/domain.md §2.2, §3): KServe defaults to Knative mode when the
deploymentMode annotation is absent and writes min-scale from `minReplicas` (1 when unset),
overriding hand-written min-scale annotations; Standard mode scales to zero only with KEDA;
Knative's own min-scale defaults to 0 under its KPA class, the only one that scales to zero; KEDA's minReplicaCount defaults to 0 and its
`idleReplicaCount` (which only supports 0) scales an idle target to zero whatever the minimum.

Some of these facts live in other objects (a KEDA ScaledObject in another file), so the engine
gathers a `ScaleContext` from every document of the run before any rule runs; the same pass
gathers the run's KServe ServingRuntimes, whose annotations reach the predictors that name them
(linter/servingruntimes.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from .podtemplates import RAY_CLUSTER_ROOTS, kserve_component_annotations
from .workloads import K8sObject, PodTemplate, as_dict

if TYPE_CHECKING:
    from .servingruntimes import ServingRuntimes

KSERVE_MODE = "serving.kserve.io/deploymentMode"
KSERVE_AUTOSCALER = "serving.kserve.io/autoscalerClass"
KNATIVE_MIN_SCALE = "autoscaling.knative.dev/min-scale"
KNATIVE_MIN_SCALE_OLD = "autoscaling.knative.dev/minScale"
# min-scale's default is "0 if scale-to-zero is enabled and class KPA is used, 1 otherwise"
KNATIVE_CLASS = "autoscaling.knative.dev/class"
KNATIVE_KPA = "kpa.autoscaling.knative.dev"
KEDA_GROUP = "keda.sh"

TargetKey = tuple[str | None, str, str]  # (namespace, kind, name); no namespace is one shared namespace


@dataclass
class ScaleContext:
    """Cross-object facts gathered before linting: KEDA targets, keyed by (namespace, kind, name),
    and the KServe ServingRuntimes pod templates merge (`podtemplates`, via `obj.context`)."""

    keda_zero_targets: set[TargetKey] = field(default_factory=set)
    keda_reasons: dict[TargetKey, str] = field(default_factory=dict)  # why, for messages
    # made when the run holds a runtime: most runs do not, and need not import KServe's model
    runtimes: ServingRuntimes | None = None

    def add_scaled_object(self, obj: K8sObject) -> None:
        ref = as_dict(obj.spec.get("scaleTargetRef"))
        name = ref.get("name")
        if not isinstance(name, str) or not name:
            return
        kind = ref.get("kind") if isinstance(ref.get("kind"), str) and ref.get("kind") else "Deployment"
        reason = keda_zero_reason(obj)
        if reason is not None:
            key = (obj.namespace, kind, name)
            self.keda_zero_targets.add(key)
            self.keda_reasons.setdefault(key, reason)


def collect_scale_context(objects: Iterable[K8sObject]) -> ScaleContext:
    """The run-wide facts: every ScaledObject that lets its target reach zero replicas, and every
    ServingRuntime / ClusterServingRuntime."""
    context = ScaleContext()
    for obj in objects:
        if obj.kind == "ScaledObject" and obj.group == KEDA_GROUP:
            context.add_scaled_object(obj)
        elif obj.kind.endswith("ServingRuntime"):  # or ClusterServingRuntime: `add` takes KServe's only
            from .servingruntimes import ServingRuntimes
            if context.runtimes is None:
                context.runtimes = ServingRuntimes()
            context.runtimes.add(obj)
    return context


def keda_zero_reason(obj: K8sObject) -> str | None:
    spec = obj.spec
    label = f"KEDA ScaledObject {obj.name or '-'}"
    if "minReplicaCount" not in spec:
        return f"{label} has no minReplicaCount (KEDA's default is 0)"
    if _int(spec.get("minReplicaCount"), None) == 0:
        return f"{label} has minReplicaCount: 0"
    if _int(spec.get("idleReplicaCount"), None) == 0:
        return f"{label} has idleReplicaCount: 0"
    return None


def kserve_mode(obj: K8sObject) -> str:
    mode = str(obj.annotations.get(KSERVE_MODE, "")).lower()
    if mode in ("rawdeployment", "standard"):
        return "standard"
    if mode == "modelmesh":
        return "modelmesh"
    return "knative"  # Serverless/Knative, and the shipped default when absent


# Knative's config-deployment `registries-skipping-tag-resolving` default
KNATIVE_SKIPS_TAG_RESOLVING = ("kind.local", "ko.local", "dev.local")


def knative_pins_image(obj: K8sObject, registry: str) -> bool:
    """Knative resolves an image's tag to a digest when it creates a revision, and the revision's
    pods run that digest (so the pull policy defaults to IfNotPresent and a moved tag is not
    re-pulled): a Knative Service's containers, and a KServe InferenceService's in Knative mode,
    unless the registry is one Knative skips."""
    knative = (obj.kind == "Service" and obj.group == "serving.knative.dev"
               or obj.kind == "InferenceService" and kserve_mode(obj) == "knative")
    return knative and registry not in KNATIVE_SKIPS_TAG_RESOLVING


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
    return scale_to_zero_reason(obj, template, context) is not None


def scale_to_zero_reason(obj: K8sObject, template: PodTemplate | None = None,
                         context: ScaleContext | None = None) -> str | None:
    """Why the workload (or this pod template of it) can reach zero replicas; None when it cannot."""
    kind, spec = obj.kind, obj.spec
    if context is not None and obj.name:
        reason = context.keda_reasons.get((obj.namespace, kind, obj.name))
        if reason is None and (obj.namespace, kind, obj.name) in context.keda_zero_targets:
            reason = "a KEDA ScaledObject lets it scale to zero"
        if reason is not None:
            return reason
    if kind == "InferenceService":
        return _kserve_reason(obj, template)
    if kind == "Service" and obj.group == "serving.knative.dev":
        meta = as_dict(as_dict(spec.get("template")).get("metadata"))
        ann = as_dict(meta.get("annotations"))
        value = ann.get(KNATIVE_MIN_SCALE, ann.get(KNATIVE_MIN_SCALE_OLD))
        if str(ann.get(KNATIVE_CLASS, KNATIVE_KPA)) != KNATIVE_KPA:
            return None  # only the KPA class scales to zero (the HPA class keeps one replica)
        if _int(value, 0) != 0:
            return None
        return "Knative min-scale is 0" if value is not None else "Knative min-scale is unset (0 under KPA)"
    if kind in ("RayCluster", "RayService", "RayJob"):
        if template is not None and template.role.startswith("worker") and _ray_group_min(template) == 0 \
                and _ray_autoscaling(obj):
            return "the Ray autoscaler may take the worker group to its minReplicas of 0"
        return None
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "LeaderWorkerSet", "Rollout"):
        return "spec.replicas is 0" if _int(spec.get("replicas"), 1) == 0 else None
    return None


def _kserve_reason(obj: K8sObject, template: PodTemplate | None = None) -> str | None:
    """Each component (predictor, transformer, explainer) scales on its own `minReplicas`; the
    autoscaler class is read from the component's merged annotations (KServe's raw reconciler
    `getAutoscalerClass(componentMeta)`), the mode from the InferenceService's own."""
    role = template.role if template is not None and template.role in ("transformer", "explainer") else "predictor"
    component = as_dict(obj.spec.get(role))
    if _int(component.get("minReplicas"), 1) != 0:
        return None  # a hand-written min-scale annotation does not count: KServe overwrites it
    mode = kserve_mode(obj)
    label = "KServe minReplicas" if role == "predictor" else f"KServe {role} minReplicas"
    if mode == "knative":
        return f"{label} is 0 in Knative mode"
    annotations = (template.annotations if template is not None and template.merged_annotations is not None
                   else kserve_component_annotations(obj.annotations, as_dict(component.get("annotations"))))
    if mode == "standard" and str(annotations.get(KSERVE_AUTOSCALER, "")).lower() == "keda":
        return f"{label} is 0 with the KEDA autoscaler"
    return None


def _ray_group_min(template: PodTemplate) -> int | None:
    """KubeRay worker groups default `minReplicas` to 0."""
    return _int(template.group.get("minReplicas"), 0) if template.group else None


def _ray_autoscaling(obj: K8sObject) -> bool:
    """Whether the cluster runs the Ray autoscaler (`enableInTreeAutoscaling`): without it a
    worker group keeps its `replicas`, and minReplicas 0 takes nothing down."""
    spec: object = obj.data
    for part in RAY_CLUSTER_ROOTS.get(obj.kind, ()):
        spec = as_dict(spec).get(part)
    return as_dict(spec).get("enableInTreeAutoscaling") is True
