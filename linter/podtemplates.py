"""Where each kind keeps its pod templates: one table, one walker.

A path element of `*` walks every item of a list (KubeRay worker groups). Each entry says
whether the path ends at a PodTemplateSpec (`metadata` + `spec`) or directly at a PodSpec.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .workloads import K8sObject, MetadataLayer, PodTemplate, as_dict, as_list

if TYPE_CHECKING:
    from .servingruntimes import ModelRuntime

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
# where each KubeRay kind keeps its RayCluster spec (head and worker groups, autoscaling)
RAY_CLUSTER_ROOTS = {"RayCluster": ("spec",), "RayService": ("spec", "rayClusterConfig"),
                     "RayJob": ("spec", "rayClusterSpec")}


def find_pod_templates(obj: K8sObject) -> Iterator[PodTemplate]:
    kind = obj.kind
    if kind == "Pod" and obj.api_version == "v1":
        yield PodTemplate(obj, obj.spec, obj.at("spec"), obj.metadata)
        return
    if kind == "Service" and obj.group == "serving.knative.dev":
        yield from _walk(obj, ("spec", "template"), TEMPLATE, "")
        return
    if kind in RAY_CLUSTER_ROOTS and obj.group == "ray.io":
        config = obj.spec.get("serveConfigV2") if kind == "RayService" else None
        serve_llm = serves_llm(config)
        for path, shape, role in _RAY_CLUSTER:
            for tpl in _walk(obj, RAY_CLUSTER_ROOTS[kind] + path, shape, role):
                if serve_llm:
                    tpl.engine_hint = "ray-serve-llm"
                    tpl.env_elsewhere = sets_runtime_env(config)
                yield tpl
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


def serves_llm(config: object) -> bool:
    """Whether a RayService's serveConfigV2 (a YAML string) deploys Ray Serve LLM, whose replicas
    run vLLM on the pods holding the accelerators."""
    return isinstance(config, str) and "ray.serve.llm" in config


def sets_runtime_env(config: object) -> bool:
    """Whether the serve config sets environment variables through a runtime_env: the replicas'
    env, which the pod spec does not show."""
    return isinstance(config, str) and re.search(r"(?m)^\s*env_vars\s*:", config) is not None


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
# constants.RevisionTemplateLabelDisallowedList: the one label Knative keeps off revision templates
KSERVE_DROPPED_LABELS = frozenset({"networking.knative.dev/visibility"})
NOTHING: frozenset[str] = frozenset()


def kserve_component_annotations(isvc: dict, component: dict) -> dict:
    """The annotations KServe puts on a component's Knative revision template (or Deployment pod
    template in Standard mode): the InferenceService's own, then the component's, which win —
    `utils.Union(annotations, <component>Annotations)` after `utils.Filter(…, disallowed)` in
    pkg/controller/v1beta1/inferenceservice/components/{predictor,transformer,explainer}.go. The
    predictor's runtime, when known, comes first (`_inference_service`)."""
    return _kserve_union((isvc, component), KSERVE_DISALLOWED_ANNOTATIONS)


def kserve_component_labels(isvc: dict, component: dict) -> dict:
    """Labels likewise, `utils.Union(isvc.Labels, <component>Labels, …)`, less the label Knative
    keeps off revision templates."""
    return _kserve_union((isvc, component), KSERVE_DROPPED_LABELS)


def _kserve_union(layers: Iterable[dict], dropped: frozenset[str]) -> dict:
    merged: dict = {}
    for layer in layers:
        merged.update((k, v) for k, v in layer.items() if isinstance(k, str) and k not in dropped)
    return merged


