"""What a manifest does on each cold-start lever, in words, for `explain-cold-start`.

Facts only: what the fields say and the numbers they give. The costs come from the findings.
"""
from __future__ import annotations

from .images import effective_pull_policy, parse_image
from .model import Lever
from .registries import registry_location
from .runtime import memory_limit, pod_shm, probe_budget
from .warmbuffer import COMPUTE_CLASS_LABEL, AcceleratedEngine, WarmBuffer, node_selector, serves
from .weights import compile_cache, has_persistent_mount, hub_offline, hf_cache_dirs, model_source
from .workloads import ACCELERATOR_RESOURCES, Container

_SOURCES = {"hub": "the Hugging Face Hub", "local": "a local path", "oci": "an OCI image (modelcar)",
            "object-store": "object storage", "unknown": "a source the manifest does not show"}


def lever_facts(lever: Lever, c: Container, reason: str | None, buffers: list[WarmBuffer]) -> list[str]:
    return {Lever.WEIGHTS: _weights, Lever.IMAGE: _image, Lever.RUNTIME: _runtime, Lever.CONFIG: _config,
            }.get(lever, lambda c: _node(c, buffers))(c)


def _flag(c: Container, name: str) -> str | None:
    args = c.engine_args
    flag = args.get(name) if args else None
    return None if flag is None else (flag.value_text if flag.value_text is not None else "")


def _weights(c: Container) -> list[str]:
    src = model_source(c)
    facts = [f"model {src.ref or '?'} from {_SOURCES.get(src.kind, src.kind)}"]
    if src.kind == "hub":
        for d in hf_cache_dirs(c):
            kept = "on a persistent volume" if has_persistent_mount(c, d) else "not on a persistent volume"
            facts.append(f"Hub cache {d} is {kept}")
        if hub_offline(c):
            facts.append("Hugging Face offline mode is on")
    fmt = _flag(c, "load-format")
    facts.append(f"--load-format {fmt}" if fmt else "load format: vLLM default (auto)")
    return facts


def _image(c: Container) -> list[str]:
    ref = parse_image(c.image)
    if ref is None:
        return [f"image {c.image or '(none)'} is not a plain reference"]
    pinned = "pinned by digest" if ref.is_pinned else f"tag {ref.tag or 'latest (implicit)'}, not pinned"
    policy = effective_pull_policy(c.image, c.data.get("imagePullPolicy"))
    where = registry_location(ref.registry)
    place = f" ({where.service}, {where.location})" if where and where.location else ""
    return [f"image {c.image}: {pinned}", f"pull policy {policy}", f"registry {ref.registry}{place}"]


def _node(c: Container, buffers: list[WarmBuffer]) -> list[str]:
    tpl = c.template
    facts = []
    for res in ACCELERATOR_RESOURCES:
        count = tpl.requested(res)
        if not count:
            continue
        engine = AcceleratedEngine(tpl.owner, tpl, c, res, count)
        held = [b.obj.name or "-" for b in buffers if serves(b, engine)]
        facts.append(f"requests {count} {res} per pod; warm buffer: {', '.join(held) if held else 'none in the set'}")
    selector = node_selector(tpl)
    if selector:
        facts.append("nodeSelector " + ", ".join(f"{k}={v}" for k, v in selector.items()))
    if COMPUTE_CLASS_LABEL not in selector and any(tpl.requested(r) for r in ACCELERATOR_RESOURCES):
        facts.append("no ComputeClass selected")
    return facts or ["no accelerator requested"]


def _runtime(c: Container) -> list[str]:
    facts = []
    shm = pod_shm(c)
    if shm is None:
        facts.append("/dev/shm not mounted (container runtime default 64Mi)")
    else:
        origin = f", from {shm.origin}" if shm.origin else ""
        facts.append(f"/dev/shm {shm.size_text or 'without sizeLimit'} ({shm.medium or 'disk'}-backed{origin})")
    limit, raw = memory_limit(c)
    facts.append(f"memory limit {raw}" if limit is not None else "no memory limit")
    startup = c.data.get("startupProbe")
    if isinstance(startup, dict):
        facts.append(f"startupProbe budget {probe_budget(startup)}s")
    else:
        live = c.data.get("livenessProbe")
        facts.append("no startupProbe" + (f"; livenessProbe allows {probe_budget(live)}s" if isinstance(live, dict) else ""))
    eager = _flag(c, "enforce-eager")
    level = _flag(c, "optimization-level")
    facts.append("--enforce-eager (no compile, no CUDA graphs)" if eager is not None else
                 f"-O{level}" if level else "torch.compile and CUDA-graph capture (vLLM default)")
    root, what = compile_cache(c)
    kept = "on a persistent volume" if has_persistent_mount(c, root) else "not on a persistent volume"
    facts.append(f"{what} {root} is {kept}")
    return facts


def _config(c: Container) -> list[str]:
    sizes = [f"--{n} {_flag(c, n)}" for n in ("tensor-parallel-size", "pipeline-parallel-size") if _flag(c, n)]
    return sizes
