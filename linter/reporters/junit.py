"""JUnit XML: a test suite per file, a failing test case per finding, a passing one for clean files,
so CI test dashboards show manifests the way they show tests."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from ..engine import FileResult
from ..settings import Settings
from ..results import file_counts
from .locations import context

# characters XML 1.0 does not allow at all, escaped or not (ElementTree writes them as they are):
# a control character in an object name or a path made the whole report unreadable
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` with every character XML cannot carry written as a visible `\\xNN` escape; markup
    never holds one, so this applies to serialised XML as well."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def report(results: list[FileResult], settings: Settings, out: TextIO, **_: object) -> None:
    """Streams a suite per file (findings may be read back from disk); the totals on the root come
    from counts kept when the findings were stored."""
    shown = [n for n, _ in file_counts(results)]
    root = ET.Element("testsuites", name="cslint", tests=str(sum(max(1, n) for n in shown)),
                      failures=str(sum(shown)))
    head = ET.tostring(root, encoding="unicode")  # <testsuites … />
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not results:
        out.write(head + "\n")
        return
    out.write(head[:-3] + ">")
    for result in results:
        suite = _suite(result)
        ET.indent(suite, level=1)
        out.write("\n  " + xml_safe(ET.tostring(suite, encoding="unicode")))
    out.write("\n</testsuites>\n")


def _suite(result: FileResult) -> ET.Element:
    findings = [f for f in result.findings if not f.suppressed]
    suite = ET.Element("testsuite", name=result.source.path, tests=str(max(1, len(findings))),
                       failures=str(len(findings)), errors="0", skipped="0")
    if not findings:
        ET.SubElement(suite, "testcase", name="cslint", classname=result.source.path)
        return suite
    for f in findings:
        case = ET.SubElement(suite, "testcase", name=f"{f.code} {f.name} at {f.line}:{f.column}",
                             classname=result.source.path, file=result.source.path, line=str(f.line))
        failure = ET.SubElement(case, "failure", message=f.message, type=f"{f.code} [{f.severity}]")
        failure.text = (f"{result.source.path}:{f.line}:{f.column}: {f.code} [{f.severity}] "
                        f"{f.message}{context(f)}" + (f"\nsource: {f.source}" if f.source else ""))
    return suite
