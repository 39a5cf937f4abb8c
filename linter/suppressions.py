"""Suppressions: annotations, line comments, file comments and `per-file-ignores`.

Runs as an engine filter (before positions are resolved) so every entry point — CLI, fixer,
webhook — honours the same directives. Annotations are where Kubernetes users already put
per-object exemptions (kube-linter, kube-score); comments are where ruff and yamllint users look.
Files that never mention `cslint` skip everything but `per-file-ignores`: the fast path stays fast.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .documents import Document, join_pointer, split_pointer
from .engine import FileResult, register_filter
from .model import Finding
from .settings import Settings, code_matches
from .workloads import K8sObject, iter_objects

ANNOTATION = "cslint.io/ignore"
MARKER = "cslint"
PARSE_ERROR_CODE = "CS000"  # syntax errors are not suppressible inline (as in ruff)
_COMMENT = re.compile(r"(?:^|(?<=[ \t]))#[ \t]*cslint:[ \t]*(ignore|file-ignore)\[([^\]\n]*)\]"
                      r"(?:[ \t]*--[ \t]*([^\n#]*[^\s#]))?", re.M)  # a later `# other comment` may follow
_SPLIT = re.compile(r"[\s,]+")


@dataclass
class Suppression:
    """One directive and the codes it names; `used` collects the codes that matched a finding."""

    kind: str  # "annotation", "line" or "file"
    codes: tuple[str, ...]
    reason: str | None
    document: Document
    used: set[str] = field(default_factory=set)
    # annotations: where the directive lives and what it covers
    pointer: str = ""  # JSON pointer of the annotation
    scope: str = ""  # findings whose path is under this pointer
    container: str | None = None
    obj: K8sObject | None = None
    metadata: dict | None = None  # the annotations' owning metadata (for removal fixes)
    metadata_pointer: str = ""
    # comments: offsets in the document chunk and the line (1-based, in the file) they cover
    start: int = 0
    end: int = 0
    codes_start: int = 0
    codes_end: int = 0
    line: int = 0
    own_line: bool = False

    def matches(self, code: str) -> list[str]:
        return [c for c in self.codes if code_matches(code, (c,))]


def parse_codes(text: str) -> tuple[tuple[str, ...], str | None]:
    """`"CS401, CS403 -- reason"` → (("CS401", "CS403"), "reason")."""
    codes, _, reason = text.partition("--")
    parsed = tuple(c.upper() for c in _SPLIT.split(codes.strip()) if c)
    return parsed, reason.strip() or None


# -- collecting directives -----------------------------------------------------------------------
def annotation_suppressions(doc: Document) -> Iterator[Suppression]:
    """`cslint.io/ignore[.<container>]` on objects and on their pod templates."""
    for obj in iter_objects(doc.data, "", doc):
        yield from _from_metadata(doc, obj, obj.metadata, obj.at("metadata"), obj.pointer)
        for tpl in obj.templates:
            if tpl.metadata is obj.metadata or not tpl.spec_pointer.endswith("/spec"):
                continue
            root = tpl.spec_pointer[: -len("/spec")]
            if resolve(doc.data, root + "/metadata") is tpl.metadata:
                yield from _from_metadata(doc, obj, tpl.metadata, root + "/metadata", root)


def _from_metadata(doc: Document, obj: K8sObject, metadata: dict, pointer: str, scope: str) -> Iterator[Suppression]:
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if not isinstance(key, str) or not (key == ANNOTATION or key.startswith(ANNOTATION + ".")):
            continue
        codes, reason = parse_codes(value if isinstance(value, str) else "")
        container = key[len(ANNOTATION) + 1:] or None if key != ANNOTATION else None
        yield Suppression("annotation", codes, reason, doc, pointer=pointer + join_pointer(["annotations", key]),
                          scope=scope, container=container, obj=obj, metadata=metadata, metadata_pointer=pointer)


def comment_suppressions(doc: Document, first: bool) -> Iterator[Suppression]:
    """Line comments in a document's text; file-level ones only in the file's first comment block."""
    text = doc.chunk.text
    header_end = _header_end(text) if first else 0
    # lines counted on from the last directive, the text split once: counting and splitting from
    # the document's start for each directive was quadratic in the directives of one document
    counted, line0, lines, content = 0, 0, None, -1
    for m in _COMMENT.finditer(text):
        kind = "file" if m.group(1) == "file-ignore" else "line"
        if kind == "file" and m.start() >= header_end:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        own_line = not text[line_start:m.start()].strip()
        codes, _ = parse_codes(m.group(2))
        line0 += text.count("\n", counted, m.start())
        counted = m.start()
        if own_line and content <= line0:  # else the next content line is still the last one found
            lines = text.split("\n") if lines is None else lines
            content = _next_content_line(lines, line0)
        target = content if own_line else line0
        yield Suppression(kind, codes, (m.group(3) or "").strip() or None, doc, start=m.start(),
                          end=_directive_end(text, m.end()),
                          codes_start=m.start(2), codes_end=m.end(2), line=doc.chunk.line + target + 1,
                          own_line=own_line)


_REMARK = re.compile(r"[^\n]*?(?=[ \t]*(?:(?<=[ \t])#|\r?$))", re.M)


def _directive_end(text: str, end: int) -> int:
    """Where the directive's comment ends: words after `]` without `--` (`ignore[CS202] pinned`)
    are still its comment, up to a later `# comment` or the end of the line. Removing only the
    directive left them after the value (`image: x  pinned`), where they became part of it."""
    return _REMARK.match(text, end).end()


def _header_end(text: str) -> int:
    """Offset where the first comment block ends: the first line that is not a comment or blank."""
    pos = 0
    for line in text.splitlines(keepends=True):
        s = line.strip()
        if s and not s.startswith("#") and s != "---":
            return pos
        pos += len(line)
    return pos


def _next_content_line(lines: list[str], line0: int) -> int:
    for i in range(line0 + 1, len(lines)):
        s = lines[i].strip()
        if s and not s.startswith("#"):
            return i
    return line0 + 1


def resolve(data: Any, pointer: str) -> Any:
    node = data
    for part in split_pointer(pointer):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# -- matching ------------------------------------------------------------------------------------
def covers(s: Suppression, f: Finding) -> bool:
    if f.code == PARSE_ERROR_CODE and s.kind != "file":
        return False
    if s.kind == "file":
        return True
    doc = f.extra.get("document")  # by index: a file held on disk comes back as a fresh copy,
    if doc is None or doc.index != s.document.index:  # and its set findings as another
        return False
    if s.kind == "line":
        return f.position is not None and f.position.line == s.line
    if s.container is not None and f.container != s.container:
        return False
    return not s.scope or f.path == s.scope or f.path.startswith(s.scope + "/")


def suppress_file(result: FileResult, settings: Settings) -> list[Suppression]:
    """Mark the findings of one file that a directive covers; returns the directives found."""
    text = result.source.text
    if not text or MARKER not in text:  # a file without findings still has directives to judge (CS900)
        return []
    found: list[Suppression] = []
    allow_annotations = settings.get_extra("allow_annotation_suppressions", True)
    for i, doc in enumerate(result.documents):
        if doc.error is None and allow_annotations and ANNOTATION in doc.chunk.text:
            found.extend(annotation_suppressions(doc))
        found.extend(comment_suppressions(doc, first=i == 0))
    if not found:
        return []
    if any(s.kind == "line" for s in found):
        for f in result.findings:
            doc = f.extra.get("document")
            if f.position is None and doc is not None:
                f.position = doc.position(f.path, f.span, f.key)
    candidates = _by_reach(found)
    for f in result.findings:
        for s in _candidates(candidates, f):
            if covers(s, f):
                hits = s.matches(f.code)
                if hits:
                    s.used.update(hits)
                    f.suppressed = not settings.disallow_suppressions
                    if settings.disallow_suppressions:
                        f.extra["suppression"] = s.kind
    return found


def _by_reach(found: list[Suppression]) -> dict[tuple, list[tuple[int, Suppression]]]:
    """The directives by what they can reach (a file, a line of a document, a container or every
    container of a document), with their order: matching every finding against every directive
    was quadratic (2,000 documents with three directives each: 15 s)."""
    out: dict[tuple, list[tuple[int, Suppression]]] = {}
    for i, s in enumerate(found):
        key = (("file",) if s.kind == "file" else (s.kind, s.document.index, s.line) if s.kind == "line"
               else (s.kind, s.document.index, s.container))
        out.setdefault(key, []).append((i, s))
    return out


def _candidates(by_reach: dict[tuple, list[tuple[int, Suppression]]], f: Finding) -> list[Suppression]:
    """The directives that may cover `f`, in the file's order (`covers` decides)."""
    doc = f.extra.get("document")
    keys = [("file",)]
    if doc is not None:
        keys.append(("annotation", doc.index, None))
        if f.container is not None:
            keys.append(("annotation", doc.index, f.container))
        if f.position is not None:
            keys.append(("line", doc.index, f.position.line))
    return [s for _, s in sorted((x for key in keys for x in by_reach.get(key, ())), key=lambda x: x[0])]


