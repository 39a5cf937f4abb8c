"""## What it does
Checks that a GPU engine container sets `NCCL_CUMEM_ENABLE=0`.

## Why it matters for cold start
With cuMem allocations enabled, NCCL's initialisation can hang or fail inside containers
(missing IPC permissions, small `/dev/shm`), so tensor-parallel engines never get past
communicator setup. `/dev/shm` as a memory emptyDir ≥ 16Gi plus `NCCL_CUMEM_ENABLE=0` is the
known-good pair. vLLM itself forced the variable to 0 from May 2024 (PR #5091, cuMem cost memory
during CUDA-graph capture) until PR #24141 (September 2025) dropped the override once NCCL 2.22.3
fixed that: images since then run with cuMem on unless the manifest says otherwise.

So an official vLLM image whose tag names a release from 0.5.0 through 0.10.1 passes when the
manifest leaves the variable unset: that vLLM sets it to 0 itself when it starts. The bounds are
the releases certainly on each side of the two PRs (0.4.3 and 0.10.2 may or may not carry the
override, so they are checked like every other image); a value the manifest sets is still
judged, since vLLM respects an explicit one from 0.9.1 on (PR #19105).

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

from cslint.declarative import declare
from cslint.model import Violation
from cslint.settings import Settings
from cslint.vllm_entrypoints import vllm_release
from cslint.workloads import Container

# Releases whose `import vllm` sets NCCL_CUMEM_ENABLE=0 when the environment leaves it unset
OVERRIDING_RELEASES = ((0, 5, 0), (0, 10, 1))

# Declarative: a required env var with a value is exactly what `declare` expresses, so the
# mechanism behind custom rules (custom_rules.py) is exercised by our own pack. `valueFrom` and
# `envFrom` are unknowable statically and pass, as an env selector's unknown values always do.
META, _declared = declare({
    "code": "CS402", "name": "nccl-cumem-enabled", "lever": "runtime", "severity": "warning",
    "summary": "NCCL_CUMEM_ENABLE=0 is not set",
    "scope": "container", "match": {"engine": True, "gpu": True},
    "env": "NCCL_CUMEM_ENABLE",
    "require": {"matches": r"\s*0\s*"},
    "message": 'NCCL_CUMEM_ENABLE is {value!r}: NCCL init can hang in containers — set it to "0"',
    "missing-message": 'NCCL_CUMEM_ENABLE is not set: NCCL init can hang in containers — set NCCL_CUMEM_ENABLE: "0"',
    "fix": {"set": "0", "safe": True, "title": 'Set NCCL_CUMEM_ENABLE="0"'},
}, __doc__, builtin=True)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    release = vllm_release(c.image)
    first, last = OVERRIDING_RELEASES
    if release is not None and first <= release <= last and "NCCL_CUMEM_ENABLE" not in c.env:
        return  # that vLLM sets it to 0 itself
    yield from _declared(c, settings)
