"""Container image references as the kubelet and registries read them.

The kubelet's pull-policy defaulting looks only at the tag (`name:latest@sha256:…` still
defaults to Always), so the parsed reference keeps tag and digest apart.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DIGEST_HEX_DIGITS = {"sha256": 64, "sha512": 128}  # the OCI registered algorithms
_PINNING_DIGEST = re.compile("^(?:" + "|".join(f"{a}:[a-f0-9]{{{n}}}" for a, n in DIGEST_HEX_DIGITS.items()) + ")$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_UNUSABLE = re.compile(r"\s|\{\{|\$")  # blanks, or a template: {{ .Values.x }}, ${X}, $X (no reference has a `$`)


class ImageRef(NamedTuple):
    """A container image reference, split into its parts."""
    raw: str
    registry: str  # as written, or docker.io when implicit
    repository: str  # path within the registry, normalised (library/ubuntu)
    tag: str | None
    digest: str | None
    registry_explicit: bool

    @property
    def is_pinned(self) -> bool:
        """A well-formed sha256 or sha512 digest (the OCI registered algorithms)."""
        return self.digest is not None and bool(_PINNING_DIGEST.match(self.digest))

    @property
    def bad_digest(self) -> bool:
        """A digest that names sha256/sha512 but not with the digits they have: the pull fails."""
        return (self.digest is not None and self.digest.partition(":")[0] in DIGEST_HEX_DIGITS
                and not self.is_pinned)

    @property
    def kubelet_tag(self) -> str:
        """The tag the kubelet's defaulting sees: `latest` only when neither tag nor digest is given."""
        if self.tag is not None:
            return self.tag
        return "" if self.digest else "latest"

    @property
    def name(self) -> str:
        """`registry/repository` as written by the user (no tag, no digest)."""
        return self.raw.split("@", 1)[0].rsplit(":", 1)[0] if self.tag else self.raw.split("@", 1)[0]

    @property
    def api_registry(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    def with_digest(self, digest: str) -> str:
        """`repo:tag@sha256:…`, keeping the tag for readers."""
        base = self.raw.split("@", 1)[0]
        return f"{base}@{digest}"


def parse_image(raw: str) -> ImageRef | None:
    """Parse a reference; None when it is not a usable reference (empty, templated, spaces)."""
    if not isinstance(raw, str):
        return None
    return _parse(raw)


@lru_cache(maxsize=4096)  # manifests repeat the same few images thousands of times
def _parse(raw: str) -> ImageRef | None:
    ref = raw.strip()
    if not ref or _UNUSABLE.search(ref):
        return None
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            return None
    tag = None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
        if not _TAG.match(tag):
            return None
    if not ref:
        return None
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository, explicit = first, rest, True
    else:
        registry, repository, explicit = DOCKER_HUB, ref, False
    if registry in (DOCKER_HUB, "index.docker.io", DOCKER_HUB_API):
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageRef(raw=raw.strip(), registry=registry, repository=repository, tag=tag,
                    digest=digest, registry_explicit=explicit)


def effective_pull_policy(image: str, explicit: object) -> str:
    """The policy the API server stores: explicit value, else Always for `latest`/no tag."""
    if isinstance(explicit, str) and explicit:
        return explicit
    ref = parse_image(image)
    if ref is None:
        return "IfNotPresent"
    return "Always" if ref.kubelet_tag == "latest" else "IfNotPresent"


def image_mentions(image: str, word: str) -> bool:
    """True when the image's name (the repository's last part) or its tag mentions `word`; not
    the registry host, nor a namespace: `ghcr.io/vllm-project/semantic-router/extproc` is a
    router of the vLLM project, not a vLLM engine."""
    ref = parse_image(image)
    if ref is None:
        return isinstance(image, str) and word in image.lower()
    return word in ref.repository.rsplit("/", 1)[-1].lower() or word in (ref.tag or "").lower()