def _inference_service(obj: K8sObject) -> Iterator[PodTemplate]:
    """KServe: each component is an inline PodSpec; `model`/`art` are inline containers. The
    predictor's pods also carry its ServingRuntime's metadata, at the lowest priority."""
    source = _predictor_runtime(obj)
    runtime = source.runtime if source else None
    isvc_labels = as_dict(obj.metadata.get("labels"))
    for name, inline_key in KSERVE_COMPONENTS:
        component = as_dict(obj.spec.get(name))
        if not component:
            continue
        inline = component.get(inline_key) if inline_key else None
        extra = ((inline, obj.at("spec", name, inline_key)),) if isinstance(inline, dict) else ()
        hint = _kserve_hint(inline) if name == "predictor" else None
        own, labels = as_dict(component.get("annotations")), as_dict(component.get("labels"))
        if extra or as_list(component.get("containers")):
            base = runtime if name == "predictor" else None
            # kserve master (0.21 dev) components/predictor.go buildObjectMeta: "predictor component >
            # isvc > ServingRuntimePodSpec", `utils.Union(sRuntimeAnnotations, annotations,
            # predictorAnnotations)`, each filtered by the disallowed list; labels alike, unfiltered
            # there (the ksvc reconciler drops the revision-template label)
            runtime_layer = (_runtime_layer(f"{source.label}'s spec.annotations", base.annotations,
                                            KSERVE_DISALLOWED_ANNOTATIONS) if source and base else None)
            layers = _layers(obj, name, own, runtime_layer)
            model = source if name == "predictor" and extra else None
            yield PodTemplate(obj, component, obj.at("spec", name), {"annotations": own, "labels": labels}, name,
                              extra_containers=extra, engine_hint=hint, annotation_layers=layers, model_runtime=model,
                              merged_annotations=_kserve_union((l.annotations for l in layers), NOTHING),
                              merged_labels=_kserve_union((base.labels if base else {}, isvc_labels, labels),
                                                          KSERVE_DROPPED_LABELS))
        worker = component.get("workerSpec") if name == "predictor" else None
        if isinstance(worker, dict):
            yield _kserve_worker(obj, worker, own, (isvc_labels, labels), source, hint)


def _kserve_worker(obj: K8sObject, worker: dict, own: dict, labels: tuple[dict, dict],
                   source: ModelRuntime | None, hint: str | None) -> PodTemplate:
    """Multi-node workers (Standard mode only) run in their own Deployment whose pod template
    metadata is (kserve master, 0.21 dev) components/predictor.go reconcileWorker's `workerObjectMeta`: annotations
    `utils.Union(sRuntime.WorkerSpec.Annotations, annotations, predictorAnnotations)` — the
    runtime's *worker* annotations, unfiltered, under the filtered InferenceService's and
    predictor's — and labels `utils.Union(sRuntimeWorkerLabels, isvc.Labels, Predictor.Labels, …)`
    (reconcilers/deployment createRawWorkerDeployment copies it onto the template). The
    InferenceService's `workerSpec` is a bare PodSpec: it has no annotations of its own."""
    runtime = source.runtime if source else None
    runtime_layer = (_runtime_layer(f"{source.label}'s spec.workerSpec.annotations", runtime.worker_annotations,
                                    NOTHING) if source and runtime else None)
    layers = _layers(obj, "predictor", own, runtime_layer)
    return PodTemplate(obj, worker, obj.at("spec", "predictor", "workerSpec"), {}, "worker", engine_hint=hint,
                       annotation_layers=layers,
                       merged_annotations=_kserve_union((l.annotations for l in layers), NOTHING),
                       merged_labels=_kserve_union((runtime.worker_labels if runtime else {},) + labels, NOTHING))


def _layers(obj: K8sObject, name: str, own: dict, runtime: MetadataLayer | None) -> tuple[MetadataLayer, ...]:
    """The annotation sources of a component's pods, lowest priority first, each as filtered."""
    isvc = MetadataLayer("metadata.annotations", obj.at("metadata", "annotations"),
                         _kserve_union((obj.annotations,), KSERVE_DISALLOWED_ANNOTATIONS))
    component = MetadataLayer(f"spec.{name}.annotations", obj.at("spec", name, "annotations"),
                              _kserve_union((own,), KSERVE_DISALLOWED_ANNOTATIONS))
    return (runtime, isvc, component) if runtime else (isvc, component)


def _runtime_layer(label: str, annotations: dict, dropped: frozenset[str]) -> MetadataLayer:
    """A runtime lives in another object: no pointer into this document."""
    return MetadataLayer(label, None, _kserve_union((annotations,), dropped))


def _predictor_runtime(obj: K8sObject) -> ModelRuntime | None:
    """The ServingRuntime of the predictor's `model`, named or auto-selected, as far as the run's
    runtimes (`obj.context`, gathered by the engine's pre-pass) decide it; None without a `model`:
    KServe reads a runtime only on that path (predictor.go: with a framework field or custom
    containers `sRuntime` stays empty)."""
    from .servingruntimes import model_runtime  # servingruntimes imports workloads, which imports this module
    predictor = as_dict(obj.spec.get("predictor"))
    model = predictor.get("model")
    if not isinstance(model, dict):
        return None
    return model_runtime(model, predictor, obj.namespace, getattr(getattr(obj, "context", None), "runtimes", None))


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
    if isinstance(worker, dict):  # ServingRuntimePodSpec too: its own annotations reach the workers
        meta = {"annotations": as_dict(worker.get("annotations")), "labels": as_dict(worker.get("labels"))}
        yield PodTemplate(obj, worker, obj.at("spec", "workerSpec"), meta, "worker", engine_hint=hint)
