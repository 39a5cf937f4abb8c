"""## What it does
GKE profile. Finds engine images that are not in Artifact Registry (`LOCATION-docker.pkg.dev`,
or the `gcr.io` hosts Artifact Registry serves).

## Why it matters for cold start
GKE Image Streaming mounts the image as a remote filesystem and streams the blocks the
container reads, so vLLM starts before a multi-gigabyte image is on disk; an image it cannot
stream is pulled and unpacked whole on every new node first.

## Known problems
Google's English pages name Artifact Registry only; some localized pages also list public
Docker Hub images, so a Docker Hub image may stream on some clusters. Streaming also needs the
Container File System API, COS containerd nodes and `--enable-image-streaming` (or a
ComputeClass `nodePoolConfig.imageStreaming.enabled`), which manifests do not show.

## Example
```yaml
image: vllm/vllm-openai:v0.11.0
```

## Use instead
```yaml
image: us-docker.pkg.dev/PROJECT/REPO/vllm-openai:v0.11.0   # a remote repository mirroring Docker Hub works
```

## References
- https://cloud.google.com/kubernetes-engine/docs/how-to/image-streaming
"""
import re

from cslint.profiles import LazyPull, lazy_pull_rule

GKE_IMAGE_STREAMING = LazyPull(
    profile="gke", feature="GKE Image Streaming", registry_service="Artifact Registry",
    hosts=(re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev$"), re.compile(r"^(?:[a-z]+\.)?gcr\.io$")),
    reference="https://cloud.google.com/kubernetes-engine/docs/how-to/image-streaming",
    note_for=lambda host: ("some localized GKE pages also list public Docker Hub, so check your cluster"
                           if host == "docker.io" else None),
)

META, check = lazy_pull_rule("CS204", "image-streaming-ineligible", GKE_IMAGE_STREAMING, docs=__doc__)
