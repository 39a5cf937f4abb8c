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
    return printable(f"{where}: {f.code} [{f.severity}] {f.message}{context}{marker}")


def printable(line: str) -> str:
    """The line with control characters written as escapes: a manifest's string (an ESC sequence,
    a newline in a file name) must not drive the terminal or split a line of the report."""
    return line if line.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


EXCERPT_MARGIN = 60  # characters of a long line shown on each side of the finding
EXCERPT_WIDTH = 240  # at most, caret included: a minified manifest is one line for every finding


def source_excerpt(f: Finding) -> list[str]:
    """The finding's line (its text was kept when the run was asked for excerpts), underlined;
    of a long line, the part around the finding (the whole line for each finding of a one-line
    manifest of 1,000 containers was 1.9 GB of report)."""
    line = f.extra.get("line")
    if line is None or f.position is None:
        return []
    line = mask_same_width(line, f.extra.get("secrets", ()))  # CI logs: no credential
    width = max(1, (f.position.end_column - f.column) if f.position.end_line == f.line else len(line) - f.column + 1)
    gutter = f"{f.line:>5} | "
    start, end = f.column - 1, f.column - 1 + width  # the caret moves with what the escapes add
    if len(line) > EXCERPT_WIDTH:
        lo = max(0, start - EXCERPT_MARGIN)
        hi = min(len(line), end + EXCERPT_MARGIN, lo + EXCERPT_WIDTH)
        head, tail = ("…" if lo else ""), ("…" if hi < len(line) else "")
        line = head + line[lo:hi] + tail
        start, end = start - lo + len(head), min(end, hi) - lo + len(head)
    shown_start, shown_width = len(printable(line[:start])), len(printable(line[start:end]))
    return [gutter + printable(line), " " * (len(gutter) + shown_start) + "^" * max(1, shown_width)]


def report(results: list[FileResult], settings: Settings, out: TextIO, *, show_source: bool = False,
           statistics: bool = False, **_: object) -> None:
    """Streams: one file's findings at a time (they may be read back from disk), counted as written;
    with `statistics`, one line per rule (count, code, fixable, name) instead of the findings."""
    counts: Counter = Counter()  # (code, name) → shown
    fixable: Counter = Counter()  # code → shown with a fix `cslint --fix` applies (the listing's [*])
    by_sev: Counter = Counter()
    by_applicability: Counter = Counter()
    for r in results:
        for f in r.findings:
            if f.suppressed:
                continue
            if not statistics:  # as ruff's: the counts instead of the findings
                out.write(format_finding(f) + "\n")
                if show_source:
                    for line in source_excerpt(f):
                        out.write(line + "\n")
            counts[(f.code, f.name)] += 1
            by_sev[str(f.severity)] += 1
            if f.fix:
                fixable[f.code] += f.fix.applicability == Applicability.SAFE
                by_applicability[f.fix.applicability] += 1
    if statistics:
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            mark = "[*]" if fixable[code] == n else ("[-]" if fixable[code] else "[ ]")
            out.write(f"{n:>5}\t{code}\t{mark} {name}\n")
    files, total = len(results), sum(by_sev.values())
    if total:
        detail = ", ".join(f"{by_sev[s]} {s}" for s in ("error", "warning", "info") if by_sev[s])
        safe, unsafe = by_applicability[Applicability.SAFE], by_applicability[Applicability.UNSAFE]
        out.write(f"Found {total} finding{'s' if total != 1 else ''} ({detail}) in {files} "
                  f"file{'s' if files != 1 else ''}.\n")
        if safe or unsafe:
            hint = f"[*] {safe} fixable with `cslint --fix`"
            if unsafe:
                hint += f" ({unsafe} more with `--unsafe-fixes`)"
            out.write(hint + ".\n")
    else:
        out.write(f"All checks passed ({files} file{'s' if files != 1 else ''}).\n")
