"""## What it does
Checks that an engine container's startupProbe, when it has one, allows the cold-start budget
(`startup-budget`, 600 s by default: vLLM's own engine-ready timeout) before it fails — its
budget is `initialDelaySeconds + failureThreshold × periodSeconds`, Kubernetes defaults applied —
and that a container without one has no livenessProbe that fails sooner.

A readinessProbe alone is not reported: its failures take the pod out of the Service's endpoints
and never restart the container (only liveness and startup probes do). vLLM's Kubernetes guide
says a low readiness threshold kills the container; Kubernetes' probe semantics say otherwise.

## Why it matters for cold start
vLLM's `/health` answers only after weights are loaded, memory is profiled and graphs are
captured: minutes for large models. A liveness probe that starts before that kills the container
mid-load ("KeyboardInterrupt: terminated"), and the pod restarts its cold start forever.

## Example
```yaml
livenessProbe: {httpGet: {path: /health, port: 8000}, initialDelaySeconds: 60}
```

## Use instead
```yaml
startupProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 10, failureThreshold: 60}
```

## Fix safety
Unsafe: adds a startupProbe on `/health` (or raises its failureThreshold), which delays the
detection of a really hung start.
"""
import math
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import op_add, set_key_ops
from cslint.runtime import probe_budget
from cslint.settings import Settings
from cslint.workloads import Container, as_dict

META = RuleMeta(code="CS408", name="startup-probe-too-short", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="No startupProbe, or one shorter than the cold-start budget", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    budget = settings.startup_budget
    startup = c.data.get("startupProbe")
    if isinstance(startup, dict):
        have = probe_budget(startup)
        if have >= budget:
            return
        period = startup.get("periodSeconds") if isinstance(startup.get("periodSeconds"), int) else 10
        delay = startup.get("initialDelaySeconds") if isinstance(startup.get("initialDelaySeconds"), int) else 0
        threshold = max(1, math.ceil((budget - delay) / max(period, 1)))
        fix = Fix(Applicability.UNSAFE, tuple(set_key_ops(c.at("startupProbe"), startup, "failureThreshold", threshold)),
                  f"Set startupProbe.failureThreshold to {threshold}")
        yield Violation(f"startupProbe allows {have}s, below the {budget}s cold-start budget: a slow start is killed — "
                        f"raise failureThreshold to {threshold}", c.at("startupProbe"), fix)
        return
    liveness = c.data.get("livenessProbe")
    if not isinstance(liveness, dict):
        return  # nothing restarts a slow start: a readinessProbe only withholds traffic
    allows = probe_budget(liveness)
    if allows >= budget:
        return
    port = _port(c)
    threshold = math.ceil(budget / 10)
    probe = {"httpGet": {"path": "/health", "port": port}, "periodSeconds": 10, "failureThreshold": threshold}
    fix = Fix(Applicability.UNSAFE, (op_add(c.at("startupProbe"), probe),),
              f"Add a startupProbe on /health with a {budget}s budget")
    yield Violation(f"livenessProbe but no startupProbe: liveness fails a start still loading after {allows}s "
                    f"and the container is restarted — add a startupProbe with a ≥ {budget}s budget",
                    c.at("livenessProbe"), fix)


def _port(c: Container) -> object:
    for key in ("readinessProbe", "livenessProbe"):
        port = as_dict(as_dict(c.data.get(key)).get("httpGet")).get("port")
        if port is not None:
            return port
    args = c.engine_args
    flag = args.get("port") if args else None
    if flag and (flag.value_text or "").isdigit():
        return int(flag.value_text)
    return 8000