# -- per-file ignores ----------------------------------------------------------------------------
def glob_regex(glob: str) -> re.Pattern[str]:
    """`**` crosses directories, `*` and `?` do not (as in ruff's per-file-ignores)."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def ignored_codes(path: str, settings: Settings) -> tuple[str, ...]:
    full = os.path.abspath(path).replace(os.sep, "/")
    base = os.path.basename(full)
    codes: list[str] = []
    for glob, names in settings.per_file_ignores:
        negate = glob.startswith("!")
        body = glob[1:] if negate else glob
        rx = glob_regex(body.replace(os.sep, "/"))
        hit = bool(rx.match(full) or ("/" not in body and rx.match(base)) or
                   (not os.path.isabs(body) and rx.match(full.lstrip("/"))) or _suffix_match(rx, full))
        if hit != negate:
            codes.extend(names)
    return tuple(codes)


def _suffix_match(rx: re.Pattern[str], full: str) -> bool:
    parts = full.split("/")
    return any(rx.match("/".join(parts[i:])) for i in range(1, len(parts)))


def apply_per_file_ignores(results: list[FileResult], settings: Settings) -> None:
    if not settings.per_file_ignores:
        return
    for result in results:
        path = result.source.real_path or result.source.path
        codes = ignored_codes(path, settings)
        if codes:
            result.findings = [f for f in result.findings if not code_matches(f.code, codes)]


def apply_suppressions(results: list[FileResult], settings: Settings) -> None:
    """The engine filter: per-file ignores, then inline directives, then unused-suppression."""
    apply_per_file_ignores(results, settings)
    for result in results:
        found = suppress_file(result, settings)
        if found and not settings.disallow_suppressions:
            from cslint.rules.cs900_unused_suppression import report_unused  # only when directives exist
            result.findings.extend(report_unused(result, found, settings))


def has_directives(result: FileResult, settings: Settings) -> bool:
    """Whether `apply_suppressions` has work on this file (a directive in it, or an ignore for its path)."""
    text = result.source.text or ""
    if MARKER in text and (ANNOTATION in text or "cslint:" in text):  # every directive spells one
        return True
    return bool(settings.per_file_ignores) and bool(ignored_codes(result.source.real_path or result.source.path, settings))


register_filter(apply_suppressions, applies=has_directives)
