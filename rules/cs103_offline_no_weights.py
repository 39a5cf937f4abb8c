"""## What it does
Finds engines that run Hugging Face offline (`HF_HUB_OFFLINE` true, or `TRANSFORMERS_OFFLINE`
true with `HF_HUB_OFFLINE` unset: huggingface_hub reads the second as an alias of the first) while
the model is a Hub id in the engine's arguments and nothing is mounted where the HF cache is. A
KServe `storageUri: hf://…` is fetched by the storage initializer, not the engine: not this rule's.

## Why it matters for cold start
Offline mode forbids the download the engine needs: the pod fails at startup, every time, and a
scale-from-zero never completes.

## Example
```yaml
args: ["--model", "Qwen/Qwen3-8B"]
env: [{name: HF_HUB_OFFLINE, value: "1"}]
```

## Use instead
Mount the weights (a PVC at `HF_HOME`, or a modelcar) or drop the Hub id for a local path.

## Fix safety
No fix.
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.weights import hf_cache_dirs, hub_offline, hub_offline_setting, model_source
from cslint.workloads import Container

META = RuleMeta(code="CS103", name="offline-without-local-weights", lever=Lever.WEIGHTS, severity=Severity.ERROR,
                summary="Offline mode is on but the Hub model has no local weights", scope=Scope.CONTAINER,
                engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    if not hub_offline(c):
        return
    src = model_source(c)
    if src.kind != "hub" or src.fetched_for_engine:
        return
    if any(c.mount_covering(d) is not None for d in hf_cache_dirs(c)):
        return
    by = "=".join(hub_offline_setting(c))  # offline, so a literal decides
    yield Violation(f"Hugging Face offline mode is on ({by}) but model {src.ref!r} is a Hub id and nothing is mounted "
                    f"at the HF cache ({hf_cache_dirs(c)[-1]}): startup will fail — mount the weights there",
                    src.path or c.pointer, span=src.span)

