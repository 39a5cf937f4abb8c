"""## What it does
Finds engine containers with a memory-backed `/dev/shm` and no memory limit. A KServe
predictor's `model` that mounts no `/dev/shm` itself runs with its runtime's (when the runtime is
in the run), so that one counts.

## Why it matters for cold start
Without a limit the tmpfs is bounded only by the node: a runaway shm use evicts the pod (or its
neighbours) under node memory pressure, typically mid-startup, and the wake starts over. A limit
makes the budget explicit and checkable (CS406).

## Example
```yaml
resources: {limits: {nvidia.com/gpu: 1}}
```

## Use instead
```yaml
resources: {limits: {nvidia.com/gpu: 1, memory: 24Gi}}
```

## Fix safety
No fix: the right limit depends on the model and node.
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.runtime import memory_limit, pod_shm
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS407", name="memory-limit-missing", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="Memory-backed /dev/shm without a memory limit", scope=Scope.CONTAINER,
                engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    shm = pod_shm(c)
    if shm is None or not shm.memory_backed:
        return
    limit, raw = memory_limit(c)
    if raw is not None:
        return
    anchor = c.at("resources") if "resources" in c.data else c.pointer
    origin = f" (from {shm.origin})" if shm.origin else ""
    yield Violation(f"memory-backed /dev/shm{origin} but no memory limit: tmpfs is bounded only by the node — set "
                    "resources.limits.memory to cover shm + engine RSS", anchor)
