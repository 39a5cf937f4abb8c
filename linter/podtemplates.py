"""Where each kind keeps its pod templates: one table, one walker.

A path element of `*` walks every item of a list (KubeRay worker groups). Each entry says
whether the path ends at a PodTemplateSpec (`metadata` + `spec`) or directly at a PodSpec.
"""
from __future__ import annotations

from typing import Any, Iterator

from .workloads import K8sObject, PodTemplate, as_dict, as_list

TEMPLATE = "template"  # PodTemplateSpec: {metadata, spec}
PODSPEC = "podspec"  # the pod spec itself

# kind → [(path, shape, role)]
_CORE: dict[str, list[tuple[tuple[str, ...], str, str]]] = {
    "Deployment": [(("spec", "template"), TEMPLATE, "")],
    "StatefulSet": [(("spec", "template"), TEMPLATE, "")],
    "DaemonSet": [(("spec", "template"), TEMPLATE, "")],
    "ReplicaSet": [(("spec", "template"), TEMPLATE, "")],
    "ReplicationController": [(("spec", "template"), TEMPLATE, "")],
    "Job": [(("spec", "template"), TEMPLATE, "")],
    "CronJob": [(("spec", "jobTemplate", "spec", "template"), TEMPLATE, "")],
    "PodTemplate": [(("template",), TEMPLATE, "")],
    "Rollout": [(("spec", "template"), TEMPLATE, "")],
    "LeaderWorkerSet": [
        (("spec", "leaderWorkerTemplate", "leaderTemplate"), TEMPLATE, "leader"),
        (("spec", "leaderWorkerTemplate", "workerTemplate"), TEMPLATE, "worker"),
    ],
    "LLMInferenceService": [
        (("spec", "template"), PODSPEC, ""),
        (("spec", "worker"), PODSPEC, "worker"),
        (("spec", "prefill", "template"), PODSPEC, "prefill"),
        (("spec", "prefill", "worker"), PODSPEC, "prefill-worker"),
    ],
}
_CORE["LLMInferenceServiceConfig"] = _CORE["LLMInferenceService"]
_RAY_CLUSTER = [
    (("headGroupSpec", "template"), TEMPLATE, "head"),
    (("workerGroupSpecs", "*", "template"), TEMPLATE, "worker"),
]
_RAY_ROOTS = {"RayCluster": ("spec",), "RayService": ("spec", "rayClusterConfig"), "RayJob": ("spec", "rayClusterSpec")}


def find_pod_templates(obj: K8sObject) -> Iterator[PodTemplate]:
    kind = obj.kind
    if kind == "Pod" and obj.api_version == "v1":
        yield PodTemplate(obj, obj.spec, obj.at("spec"), obj.metadata)
        return
    if kind == "Service" and obj.group == "serving.knative.dev":
        yield from _walk(obj, ("spec", "template"), TEMPLATE, "")
        return
    if kind in _RAY_ROOTS and obj.group == "ray.io":
        for path, shape, role in _RAY_CLUSTER:
            yield from _walk(obj, _RAY_ROOTS[kind] + path, shape, role)
        return
    if kind == "InferenceService":
        yield from _inference_service(obj)
        return
    if kind in ("ServingRuntime", "ClusterServingRuntime"):
        yield from _serving_runtime(obj)
        return
    for path, shape, role in _CORE.get(kind, ()):
        for tpl in _walk(obj, path, shape, role):
            if kind.startswith("LLMInferenceService"):
                tpl.engine_hint = "llmisvc-main"
            yield tpl


def _walk(obj: K8sObject, path: tuple[str, ...], shape: str, role: str,
          node: Any = None, done: tuple = (), group: dict | None = None) -> Iterator[PodTemplate]:
    node = obj.data if node is None else node
    for i, part in enumerate(path):
        if part == "*":
            for j, item in enumerate(as_list(node)):
                name = as_dict(item).get("groupName")
                sub_role = f"{role}:{name}" if isinstance(name, str) else role
                yield from _walk(obj, path[i + 1:], shape, sub_role, item, done + (j,), as_dict(item))
            return
        node = as_dict(node).get(part)
        done = done + (part,)
        wanted = list if i + 1 < len(path) and path[i + 1] == "*" else dict
        if not isinstance(node, wanted):
            return
    if shape == TEMPLATE:
        spec = node.get("spec")
        if isinstance(spec, dict):
            yield PodTemplate(obj, spec, obj.at(*done, "spec"), as_dict(node.get("metadata")), role,
                              group=group or {})
    else:
        yield PodTemplate(obj, node, obj.at(*done), {}, role)


