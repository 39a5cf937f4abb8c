"""Machine-readable findings with their fixes' JSON Patch operations."""
from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from .. import __version__
from ..engine import FileResult
from ..settings import Settings


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    findings = [f for r in results for f in r.findings if not f.suppressed]
    payload = {
        "version": __version__,
        "findings": [f.to_json() for f in findings],
        "summary": {
            "files": len(results),
            "findings": len(findings),
            "by_severity": dict(Counter(str(f.severity) for f in findings)),
            "by_code": dict(sorted(Counter(f.code for f in findings).items())),
            "fixable": sum(1 for f in findings if f.fix),
        },
    }
    json.dump(payload, out, indent=2, ensure_ascii=False)
    out.write("\n")
