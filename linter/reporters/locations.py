"""Where a finding lives for tools that open files: repository-relative paths and Helm/kustomize
sources. A rendered stream (stdin, a kustomization) is not a file in the repository, so when the
finding carries the template or origin it came from, CI annotations point there instead."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from ..engine import FileResult
from ..model import Finding, Position

FIRST_LINE = Position(1, 1, 1, 1)


@dataclass(frozen=True)
class Location:
    path: str  # repository-relative with `/`, or absolute when outside the repository
    position: Position
    relative: bool
    mapped: bool  # True when the location is a Helm template / kustomize origin

    @property
    def uri(self) -> str:
        # the path's bytes, as the file system holds them: a name that is not UTF-8 (read back with
        # surrogate escapes) is percent-encoded byte by byte instead of failing to encode
        return quote(os.fsencode(self.path)) if self.relative else Path(self.path).as_uri()


def repo_root() -> str:
    """$GITHUB_WORKSPACE in Actions, else the nearest directory holding `.git`, else the cwd."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isdir(workspace):
        return os.path.abspath(workspace)
    cwd = os.path.abspath(os.getcwd())
    directory = cwd
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return cwd
        directory = parent


def relative(path: str, root: str) -> tuple[str, bool]:
    full = os.path.abspath(path)
    rel = os.path.relpath(full, root)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):  # outside; `..x.yaml` is inside
        return full, False
    return rel.replace(os.sep, "/"), True


def locate(f: Finding, result: FileResult, root: str) -> Location:
    if f.source and result.source.real_path is None:
        path, rel = relative(f.source, root)
        return Location(path, f.extra.get("source_position") or FIRST_LINE, rel, True)
    path, rel = relative(result.source.real_path or f.file, root)
    return Location(path, f.position or FIRST_LINE, rel, False)


def context(f: Finding) -> str:
    if f.object is None:
        return ""
    return f" ({f.object}" + (f", container {f.container}" if f.container else "") + ")"


def located_findings(results: list[FileResult]) -> Iterator[tuple[Finding, Location]]:
    """Shown findings in file order, a file at a time (they may be read back from disk)."""
    root = repo_root()
    for r in results:
        for f in r.findings:
            if not f.suppressed:
                yield f, locate(f, r, root)
