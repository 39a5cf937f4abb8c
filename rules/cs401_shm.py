"""## What it does
Checks that an engine container mounts `/dev/shm` from an `emptyDir` with `medium: Memory` and a
`sizeLimit` of at least 16Gi (configurable as `shm-min`). A pod with `hostIPC: true` uses the
host's `/dev/shm` (what vLLM's docs offer as `--ipc=host`) and passes when it mounts none.

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
Safe: adds the `dshm` volume and its mount, or sets the existing emptyDir's medium and size.
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import add_volume_and_mount_ops, set_key_ops, unique_volume_name
from cslint.quantity import format_bytes
from cslint.runtime import shm_of
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS401", name="shm-too-small", lever=Lever.RUNTIME, severity=Severity.ERROR,
                summary="/dev/shm is missing, disk-backed or below 16Gi", scope=Scope.CONTAINER,
                fix=FixAvailability.SOMETIMES, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    want = format_bytes(settings.shm_min)
    shm = shm_of(c)
    pod = c.template
    if shm is None:
        if pod.spec.get("hostIPC") is True:
            return  # the host's IPC namespace and its /dev/shm (vLLM's own advice: `--ipc=host`)
        name = unique_volume_name(pod, "dshm")
        ops = add_volume_and_mount_ops(
            c, {"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": want}},
            {"name": name, "mountPath": "/dev/shm"})
        yield Violation(f"no /dev/shm mount: the runtime's 64Mi default stalls NCCL and vLLM workers — mount an "
                        f"emptyDir with medium: Memory and sizeLimit: {want}", c.pointer,
                        Fix(Applicability.SAFE, tuple(ops), f"Mount a {want} memory-backed emptyDir at /dev/shm"))
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
    if shm.size_limit is None or shm.size_limit < settings.shm_min:
        ops += set_key_ops(vol_path, empty, "sizeLimit", want)
        problems.append(f"sizeLimit is {shm.size_text}" if shm.size_text else "no sizeLimit")
    if not problems:
        return
    target = vol_path + ("/sizeLimit" if "sizeLimit" in empty else "")
    yield Violation(f"/dev/shm {' and '.join(problems)}; NCCL needs ≥ {want} in memory — set emptyDir.medium: "
                    f"Memory and sizeLimit: {want}", target, Fix(Applicability.SAFE, tuple(ops),
                                                                 f"Set the /dev/shm emptyDir to Memory, {want}"))
