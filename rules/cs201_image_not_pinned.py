"""## What it does
Finds container images (init containers included) without an `@sha256:` digest.

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
`cslint pin` resolves digests from the registry into a lock file; `--fix` then applies them
(safe: the tag stays for readers and the digest is the one the tag pointed to).
"""
from typing import Iterator

from cslint.images import parse_image
from cslint.model import Lever, RuleMeta, Scope, Severity, Violation
from cslint.settings import Settings
from cslint.workloads import Container

META = RuleMeta(code="CS201", name="image-not-pinned", lever=Lever.IMAGE, severity=Severity.ERROR,
                summary="A container image is not pinned by digest", scope=Scope.CONTAINER, docs=__doc__)


def check(c: Container, settings: Settings) -> Iterator[Violation]:
    if "image" not in c.data:
        return
    ref = parse_image(c.image)
    if ref is not None and ref.is_pinned:
        return
    if ref is None and ("{{" in c.image or "${" in c.image):
        return  # a template placeholder, not a reference
    yield Violation(f"image {c.image!r} is not pinned by digest: a moved tag re-pulls on warm nodes — "
                    "pin it as repo:tag@sha256:… (run `cslint pin`)", c.at("image"))
