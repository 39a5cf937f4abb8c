"""## What it does
Checks that an engine container runs Hugging Face fully offline: `HF_HUB_OFFLINE` set to a true
value (`1`, `ON`, `YES`, `TRUE`) and `TRANSFORMERS_OFFLINE` set.

## Why it matters for cold start
Online, every start asks the Hub for the model's file list and revisions before loading anything
from a local cache: seconds to minutes per wake, and a hard dependency on the Hub being up and
not rate-limiting. Note that `HF_HUB_OFFLINE=0` wins over `TRANSFORMERS_OFFLINE=1`.

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
from cslint.weights import env_true, model_source, weights_are_local
from cslint.workloads import Container

META = RuleMeta(code="CS101", name="hf-offline-unset", lever=Lever.WEIGHTS, severity=Severity.WARNING,
                summary="The engine does not run Hugging Face fully offline", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    hub, tf = c.env.get("HF_HUB_OFFLINE"), c.env.get("TRANSFORMERS_OFFLINE")
    hub_ok = hub is not None and (hub[1] is None or env_true(hub[1]))  # valueFrom: cannot know
    tf_ok = tf is not None
    if hub_ok and tf_ok:
        return
    if c.has_env_from and (hub is None or tf is None) and not (hub and not hub_ok):
        return  # may come from the ConfigMap/Secret: do not guess
    problems = []
    if hub is None:
        problems.append("HF_HUB_OFFLINE is not set")
    elif not hub_ok:
        problems.append(f"HF_HUB_OFFLINE is {hub[1]!r}")
    if not tf_ok:
        problems.append("TRANSFORMERS_OFFLINE is not set")
    path = c.at("env", hub[0], "value") if hub is not None and not hub_ok else (c.at("env") if "env" in c.data else c.pointer)
    fix = _fix(c)
    then = "" if fix is not None else "mount the weights locally (CS102), then "
    yield Violation(f"{' and '.join(problems)}: every start asks the Hugging Face Hub before loading — "
                    f'{then}set HF_HUB_OFFLINE: "1" and TRANSFORMERS_OFFLINE: "1"', path, fix)


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
