"""## What it does
Reports a file or document that cannot be read as YAML: a syntax error, tab indentation, a key
repeated in one mapping, invalid UTF-8, a binary file, an alias bomb or a file over the size limit.

## Why it matters for cold start
Nothing in a broken document can be checked, and `kubectl apply` rejects it (or, for duplicate
keys, silently keeps one of the values). The other documents of the file are still checked.

## Example
```yaml
env:
  - name: HF_HUB_OFFLINE
	value: "1"        # a tab
```

## Use instead
Indent with spaces; give every key once.

## Fix safety
No fix: cslint never writes a file that failed to parse.
"""
from cslint.model import Lever, RuleMeta, Scope, Severity

META = RuleMeta(code="CS000", name="invalid-yaml", lever=Lever.INPUT, severity=Severity.ERROR,
                summary="A file or document does not parse", scope=Scope.FILE, docs=__doc__)
