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
targets. A predictor without `model.runtime` gets the runtime KServe auto-selects by model format,
when the run decides it (`ServingRuntimes.auto_select` says when it does).
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
class SupportedFormat:
    """One `spec.supportedModelFormats` entry (kserve pkg/apis/serving/v1alpha1/servingruntime_types.go)."""

    name: str
    version: str | None = None
    auto_select: bool = False
    priority: int | None = None


@dataclass(frozen=True)
class RuntimeMetadata:
    """What a runtime adds to the pods of the predictors that use it, and what KServe's
    auto-selection reads of it."""

    kind: str
    name: str
    annotations: dict  # spec.annotations
    labels: dict  # spec.labels
    worker_annotations: dict  # spec.workerSpec.annotations
    worker_labels: dict  # spec.workerSpec.labels
    disabled: bool = False
    shm: RuntimeShm | None = None  # what the serving container mounts at /dev/shm, if anything
    host_ipc: bool = False  # spec.hostIPC: the predictor's pods share the host's /dev/shm
    formats: tuple[SupportedFormat, ...] | None = ()  # None: an entry cslint cannot read
    protocol_versions: tuple[str, ...] = ()  # spec.protocolVersions; empty: any
    multi_model: bool = False  # spec.multiModel: ModelMesh only, never auto-selected for a predictor
    multi_node: bool = False  # spec.workerSpec is set

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


_AMBIGUOUS = RuntimeMetadata("", "", {}, {}, {}, {})  # two different definitions of one name in a run


@dataclass(frozen=True)
class ModelRuntime:
    """The runtime KServe merges into an InferenceService predictor's `model` container and pod:
    `name` is `model.runtime` (None: auto-selected by model format), `runtime` what the run says
    about it (None: not resolved, see `ServingRuntimes.find` and `ServingRuntimes.auto_select`),
    `why` why an auto-selected one is not resolved, as a clause for messages."""

    name: str | None
    runtime: RuntimeMetadata | None
    why: str | None = None

    @property
    def auto_selected(self) -> bool:
        return self.name is None

    @property
    def label(self) -> str:
        """The resolved runtime as messages name it."""
        label = self.runtime.label if self.runtime else "runtime"
        return f"auto-selected {label}" if self.auto_selected else label

    @property
    def unresolved(self) -> str:
        """Why the run does not say which runtime this is, as a clause: "its runtime …"."""
        if self.name is not None:
            return f"its runtime {self.name!r} is not in this run"
        return f"its auto-selected runtime is unknown here ({self.why or 'this run does not say which'})"


@dataclass(frozen=True)
class ModelRequest:
    """What KServe's auto-selection matches runtimes against: the predictor's
    `model.modelFormat`, its `protocolVersion` (KServe's `GetProtocol` defaults it to v1) and
    whether it is multi-node (`spec.predictor.workerSpec` is set)."""

    format_name: str
    format_version: str | None = None
    protocol: str = "v1"
    multi_node: bool = False

    @property
    def format_label(self) -> str:
        return self.format_name + (f":{self.format_version}" if self.format_version is not None else "")


