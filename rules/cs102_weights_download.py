"""## What it does
Finds engines whose model is a Hugging Face Hub id (or `hf://` URI) with no persistent local
source for the weights: no modelcar (`oci://` storageUri), no PersistentVolumeClaim, image or
read-only CSI volume at the model path or the HF cache (`--download-dir`, `HF_HUB_CACHE`,
`HF_HOME`). An `emptyDir` there does not count: it is empty again after every wake. A KServe
`storageUri: hf://…` is always reported: the storage initializer downloads it into the pod's
`/mnt/models` at every start, whatever is mounted at the HF cache.

A LeaderWorkerSet worker that joins the leader's Ray cluster (vLLM's `multi-node-serving.sh
worker`) loads its ranks of the leader's model on its own node: it is reported when the leader
serves a Hub model and the worker has no persistent HF cache of its own.

A model given as a local directory on an `emptyDir` is reported too, whatever its source: the
directory is empty at every start, so what fills it (an init container running a downloader,
named in the message when the pod shows one writing to that volume) fetches the weights on
every cold start.

## Why it matters for cold start
A 70 GB model downloaded on every scale-from-zero costs minutes per wake, multiplied by every
replica, and depends on Hub availability and rate limits.

## Example
```yaml
args: ["vllm serve meta-llama/Llama-3.1-70B-Instruct"]
```

## Use instead
Serve the weights from a digest-pinned OCI modelcar (`storageUri: oci://…@sha256:…`) or a
PersistentVolumeClaim (ReadOnlyMany) mounted at the HF cache or a local path.

## Fix safety
No fix: where the weights should live is a platform decision.
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.weights import ModelSource, hf_cache_kept, model_source, volume_source_type
from cslint.workloads import Container

META = RuleMeta(code="CS102", name="weights-downloaded-at-start", lever=Lever.WEIGHTS, severity=Severity.WARNING,
                summary="Weights are downloaded on every cold start", scope=Scope.CONTAINER,
                engine_only=True, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    src = model_source(c)
    if src.kind == "unknown" and c.group_leader is not None:
        yield from _worker_of(c, model_source(c.group_leader))
        return
    if src.kind == "local" and src.ref:
        yield from _local_on_empty_dir(c, src.ref, src.path, src.span)
        return
    if src.kind != "hub":
        return
    if src.fetched_for_engine:  # the storage initializer fetches it into the pod: a cache mount does not help
        yield Violation(f"model {src.ref!r} is downloaded from the Hugging Face Hub by KServe's storage initializer "
                        "on every cold start — name an OCI modelcar (oci://…) or a volume (pvc://…) instead",
                        src.path or c.pointer)
        return
    if hf_cache_kept(c):
        return
    yield Violation(f"model {src.ref!r} is downloaded from the Hugging Face Hub on every cold start — "
                    "serve it from an OCI modelcar or a PersistentVolumeClaim at the HF cache",
                    src.path or c.pointer, span=src.span)


def _local_on_empty_dir(c: Container, path: str, where: str | None,
                        span: tuple[int, int] | None) -> Iterator[Violation]:
    """A model directory on an emptyDir: empty at every start, so it is filled at every start."""
    found = c.mount_covering(path)
    if found is None or volume_source_type(found[2]) != "emptyDir":
        return
    name = found[1].get("name")
    writers = [o for o in c.template.containers if o is not c and _writes_volume(o, name)]
    # init containers run to completion before the engine starts: those are what fill it
    writers = [o for o in writers if o.init] or writers
    fillers = [f"{'init container' if o.init else 'container'} {o.name!r}" for o in writers]
    by = f"{' and '.join(fillers)} {'fills' if len(fillers) == 1 else 'fill'} it" if fillers else "whatever fills it"
    yield Violation(f"model {path!r} is on emptyDir {name!r}, empty again at every start: {by}, fetching the "
                    "weights on every cold start — serve them from an OCI modelcar or a PersistentVolumeClaim",
                    where or c.pointer, span=span)


def _writes_volume(c: Container, name: object) -> bool:
    return any(m.get("name") == name and not m.get("readOnly") for _, m in c.mounts)


def _worker_of(c: Container, leader: ModelSource) -> Iterator[Violation]:
    """An LWS worker's ranks load the leader's model on the worker's node: from its own HF cache."""
    if leader.kind != "hub" or leader.fetched_for_engine:
        return
    if hf_cache_kept(c):
        return
    yield Violation(f"the leader serves Hub model {leader.ref!r}: this worker's ranks load it on this node too, "
                    "downloading it from the Hugging Face Hub on every cold start — mount the weights here as "
                    "well (an OCI modelcar, or a PersistentVolumeClaim at the HF cache)", c.pointer)
