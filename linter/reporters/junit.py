"""JUnit XML: a test suite per file, a failing test case per finding, a passing one for clean files,
so CI test dashboards show manifests the way they show tests."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from ..engine import FileResult
from ..settings import Settings
from .locations import context


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    root = ET.Element("testsuites", name="cslint")
    total = failures = 0
    for result in results:
        findings = [f for f in result.findings if not f.suppressed]
        suite = ET.SubElement(root, "testsuite", name=result.source.path, tests=str(max(1, len(findings))),
                              failures=str(len(findings)), errors="0", skipped="0")
        total += max(1, len(findings))
        failures += len(findings)
        if not findings:
            ET.SubElement(suite, "testcase", name="cslint", classname=result.source.path)
            continue
        for f in findings:
            case = ET.SubElement(suite, "testcase", name=f"{f.code} {f.name} at {f.line}:{f.column}",
                                 classname=result.source.path, file=result.source.path, line=str(f.line))
            failure = ET.SubElement(case, "failure", message=f.message, type=f"{f.code} [{f.severity}]")
            failure.text = (f"{result.source.path}:{f.line}:{f.column}: {f.code} [{f.severity}] "
                            f"{f.message}{context(f)}" + (f"\nsource: {f.source}" if f.source else ""))
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
