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


def _inference_service(obj: K8sObject) -> Iterator[PodTemplate]:
    """KServe: the predictor is an inline PodSpec; `model` is an inline container."""
    predictor = as_dict(obj.spec.get("predictor"))
    if not predictor:
        return
    model = predictor.get("model")
    extra = ()
    hint = None
    if isinstance(model, dict):
        extra = ((model, obj.at("spec", "predictor", "model")),)
        fmt = as_dict(model.get("modelFormat")).get("name")
        if isinstance(fmt, str) and fmt.lower() == "huggingface":
            hint = "kserve-huggingface"
    if extra or as_list(predictor.get("containers")):
        meta = {"annotations": as_dict(predictor.get("annotations")), "labels": as_dict(predictor.get("labels"))}
        yield PodTemplate(obj, predictor, obj.at("spec", "predictor"), meta, "predictor",
                          extra_containers=extra, engine_hint=hint)
    worker = predictor.get("workerSpec")
    if isinstance(worker, dict):
        yield PodTemplate(obj, worker, obj.at("spec", "predictor", "workerSpec"), {}, "worker", engine_hint=hint)


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