@dataclass
class ServingRuntimes:
    """Namespaced runtimes by (namespace, name), cluster runtimes by name."""

    namespaced: dict[tuple[str | None, str], RuntimeMetadata] = field(default_factory=dict)
    cluster: dict[str, RuntimeMetadata] = field(default_factory=dict)
    # the definitions behind an _AMBIGUOUS namespaced entry, for auto-selection
    variants: dict[tuple[str | None, str], list[RuntimeMetadata]] = field(default_factory=dict)

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
        if table[key] is _AMBIGUOUS and obj.kind == "ServingRuntime":
            known = self.variants.setdefault(key, [] if seen is _AMBIGUOUS else [seen])
            if meta not in known:
                known.append(meta)

    def find(self, name: str, namespace: str | None) -> RuntimeMetadata | None:
        """The runtime a predictor naming `name` gets; None when the run does not say (not in the
        run, ambiguous, or disabled: KServe then refuses the InferenceService and makes no pods).

        A disabled runtime found by name is not skipped: KServe finds it, then refuses the
        predictor, where auto-selection (`auto_select`) passes over it."""
        found = self.namespaced.get((namespace, name))
        if found is None:
            found = self.cluster.get(name)
        if found is None or found is _AMBIGUOUS or found.disabled:
            return None
        return found

    def auto_select(self, request: ModelRequest,
                    namespace: str | None) -> tuple[RuntimeMetadata | None, str | None]:
        """The runtime KServe picks for a `model` without `runtime`, and None with the reason
        (a clause for messages) when the run does not decide it.

        KServe (kserve/kserve pkg/apis/serving/v1beta1/predictor_model.go
        `ModelSpec.GetSupportingRuntimes`, read at commits 00d2aa2 and 5cbfeb7 — the v0.20.0 tag was
        not at hand; the multi-node filter from its caller,
        pkg/controller/v1beta1/inferenceservice/components/predictor.go `reconcileModel` at master
        commit 0187b46, which passes `isvc.Spec.Predictor.WorkerSpec != nil` and takes
        `runtimes[0]`, and v1alpha1/servingruntime_types.go `IsMultiNodeRuntime`, `GetPriority`;
        releases before multi-node serving had no such filter) lists the namespace's ServingRuntimes and,
        apart, all ClusterServingRuntimes; keeps those not `disabled`, not `multiModel`, whose
        `workerSpec` is set exactly when the predictor's is (`IsMultiNodeRuntime() ==
        isMultinode`), that list the model's protocol version or none (`IsProtocolVersionSupported`;
        the model's defaults to v1, `GetProtocol`) and whose `supportedModelFormats` hold an
        `autoSelect: true` entry of the model's format name — and, when the model gives a version,
        of exactly that version (`RuntimeSupportsModel`). Each list is sorted by protocol version,
        newest `creationTimestamp` and name, then by `priority` (`sortSupportedRuntimeByPriority`:
        the first entry of that format name, `GetPriority`; a set one before an unset one, higher
        first) with Go's unstable `sort.Slice`, and the namespaced list comes before the cluster one.

        Decided here only when a ServingRuntime of the predictor's namespace in the run is a
        candidate (any such beats every ClusterServingRuntime, in the run or not, so KServe's own
        installed runtimes cannot interfere) and one candidate alone holds the top priority. A
        tie is settled by creation times, which manifests do not carry, and by a sort that does
        not promise to keep them; with cluster candidates alone, a ServingRuntime of the namespace
        outside the run, or a higher-priority ClusterServingRuntime installed with KServe, would
        win. KServe's ServingRuntime webhook (pkg/webhook/admission/servingruntime
        `validateServingRuntimePriority`) refuses a second runtime of one scope that auto-selects
        the same format and version at the same priority over a shared protocol, so a tie in a run
        may also be one KServe would not admit: which one is left depends on the order applied.
        What stays assumed, as for a runtime found by name: the run holds the namespace's
        ServingRuntimes."""
        candidates = []
        for name, metas in sorted(self._namespaced_in(namespace).items()):
            verdicts = [_supports(m, request) for m in metas]
            if len(metas) > 1 and any(v is not False for v in verdicts):
                return None, f"ServingRuntime {name} is defined twice, differently"
            if verdicts[0] is None:
                return None, f"ServingRuntime {name}'s supportedModelFormats are not readable"
            if verdicts[0]:
                candidates.append(metas[0])
        if not candidates:
            cluster = sorted(m.name for m in self.cluster.values() if _supports(m, request))
            if cluster:
                only = (f"ClusterServingRuntime {cluster[0]} auto-selects" if len(cluster) == 1 else
                        f"ClusterServingRuntimes {', '.join(cluster)} auto-select")
                return None, f"only {only} {request.format_label} in this run; one outside it may win"
            return None, f"no runtime in this run auto-selects {request.format_label}"
        priorities = [_priority(m, request.format_name) for m in candidates]
        top = max((p for p in priorities if p is not None), default=None)
        winners = [m for m, p in zip(candidates, priorities) if p == top]
        if len(winners) == 1:
            return winners[0], None
        names = " and ".join(sorted(m.name for m in winners))
        rank = f"at priority {top}" if top is not None else "with no priority"
        return None, f"ServingRuntimes {names} tie {rank} for {request.format_label}"

    def _namespaced_in(self, namespace: str | None) -> dict[str, list[RuntimeMetadata]]:
        """The namespace's ServingRuntimes by name, each with every definition the run gives it."""
        return {name: self.variants.get((ns, name), [meta]) for (ns, name), meta in self.namespaced.items()
                if ns == namespace}

    def __bool__(self) -> bool:
        return bool(self.namespaced or self.cluster)


