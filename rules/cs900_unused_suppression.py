"""## What it does
Reports suppressions that suppress nothing: a `cslint.io/ignore` annotation, a
`# cslint: ignore[...]` line comment or a `# cslint: file-ignore[...]` comment whose codes match
no finding where they apply.

## Why it matters for cold start
A suppression outlives the reason it was written for. Once the manifest is fixed, a stale
`cslint.io/ignore: CS401` silently exempts the next regression of the same rule — the shm mount
removed in a later refactor ships without a warning and the pod hangs in NCCL init again.

## Example
```yaml
metadata:
  annotations:
    cslint.io/ignore: "CS401 -- shm set by the operator"   # CS401 no longer fires here
```

## Use instead
Remove the annotation, or only the codes that no longer match.

## Known problems
Codes of rules that are not enabled in this run (another profile, `--select`) are not reported:
they may be used in another configuration. Not computed under `--disallow-suppressions`.

## Fix safety
Safe: removing a directive that matches nothing changes no finding. Annotations are removed with
a JSON Patch `remove` (or the unused codes are dropped from the value); comments are edited as text.
"""
from __future__ import annotations

from typing import Any, Iterator

from cslint import suppressions as _suppressions  # registers the suppression filter with the engine
from cslint.engine import FileResult
from cslint.model import (Applicability, Finding, Fix, FixAvailability, Lever, RuleMeta, Scope,
                          Severity)
from cslint.registry import active_rules, all_rules
from cslint.settings import Settings, code_matches, is_selected

META = RuleMeta(code="CS900", name="unused-suppression", lever=Lever.INPUT, severity=Severity.WARNING,
                summary="A suppression matches no finding", scope=Scope.FILE,
                fix=FixAvailability.ALWAYS, docs=__doc__)

Suppression = _suppressions.Suppression


def unused_codes(s: Suppression, active: list[str], known: list[str]) -> list[str]:
    """Codes that matched nothing, leaving out those of rules that are off in this run (known, not active)."""
    out = []
    for code in s.codes:
        if code in s.used:
            continue
        if any(code_matches(k, (code,)) for k in known) and not any(code_matches(a, (code,)) for a in active):
            continue  # names a rule that is off here: maybe used by another configuration
        out.append(code)
    return out


def report_unused(result: FileResult, found: list[Suppression], settings: Settings) -> Iterator[Finding]:
    if not is_selected(META.code, settings):
        return
    active = [r.code for rules in active_rules(settings).values() for r in rules]  # once per file, not per directive
    known = [r.code for r in all_rules(settings)]
    unused_of = {id(s): unused_codes(s, active, known) for s in found}
    doomed: dict[tuple[int, str], set[str]] = {}  # wholly unused annotations, per annotations map
    for s in found:
        if s.kind == "annotation" and len(unused_of[id(s)]) == len(s.codes):
            doomed.setdefault((id(s.metadata), s.metadata_pointer), set()).add(s.pointer)
    for s in found:
        unused = unused_of[id(s)]
        if not unused and s.codes:
            continue
        what = ", ".join(unused) if unused else "nothing"
        fix = _annotation_fix(s, unused, doomed) if s.kind == "annotation" else _comment_fix(s, unused)
        label = {"annotation": "annotation", "line": "`# cslint: ignore`", "file": "`# cslint: file-ignore`"}[s.kind]
        finding = Finding(code=META.code, name=META.name, severity=settings.severity_for(META.code, META.severity),
                          message=f"unused suppression {label} for {what}: no such finding here",
                          file=result.source.path, document=s.document.index, path=s.pointer,
                          object=s.obj.ref if s.obj else None, container=s.container, fix=fix,
                          lever=META.lever, extra={"document": s.document})
        if s.kind != "annotation":
            finding.position = s.document.offsets_position(s.start, s.end)
        yield finding


def _remaining(s: Suppression, unused: list[str]) -> str:
    return ", ".join(c for c in s.codes if c not in unused)


def _annotation_fix(s: Suppression, unused: list[str], doomed: dict[tuple[int, str], set[str]]) -> Fix | None:
    """`doomed` is gathered once per file: gathering it for each directive was quadratic (10,000
    documents with an unused annotation each: 4 s)."""
    if len(unused) < len(s.codes):
        value = _remaining(s, unused) + (f" -- {s.reason}" if s.reason else "")
        return Fix(Applicability.SAFE, ({"op": "replace", "path": s.pointer, "value": value},),
                   f"Remove {', '.join(unused)} from the suppression")
    annotations = (s.metadata or {}).get("annotations") or {}
    own = doomed.get((id(s.metadata), s.metadata_pointer), set())
    if len(own) >= len(annotations):  # every annotation goes: remove the map (metadata may become {})
        ops: tuple[dict[str, Any], ...] = ({"op": "remove", "path": s.metadata_pointer + "/annotations"},)
    else:
        ops = ({"op": "remove", "path": s.pointer},)
    return Fix(Applicability.SAFE, ops, "Remove the unused suppression annotation")


def _comment_fix(s: Suppression, unused: list[str]) -> Fix:
    text = s.document.chunk.text
    if unused and len(unused) < len(s.codes):
        edits = ((s.codes_start, s.codes_end, _remaining(s, unused)),)
        return Fix(Applicability.SAFE, (), f"Remove {', '.join(unused)} from the comment", comment_edits=edits)
    line_start = text.rfind("\n", 0, s.start) + 1
    if s.own_line:
        nl = text.find("\n", s.end)
        end = len(text) if nl < 0 else nl + 1
        edits = ((line_start, end, ""),)
    else:
        start = s.start
        while start > line_start and text[start - 1] in " \t":
            start -= 1
        edits = ((start, s.end, ""),)
    return Fix(Applicability.SAFE, (), "Remove the unused suppression comment", comment_edits=edits)

