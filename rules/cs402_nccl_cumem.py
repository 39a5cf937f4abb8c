"""## What it does
Checks that a GPU engine container sets `NCCL_CUMEM_ENABLE=0`.

## Why it matters for cold start
With cuMem allocations enabled, NCCL's initialisation can hang or fail inside containers
(missing IPC permissions, small `/dev/shm`), so tensor-parallel engines never get past
communicator setup. `/dev/shm` as a memory emptyDir ≥ 16Gi plus `NCCL_CUMEM_ENABLE=0` is the
known-good pair. vLLM itself forced the variable to 0 from May 2024 (PR #5091, cuMem cost memory
during CUDA-graph capture) until PR #24141 (September 2025) dropped the override once NCCL 2.22.3
fixed that: images since then run with cuMem on unless the manifest says otherwise.

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
from cslint.declarative import declare

# Declarative: a required env var with a value is exactly what `declare` expresses, so the
# mechanism behind custom rules (custom_rules.py) is exercised by our own pack. `valueFrom` and
# `envFrom` are unknowable statically and pass, as an env selector's unknown values always do.
META, check = declare({
    "code": "CS402", "name": "nccl-cumem-enabled", "lever": "runtime", "severity": "warning",
    "summary": "NCCL_CUMEM_ENABLE=0 is not set",
    "scope": "container", "match": {"engine": True, "gpu": True},
    "env": "NCCL_CUMEM_ENABLE",
    "require": {"matches": r"\s*0\s*"},
    "message": 'NCCL_CUMEM_ENABLE is {value!r}: NCCL init can hang in containers — set it to "0"',
    "missing-message": 'NCCL_CUMEM_ENABLE is not set: NCCL init can hang in containers — set NCCL_CUMEM_ENABLE: "0"',
    "fix": {"set": "0", "safe": True, "title": 'Set NCCL_CUMEM_ENABLE="0"'},
}, __doc__, builtin=True)
