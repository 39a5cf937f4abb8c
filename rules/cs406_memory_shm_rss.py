"""## What it does
Checks that an engine container's memory limit covers `/dev/shm` (its sizeLimit; a missing one
counts as the 16Gi minimum; a KServe predictor's `model` without a mount of its own runs with its
runtime's, when the runtime is in the run), the engine's own RSS (`engine-rss`, 8Gi by default)
and, when weights load with the Run:ai streamer, its CPU buffer (`RUNAI_STREAMER_MEMORY_LIMIT` or
`memory_limit` in `--model-loader-extra-config`, else its 40 GB default).

## Why it matters for cold start
A memory-backed emptyDir is tmpfs: what NCCL writes there counts against the container's memory
limit. A limit below shm + RSS gets the pod OOM-killed during startup — exactly when shm and the
loader's buffers peak — and the wake starts over.

## Example
```yaml
resources: {limits: {memory: 16Gi}}   # with a 16Gi /dev/shm
```

## Use instead
```yaml
resources: {limits: {memory: 24Gi}}   # 16Gi shm + 8Gi engine
```

## Fix safety
Unsafe: raises the limit, which may no longer fit the node.
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import set_resource_ops
from cslint.quantity import ceil_to_gi, format_bytes
from cslint.runtime import memory_limit, pod_shm, streamer_buffer
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS406", name="memory-below-shm-plus-rss", lever=Lever.RUNTIME, severity=Severity.ERROR,
                summary="The memory limit is below /dev/shm + engine RSS (+ streamer buffer)",
                scope=Scope.CONTAINER, fix=FixAvailability.ALWAYS, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    limit, raw = memory_limit(c)
    if limit is None:
        return
    shm = pod_shm(c)
    if shm is not None and not shm.memory_backed:
        shm_bytes, shm_text = 0, "0 (disk-backed)"
    elif shm is not None and shm.size_limit is not None:
        # below the minimum, CS401's fix raises it: budget for what the pod will have
        shm_bytes = max(shm.size_limit, settings.shm_min)
        shm_text = shm.size_text if shm.size_limit >= settings.shm_min else \
            f"{format_bytes(settings.shm_min)} (its {shm.size_text} raised to the minimum)"
    else:
        shm_bytes, shm_text = settings.shm_min, f"{format_bytes(settings.shm_min)} (minimum)"
    if shm is not None and shm.origin:
        shm_text += f" from {shm.origin}"
    buffer = streamer_buffer(c)
    need = shm_bytes + settings.engine_rss + buffer
    if limit >= need:
        return
    parts = f"shm {shm_text} + engine {format_bytes(settings.engine_rss)}"
    if buffer:
        parts += f" + streamer buffer {format_bytes(buffer)}"
    new = ceil_to_gi(need)
    fix = Fix(Applicability.UNSAFE, tuple(set_resource_ops(c, "limits", "memory", new)),
              f"Raise the memory limit to {new}")
    yield Violation(f"memory limit {raw} is below {parts} = {format_bytes(need)}: tmpfs counts against the limit "
                    f"and startup gets OOM-killed — raise it to at least {new}",
                    c.at("resources", "limits", "memory"), fix)
