"""## What it does
Checks that an engine container mounts `/dev/shm` from an `emptyDir` with `medium: Memory` and a
`sizeLimit` of at least 16Gi (configurable as `shm-min`). A pod with `hostIPC: true` uses the
host's `/dev/shm` (what vLLM's docs offer as `--ipc=host`) and passes when it mounts none.

The 16Gi floor is NCCL's, so it applies to GPU engines (and to engines whose device the manifest
does not show). A TPU, CPU or Neuron engine only needs the mount in memory, for vLLM's
shared-memory broadcast between its workers: it is reported when it mounts none or a disk-backed
one, never for its size.

A KServe predictor's `model` that mounts nothing at `/dev/shm` gets its ServingRuntime's mount
and volume (KServe strategic-merges the runtime's `kserve-container` and pod spec into the
predictor's). When the run holds the runtime that `model.runtime` names, that runtime's
`/dev/shm` is judged and named in the message (the shipped `kserve-huggingfaceserver` mounts an
emptyDir with no sizeLimit). Without `model.runtime`, the runtime KServe auto-selects by
`modelFormat` is judged when the run decides it: a ServingRuntime of the predictor's namespace in
the run auto-selects the format (with `autoSelect: true`, not disabled, the model's version and
protocol) and alone holds the top `priority`. Cluster-scoped candidates alone, or a tie, leave it
unresolved, as does a runtime not in the run: the message says why cslint cannot see what it
mounts.

## Why it matters for cold start
The container runtime gives `/dev/shm` 64 MiB by default. NCCL and vLLM's multiprocessing put
their buffers there: too small and tensor-parallel startup hangs in NCCL init or crashes with a
bus error, so the pod never becomes ready. A disk-backed emptyDir is slow, and without a
sizeLimit a memory-backed one may grow to the node's allocatable memory.

## Example
```yaml
volumeMounts: []   # no /dev/shm
```

## Use instead
```yaml
volumes:
  - name: dshm
    emptyDir: {medium: Memory, sizeLimit: 16Gi}
containers:
  - volumeMounts:
      - name: dshm
        mountPath: /dev/shm
```
Pair it with `NCCL_CUMEM_ENABLE=0` (CS402) and a memory limit that covers it (CS406).

## Fix safety
Safe: adds the `dshm` volume and its mount, or sets the existing emptyDir's medium and size. On
a predictor's `model` the added mount replaces the runtime's at `/dev/shm` (volumeMounts merge by
mountPath), and the volume takes a name the runtime's `/dev/shm` volume does not have (volumes
merge by name). A runtime that is not in the run may still have a volume named `dshm`; if it is
not an emptyDir, the merged volume is invalid.
"""
from typing import TYPE_CHECKING, Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import add_volume_and_mount_ops, set_key_ops, unique_volume_name
from cslint.quantity import format_bytes, parse_quantity
from cslint.runtime import merged_runtime_volume, shm_of
from cslint.settings import Settings
from cslint.workloads import Container

if TYPE_CHECKING:  # KServe runtimes: imported by runs that hold an InferenceService only
    from cslint.servingruntimes import ModelRuntime

