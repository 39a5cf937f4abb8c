"""`path:line:col: CODE [severity] message (Kind/namespace/name, container c)` and a summary."""
from __future__ import annotations

from collections import Counter
from typing import TextIO

from ..engine import FileResult
from ..masking import mask_same_width
from ..model import Applicability, Finding
from ..settings import Settings


def format_finding(f: Finding) -> str:
    where = f"{f.file}:{f.line}:{f.column}"
    if f.source:
        where += f" [{f.source}]"
    context = ""
    if f.object is not None:
        context = f" ({f.object}" + (f", container {f.container}" if f.container else "") + ")"
    marker = " [*]" if f.fix and f.fix.applicability == Applicability.SAFE else ""  # fixable by --fix
    return f"{where}: {f.code} [{f.severity}] {f.message}{context}{marker}"


def source_excerpt(f: Finding, text: str | None) -> list[str]:
    if text is None or f.position is None:
        return []
    lines = text.splitlines()
    if not 1 <= f.line <= len(lines):
        return []
    line = mask_same_width(lines[f.line - 1], f.extra.get("secrets", ()))  # CI logs: no credential
    width = max(1, (f.position.end_column - f.column) if f.position.end_line == f.line else len(line) - f.column + 1)
    gutter = f"{f.line:>5} | "
    return [gutter + line, " " * (len(gutter) + f.column - 1) + "^" * width]


def report(results: list[FileResult], settings: Settings, out: TextIO, *, show_source: bool = False,
           statistics: bool = False, **_: object) -> None:
    findings = [f for r in results for f in r.findings if not f.suppressed]
    texts = {r.source.path: r.source.text for r in results}
    for f in findings:
        out.write(format_finding(f) + "\n")
        if show_source:
            for line in source_excerpt(f, texts.get(f.file)):
                out.write(line + "\n")
    if statistics:
        counts = Counter((f.code, f.name) for f in findings)
        fixable = Counter(f.code for f in findings if f.fix)
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "[*]" if fixable[code] == n else ("[-]" if fixable[code] else "[ ]")
            out.write(f"{n:>5}\t{code}\t{mark} {name}\n")
    files = len(results)
    if findings:
        by_sev = Counter(str(f.severity) for f in findings)
        detail = ", ".join(f"{by_sev[s]} {s}" for s in ("error", "warning", "info") if by_sev[s])
        safe = sum(1 for f in findings if f.fix and f.fix.applicability == Applicability.SAFE)
        unsafe = sum(1 for f in findings if f.fix and f.fix.applicability == Applicability.UNSAFE)
        out.write(f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({detail}) in {files} "
                  f"file{'s' if files != 1 else ''}.\n")
        if safe or unsafe:
            hint = f"[*] {safe} fixable with `cslint --fix`"
            if unsafe:
                hint += f" ({unsafe} more with `--unsafe-fixes`)"
            out.write(hint + ".\n")
    else:
        out.write(f"All checks passed ({files} file{'s' if files != 1 else ''}).\n")
