"""## What it does
With `--online`, reads the image manifest of each container image (for `linux/amd64`, from the
image index when there is one) and reports images whose layers are compressed with gzip rather
than zstd (`application/vnd.oci.image.layer.v1.tar+zstd`). Without `--online` it is silent.

## Why it matters for cold start
After the bytes arrive, the node still has to decompress every layer before the container can
start, and for multi-GB engine images that is CPU-bound on one core per layer. zstd decompresses
several times faster than gzip at a similar ratio, so the same image unpacks sooner on a cold
node. No Kubernetes linter looks inside the image; this is the image-pull lever's part that a
manifest cannot show.

## Known problems
Runtimes that predate zstd layers cannot pull them (containerd added zstd in 1.5); check your
nodes' runtime first. Only the `linux/amd64` manifest of an index is inspected.

## Example
An image built with the default `docker build` / `buildah` settings (gzip layers).

## Use instead
```sh
docker buildx build --output type=image,compression=zstd,force-compression=true,push=true ...
# or: skopeo copy --dest-compress-format zstd docker://SRC docker://DST
```

## Options
`--online` turns the inspection on; `--insecure-registry HOST[:PORT]` allows plain HTTP.

## Fix safety
No fix: the image has to be rebuilt or re-pushed.

## References
- OCI image spec, layer media types: https://github.com/opencontainers/image-spec/blob/main/layer.md
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.prepare import image_info
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS210", name="image-layers-not-zstd", lever=Lever.IMAGE, severity=Severity.INFO,
                summary="Image layers are gzip-compressed rather than zstd (with --online)",
                scope=Scope.CONTAINER, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    info = image_info(settings, c.image)
    if info is None or not info.gzip_layers:
        return
    where = f" ({info.platform})" if info.platform else ""
    yield Violation(f"image {c.image!r}{where} has {info.gzip_layers} of {len(info.layer_media_types)} layers "
                    "compressed with gzip: zstd layers decompress several times faster on a cold node — "
                    "re-push with zstd compression", c.at("image"))
