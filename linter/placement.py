"""Where a finding is: its position (built from the document's node tree only when asked), its
Helm source, and the text of its line for reports that quote or hash it."""
from __future__ import annotations

from typing import Iterable

from .documents import Document
from .model import Finding


def inside_chunk(text: str, line: int, column: int) -> tuple[int, int]:
    """A parser mark clamped into the text: PyYAML reports end-of-input errors one line past the
    last line of a file without a final newline."""
    lines = text.split("\n")
    if line >= len(lines):
        return len(lines) - 1, len(lines[-1])
    return line, min(column, len(lines[line]))


def resolve_positions(findings: Iterable[Finding]) -> None:
    """Positions and Helm sources, computed only for findings that need them."""
    for f in findings:
        doc: Document | None = f.extra.get("document")
        if doc is not None:
            resolve_position(f, doc)


def resolve_position(f: Finding, doc: Document) -> None:
    f.source = doc.source
    if f.position is None:
        f.position = doc.position(f.path, f.span, f.key)


def attach_lines(findings: list[Finding], text: str | None) -> None:
    """Each finding keeps the text of its first line, so reports that quote or hash it need not
    hold the file."""
    if text is None or not findings:
        return
    lines = text.split("\n")
    for f in findings:
        _attach_line(f, lines, 0)


def attach_lines_from(f: Finding, chunk_text: str, first_line: int) -> None:
    """The same, from the finding's document (the file's text is gone): `first_line` is the
    document's 0-based line in the file."""
    _attach_line(f, chunk_text.split("\n"), first_line)


def _attach_line(f: Finding, lines: list[str], first_line: int) -> None:
    """Lines as positions count them: `\n` ends a line, a CR before it is not part of it."""
    i = f.line - 1 - first_line
    if 0 <= i < len(lines) and (i < len(lines) - 1 or lines[i]):
        f.extra["line"] = lines[i].removesuffix("\r")
