"""On UPDATE, judge what the update brings, not the debt the object already carried.

An admission linter that denies `kubectl label` on a Deployment because its image was tag-pinned
before the webhook was installed gets uninstalled. So an UPDATE is linted twice, `oldObject` and
`object`, and a finding of the new object counts as *pre-existing* when the old object had the
same finding; only new findings deny (and, in /mutate, only new findings are patched unless the
update already rewrites the pod template). See docs/webhook.md, "UPDATE requests".

"The same finding" is (rule code, container name, stable path). The stable path is the finding's
JSON pointer with list indexes replaced by what Kubernetes itself merges list items on: an item
with a `name` (containers, volumes, env, ports, …), else a `mountPath` (volumeMounts), else a
`containerPort`, is named by that key; so adding a sidecar or an env var in front of the offending
one does not make it "new". A pointer into a list of strings (args, command) stops at the list:
a flag moving inside `args` stays the same finding. The message is not part of the identity: it
often quotes values (an image, a replica count) that unrelated edits change.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model import Finding
from ..workloads import K8sObject

MERGE_KEYS = ("name", "mountPath", "containerPort")  # the patchMergeKeys of pod-spec lists

FindingId = tuple[str, str, tuple[Any, ...]]


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _item_key(item: Any, index: int) -> tuple[str, Any]:
    if isinstance(item, dict):
        for key in MERGE_KEYS:
            value = item.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return (key, value)
    return ("#", index)


def stable_path(data: Any, pointer: str) -> tuple[Any, ...]:
    """`pointer`, walked through `data`, with list indexes named by their items' merge keys."""
    node, out = data, []
    for token in (_unescape(t) for t in pointer.split("/")[1:]):
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            item = node[int(token)]
            if not isinstance(item, (dict, list)):
                break  # a place inside args/command: the list itself is the place
            out.append(_item_key(item, int(token)))
            node = item
        else:
            out.append(token)  # a key, or a part of the path the object does not have (yet)
            node = node.get(token) if isinstance(node, dict) else None
    return tuple(out)


def identity(finding: Finding, data: Any) -> FindingId:
    """What makes two findings (of an object before and after an update) the same one."""
    return (finding.code, finding.container or "", stable_path(data, finding.path))


@dataclass
class Baseline:
    """The findings of the old object, as a multiset of identities."""

    counts: Counter[FindingId] = field(default_factory=Counter)

    @classmethod
    def of(cls, findings: list[Finding], data: Any) -> "Baseline":
        return cls(Counter(identity(f, data) for f in findings))

    def split(self, findings: list[Finding], data: Any) -> tuple[list[Finding], list[Finding]]:
        """(new, pre-existing). Counted: two identical findings where the old object had one → one new."""
        left = Counter(self.counts)
        new: list[Finding] = []
        old: list[Finding] = []
        for f in findings:
            key = identity(f, data)
            if left[key] > 0:
                left[key] -= 1
                old.append(f)
            else:
                new.append(f)
        return new, old


def old_object(request: dict[str, Any]) -> dict[str, Any] | None:
    """The oldObject to compare with, or None when there is none worth trusting (then: as CREATE)."""
    if request.get("operation") != "UPDATE":
        return None
    old, new = request.get("oldObject"), request.get("object")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    if old.get("kind") != new.get("kind"):  # not the same object: nothing to compare
        return None
    return old


def templates_change(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the update rewrites a pod template, i.e. rolls the pods out anyway. The effective
    metadata counts: KServe copies an InferenceService's own annotations and labels onto every
    component's revision, so editing them there rolls the pods as surely as editing the component."""
    def shape(data: dict[str, Any]) -> list[tuple[str, Any, Any, Any, Any]]:
        return [(t.spec_pointer, t.metadata, t.annotations, t.labels, t.spec) for t in K8sObject(data, "").templates]
    return shape(old) != shape(new)