def _supports(meta: RuntimeMetadata, request: ModelRequest) -> bool | None:
    """Whether KServe's auto-selection keeps this runtime for the model; None: cannot tell."""
    if meta.disabled or meta.multi_model or meta.multi_node != request.multi_node:
        return False
    if request.protocol and meta.protocol_versions and request.protocol not in meta.protocol_versions:
        return False
    if meta.formats is None:
        return None
    return any(f.auto_select and f.name == request.format_name
               and (request.format_version is None or f.version == request.format_version) for f in meta.formats)


def _priority(meta: RuntimeMetadata, format_name: str) -> int | None:
    """KServe's `GetPriority`: the first entry of that name, whether it auto-selects or not."""
    return next((f.priority for f in meta.formats or () if f.name == format_name), None)


def model_runtime(model: dict, predictor: dict, namespace: str | None,
                  runtimes: ServingRuntimes | None) -> ModelRuntime:
    """The runtime of a predictor's `model`: the one `model.runtime` names, else the one KServe
    auto-selects (components/predictor.go `reconcileModel`: by name when `Runtime != nil`)."""
    name = model.get("runtime")
    if name is not None:
        if not isinstance(name, str) or not name:
            return ModelRuntime("", None)  # KServe looks up that name, and finds nothing
        return ModelRuntime(name, runtimes.find(name, namespace) if runtimes else None)
    request = model_request(model, predictor)
    if request is None:
        return ModelRuntime(None, None, "its modelFormat is not readable")
    if not runtimes:
        return ModelRuntime(None, None, f"no runtime in this run auto-selects {request.format_label}")
    return ModelRuntime(None, *runtimes.auto_select(request, namespace))


def model_request(model: dict, predictor: dict) -> ModelRequest | None:
    """What KServe matches runtimes against; None when the `model` does not say it readably."""
    fmt = model.get("modelFormat")
    name = fmt.get("name") if isinstance(fmt, dict) else None
    version = fmt.get("version") if isinstance(fmt, dict) else None
    protocol = model.get("protocolVersion")
    protocol = "v1" if protocol is None else protocol  # GetProtocol: v1 when unset
    if not isinstance(name, str) or not name or not isinstance(version, (str, type(None))) \
            or not isinstance(protocol, str):
        return None
    return ModelRequest(name, version, protocol, predictor.get("workerSpec") is not None)


def runtime_metadata(obj: K8sObject) -> RuntimeMetadata:
    spec = obj.spec
    worker = as_dict(spec.get("workerSpec"))
    protocols = as_list(spec.get("protocolVersions"))
    return RuntimeMetadata(obj.kind, obj.name or "", _strings(spec.get("annotations")), _strings(spec.get("labels")),
                           _strings(worker.get("annotations")), _strings(worker.get("labels")),
                           disabled=spec.get("disabled") is True, shm=runtime_shm(spec),
                           host_ipc=spec.get("hostIPC") is True, formats=supported_formats(spec),
                           protocol_versions=tuple(p for p in protocols if isinstance(p, str)),
                           multi_model=spec.get("multiModel") is True, multi_node=spec.get("workerSpec") is not None)


def supported_formats(spec: dict) -> tuple[SupportedFormat, ...] | None:
    """`spec.supportedModelFormats`; None when an entry is not of the CRD's types (the API server
    would refuse it, and what KServe would match is unknown)."""
    entries = spec.get("supportedModelFormats")
    if not isinstance(entries, (list, type(None))):
        return None
    formats = []
    for entry in entries or ():
        if not isinstance(entry, dict):
            return None
        name, version = entry.get("name"), entry.get("version")
        auto, priority = entry.get("autoSelect"), entry.get("priority")
        if (not isinstance(name, str) or not isinstance(version, (str, type(None)))
                or not isinstance(auto, (bool, type(None)))
                or (priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)))):
            return None
        formats.append(SupportedFormat(name, version, auto is True, priority))
    return tuple(formats)


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
