"""## What it does
Finds containers whose effective `imagePullPolicy` is `Always`: written explicitly, or left out
with a `:latest` tag or no tag. The kubelet's defaulting looks only at the tag, so
`name:latest@sha256:…` also defaults to Always (KEP-6083 proposes to change that). Knative (and
KServe in Knative mode) resolves a tag to a digest when it creates a revision, so there only an
explicit `Always` is reported.

## Why it matters for cold start
`Always` makes every pod start ask the registry, and re-pull when the tag moved: on a wake from
zero that is a registry round trip at best and a multi-GB pull at worst, even on a warm node.

## Example
```yaml
image: vllm/vllm-openai:latest
```

## Use instead
```yaml
image: vllm/vllm-openai:v0.11.0@sha256:…
imagePullPolicy: IfNotPresent
```

## Fix safety
Sets `imagePullPolicy: IfNotPresent`. Safe when the image is pinned by digest without a `:latest`
tag (the bits cannot change); unsafe otherwise, since a node would keep running whatever
`:latest` it cached first.
"""
from typing import Iterator

from cslint.images import effective_pull_policy, parse_image
from cslint.model import Applicability, Fix, FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.patches import set_key_ops
from cslint.scaling import knative_pins_image
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS202", name="pull-policy-always", lever=Lever.IMAGE, severity=Severity.WARNING,
                summary="The effective image pull policy is Always", scope=Scope.CONTAINER,
                fix=FixAvailability.ALWAYS, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    if not c.image:
        return
    explicit = c.data.get("imagePullPolicy")
    if effective_pull_policy(c.image, explicit) != "Always":
        return
    ref = parse_image(c.image)
    if explicit != "Always" and ref is not None and knative_pins_image(c.template.owner, ref.registry):
        return  # the revision's pods run the digest Knative resolved: the default is IfNotPresent
    safe = ref is not None and ref.is_pinned and ref.tag != "latest"
    fix = Fix(Applicability.SAFE if safe else Applicability.UNSAFE,
              tuple(set_key_ops(c.pointer, c.data, "imagePullPolicy", "IfNotPresent")),
              "Set imagePullPolicy: IfNotPresent")
    if explicit == "Always":
        yield Violation("imagePullPolicy is Always: every start asks the registry and re-pulls a moved tag — "
                        "pin the image and set IfNotPresent", c.at("imagePullPolicy"), fix)
    else:
        why = "a :latest tag" if ref is not None and ref.tag == "latest" else "no tag"
        yield Violation(f"image {c.image!r} has {why}, so imagePullPolicy defaults to Always — "
                        "pin it by digest and set imagePullPolicy: IfNotPresent", c.at("image"), fix)
