"""## What it does
Checks `--gpu-memory-utilization` (any spelling: `--gpu_memory_utilization`, `=` form, the
`--device-memory-utilization` alias) against a ceiling of 0.8 (`gpu-memory-utilization-max`),
and reports it when absent: vLLM's default is 0.9, and 0.92 since v0.20.

For a RayService deploying Ray Serve LLM, the value is `gpu_memory_utilization` in the
`engine_kwargs` of each llm_config of `serveConfigV2`: one above the ceiling is reported where it
is written, inside that string, with no fix; an absent one is not (Ray's own default applies).

## Why it matters for cold start
vLLM pre-allocates that fraction of VRAM for weights and KV cache during startup. CUDA graph
capture, NCCL buffers, torch.compile workspaces and anything else on the GPU need the rest: above
~0.8 startup runs out of memory during profiling or capture, and the pod crash-loops instead of
serving.

## Example
```yaml
args: ["--gpu-memory-utilization", "0.95"]
```

## Use instead
```yaml
args: ["--gpu-memory-utilization", "0.8"]
```

## Fix safety
Safe: sets the value to the ceiling in place, in the form it was written, or adds the flag.
Unsafe when the flag is missing and `--config FILE` is given: the file may set the value, and a
flag on the command line overrides it.
When `--kv-cache-memory-bytes` is set the utilization is ignored and the rule is silent.
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.vllm_fixes import append_flags_ops, set_flag_value_ops
from cslint.workloads import Container

META = RuleMeta(code="CS403", name="gpu-memory-utilization-too-high", lever=Lever.RUNTIME, severity=Severity.ERROR,
                summary="--gpu-memory-utilization is above 0.8 or left at vLLM's default", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, gpu_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    if args is None and c.template.engine_hint == "ray-serve-llm":
        yield from _ray_serve_llm(c, settings)
        return
    if args is None or args.has("kv-cache-memory-bytes"):
        return
    ceiling = settings.gpu_memory_utilization_max
    text = f"{ceiling:g}"
    flag = args.get("gpu-memory-utilization")
    if flag is None:
        # the command line beats the file: adding the flag would override what the file sets
        in_file = args.reads_config_file
        note = " (unless the --config file sets it: cslint does not read it)" if in_file else ""
        fix = Fix(Applicability.UNSAFE if in_file else Applicability.SAFE,
                  tuple(append_flags_ops(args, ["--gpu-memory-utilization", text])),
                  f"Add --gpu-memory-utilization {text}")
        yield Violation(f"--gpu-memory-utilization is not set, so vLLM takes 0.9 (0.92 from v0.20) of VRAM and "
                        f"starves startup{note} — set --gpu-memory-utilization {text}", _anchor(c, args), fix)
        return
    try:
        value = float(flag.value_text or "")
    except ValueError:
        return
    if value <= ceiling:
        return
    tok = flag.value or flag.token
    fix = Fix(Applicability.SAFE, tuple(set_flag_value_ops(args, flag, text)),
              f"Set --gpu-memory-utilization to {text}")
    yield Violation(f"{flag.spelling} {flag.value_text} leaves too little VRAM for CUDA graphs and NCCL during "
                    f"startup — use at most {text}", tok.path, fix, span=tok.span)


def _anchor(c: Container, args) -> str:  # noqa: ANN001
    if args.tokens:
        return args.tokens[0].path
    return c.at("args") if "args" in c.data else c.pointer


def _ray_serve_llm(c: Container, settings: Settings) -> Iterator[Violation]:
    """Ray Serve LLM passes `engine_kwargs` of its serve config to vLLM: a value above the ceiling
    is reported where it is written, once per RayService (by its first engine container). Left
    unset, Ray's own default applies, which cslint does not know: no finding. No fix: the value
    sits inside the serve config's string."""
    owner = c.template.owner
    first = next((o for t in owner.templates for o in t.containers if o.is_engine), None)
    if first is not c:
        return
    from cslint.rayserve import llm_engine_kwargs
    ceiling = settings.gpu_memory_utilization_max
    for kwargs in llm_engine_kwargs(owner.spec.get("serveConfigV2")):
        kwarg = kwargs.get("gpu_memory_utilization")
        if kwarg is None or isinstance(kwarg.value, bool) or not isinstance(kwarg.value, (int, float)):
            continue
        if kwarg.value > ceiling:
            yield Violation(f"gpu_memory_utilization {kwarg.value:g} in the Ray Serve LLM engine_kwargs leaves too "
                            f"little VRAM for CUDA graphs and NCCL during startup — use at most {ceiling:g}",
                            owner.at("spec", "serveConfigV2"), span=kwarg.span)
