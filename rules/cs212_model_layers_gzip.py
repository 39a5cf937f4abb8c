"""## What it does
With `--online`, reads the manifest of each OCI model artifact — a KServe modelcar
(`storageUri: oci://…`), an LLMInferenceService's `spec.model.uri: oci://…`, an image volume
(`volumes[].image.reference`) — for `linux/amd64` (from the image index when there is one), and
reports artifacts whose layers are compressed with gzip. Without `--online` it is silent.

## Why it matters for cold start
A modelcar is pulled and unpacked like any image before the pod starts, and it holds the model:
tens of GB on every node a scale-up from zero brings. gzip layers must be decompressed on the
node first, and gzip decompresses several times slower than zstd; model weights gain little
from compression, which is why tools built for modelcars push uncompressed layers. This is
CS210 for the largest pull of the cold start, so it is a warning, not a note.

## Known problems
Only the `linux/amd64` manifest of an index is inspected. Runtimes that predate zstd layers
cannot pull them (containerd added zstd in 1.5); uncompressed layers work everywhere.

## Example
```yaml
storageUri: oci://registry.example.com/models/llama3@sha256:…  # built with `docker build`: gzip layers
```

## Use instead
Push the weights as uncompressed (or zstd) layers, ideally one layer per weight file:
```sh
docker buildx build --output type=image,name=REGISTRY/models/llama3:v1,compression=uncompressed,force-compression=true,push=true .
# or re-push an existing one with zstd: skopeo copy --dest-compress-format zstd docker://SRC docker://DST
```

## Options
`--online` turns the inspection on; `--insecure-registry HOST[:PORT]` allows plain HTTP.

## Fix safety
No fix: the artifact has to be re-pushed (and then pinned again, CS104).

## References
- KServe modelcars (OCI storage): https://kserve.github.io/website/docs/model-serving/storage/providers/oci
- OCI image spec, layer media types: https://github.com/opencontainers/image-spec/blob/main/layer.md
- oci-modelcar (pushes one uncompressed tar layer per model file): https://pypi.org/project/oci-modelcar/
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.prepare import image_info, inspected
from cslint.quantity import human_size
from cslint.settings import Settings
from cslint.weights import model_references
from cslint.workloads import K8sObject

META = RuleMeta(code="CS212", name="model-layers-gzip", lever=Lever.WEIGHTS, severity=Severity.WARNING,
                summary="A modelcar or image volume has gzip-compressed layers (with --online)",
                scope=Scope.OBJECT, docs=__doc__)


def check(obj: K8sObject, settings: Settings) -> Iterator[Violation]:
    if not inspected(settings):  # offline (the default): no walk over every object's volumes
        return
    for ref, written, path in model_references(obj):
        info = image_info(settings, ref)
        if info is None or not info.gzip_layers:
            continue
        where = f" ({info.platform})" if info.platform else ""
        yield Violation(f"model artifact {written!r}{where} has {info.gzip_layers} of {len(info.layer_media_types)} "
                        f"layers ({human_size(info.gzip_size)}) compressed with gzip: every cold node decompresses "
                        "them before the weights are readable — push the weights as uncompressed or zstd layers",
                        path)
