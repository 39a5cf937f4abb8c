"""## What it does
Compares an engine's GPU request (`nvidia.com/gpu` or `amd.com/gpu`) with the GPUs its
arguments use: `--tensor-parallel-size × --pipeline-parallel-size` (× the local
data-parallel size: 1 with `--data-parallel-rank`, where each server is one rank behind an
external load balancer, else `--data-parallel-size-local` or `--data-parallel-size`). For a
LeaderWorkerSet the group's GPUs count (leader + `size - 1` workers); for a Ray head running
vLLM, the cluster's (head + each worker group's `replicas`). Pods that request no GPU, and
TPU or Neuron engines, are out of scope, as are sizes set in a `--config` file and vllm-omni's
per-stage placement (`--omni`).

## Why it matters for cold start
Fewer GPUs than the parallel layout needs and the engine fails after the image pull and
model download, at worker start; more GPUs than it uses hold idle accelerators and make the
scheduler wait for a larger node than needed.

## Example
```yaml
args: ["--tensor-parallel-size", "4"]
resources: {limits: {nvidia.com/gpu: 2}}
```

## Use instead
```yaml
args: ["--tensor-parallel-size", "4"]
resources: {limits: {nvidia.com/gpu: 4}}
```
"""
from typing import Iterator

from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.workloads import GPU_RESOURCES, Container, K8sObject, PodTemplate, as_dict

META = RuleMeta(code="CS505", name="gpu-count-mismatch", lever=Lever.CONFIG, severity=Severity.WARNING,
                summary="The GPU request differs from tensor × pipeline parallel size",
                scope=Scope.CONTAINER, fix=FixAvailability.NONE, engine_only=True, gpu_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    if args is None or not args.entrypoint or args.config_files or args.has("omni"):
        return  # sizes in a --config file, or vllm-omni's per-stage placement: not visible here
    resource = next((r for r in GPU_RESOURCES if c.resource_count(r)), None)
    if resource is None:
        return
    factors = [_size(args, "tensor-parallel-size"), _size(args, "pipeline-parallel-size"), _dp_local(args)]
    if any(f is None for f in factors):
        return  # a templated or malformed size: nothing to compare
    wanted = factors[0] * factors[1] * factors[2]
    have, scope = group_gpus(c, resource)
    if have is None or have == wanted:
        return
    layout = f"tensor {factors[0]} × pipeline {factors[1]}" + (f" × data {factors[2]}" if factors[2] != 1 else "")
    res = as_dict(c.data.get("resources"))
    section = "limits" if resource in as_dict(res.get("limits")) else "requests"
    verb = "fails at worker start" if have < wanted else "leaves GPUs idle"
    yield Violation(f"{scope} {have} {resource} but the engine's layout ({layout}) uses {wanted}: the start {verb}",
                    c.at("resources", section, resource))


def _size(args, name: str) -> int | None:  # noqa: ANN001
    flag = args.get(name)
    if flag is None:
        return 1
    text = (flag.value_text or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _dp_local(args) -> int | None:  # noqa: ANN001
    if args.has("data-parallel-rank"):  # external load balancing: this server is one rank
        return 1
    return _size(args, "data-parallel-size-local") if args.has("data-parallel-size-local") \
        else _size(args, "data-parallel-size")


def group_gpus(c: Container, resource: str) -> tuple[int | None, str]:
    """GPUs the engine can reach: its own, or its multi-node group's."""
    tpl, obj = c.template, c.template.owner
    own = c.resource_count(resource)
    if obj.kind == "LeaderWorkerSet":
        group = as_dict(obj.spec.get("leaderWorkerTemplate"))
        size = group.get("size", 1)
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return None, ""
        if size > 1:
            worker = _sibling(obj, "worker")
            per_worker = worker.requested(resource) if worker is not None else 0
            leader = own if tpl.role == "leader" else per_worker
            return leader + (size - 1) * per_worker, f"the group of {size} pods requests"
    if obj.kind in ("RayCluster", "RayService", "RayJob") and tpl.role == "head":
        total = own + sum(_ray_group_gpus(obj, resource))
        return total, "the Ray cluster requests"
    return own, "the container requests"


def _sibling(obj: K8sObject, role: str) -> PodTemplate | None:
    return next((t for t in obj.templates if t.role == role), None)


def _ray_group_gpus(obj: K8sObject, resource: str) -> Iterator[int]:
    for tpl in obj.templates:
        if not tpl.role.startswith("worker"):
            continue
        group = tpl.group
        replicas = group.get("replicas", group.get("minReplicas", 0))
        if isinstance(replicas, int) and not isinstance(replicas, bool):
            yield replicas * tpl.requested(resource)
