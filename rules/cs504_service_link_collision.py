"""## What it does
Finds engine pods in the namespace of a Service named `vllm` that do not set
`enableServiceLinks: false`. Objects without `metadata.namespace` count as one shared namespace.
Headless and ExternalName Services are skipped: the kubelet injects variables only for
Services with a cluster IP.

## Why it matters for cold start
The kubelet injects `<SERVICE>_PORT=tcp://IP:PORT` for every Service of the namespace, so a
Service named `vllm` gives each pod `VLLM_PORT=tcp://…`. vLLM reads `VLLM_PORT` as its own
port setting and refuses to start ("VLLM_PORT '…' appears to be a URI"): the pod crash-loops.

## Example
```yaml
kind: Service
metadata: {name: vllm}
```

## Use instead
```yaml
spec:
  enableServiceLinks: false   # in the engine's pod spec (or rename the Service)
```

## Fix safety
Safe: vLLM does not use the injected Service variables; pods still reach Services through DNS.
Containers that do read `*_SERVICE_HOST` variables lose them.

## References
- https://kubernetes.io/docs/concepts/services-networking/connect-applications-service/#environment-variables
"""
from typing import Iterator

from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import set_key_ops
from cslint.settings import Settings
from cslint.warmbuffer import WORKLOAD_KINDS, runs_engine
from cslint.workloads import K8sObject

META = RuleMeta(code="CS504", name="service-link-collision", lever=Lever.CONFIG, severity=Severity.ERROR,
                summary="A Service named `vllm` injects VLLM_PORT=tcp://… and vLLM refuses to start",
                scope=Scope.SET, fix=FixAvailability.ALWAYS, kinds=WORKLOAD_KINDS,
                reads=lambda obj: runs_engine(obj) or _injects(obj), docs=__doc__)
COLLIDING_NAME = "vllm"


def check(objset, settings: Settings) -> Iterator[tuple[K8sObject, Violation]]:  # noqa: ANN001
    namespaces = {o.namespace for o in objset.matching("vllm-services", _injects, ("Service",))}
    if not namespaces:
        return
    for obj in objset.subjects:  # findings are on the workloads looped over
        if obj.namespace not in namespaces:
            continue
        for tpl in obj.templates:
            engines = [c for c in tpl.containers if c.is_engine]
            if not engines or tpl.spec.get("enableServiceLinks") is False:
                continue
            fix = Fix(Applicability.SAFE, tuple(set_key_ops(tpl.spec_pointer, tpl.spec, "enableServiceLinks", False)),
                      "Set enableServiceLinks: false")
            where = f"namespace {obj.namespace}" if obj.namespace else "the same namespace"
            yield obj, Violation(f"Service {COLLIDING_NAME!r} in {where} makes Kubernetes inject "
                                 "VLLM_PORT=tcp://…, and vLLM refuses to start — set enableServiceLinks: false "
                                 "(or rename the Service)", tpl.at("enableServiceLinks"), fix,
                                 container=engines[0].name or None)


def _injects(service: K8sObject) -> bool:
    if service.name != COLLIDING_NAME or service.api_version != "v1":
        return False
    spec = service.spec
    return spec.get("type") != "ExternalName" and spec.get("clusterIP") not in ("None",)
