"""The KServe ServingRuntimes of a run, found by name the way KServe finds them.

A predictor that names its runtime (`spec.predictor.model.runtime`) gets the runtime's
`spec.annotations`/`spec.labels` on its pods, at the lowest priority, and its multi-node workers
get the runtime's `spec.workerSpec.annotations`/`labels` (linter/podtemplates.py cites where). The
runtime is another object, often in another file, so the engine's pre-pass gathers every
ServingRuntime and ClusterServingRuntime of the run into this index before any rule runs
(`scaling.collect_scale_context`, the same pass that gathers KEDA targets).

Lookup is KServe's `GetServingRuntime` (pkg/controller/v1beta1/inferenceservice/utils/utils.go,
kserve master 0.21 dev): the namespaced ServingRuntime of that name in the InferenceService's
namespace first, and only when there is none, the ClusterServingRuntime of that name — a
namespaced one shadows a cluster one. Objects with no namespace share one namespace, as for KEDA
targets. Auto-selection by model format is not modelled (`ServingRuntimes.find` says why).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .workloads import K8sObject, as_dict, as_list

KSERVE_GROUP = "serving.kserve.io"
RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")


@dataclass(frozen=True)
class RuntimeShm:
    """The volume a runtime's serving container mounts at /dev/shm."""

    volume_name: str
    volume: dict | None  # the runtime's spec.volumes entry of that name; None when it has none


@dataclass(frozen=True)
class RuntimeMetadata:
    """What a runtime adds to the pods of the predictors that use it."""

    kind: str
    name: str
    annotations: dict  # spec.annotations
    labels: dict  # spec.labels
    worker_annotations: dict  # spec.workerSpec.annotations
    worker_labels: dict  # spec.workerSpec.labels
    disabled: bool = False
    shm: RuntimeShm | None = None  # what the serving container mounts at /dev/shm, if anything
    host_ipc: bool = False  # spec.hostIPC: the predictor's pods share the host's /dev/shm

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


_AMBIGUOUS = RuntimeMetadata("", "", {}, {}, {}, {})  # two different definitions of one name in a run


@dataclass(frozen=True)
class ModelRuntime:
    """The runtime KServe merges into an InferenceService predictor's `model` container and pod:
    `name` is `model.runtime` (None: auto-selected by model format), `runtime` what the run says
    about it (None: not resolved, see `ServingRuntimes.find`)."""

    name: str | None
    runtime: RuntimeMetadata | None


@dataclass
class ServingRuntimes:
    """Namespaced runtimes by (namespace, name), cluster runtimes by name."""

    namespaced: dict[tuple[str | None, str], RuntimeMetadata] = field(default_factory=dict)
    cluster: dict[str, RuntimeMetadata] = field(default_factory=dict)

    def add(self, obj: K8sObject) -> None:
        if obj.kind not in RUNTIME_KINDS or obj.group != KSERVE_GROUP or not obj.name:
            return
        meta = runtime_metadata(obj)
        table: dict[Any, RuntimeMetadata] = self.cluster if obj.kind == "ClusterServingRuntime" else self.namespaced
        key = obj.name if obj.kind == "ClusterServingRuntime" else (obj.namespace, obj.name)
        seen = table.get(key)
        # the same runtime twice (a base and an overlay rendering it alike) is one; two different
        # ones are a run KServe never sees at once, and which applies is unknown
        table[key] = meta if seen is None or seen == meta else _AMBIGUOUS

    def find(self, name: str, namespace: str | None) -> RuntimeMetadata | None:
        """The runtime a predictor naming `name` gets; None when the run does not say (not in the
        run, ambiguous, or disabled: KServe then refuses the InferenceService and makes no pods).

        Only an explicit name is resolved. When `model.runtime` is unset KServe takes the first of
        the namespace's, then the cluster's, runtimes whose `supportedModelFormats` auto-select the
        model, each list sorted by protocol version and newest `creationTimestamp`, then by
        `priority` with Go's unstable `sort.Slice` (pkg/apis/serving/v1beta1/predictor_model.go
        GetSupportingRuntimes). Creation times are not in manifests, the runtimes installed in the
        cluster are not in the run, and ties have no defined order: no choice made here would
        surely be KServe's."""
        found = self.namespaced.get((namespace, name))
        if found is None:
            found = self.cluster.get(name)
        if found is None or found is _AMBIGUOUS or found.disabled:
            return None
        return found

    def __bool__(self) -> bool:
        return bool(self.namespaced or self.cluster)


def runtime_metadata(obj: K8sObject) -> RuntimeMetadata:
    spec = obj.spec
    worker = as_dict(spec.get("workerSpec"))
    return RuntimeMetadata(obj.kind, obj.name or "", _strings(spec.get("annotations")), _strings(spec.get("labels")),
                           _strings(worker.get("annotations")), _strings(worker.get("labels")),
                           disabled=spec.get("disabled") is True, shm=runtime_shm(spec),
                           host_ipc=spec.get("hostIPC") is True)


def runtime_shm(spec: dict) -> RuntimeShm | None:
    """The /dev/shm of the container KServe merges the predictor's `model` into: the one named
    `kserve-container` (kserve master, components/predictor.go), else the first (older releases
    merged `Containers[0]`). Its volumes reach the pod too: `MergePodSpec(&sRuntime.ServingRuntimePodSpec, …)`."""
    containers = [c for c in as_list(spec.get("containers")) if isinstance(c, dict)]
    serving = next((c for c in containers if c.get("name") == "kserve-container"), containers[0] if containers else {})
    for mount in as_list(serving.get("volumeMounts")):
        mount = as_dict(mount)
        path, name = mount.get("mountPath"), mount.get("name")
        if isinstance(path, str) and path.rstrip("/") == "/dev/shm" and isinstance(name, str):
            volume = next((v for v in as_list(spec.get("volumes")) if as_dict(v).get("name") == name), None)
            return RuntimeShm(name, volume)
    return None


def _strings(value: Any) -> dict:
    return {k: v for k, v in as_dict(value).items() if isinstance(k, str)}
