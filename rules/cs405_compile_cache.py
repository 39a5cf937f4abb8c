"""## What it does
Checks that the engine's cache root — `VLLM_CACHE_ROOT`, else `$XDG_CACHE_HOME/vllm`, else
`$HOME/.cache/vllm` (`/root/.cache/vllm` by default) — is on a writable persistent volume
(a PersistentVolumeClaim, or NFS/CSI/hostPath storage). An engine run eager (`--enforce-eager`
or `-O0`) compiles nothing and passes. A LeaderWorkerSet worker that joins the leader's Ray
cluster (vLLM's `multi-node-serving.sh worker`) compiles its own ranks of the leader's engine, so
its cache is checked too, with the leader's arguments deciding whether anything is compiled. On TPU the directory is XLA's persistent cache instead:
`VLLM_XLA_CACHE_PATH`, else `$XDG_CACHE_HOME/vllm/xla_cache`, else
`$HOME/.cache/vllm/xla_cache` (vLLM does not put it under `VLLM_CACHE_ROOT`).

## Why it matters for cold start
vLLM stores torch.compile and Inductor artifacts there. On the container filesystem or an
emptyDir they vanish with the pod, so every wake recompiles: tens of seconds on small models,
many minutes on large ones. (CUDA graphs are captured at every start regardless.)

## Example
```yaml
volumeMounts:
  - {name: cache, mountPath: /root/.cache}   # an emptyDir
```

## Use instead
```yaml
volumes:
  - name: vllm-cache
    persistentVolumeClaim: {claimName: vllm-cache}
volumeMounts:
  - {name: vllm-cache, mountPath: /root/.cache/vllm}
```

## Fix safety
Unsafe: mounts the claim named by `cache-claim` (default `vllm-cache`), which must exist.
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import add_volume_and_mount_ops, op_replace, unique_volume_name
from cslint.settings import Settings
from cslint.weights import compile_cache, volume_source_type
from cslint.workloads import Container

META = RuleMeta(code="CS405", name="compile-cache-ephemeral", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="The compile cache is not on a persistent volume", scope=Scope.CONTAINER,
                fix=FixAvailability.SOMETIMES, engine_only=True, docs=__doc__)
WRITABLE_PERSISTENT = ("persistentVolumeClaim", "nfs", "csi", "hostPath")


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    served = c if c.engine_args is not None else c.group_leader  # an LWS worker compiles the leader's
    if served is None or served.engine_args.eager:
        return  # eager: nothing is compiled, nothing to keep
    root, what_cache = compile_cache(c)
    found = c.mount_covering(root)
    claim = {"claimName": settings.cache_claim}
    if found is None:
        name = unique_volume_name(c.template, "vllm-cache")
        ops = add_volume_and_mount_ops(c, {"name": name, "persistentVolumeClaim": claim},
                                       {"name": name, "mountPath": root})
        yield Violation(f"{what_cache} {root} is on the container filesystem: every wake recompiles — mount a "
                        f"PersistentVolumeClaim there", c.pointer,
                        Fix(Applicability.UNSAFE, tuple(ops), f"Mount PVC {settings.cache_claim} at {root}"))
        return
    index, mount, volume = found
    kind = volume_source_type(volume)
    if kind in WRITABLE_PERSISTENT and not mount.get("readOnly"):
        return
    what = "read-only" if kind in WRITABLE_PERSISTENT else (kind or "an undeclared volume")
    fix = None
    if volume is not None and mount["mountPath"].rstrip("/") == root.rstrip("/"):
        vi = c.template.volumes[volume["name"]][0]
        fix = Fix(Applicability.UNSAFE, (op_replace(c.template.at("volumes", vi),
                                                    {"name": volume["name"], "persistentVolumeClaim": claim}),),
                  f"Back {root} with PVC {settings.cache_claim}")
    elif volume is not None:
        name = unique_volume_name(c.template, "vllm-cache")
        fix = Fix(Applicability.UNSAFE, tuple(add_volume_and_mount_ops(
            c, {"name": name, "persistentVolumeClaim": claim}, {"name": name, "mountPath": root})),
            f"Mount PVC {settings.cache_claim} at {root}")
    yield Violation(f"{what_cache} {root} is on {what} ({mount['mountPath']}): it is lost on every wake — "
                    "use a writable PersistentVolumeClaim", c.at("volumeMounts", index), fix)
