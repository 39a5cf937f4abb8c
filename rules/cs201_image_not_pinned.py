"""## What it does
Finds container images (init containers included) without an `@sha256:` (or `@sha512:`) digest,
and digests that are malformed (not 64 or 128 lowercase hex digits: the pull fails). A Knative
Service (or a KServe InferenceService in Knative mode) is left out: Knative resolves the tag to a
digest when it creates a revision, and the revision's pods run that digest (except from
`kind.local`, `ko.local`, `dev.local`, which it skips by default).

## Why it matters for cold start
A tag can move: nodes that cached the old image pull again, different nodes run different
bits, and `:latest` or no tag makes the kubelet default to `imagePullPolicy: Always`, so every
wake re-checks the registry and warm nodes re-pull multi-GB engine images.

## Example
```yaml
image: vllm/vllm-openai:v0.11.0
```

## Use instead
```yaml
image: vllm/vllm-openai:v0.11.0@sha256:…
```

## Fix safety
`cslint pin` resolves digests from the registry into a lock file (`cslint.lock`) and rewrites
the references; once the lock covers a reference, `cslint --fix` applies the same pin with no
network (safe: only the reference's text changes, the tag stays for readers and the digest is
the one the tag pointed to when it was locked). Without a lock entry there is no fix and the
message says to run `cslint pin`.
"""
from typing import Iterator

from cslint.images import DIGEST_HEX_DIGITS, parse_image
from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.pinfix import advice, lock_fix
from cslint.scaling import knative_pins_image
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS201", name="image-not-pinned", lever=Lever.IMAGE, severity=Severity.ERROR,
                summary="A container image is not pinned by digest", scope=Scope.CONTAINER,
                fix=FixAvailability.SOMETIMES, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    if "image" not in c.data:
        return
    ref = parse_image(c.image)
    if ref is not None and ref.is_pinned:
        return
    if ref is None and ("{{" in c.image or "$" in c.image):
        return  # a template placeholder ({{ .Values.image }}, ${IMAGE}, $IMAGE): no reference has a `$`
    if ref is not None and ref.bad_digest:
        algorithm = ref.digest.partition(":")[0]
        yield Violation(f"image {c.image!r} has a malformed digest: {algorithm} takes "
                        f"{DIGEST_HEX_DIGITS[algorithm]} lowercase hex digits, so the pull fails — "
                        "copy the digest from the registry (`cslint pin`)", c.at("image"))
        return
    if ref is not None and knative_pins_image(c.template.owner, ref.registry):
        return  # each revision runs the digest Knative resolved when it was created
    fix = lock_fix(c.image, c.at("image"), settings) if ref is not None else None
    yield Violation(f"image {c.image!r} is not pinned by digest: a moved tag re-pulls on warm nodes — "
                    f"pin it as repo:tag@sha256:… ({advice(fix)})", c.at("image"), fix=fix)
