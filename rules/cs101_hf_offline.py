"""## What it does
Checks that an engine container runs Hugging Face fully offline: `HF_HUB_OFFLINE` set to a true
value (`1`, `ON`, `YES`, `TRUE`) and `TRANSFORMERS_OFFLINE` too. huggingface_hub reads the
second as an alias of the first, so `TRANSFORMERS_OFFLINE` alone is offline and passes; older
transformers releases read only `TRANSFORMERS_OFFLINE`, so `HF_HUB_OFFLINE` alone is reported.

## Why it matters for cold start
Online, every start asks the Hub for the model's file list and revisions before loading anything
from a local cache: seconds to minutes per wake, and a hard dependency on the Hub being up and
not rate-limiting. Note that `HF_HUB_OFFLINE=0` wins over `TRANSFORMERS_OFFLINE=1`. A model
given as a local directory loads without the Hub; offline mode still keeps anything else named
by a Hub id (a tokenizer, an adapter) from reaching the network at start, and the message says
which case it is.

## Example
```yaml
env:
  - name: HF_TOKEN
    valueFrom: {secretKeyRef: {name: hf, key: token}}
```

## Use instead
```yaml
env:
  - name: HF_HUB_OFFLINE
    value: "1"
  - name: TRANSFORMERS_OFFLINE
    value: "1"
```

## Fix safety
Safe when the weights are local (a path, a modelcar, a persistent volume at the HF cache), since
offline mode then changes nothing but the network calls. Unsafe when the manifest does not show
where the model comes from. No fix for a Hub model without local weights: offline mode would make
every start fail (CS103), so mount the weights first (CS102).
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import set_env_ops
from cslint.settings import Settings
from cslint.weights import env_true, hub_offline, model_source, weights_are_local
from cslint.workloads import Container

META = RuleMeta(code="CS101", name="hf-offline-unset", lever=Lever.WEIGHTS, severity=Severity.WARNING,
                summary="The engine does not run Hugging Face fully offline", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    offline = hub_offline(c)
    if offline is None:
        return  # a valueFrom decides, or envFrom may: do not guess
    hub, tf = c.env.get("HF_HUB_OFFLINE"), c.env.get("TRANSFORMERS_OFFLINE")
    tf_on = tf is not None and env_true(tf[1])
    if offline and (tf_on or hub is None or not env_true(hub[1])):
        return  # both on, or offline through TRANSFORMERS_OFFLINE, which every release reads
    if offline and (tf is not None and tf[1] is None or tf is None and c.has_env_from):
        return  # a valueFrom or envFrom may set the alias: do not guess, never overwrite it
    env_path = c.at("env") if "env" in c.data else c.pointer
    if offline:  # through HF_HUB_OFFLINE alone
        wrong = "is not set" if tf is None else f"is {tf[1]!r}"
        path = c.at("env", tf[0], "value") if tf is not None else env_path
        yield Violation(f"TRANSFORMERS_OFFLINE {wrong}: huggingface_hub is offline, but transformers releases "
                        f"that read only TRANSFORMERS_OFFLINE (4.31 among them) still ask the Hub — set "
                        f'TRANSFORMERS_OFFLINE: "1"', path, _alias_fix(c))
        return
    fix = _fix(c)
    problems = []
    for name, entry in (("HF_HUB_OFFLINE", hub), ("TRANSFORMERS_OFFLINE", tf)):
        if entry is None or entry[1] == "":
            problems.append(f"{name} is not set")
        elif not env_true(entry[1]):
            problems.append(f"{name} is {entry[1]!r}")
    if hub is not None and hub[1] and tf_on:
        problems[0] += " (it wins over TRANSFORMERS_OFFLINE)"
    wrong = hub if hub is not None and hub[1] else tf if tf is not None and tf[1] else None
    path = c.at("env", wrong[0], "value") if wrong is not None else env_path
    then = "" if fix is not None else "mount the weights locally (CS102), then "
    if model_source(c).kind == "local":  # a directory: vLLM reads it without asking the Hub
        why = ("the model is a local path, so its weights load without the Hub, but anything named by a Hub id "
               "(a --tokenizer, a LoRA adapter) is still fetched online at start")
    else:
        why = "every start asks the Hugging Face Hub before loading"
    yield Violation(f"{' and '.join(problems)}: {why} — {then}set HF_HUB_OFFLINE: \"1\" and "
                    f'TRANSFORMERS_OFFLINE: "1"', path, fix)


def _fix(c: Container) -> Fix | None:
    """Safe with local weights; none for a Hub model without them (offline mode would fail the start,
    CS103); unsafe when the manifest does not show where the model comes from."""
    source = model_source(c).kind
    local = weights_are_local(c)
    if source == "hub" and not local:
        return None
    ops = tuple(set_env_ops(c, {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}))
    return Fix(Applicability.SAFE if local else Applicability.UNSAFE, ops,
               'Set HF_HUB_OFFLINE="1" and TRANSFORMERS_OFFLINE="1"')


def _alias_fix(c: Container) -> Fix:
    """The Hub is offline already: the alias changes nothing but what older transformers read."""
    return Fix(Applicability.SAFE, tuple(set_env_ops(c, {"TRANSFORMERS_OFFLINE": "1"})),
               'Set TRANSFORMERS_OFFLINE="1"')