META = RuleMeta(code="CS401", name="shm-too-small", lever=Lever.RUNTIME, severity=Severity.ERROR,
                summary="/dev/shm is missing, disk-backed or below 16Gi", scope=Scope.CONTAINER,
                fix=FixAvailability.SOMETIMES, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    want = format_bytes(settings.shm_min)
    nccl = c.on_gpu  # NCCL's buffers set the size floor; elsewhere vLLM's broadcast needs the mount
    shm = shm_of(c)
    pod = c.template
    if shm is None:
        if pod.spec.get("hostIPC") is True:
            return  # the host's IPC namespace and its /dev/shm (vLLM's own advice: `--ipc=host`)
        source = pod.model_runtime if c.pointer == pod.at("model") else None
        fix = _mount_fix(c, want, source)
        if source is not None:
            yield from _from_runtime(c, source, settings, fix, nccl)
            return
        yield Violation(f"no /dev/shm mount: the runtime's 64Mi default stalls {_stalled(nccl)} — mount an "
                        f"emptyDir with medium: Memory and sizeLimit: {want}", c.pointer, fix)
        return
    if shm.volume is None or "emptyDir" not in shm.volume:
        where = c.at("volumeMounts", shm.mount_index)
        yield Violation(f"/dev/shm is not a memory-backed emptyDir — use emptyDir with medium: Memory and "
                        f"sizeLimit: {want}", where)
        return
    vol_path = pod.at("volumes", shm.volume_index, "emptyDir")
    empty = shm.volume["emptyDir"] if isinstance(shm.volume["emptyDir"], dict) else None
    if empty is None:
        ops = [{"op": "replace", "path": vol_path, "value": {"medium": "Memory", "sizeLimit": want}}]
        yield Violation(f"/dev/shm emptyDir has no medium or sizeLimit — set medium: Memory and sizeLimit: {want}",
                        vol_path, Fix(Applicability.SAFE, tuple(ops), "Set medium and sizeLimit"))
        return
    ops, problems = [], []
    if not shm.memory_backed:
        ops += set_key_ops(vol_path, empty, "medium", "Memory")
        problems.append(f"medium is {shm.medium!r}" if shm.medium else "medium is disk")
    if nccl and (shm.size_limit is None or shm.size_limit < settings.shm_min):
        ops += set_key_ops(vol_path, empty, "sizeLimit", want)
        problems.append(f"sizeLimit is {shm.size_text}" if shm.size_text else "no sizeLimit")
    if not problems:
        return
    if not nccl:
        yield Violation(f"/dev/shm {problems[0]}; vLLM's shared-memory broadcast between workers needs it in "
                        f"memory — set emptyDir.medium: Memory", vol_path,
                        Fix(Applicability.SAFE, tuple(ops), "Set the /dev/shm emptyDir to Memory"))
        return
    target = vol_path + ("/sizeLimit" if "sizeLimit" in empty else "")
    yield Violation(f"/dev/shm {' and '.join(problems)}; NCCL needs ≥ {want} in memory — set emptyDir.medium: "
                    f"Memory and sizeLimit: {want}", target, Fix(Applicability.SAFE, tuple(ops),
                                                                 f"Set the /dev/shm emptyDir to Memory, {want}"))


def _mount_fix(c: Container, want: str, source: "ModelRuntime | None") -> Fix:
    """A `dshm` volume and its mount. On a predictor's `model` the mount replaces the runtime's at
    /dev/shm (KServe strategic-merges the container, volumeMounts keyed by mountPath); the volume
    avoids the runtime's volume names, with which it would be merged (volumes are keyed by name)."""
    pod = c.template
    runtime = source.runtime if source else None
    taken = {runtime.shm.volume_name} if runtime is not None and runtime.shm is not None else set()
    name = unique_volume_name(pod, "dshm", taken)
    ops = add_volume_and_mount_ops(c, {"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": want}},
                                   {"name": name, "mountPath": "/dev/shm"})
    return Fix(Applicability.SAFE, tuple(ops), f"Mount a {want} memory-backed emptyDir at /dev/shm")


def _stalled(nccl: bool) -> str:
    return "NCCL and vLLM workers" if nccl else "vLLM's shared-memory broadcast between workers"


def _from_runtime(c: Container, source: "ModelRuntime", settings: Settings, fix: Fix,
                  nccl: bool) -> Iterator[Violation]:
    """A predictor's `model` that mounts no /dev/shm gets its runtime's, if the runtime has one."""
    want = format_bytes(settings.shm_min)
    runtime = source.runtime
    if runtime is None:
        amount = f"{want} or more" if nccl else "an emptyDir"
        yield Violation(f"the predictor mounts no /dev/shm and {source.unresolved}: unless that runtime mounts "
                        f"{amount} in memory there, {'NCCL stalls' if nccl else 'vLLM stalls'} on the 64Mi "
                        "default — mount one here", c.pointer, fix)
        return
    if runtime.host_ipc:
        return  # the runtime's hostIPC reaches the pod (MergePodSpec): the host's /dev/shm
    if runtime.shm is None:
        yield Violation(f"no /dev/shm mount in the predictor nor in its {source.label}: the 64Mi default stalls "
                        f"{_stalled(nccl)} — mount an emptyDir with medium: Memory and sizeLimit: {want}",
                        c.pointer, fix)
        return
    problems = _volume_problems(merged_runtime_volume(runtime.shm, c), settings, nccl)
    if problems:
        the = "the " if source.auto_selected else ""
        yield Violation(f"/dev/shm comes from {the}{source.label}'s volume {runtime.shm.volume_name!r}, which "
                        f"{' and '.join(problems)}; {_needs(nccl, want)} — mount an emptyDir with "
                        f"medium: Memory and sizeLimit: {want} in the predictor, or fix the runtime",
                        c.pointer, fix)


def _needs(nccl: bool, want: str) -> str:
    return f"NCCL needs {want} or more in memory" if nccl else "vLLM's shared-memory broadcast needs it in memory"


def _volume_problems(volume: dict | None, settings: Settings, nccl: bool = True) -> list[str]:
    """What keeps a runtime's /dev/shm volume from holding NCCL's and vLLM's buffers (only the
    medium counts off GPUs: the size floor is NCCL's)."""
    if volume is None:
        return ["the runtime does not define"]
    empty = volume.get("emptyDir")
    if not isinstance(empty, dict):
        return ["is not an emptyDir" if empty is None else "is an emptyDir with no medium nor sizeLimit"]
    problems = []
    if empty.get("medium") != "Memory":
        problems.append(f"has medium {empty['medium']!r}" if isinstance(empty.get("medium"), str) and empty["medium"]
                        else "is disk-backed")
    size = parse_quantity(empty.get("sizeLimit"))
    if not nccl:
        return problems
    if size is None:
        problems.append("has no sizeLimit")
    elif size < settings.shm_min:
        problems.append(f"has a sizeLimit of {empty['sizeLimit']} only")
    return problems
