"""## What it does
GKE profile. For an engine container whose weights come from a PersistentVolumeClaim (the
volume under the model path or the Hugging Face cache, or a KServe `pvc://` storage URI),
checks — when the claim and its StorageClass are in the linted set — that the StorageClass is
Hyperdisk ML (`parameters.type: hyperdisk-ml`) and the claim is `ReadOnlyMany`.

## Why it matters for cold start
A Hyperdisk ML volume is populated once and then attached read-only to many nodes, each
reading at the disk's provisioned throughput, so every replica of a scale-up loads the same
weights without downloading them. A `ReadWriteOnce` claim attaches to one node at a time:
the second replica's pod cannot start on another node.

## Known problems
Only claims and StorageClasses in the linted set are checked (a claim without
`storageClassName` uses the set's default class, if any). Per-replica StatefulSet claims are
read from `volumeClaimTemplates`.

## Example
```yaml
kind: PersistentVolumeClaim
spec: {accessModes: [ReadWriteOnce], storageClassName: standard-rwo}
```

## Use instead
```yaml
kind: PersistentVolumeClaim
spec: {accessModes: [ReadOnlyMany], storageClassName: hyperdisk-ml}
```

## References
- https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/hyperdisk-ml
"""
from typing import Iterator

from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.warmbuffer import WORKLOAD_KINDS, runs_engine
from cslint.weights import hf_cache_dirs, model_source
from cslint.workloads import Container, K8sObject, as_dict, as_list

META = RuleMeta(code="CS205", name="weights-volume-not-shared", lever=Lever.WEIGHTS, severity=Severity.INFO,
                summary="A weights PVC is not ReadOnlyMany on a Hyperdisk ML StorageClass",
                scope=Scope.SET, fix=FixAvailability.NONE, profile="gke",
                kinds=WORKLOAD_KINDS + ("PersistentVolumeClaim", "StorageClass"),
                reads=lambda obj: obj.kind in ("PersistentVolumeClaim", "StorageClass") or runs_engine(obj),
                docs=__doc__)
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def check(objset, settings: Settings) -> Iterator[tuple[K8sObject, Violation]]:  # noqa: ANN001
    claims = {(o.namespace, o.name): o for o in objset.of_kind("PersistentVolumeClaim") if o.name}
    classes = {o.name: o for o in objset.of_kind("StorageClass") if o.name}
    default = next((o for o in classes.values() if str(o.annotations.get(DEFAULT_CLASS)).lower() == "true"), None)
    for obj in objset.subjects:  # findings are on the workloads looped over
        for tpl in obj.templates:
            for c in tpl.containers:
                if not c.is_engine:
                    continue
                for claim_name, claim_spec, path in weight_claims(c, claims):
                    name = claim_spec.get("storageClassName")
                    sc = classes.get(name) if isinstance(name, str) else default
                    problem = _problem(claim_spec, sc)
                    if problem:
                        yield obj, Violation(f"weights claim {claim_name} {problem}: each replica cannot share one "
                                             "read-only copy of the weights", path, container=c.name or None)


def _problem(claim_spec: dict, sc: K8sObject | None) -> str | None:
    if sc is None:
        return None
    kind = as_dict(sc.data.get("parameters")).get("type")
    if kind != "hyperdisk-ml":
        return f"uses StorageClass {sc.name} ({kind or 'no parameters.type'}), not Hyperdisk ML"
    modes = as_list(claim_spec.get("accessModes"))
    if "ReadOnlyMany" not in modes:
        return f"is {', '.join(map(str, modes)) or 'without accessModes'} on Hyperdisk ML, not ReadOnlyMany"
    return None


def weight_claims(c: Container, claims: dict) -> Iterator[tuple[str, dict, str]]:
    """(claim name, claim spec, pointer to report) for the claims holding the engine's weights."""
    owner = c.template.owner
    src = model_source(c)
    if src.ref and src.ref.startswith("pvc://"):
        name = src.ref[len("pvc://"):].split("/", 1)[0]
        claim = claims.get((owner.namespace, name))
        if claim is not None:
            yield name, claim.spec, src.path or c.pointer
        return
    paths = [src.ref] if src.kind == "local" and src.ref else hf_cache_dirs(c) if src.kind == "hub" else []
    seen: set[str] = set()
    for path in paths:
        found = c.mount_covering(path)
        hit = _claim_of_mount(c, found[1], found[2], claims) if found else None
        if hit is not None and hit[0] not in seen:
            seen.add(hit[0])
            yield hit


def _claim_of_mount(c: Container, mount: dict, volume: dict | None, claims: dict) -> tuple[str, dict, str] | None:
    owner = c.template.owner
    if volume is None:  # a StatefulSet mounts its volumeClaimTemplates by name
        template = _claim_template(owner, mount.get("name"))
        if template is None:
            return None
        return str(mount.get("name")), as_dict(template[1].get("spec")), owner.at(
            "spec", "volumeClaimTemplates", template[0], "spec")
    name = as_dict(volume.get("persistentVolumeClaim")).get("claimName")
    claim = claims.get((owner.namespace, name)) if isinstance(name, str) else None
    if claim is None:
        return None
    index = c.template.volumes[volume["name"]][0]
    return name, claim.spec, c.template.at("volumes", index, "persistentVolumeClaim", "claimName")


def _claim_template(owner: K8sObject, name: object) -> tuple[int, dict] | None:
    if owner.kind != "StatefulSet":
        return None
    for i, t in enumerate(as_list(owner.spec.get("volumeClaimTemplates"))):
        if as_dict(as_dict(t).get("metadata")).get("name") == name:
            return i, as_dict(t)
    return None
