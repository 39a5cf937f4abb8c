"""Where a registry host keeps its images: which cloud, which location.

Only hostnames that spell their location are read (shared/reference/domain.md §5):
Artifact Registry `LOCATION-docker.pkg.dev` (regions and the `us`/`europe`/`asia`
multi-regions), the legacy `gcr.io` hosts served by Artifact Registry, and ECR
`ACCOUNT.dkr.ecr.REGION.amazonaws.com`. ACR (`NAME.azurecr.io`) names no location.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .images import parse_image

MULTI_REGIONS = ("us", "europe", "asia")
_ARTIFACT_REGISTRY = re.compile(r"^([a-z0-9-]+)-docker\.pkg\.dev$")
# gcr.io stores in the US multi-region; the prefixed hosts name theirs
_GCR = {"gcr.io": "us", "us.gcr.io": "us", "eu.gcr.io": "europe", "asia.gcr.io": "asia"}
_ECR = re.compile(r"^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
_ACR = re.compile(r"^[a-z0-9]+\.azurecr\.(?:io|cn|us)$")
# region names by their shape: Google us-central1, AWS us-east-1 (us-gov-west-1), Azure eastus2
_REGION_CLOUDS = (("gcp", re.compile(r"^[a-z]+-[a-z]+\d+$")), ("aws", re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")),
                  ("azure", re.compile(r"^[a-z]+\d*$")))
SERVICES = {"gcp": "Artifact Registry", "aws": "ECR", "azure": "ACR"}


def region_cloud(region: str) -> str | None:
    """The cloud whose region names look like `region`, or None."""
    region = region.strip().lower()
    return next((cloud for cloud, shape in _REGION_CLOUDS if shape.match(region)), None)


class RegistryLocation(NamedTuple):
    """The cloud and region a registry host lives in."""
    cloud: str  # "gcp", "aws", "azure"
    service: str  # "Artifact Registry", "ECR", "ACR"
    location: str | None  # region or multi-region; None when the host does not say

    def serves(self, region: str) -> bool:
        """True when a cluster in `region` pulls from the same region (or its multi-region)."""
        if self.location is None:
            return True
        region = region.strip().lower()
        if self.location == region:
            return True
        # a Google multi-region holds Google's regions of that area only: `us` holds us-central1,
        # not AWS's us-east-1
        return (self.location in MULTI_REGIONS and region.startswith(self.location + "-")
                and region_cloud(region) == "gcp")


def registry_location(host: str) -> RegistryLocation | None:
    host = host.lower().split(":", 1)[0]
    m = _ARTIFACT_REGISTRY.match(host)
    if m:
        return RegistryLocation("gcp", "Artifact Registry", m.group(1))
    if host in _GCR:
        return RegistryLocation("gcp", "Artifact Registry", _GCR[host])
    m = _ECR.match(host)
    if m:
        return RegistryLocation("aws", "ECR", m.group(1))
    if _ACR.match(host):
        return RegistryLocation("azure", "ACR", None)
    return None


def image_registry(image: str) -> tuple[str, RegistryLocation | None] | None:
    """(registry host, its location) of an image reference; None when it is not a reference."""
    ref = parse_image(image)
    if ref is None:
        return None
    return ref.registry, registry_location(ref.registry)
