"""A Markdown summary grouped by the four cold-start levers, for `$GITHUB_STEP_SUMMARY` and PR
comments: a reviewer sees which part of the cold start (weights, image, node, runtime) regresses."""
from __future__ import annotations

from collections import Counter
from typing import TextIO

from ..engine import FileResult
from ..model import Finding, Lever
from ..settings import Settings
from .locations import context

MAX_ROWS_PER_LEVER = 100  # the step summary is capped at 1 MiB
ICONS = {"error": "🔴", "warning": "🟡", "info": "🔵"}


def cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def where(f: Finding) -> str:
    loc = f"{f.file}:{f.line}:{f.column}"
    return f"`{loc}`" + (f" ← `{f.source}`" if f.source else "")


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    findings = [f for r in results for f in r.findings if not f.suppressed]
    files = len(results)
    out.write("## cslint: cold-start findings\n\n")
    if not findings:
        out.write(f"✅ All checks passed ({files} file{'s' if files != 1 else ''}).\n")
        return
    by_sev = Counter(str(f.severity) for f in findings)
    detail = ", ".join(f"{by_sev[s]} {s}" for s in ("error", "warning", "info") if by_sev[s])
    fixable = sum(1 for f in findings if f.fix)
    from ..registry import all_rules
    uris = {r.code: r.meta.help_uri for r in all_rules()}  # one registry pass, not one per row
    out.write(f"**{len(findings)} finding{'s' if len(findings) != 1 else ''}** ({detail}) in {files} "
              f"file{'s' if files != 1 else ''}; {fixable} with a fix (`cslint --fix`).\n\n")
    out.write("| Lever | Findings |\n|---|---|\n")
    for lever in Lever:
        n = sum(1 for f in findings if f.lever == lever)
        if n:
            out.write(f"| {lever.title} | {n} |\n")
    for lever in Lever:
        group = [f for f in findings if f.lever == lever]
        if not group:
            continue
        out.write(f"\n### {lever.title}\n\n| | Code | Location | Message |\n|---|---|---|---|\n")
        for f in group[:MAX_ROWS_PER_LEVER]:
            uri = uris.get(f.code, "#")
            out.write(f"| {ICONS[str(f.severity)]} | [{f.code}]({uri}) {cell(f.name)} | {cell(where(f))} | "
                      f"{cell(f.message + context(f))} |\n")
        if len(group) > MAX_ROWS_PER_LEVER:
            out.write(f"\n… and {len(group) - MAX_ROWS_PER_LEVER} more.\n")
    from ..explain import markdown_section  # the per-workload lever report (explain-cold-start)
    section = markdown_section(results)
    if section.strip():
        out.write("\n" + section)
