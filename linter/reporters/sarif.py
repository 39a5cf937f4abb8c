"""SARIF 2.1.0 for GitHub code scanning: every rule in `tool.driver`, one exact region per result.

Peers' SARIF put every result on line 1 or emitted invalid logs when clean; here positions are the
engine's, columns are code points (`columnKind: unicodeCodePoints`, PyYAML's unit) and a clean run
still has a `results` array. Fingerprints hash the code, the JSON pointer and the line's text, so
alerts survive lines moving.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from typing import Any, Iterator, TextIO

from .. import __version__
from ..engine import FileResult
from ..model import Finding, RuleMeta, Severity
from ..registry import all_rules
from ..settings import Settings
from . import indented_json
from .locations import Location, context, located_findings, repo_root

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/cslint/cslint"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
MAX_DESCRIPTION = 1024  # GitHub's limit for short and full descriptions


def rule_descriptor(meta: RuleMeta, settings: Settings) -> dict[str, Any]:
    docs = meta.docs.strip() or meta.summary
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary[:MAX_DESCRIPTION]},
        "fullDescription": {"text": what_it_does(docs, meta.summary)[:MAX_DESCRIPTION]},
        "help": {"text": docs, "markdown": docs},
        "helpUri": meta.help_uri,
        "defaultConfiguration": {"level": LEVELS[settings.severity_for(meta.code, meta.severity)]},
        "properties": {"tags": ["cold-start", meta.lever.value], "lever": meta.lever.title},
    }


def what_it_does(docs: str, fallback: str) -> str:
    """The body of the docstring's first section, flattened to one paragraph."""
    m = re.search(r"##\s*What it does\s*\n(.*?)(?:\n##|\Z)", docs, re.S)
    text = " ".join((m.group(1) if m else "").split())
    return text or fallback


def fingerprint(f: Finding, line_text: str) -> str:
    key = "\0".join((f.code, f.path, f.container or "", _spaced(line_text)))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@functools.lru_cache(maxsize=16)  # the findings of one line come together: a minified manifest
def _spaced(line_text: str) -> str:  # is one line for all of them
    return " ".join(line_text.split())


def result_of(f: Finding, where: Location, index: int, line_text: str, seen: Counter) -> dict[str, Any]:
    pos = where.position
    end_line = max(pos.end_line, pos.line)
    end_column = pos.end_column if (end_line, pos.end_column) > (pos.line, pos.column) else pos.column + 1
    digest = fingerprint(f, line_text)
    seen[(where.path, digest)] += 1
    artifact = {"uri": where.uri}
    if where.relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    out: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.message}{context(f)}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact,
            "region": {"startLine": pos.line, "startColumn": pos.column, "endLine": end_line,
                       "endColumn": end_column},
        }}],
        "partialFingerprints": {"primaryLocationLineHash": f"{digest}:{seen[(where.path, digest)]}"},
        "properties": {"lever": f.lever.value, "jsonPointer": f.path},
    }
    if f.object is not None:
        out["properties"]["object"] = str(f.object)
    if where.mapped:
        out["properties"]["renderedFrom"] = f.file
    if f.fix is not None:
        out["properties"]["fix"] = {"applicability": str(f.fix.applicability), "title": f.fix.title}
    return out


RESULTS_HOLE = "\0results\0"  # where the streamed results go in the log's text


def sarif_results(results: list[FileResult], settings: Settings) -> Iterator[dict[str, Any]]:
    """One SARIF result per shown finding, in file order; the fingerprint hashes the finding's line
    (kept on the finding when the run was asked for SARIF)."""
    index = {r.code: i for i, r in enumerate(all_rules(settings))}
    seen: Counter = Counter()
    for f, where in located_findings(results):
        line_text = "" if where.mapped else f.extra.get("line", "")
        out = result_of(f, where, index.get(f.code, -1), line_text, seen)
        if out["ruleIndex"] < 0:
            del out["ruleIndex"]
        yield out


def _log_shell(settings: Settings) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cslint", "informationUri": INFORMATION_URI, "version": __version__,
                                "semanticVersion": __version__,
                                "rules": [rule_descriptor(r.meta, settings) for r in all_rules(settings)]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": _dir_uri(repo_root())}},
            "columnKind": "unicodeCodePoints",
            "results": RESULTS_HOLE,
        }],
    }


def _write(results: list[FileResult], settings: Settings, out: TextIO) -> None:
    """The bytes `json.dump(log, indent=2)` would write, with results streamed one at a time."""
    shell = json.dumps(_log_shell(settings), indent=2, ensure_ascii=False)
    before, after = shell.split(json.dumps(RESULTS_HOLE), 1)
    margin = before.rsplit("\n", 1)[-1].split('"')[0] + "  "  # the results key's indent, one deeper
    out.write(before + "[")
    wrote = False
    for item in sarif_results(results, settings):
        out.write(("," if wrote else "") + "\n" + margin + indented_json(item, margin))
        wrote = True
    out.write(("\n" + margin[:-2] + "]" if wrote else "]") + after)


def _dir_uri(path: str) -> str:
    from pathlib import Path
    uri = Path(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    _write(results, settings, out)
    out.write("\n")
