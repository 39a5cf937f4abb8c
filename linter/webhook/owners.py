"""Objects a controller makes from a pod template the webhook has already judged at their owner.

A ReplicaSet's Pods, a Deployment's ReplicaSets and a CronJob's Jobs carry their owner's template.
Judging them again undoes the owner's verdict: the ratchet lets an UPDATE of a Deployment with
pre-existing findings through, and the Pod CREATE its ReplicaSet sends next is denied (FailedCreate,
so the Deployment can no longer scale or roll). Patching them makes them drift from the template (a
patched ReplicaSet no longer matches its Deployment, which then makes another one). So they are
answered at their owner's review, and only when the owner is of a kind the webhook reviews: a Pod
whose controller the webhook never sees (a custom operator, a Knative Revision) is still checked.
"""
from __future__ import annotations

from typing import Any

# (apiGroup, kind) of the controllers with a pod template among the resources that
# `cslint webhook manifests` registers (manifests.WORKLOAD_RESOURCES)
JUDGED_OWNERS = frozenset({
    ("", "ReplicationController"),
    ("", "Pod"),  # LeaderWorkerSet makes each group's leader Pod the controller of its worker StatefulSet
    ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"),
    ("batch", "Job"), ("batch", "CronJob"),
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"),
    ("serving.kserve.io", "InferenceService"), ("serving.kserve.io", "LLMInferenceService"),
    ("ray.io", "RayCluster"), ("ray.io", "RayService"), ("ray.io", "RayJob"),
    ("serving.knative.dev", "Service"),
    ("argoproj.io", "Rollout"),
})


def judged_owner(obj: dict[str, Any]) -> str | None:
    """`Kind/name` of the object's controller (the ownerReference with `controller: true`) when
    the webhook reviews that kind; None when the object has to be judged itself."""
    metadata = obj.get("metadata")
    refs = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("controller") is True and _group_kind(ref) in JUDGED_OWNERS:
            return f"{ref['kind']}/{ref.get('name') or '-'}"
    return None


def _group_kind(ref: dict[str, Any]) -> tuple[str, str]:
    """("apps", "ReplicaSet") from `apiVersion: apps/v1`; the core group is "" (`apiVersion: v1`)."""
    api_version = ref.get("apiVersion") if isinstance(ref.get("apiVersion"), str) else ""
    kind = ref.get("kind") if isinstance(ref.get("kind"), str) else ""
    return (api_version.rpartition("/")[0], kind)
