"""## What it does
Validates built-in Kubernetes kinds against their OpenAPI schema (kubernetes-validate's bundled
schemas for the configured `--k8s-version`) and reports every error, not only the first.
Custom resources (KServe, LWS, KubeRay, ...) are skipped silently.

## Why it matters for cold start
A manifest the API server rejects never starts at all; a wrong type found at apply time in the
middle of a rollout costs more than any cold start.

## Example
```yaml
spec:
  replicas: "three"
```

## Use instead
```yaml
spec:
  replicas: 3
```

## Fix safety
No fix.
"""
from typing import Iterator

from cslint.documents import join_pointer
from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.schema import validate_object  # stdlib-only at import; the validators load lazily
from cslint.settings import Settings
from cslint.workloads import K8sObject

META = RuleMeta(code="CS001", name="schema-violation", lever=Lever.INPUT, severity=Severity.ERROR,
                summary="A built-in kind fails its Kubernetes OpenAPI schema", scope=Scope.OBJECT, docs=__doc__)


def check(obj: K8sObject, settings: Settings) -> Iterator[Violation]:
    group = obj.group
    if "." in group and not group.endswith("k8s.io"):
        return  # a custom resource: no bundled schema
    errors = validate_object(obj.data, settings.k8s_version)
    for err in errors or ():
        yield Violation(f"schema (Kubernetes {settings.k8s_version}): {err.message}",
                        obj.pointer + join_pointer(list(err.path)))
