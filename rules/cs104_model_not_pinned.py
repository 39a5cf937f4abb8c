"""## What it does
Finds model artifacts referenced by tag rather than digest: KServe `storageUri: oci://…`,
LLMInferenceService `spec.model.uri: oci://…`, and image volumes (`volumes[].image.reference`).

## Why it matters for cold start
A modelcar is pulled like any image: a tag (or no tag) makes the kubelet default to
`imagePullPolicy: Always` for `:latest`, so warm nodes re-pull tens of GB, and a moved tag serves
different weights than the ones you tested.

## Example
```yaml
storageUri: oci://registry.example.com/models/llama3:latest
```

## Use instead
```yaml
storageUri: oci://registry.example.com/models/llama3:v1@sha256:…
```

## Fix safety
`cslint pin` resolves the digest into the lock file (`cslint.lock`) and rewrites the reference
(`oci://` scheme and tag kept); once the lock covers it, `cslint --fix` applies the same pin
offline. Safe: only the reference's text changes and the digest is the one the tag pointed to
when it was locked. Without a lock entry there is no fix and the message says to run `cslint pin`.
"""
from typing import Iterator

from cslint.images import parse_image
from cslint.model import FixAvailability, Lever, RuleMeta, Scope, Severity, Violation
from cslint.pinfix import advice, lock_fix
from cslint.settings import Settings
from cslint.weights import model_references
from cslint.workloads import K8sObject

META = RuleMeta(code="CS104", name="model-artifact-not-pinned", lever=Lever.WEIGHTS, severity=Severity.WARNING,
                summary="A modelcar or image volume is not pinned by digest", scope=Scope.OBJECT,
                fix=FixAvailability.SOMETIMES, docs=__doc__)


def check(obj: K8sObject, settings: Settings) -> Iterator[Violation]:
    for ref, written, path in model_references(obj):
        parsed = parse_image(ref)
        if parsed is not None and parsed.is_pinned:
            continue
        fix = lock_fix(written, path, settings) if parsed is not None else None
        yield Violation(f"model artifact {written!r} is not pinned by digest: a moved tag re-pulls or serves "
                        f"other weights — pin it with @sha256 ({advice(fix)})", path, fix=fix)
