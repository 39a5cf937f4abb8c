"""Machine-readable findings with their fixes' JSON Patch operations."""
from __future__ import annotations

import json
from collections import Counter
from typing import TextIO

from .. import __version__
from ..engine import FileResult
from ..settings import Settings
from . import indented_json


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    """The bytes `json.dump(payload, indent=2)` would write, streamed: findings are written one at
    a time (a long run reads them back from disk) and the summary counted on the way."""
    out.write('{\n  "version": ' + json.dumps(__version__) + ',\n  "findings": [')
    by_severity: Counter = Counter()
    by_code: Counter = Counter()
    fixable = 0
    for r in results:
        for f in r.findings:
            if f.suppressed:
                continue
            out.write(("," if by_code else "") + "\n    " + indented_json(f.to_json(), "    "))
            by_severity[str(f.severity)] += 1
            by_code[f.code] += 1
            fixable += bool(f.fix)
    out.write("\n  ]" if by_code else "]")
    summary = {
        "files": len(results),
        "findings": sum(by_code.values()),
        "by_severity": dict(by_severity),
        "by_code": dict(sorted(by_code.items())),
        "fixable": fixable,
    }
    out.write(',\n  "summary": ' + indented_json(summary, "  ") + "\n}\n")
