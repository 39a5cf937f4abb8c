"""## What it does
When `region` is configured, checks that every container image comes from a registry in that
region or in the multi-region that contains it. Registries whose hostname names a location are
read: Artifact Registry `LOCATION-docker.pkg.dev` (including the `us`, `europe` and `asia`
multi-regions), `gcr.io` (US), `us.gcr.io`, `eu.gcr.io`, `asia.gcr.io`, and ECR
`ACCOUNT.dkr.ecr.REGION.amazonaws.com`. Silent without `region`, and for hosts that name no
location (Docker Hub, ACR, private registries).

## Why it matters for cold start
Every new node pulls the images before the pod starts; multi-gigabyte engine images crossing
regions (or continents) pull slower than from a registry next to the nodes, and pay egress.

## Example
```yaml
# region: europe-west4
image: us-central1-docker.pkg.dev/proj/repo/vllm:v0.11.0
```

## Use instead
```yaml
image: europe-west4-docker.pkg.dev/proj/repo/vllm:v0.11.0
```

## Options
`region`: the cluster's region, e.g. `us-central1` or `eu-west-1`.

## References
- https://docs.cloud.google.com/artifact-registry/docs/repositories/repo-locations
"""
from typing import Iterator

from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.registries import SERVICES, image_registry, region_cloud
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS203", name="registry-out-of-region", lever=Lever.IMAGE, severity=Severity.WARNING,
                summary="An image is pulled from a registry outside the cluster's region",
                scope=Scope.CONTAINER, fix=FixAvailability.NONE, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    if not settings.region:
        return
    found = image_registry(c.image)
    if found is None or "$" in c.image:  # `$VAR` images are substituted later
        return
    host, location = found
    if location is None or location.location is None or location.serves(settings.region):
        return
    cloud = region_cloud(settings.region)
    mirror = f"an {SERVICES[cloud]} repository" if cloud else "a registry"  # Artifact Registry, ECR, ACR
    yield Violation(f"image registry {host} is in {location.location}, outside the cluster region {settings.region}: "
                    f"every new node pulls it across regions — mirror it to {mirror} in {settings.region}",
                    c.at("image"))
