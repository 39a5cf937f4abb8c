"""## What it does
Matches `--enforce-eager` to the workload's goal. Goal `cold-start`: the engine should run eager
(`--enforce-eager` or `-O0`); goal `throughput`: it should not. The goal is the object's
`cslint.io/goal` annotation, else the configured `goal`, else `auto`: cold-start for workloads
that can scale to zero (replicas 0, KServe/Knative min-scale 0, KEDA, Ray worker groups with
minReplicas 0 under the Ray autoscaler, `enableInTreeAutoscaling: true`), throughput otherwise.

GPU engines only: on CPU vLLM runs eager whatever the flag says, and on TPU it compiles with
XLA either way, so the trade does not exist there.

## Why it matters for cold start
torch.compile and CUDA-graph capture take from tens of seconds to many minutes at every start
(CUDA graphs are never cached on disk). Eager mode skips both: the fastest wake, paid for with
lower decode throughput. That trade is per workload, so the rule asks you to decide it.

## Example
```yaml
metadata:
  annotations: {cslint.io/goal: cold-start}
# ... args without --enforce-eager
```

## Use instead
```yaml
args: ["--enforce-eager"]
```

## Fix safety
Unsafe: adds `--enforce-eager`, or removes what makes the engine eager (`--enforce-eager`, an
effective `-O0`), which changes serving throughput.
"""
from typing import TYPE_CHECKING, Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.scaling import can_scale_to_zero
from cslint.settings import Settings
from cslint.vllm_fixes import append_flags_ops, remove_tokens_ops
from cslint.workloads import Container

if TYPE_CHECKING:
    from cslint.vllm_args import Flag

META = RuleMeta(code="CS404", name="enforce-eager-mismatch", lever=Lever.RUNTIME, severity=Severity.WARNING,
                summary="--enforce-eager does not match the workload's goal", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, engine_only=True, gpu_only=True, docs=__doc__)
GOAL_ANNOTATION = "cslint.io/goal"


def resolve_goal(c: Container, settings: Settings) -> tuple[str, str]:
    """(goal, why) for the container's workload."""
    obj = c.template.owner
    for source, ann in (("annotation", obj.annotations), ("pod annotation", c.template.annotations)):
        value = ann.get(GOAL_ANNOTATION)
        if value in ("cold-start", "throughput"):
            return value, f"{source} {GOAL_ANNOTATION}"
    if settings.goal in ("cold-start", "throughput"):
        return settings.goal, "configured goal"
    if can_scale_to_zero(obj, c.template, getattr(obj, "context", None)):
        return "cold-start", "the workload can scale to zero"
    return "throughput", "the workload does not scale to zero"


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    args = c.engine_args
    if args is None:
        return
    goal, why = resolve_goal(c, settings)
    if goal == "cold-start" and not args.eager:
        fix = Fix(Applicability.UNSAFE, tuple(append_flags_ops(args, ["--enforce-eager"])), "Add --enforce-eager")
        anchor = args.tokens[0].path if args.tokens else c.pointer
        yield Violation(f"goal is cold-start ({why}) but the engine compiles and captures CUDA graphs at every "
                        "start — add --enforce-eager (or -O0)", anchor, fix)
    elif goal == "throughput" and args.eager:
        flags = args.eager_flags
        tok, spelling = flags[-1].token, " and ".join(dict.fromkeys(_written(f) for f in flags))
        words = [t for f in flags for t in (f.token, *([f.value] if f.value is not None and not f.inline else []))]
        fix = Fix(Applicability.UNSAFE, tuple(remove_tokens_ops(args, words)), f"Remove {spelling}")
        yield Violation(f"goal is throughput ({why}) but {spelling} disables CUDA graphs and torch.compile — "
                        "remove it, or annotate cslint.io/goal: cold-start", tok.path, fix,
                        span=tok.span)


def _written(flag: "Flag") -> str:
    return flag.spelling if flag.inline or flag.value is None else f"{flag.spelling} {flag.value_text}"
