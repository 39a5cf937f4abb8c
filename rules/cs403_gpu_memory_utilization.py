"""## What it does
Checks `--gpu-memory-utilization` (any spelling: `--gpu_memory_utilization`, `=` form, the
`--device-memory-utilization` alias) against a ceiling of 0.8 (`gpu-memory-utilization-max`),
and reports it when absent: vLLM's default is 0.9, and 0.92 since v0.20.

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
