"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

Escaping follows actions/toolkit (`command.ts`): data escapes `%`, CR and LF; properties also `:`
and `,`. Other control characters (a manifest's ESC or BEL) are written as escapes, as in the text
report: the job log renders ANSI sequences. Columns are only given for single-line regions — GitHub
rejects them otherwise.
"""
from __future__ import annotations

from typing import TextIO

from ..engine import FileResult
from ..model import Severity
from ..settings import Settings
from .locations import context, located_findings
from .text import printable

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    for f, where in located_findings(results):
        pos = where.position
        props = [("file", where.path), ("line", str(pos.line))]
        single_line = pos.end_line == pos.line
        if single_line:
            props.append(("col", str(pos.column)))
        props.append(("endLine", str(max(pos.end_line, pos.line))))
        if single_line and pos.end_column > pos.column:
            props.append(("endColumn", str(pos.end_column)))
        props.append(("title", f"{f.code} {f.name}"))
        rendered = ",".join(f"{k}={escape_property(v)}" for k, v in props)
        message = f"{f.message}{context(f)}"
        if where.mapped:
            message += f" [rendered: {f.file}:{f.line}:{f.column}]"
        out.write(f"::{COMMANDS[f.severity]} {rendered}::{escape_data(message)}\n")
