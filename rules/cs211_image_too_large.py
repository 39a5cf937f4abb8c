"""## What it does
With `--online`, adds up the compressed layer sizes of each container image's manifest (for
`linux/amd64`, from the image index when there is one) and reports images above `image-size-max`
(default 10 GiB compressed). Without `--online` it is silent.

## Why it matters for cold start
Every byte of the image is pulled before the container starts on a node that has not cached it,
which is every new node a scale-up from zero brings. A serving image that also carries build
tools, several CUDA toolkits or baked-in weights turns the image-pull step into minutes.

## Example
A 14 GiB engine image with the weights copied into it.

## Use instead
A slim runtime image; weights from a volume, a modelcar or a streamed object store; and, where
the platform offers it, image streaming or pre-pulling (GKE image streaming / secondary boot
disks, EKS SOCI, AKS artifact streaming).

## Options
`image-size-max` (bytes quantity, default `10Gi`); `--online`; `--insecure-registry HOST[:PORT]`.

## Fix safety
No fix.
"""
from typing import Iterator

from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.prepare import image_info
from cslint.quantity import human_size
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS211", name="image-too-large", lever=Lever.IMAGE, severity=Severity.WARNING,
                summary="The image's compressed size is above image-size-max (with --online)",
                scope=Scope.CONTAINER, docs=__doc__)

DEFAULT_MAX = 10 * 1024**3


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    info = image_info(settings, c.image)
    limit = settings.get_extra("image_size_max", DEFAULT_MAX)
    if info is None or info.total_compressed_size <= limit:
        return
    where = f" for {info.platform}" if info.platform else ""
    yield Violation(f"image {c.image!r} is {human_size(info.total_compressed_size)} compressed "
                    f"({info.total_compressed_size} bytes in {len(info.layer_sizes)} layers{where}), above "
                    f"image-size-max {human_size(limit)}: every new node pulls all of it before the engine starts",
                    c.at("image"))
