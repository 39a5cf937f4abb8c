"""Reads fixtures: expected findings are `# expect: CODE[, CODE]` comments at the end of the line
the finding points at; a first-line `# cslint-fixture: only CS301,CS302 profile=gke goal=cold-start`
restricts the checked codes and sets options. A directory is one case linted as one run."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cslint.engine import Linter
from cslint.settings import Settings
from cslint.sources import discover, read_source

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)\s*$")
_HEADER = re.compile(r"#\s*cslint-fixture:\s*(.*)$")


@dataclass
class Case:
    path: Path
    only: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.path.relative_to(ROOT))


def cases(folders: list[str] | None = None) -> list[Case]:
    out = []
    for folder in sorted(ROOT.iterdir()):
        if not folder.is_dir() or (folders and folder.name not in folders):
            continue
        if folder.name in ("fix", "integrations", "webhook", "custom", "pin"):
            continue  # those have their own tests
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() or entry.suffix in (".yaml", ".yml", ".json"):
                if entry.name.endswith(".fixed.yaml"):
                    continue
                out.append(_case(entry))
    return out


def _case(path: Path) -> Case:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    case = Case(path)
    for f in files:
        head = f.read_text(encoding="utf-8", errors="replace").split("\n", 3)[:3]
        m = next((m for m in map(_HEADER.search, head) if m), None)
        if not m:
            continue
        for word in m.group(1).split():
            if word == "only":
                continue
            if "=" in word:
                k, v = word.split("=", 1)
                case.options[k] = v
            else:
                case.only += tuple(c.strip() for c in word.split(",") if c.strip())
    return case


def expected(case: Case) -> list[tuple[str, int, str]]:
    files = [case.path] if case.path.is_file() else sorted(
        p for p in case.path.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    out = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = _EXPECT.search(line)
            if m:
                for code in m.group(1).split(","):
                    out.append((str(f), n, code.strip()))
    return sorted(out)


def settings_for(case: Case) -> Settings:
    s = Settings()
    if "profile" in case.options:
        s = s.with_(profile=case.options["profile"])
    if "goal" in case.options:
        s = s.with_(goal=case.options["goal"])
    if "region" in case.options:
        s = s.with_(region=case.options["region"])
    return s


def actual(case: Case) -> list[tuple[str, int, str]]:
    linter = Linter(settings_for(case))
    sources = [read_source(p) for p in discover([str(case.path)])]
    results = linter.lint_sources(sources)
    found = []
    for r in results:
        for f in r.findings:
            if f.suppressed or (case.only and f.code not in case.only):
                continue
            found.append((os.path.normpath(f.file), f.line, f.code))
    return sorted(found)
