"""## What it does
Reports engines that load weights with a format other than the Run:ai Model Streamer
(`--load-format runai_streamer` or `runai_streamer_sharded`). Information only.

## Why it matters for cold start
The streamer reads safetensors with many concurrent readers straight into GPU memory, overlapping
storage reads with transfers; the default loader reads tensor by tensor. On a 30–70 GB model the
difference is a large share of the weight-load lever.

## Example
```yaml
args: ["--model", "/models/llama", "--load-format", "safetensors"]
```

## Use instead
```yaml
args: ["--model", "/models/llama", "--load-format", "runai_streamer"]
```
Mind its CPU buffer (40 GB by default) against the memory limit (CS406).

## Fix safety
No fix: the streamer needs `vllm[runai]` in the image and safetensors weights.
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.runtime import RUNAI_FORMATS
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS105", name="weights-not-streamed", lever=Lever.WEIGHTS, severity=Severity.INFO,
                summary="Weights are not loaded with the Run:ai streamer", scope=Scope.CONTAINER,
                engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    if args is None or args.entrypoint == "kserve-huggingface" and not args.has("load-format"):
        return
    flag = args.get("load-format")
    value = (flag.value_text or "") if flag else "auto"
    if value.lower() in RUNAI_FORMATS:
        return
    if flag is not None and flag.value is not None:
        tok = flag.value
        yield Violation(f"weights load with --load-format {value}: use runai_streamer to stream safetensors "
                        "concurrently into GPU memory", tok.path, span=tok.span)
    else:
        note = " (unless the --config file sets it: cslint does not read it)" if args.reads_config_file else ""
        yield Violation(f"weights load with the default loader{note}: add --load-format runai_streamer to stream "
                        "safetensors concurrently into GPU memory", _args_path(c))


def _args_path(c: Container) -> str:
    return c.at("args") if "args" in c.data else (c.at("command") if "command" in c.data else c.pointer)
