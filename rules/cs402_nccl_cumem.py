"""## What it does
Checks that a GPU engine container sets `NCCL_CUMEM_ENABLE=0`.

## Why it matters for cold start
With cuMem allocations enabled, NCCL's initialisation can hang or fail inside containers
(missing IPC permissions, small `/dev/shm`), so tensor-parallel engines never get past
communicator setup. `/dev/shm` as a memory emptyDir ≥ 16Gi plus `NCCL_CUMEM_ENABLE=0` is the
known-good pair.

**Caveat — multi-node NVLink (GB200/NVL72, MNNVL):** multi-node NVLink needs cuMem; there
`NCCL_CUMEM_ENABLE=0` disables it. Switch the rule off for such workloads:
`cslint.io/ignore: "CS402 -- GB200 multi-node NVLink"` on the object, or `ignore: [CS402]` in
the config.

## Example
```yaml
env: []
```

## Use instead
```yaml
env:
  - name: NCCL_CUMEM_ENABLE
    value: "0"
```

## Fix safety
Safe: adds (or corrects) the variable, written as the string `"0"`.
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import set_env_ops
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS402", name="nccl-cumem-enabled", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="NCCL_CUMEM_ENABLE=0 is not set", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, gpu_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    entry = c.env.get("NCCL_CUMEM_ENABLE")
    if entry is not None and (entry[1] is None or entry[1].strip() == "0"):
        return
    if entry is None and c.has_env_from:
        return
    fix = Fix(Applicability.SAFE, tuple(set_env_ops(c, {"NCCL_CUMEM_ENABLE": "0"})), 'Set NCCL_CUMEM_ENABLE="0"')
    if entry is None:
        yield Violation('NCCL_CUMEM_ENABLE is not set: NCCL init can hang in containers — set NCCL_CUMEM_ENABLE: "0"',
                        c.at("env") if "env" in c.data else c.pointer, fix)
    else:
        yield Violation(f'NCCL_CUMEM_ENABLE is {entry[1]!r}: NCCL init can hang in containers — set it to "0"',
                        c.at("env", entry[0], "value"), fix)