# KServe v0.20.0: the InferenceService parts that become pods, each an inline PodSpec plus
# ComponentExtensionSpec, with the inline corev1.Container KServe runs as `kserve-container`
# (pkg/apis/serving/v1beta1/{predictor,transformer,explainer,explainer_art}.go: `model`,
# none — a transformer is custom containers only — and `art`).
KSERVE_COMPONENTS: tuple[tuple[str, str | None], ...] = (("predictor", "model"), ("transformer", None),
                                                          ("explainer", "art"))
# constants.ServiceAnnotationDisallowedList (pkg/constants/constants.go): filtered out of both the
# InferenceService's and the component's annotations; KServe writes min/max-scale itself from
# minReplicas/maxReplicas (pkg/controller/v1alpha1/utils/utils.go SetAutoScalingAnnotations).
KSERVE_DISALLOWED_ANNOTATIONS = frozenset({
    "autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/max-scale",
    "internal.serving.kserve.io/storage-initializer-sourceuri",
    "kubectl.kubernetes.io/last-applied-configuration"})


def kserve_component_annotations(isvc: dict, component: dict) -> dict:
    """The annotations KServe puts on a component's Knative revision template (or Deployment pod
    template in Standard mode): the InferenceService's own, then the component's, which win —
    `utils.Union(annotations, <component>Annotations)` after `utils.Filter(…, disallowed)` in
    pkg/controller/v1beta1/inferenceservice/components/{predictor,transformer,explainer}.go."""
    return _kserve_union(isvc, component, KSERVE_DISALLOWED_ANNOTATIONS)


def kserve_component_labels(isvc: dict, component: dict) -> dict:
    """Labels likewise, `utils.Union(isvc.Labels, <component>Labels, …)`, less the one label Knative
    keeps off revision templates (constants.RevisionTemplateLabelDisallowedList: VisibilityLabel)."""
    return _kserve_union(isvc, component, frozenset({"networking.knative.dev/visibility"}))


def _kserve_union(isvc: dict, component: dict, dropped: frozenset[str]) -> dict:
    merged = {k: v for k, v in isvc.items() if isinstance(k, str) and k not in dropped}
    merged.update((k, v) for k, v in component.items() if isinstance(k, str) and k not in dropped)
    return merged


def _inference_service(obj: K8sObject) -> Iterator[PodTemplate]:
    """KServe: each component is an inline PodSpec; `model`/`art` are inline containers. The
    predictor's ServingRuntime annotations (lowest priority) live in another object: not merged."""
    for name, inline_key in KSERVE_COMPONENTS:
        component = as_dict(obj.spec.get(name))
        if not component:
            continue
        inline = component.get(inline_key) if inline_key else None
        extra = ((inline, obj.at("spec", name, inline_key)),) if isinstance(inline, dict) else ()
        hint = _kserve_hint(inline) if name == "predictor" else None
        if extra or as_list(component.get("containers")):
            own, labels = as_dict(component.get("annotations")), as_dict(component.get("labels"))
            yield PodTemplate(obj, component, obj.at("spec", name), {"annotations": own, "labels": labels}, name,
                              extra_containers=extra, engine_hint=hint,
                              merged_annotations=kserve_component_annotations(obj.annotations, own),
                              merged_labels=kserve_component_labels(as_dict(obj.metadata.get("labels")), labels))
        worker = component.get("workerSpec") if name == "predictor" else None
        if isinstance(worker, dict):
            yield PodTemplate(obj, worker, obj.at("spec", name, "workerSpec"), {}, "worker", engine_hint=hint)


def _kserve_hint(model: Any) -> str | None:
    fmt = as_dict(as_dict(model).get("modelFormat")).get("name")
    return "kserve-huggingface" if isinstance(fmt, str) and fmt.lower() == "huggingface" else None


def _serving_runtime(obj: K8sObject) -> Iterator[PodTemplate]:
    spec = obj.spec
    formats = [as_dict(f).get("name") for f in as_list(spec.get("supportedModelFormats"))]
    hint = "kserve-huggingface" if any(isinstance(f, str) and f.lower() == "huggingface" for f in formats) else None
    meta = {"annotations": as_dict(spec.get("annotations")), "labels": as_dict(spec.get("labels"))}
    if as_list(spec.get("containers")):
        yield PodTemplate(obj, spec, obj.at("spec"), meta, "runtime", engine_hint=hint)
    worker = spec.get("workerSpec")
    if isinstance(worker, dict):
        yield PodTemplate(obj, worker, obj.at("spec", "workerSpec"), {}, "worker", engine_hint=hint)
