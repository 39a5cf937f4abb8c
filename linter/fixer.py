"""Applies fixes to files: operations → text edits → re-parse → re-lint, to a fixed point.

As in ruff: fixes that touch the same part of a document wait for the next pass, the loop is
bounded, and a pass whose text does not parse back to exactly `patch(original data)` is
reverted. A file with a parse error is never written.
"""
from __future__ import annotations

import copy
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

import jsonpatch

from .atomicwrite import Replacement
from .documents import Document, parse_documents, split_pointer
from .engine import FileResult, Linter
from .model import Applicability, Finding
from .textedit import EditError, TextEdit, apply_edits, edits_for

MAX_ITERATIONS = 100


@dataclass
class FixOutcome:
    path: str
    original: str
    text: str
    fixed: Counter = field(default_factory=Counter)  # code → count
    names: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    refused: frozenset = frozenset()  # fixes the editor could not write here (`without_refused`)
    failed: bool = False  # a cslint bug stopped the fixes: the run exits 2, as for an internal error
    # the lint of `text`, set whenever `text` differs from `original` (None when a fix failed and
    # `text` is the original again): the caller reports it instead of linting the text once more
    result: "FileResult | None" = None

    @property
    def changed(self) -> bool:
        return self.text != self.original


def touched(op: dict[str, Any]) -> tuple[str, ...]:
    """The path an operation changes; appends touch their list."""
    parts = split_pointer(op.get("path", ""))
    if op.get("op") in ("add", "remove") and parts and (parts[-1] == "-" or parts[-1].isdigit()):
        parts = parts[:-1]
    return tuple(parts)


class ClaimedPaths:
    """The paths fixes chosen for a document change, with every prefix of them: a path conflicts
    with a claimed one when either holds the other, found by lookups (comparing every pair was
    quadratic in the fixes of one document)."""

    def __init__(self) -> None:
        self.paths: set[tuple[str, ...]] = set()
        self.prefixes: set[tuple[str, ...]] = set()

    def conflicts(self, paths: set[tuple[str, ...]]) -> bool:
        return any(p in self.prefixes or any(p[:k] in self.paths for k in range(len(p))) for p in paths)

    def claim(self, paths: set[tuple[str, ...]]) -> None:
        for p in paths:
            self.paths.add(p)
            self.prefixes.update(p[:k] for k in range(len(p) + 1))


class Operations:
    """Operations made so far, looked up by kind and path (`op in list` compared it with each)."""

    def __init__(self) -> None:
        self.by_path: dict[tuple[Any, Any], list[dict[str, Any]]] = {}

    def __contains__(self, op: dict[str, Any]) -> bool:
        return op in self.by_path.get((op.get("op"), op.get("path")), ())

    def add(self, ops: list[dict[str, Any]]) -> None:
        for op in ops:
            self.by_path.setdefault((op.get("op"), op.get("path")), []).append(op)


def select_fixes(findings: list[Finding], required: Applicability) -> dict[int, list[Finding]]:
    """Per document, the fixes that can go together in one pass (first come, by position).

    An operation identical to one already chosen is shared, not a conflict (ruff, too, applies an
    edit two fixes have in common once): every container's CS401 fix creates the same dshm volume,
    so all containers are fixed in one pass instead of one per pass. Apply with `plan_operations`."""
    chosen: dict[int, list[Finding]] = {}
    claimed: dict[int, ClaimedPaths] = {}
    claimed_ops: dict[int, Operations] = {}
    seen_ops: dict[int, set[tuple]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        if f.suppressed or f.fix is None or f.fix.applicability < required:
            continue
        if not f.fix.operations and not f.fix.comment_edits and not f.fix.new_documents:
            continue
        key = tuple(sorted(map(repr, f.fix.operations + f.fix.comment_edits + f.fix.new_documents)))
        if key in seen_ops.setdefault(f.document, set()):
            continue  # the same edit from two findings is applied once
        own = unshared(f.fix.operations, claimed_ops.setdefault(f.document, Operations()))
        paths = {touched(op) for op in own} | {("#", str(a)) for a, _, _ in f.fix.comment_edits}
        if claimed.setdefault(f.document, ClaimedPaths()).conflicts(paths):
            continue
        claimed[f.document].claim(paths)
        claimed_ops[f.document].add(own)
        seen_ops[f.document].add(key)
        chosen.setdefault(f.document, []).append(f)
    return chosen


def plan_operations(chosen: list[Finding]) -> list[dict[str, Any]]:
    """The operations of fixes chosen together, a shared one once (see `select_fixes`)."""
    ops: list[dict[str, Any]] = []
    made = Operations()
    for f in chosen:
        own = unshared(f.fix.operations, made)
        ops += own
        made.add(own)
    return ops


def unshared(ops: tuple[dict[str, Any], ...], before: Operations) -> list[dict[str, Any]]:
    """A fix's operations less those the fixes before it already make. A scalar inserted into a
    list is never shared: `--a 1 --b 1` needs both 1s, while a second identical volume or env
    item would only be a duplicate name."""
    return [op for op in ops if op not in before or _inserts_scalar(op)]


def _inserts_scalar(op: dict[str, Any]) -> bool:
    last = split_pointer(op.get("path", ""))[-1:]
    return (op.get("op") == "add" and bool(last) and (last[0] == "-" or last[0].isdigit())
            and not isinstance(op.get("value"), (dict, list)))


def fix_text(path: str, text: str, linter: Linter, required: Applicability,
             lint: Callable[[str], FileResult] | None = None) -> FixOutcome:
    outcome = FixOutcome(path, text, text)
    lint = lint or (lambda t: _lint_text(linter, path, t))
    result = lint(text)
    if any(d.error for d in result.documents):
        outcome.error = "not fixed: the file does not parse"
        return outcome
    refused: dict[tuple, str] = {}  # fixes the editor cannot write in this file's layout, and why
    for _ in range(MAX_ITERATIONS):
        outcome.result = result
        candidates = [f for f in result.findings if f.fix is None or _fix_key(f) not in refused] if refused else result.findings
        plan = select_fixes(candidates, required)
        if not plan:
            _note_refused(outcome, refused)
            outcome.refused = frozenset(refused)
            return outcome
        try:
            try:
                new_text = _apply_plan(text, result.documents, plan)
            except FixRefused as exc:  # the layout, not a bug: leave those fixes out, apply the others
                refused.update(_refused_alone(text, result.documents, exc))
                continue
            except RecursionError:  # deep data lints (CS000 stops at the parser's limit) but cannot be copied
                raise FixFailed("a document is nested too deeply to verify a fix; file left unchanged",
                                bug=False) from None
        except FixFailed as exc:  # as ruff: revert every pass, never write a half-fixed file
            outcome.error, outcome.failed = str(exc), exc.bug
            outcome.text = text = outcome.original
            outcome.fixed.clear()
            outcome.result = None
            return outcome
        for findings in plan.values():
            for f in findings:
                outcome.fixed[f.code] += 1
                outcome.names[f.code] = f.name
        text = outcome.text = new_text
        result = outcome.result = lint(text)
    codes = sorted({f.code for f in result.findings if f.fix})
    outcome.error = (f"fixes did not converge after {MAX_ITERATIONS} passes ({', '.join(codes)}); "
                     "this is a cslint bug — the file holds the last valid state")
    outcome.failed = True
    return outcome


class FixFailed(Exception):
    """A fix that must not be written: a cslint bug (the edited text does not match the patch), or
    `bug=False` for what the input itself rules out."""

    def __init__(self, message: str, bug: bool = True) -> None:
        super().__init__(message)
        self.bug = bug


class FixRefused(FixFailed):
    """The text editor cannot write these fixes in this layout (an alias, a flow comment): not a
    bug, so the file's other fixes still go in."""

    def __init__(self, message: str, document: int | None, findings: list[Finding]) -> None:
        super().__init__(message, bug=False)
        self.document, self.findings = document, findings


def _fix_key(f: Finding) -> tuple:
    return f.document, f.code, repr(f.fix.operations), repr(f.fix.comment_edits), repr(f.fix.new_documents)


def _refused_alone(text: str, documents: list[Document], exc: FixRefused) -> dict[tuple, str]:
    """Which of the fixes refused together are refused on their own (all of them when each goes
    in alone but not together: the combination is what the editor cannot write)."""
    alone: dict[tuple, str] = {}
    for f in exc.findings if exc.document is not None else ():  # None: whole documents appended
        try:
            _apply_plan(text, documents, {exc.document: [f]}, verify=False)  # the plan that holds it verifies
        except FixRefused as one:
            alone[_fix_key(f)] = str(one)
        except FixFailed:
            pass  # reported when the plan that holds it runs
    return alone or {_fix_key(f): str(exc) for f in exc.findings}


def without_refused(result: FileResult, refused: frozenset) -> None:
    """Findings whose fix the editor refused in this file lose it: the report must not count them
    as fixable by `--fix`, which has just failed to apply them."""
    for f in result.findings:
        if f.fix is not None and _fix_key(f) in refused:
            f.fix = None


def _note_refused(outcome: FixOutcome, refused: dict[tuple, str]) -> None:
    if refused and not outcome.error:
        reasons = sorted(set(refused.values()))
        tail = " (the other fixes were applied)" if outcome.fixed else "; file left unchanged"
        outcome.error = "; ".join(reasons) + tail


def _apply_plan(text: str, documents: list[Document], plan: dict[int, list[Finding]], verify: bool = True) -> str:
    by_index = {d.index: d for d in documents}
    pieces: list[str] = []
    pos = 0
    for index in sorted(plan):
        doc = by_index[index]
        ops = plan_operations(plan[index])
        codes = ", ".join(sorted({f.code for f in plan[index]}))
        try:
            comments = [TextEdit(a, b, c) for f in plan[index] for a, b, c in f.fix.comment_edits]
            new_chunk = apply_edits(doc.chunk.text, edits_for(doc.chunk.text, doc.root, ops) + comments)
        except EditError as exc:
            raise FixRefused(f"fix {codes} could not be applied to document {index}: {exc}", index, plan[index]) from None
        except (KeyError, ValueError, TypeError) as exc:
            raise FixFailed(f"fix {codes} could not be applied to document {index}: {exc}; file left unchanged") from None
        if verify:
            _verify(doc, new_chunk, ops, codes)
        pieces.append(text[pos:doc.chunk.start])
        pieces.append(new_chunk)
        pos = doc.chunk.start + len(doc.chunk.text)
    pieces.append(text[pos:])
    appending = [f for fs in plan.values() for f in fs if f.fix.new_documents]
    try:
        return append_documents("".join(pieces), [d for f in appending for d in f.fix.new_documents])
    except EditError as exc:
        codes = ", ".join(sorted({f.code for f in appending}))
        raise FixRefused(f"fix {codes} could not be applied: {exc}", None, appending) from None


def append_documents(text: str, documents: list[dict[str, Any]]) -> str:
    """Whole new documents (`Fix.new_documents`) go at the end of the file as `---` YAML, each
    once, with the file's line ending, and must parse back to exactly themselves. A JSON file
    holds one value and must stay JSON: EditError."""
    import yaml
    unique: list[dict[str, Any]] = []
    for d in documents:
        if d not in unique:
            unique.append(d)
    if not unique:
        return text
    if text.lstrip()[:1] in ("{", "["):
        raise EditError("cannot append a document to a JSON file (one JSON value per file)")
    nl = "\r\n" if "\r\n" in text else "\n"
    marker = "---" + nl
    added = "".join(marker + yaml.safe_dump(d, sort_keys=False, default_flow_style=False, allow_unicode=True,
                                            width=4096).replace("\n", nl) for d in unique)
    reparsed = list(parse_documents("<fix>", added))
    if [r.data for r in reparsed] != unique or any(r.error for r in reparsed):
        raise FixFailed("new documents of a fix do not round-trip through YAML; file left unchanged")
    text += "" if not text or text.endswith("\n") else nl
    if text.rstrip().endswith("\n---") or text.strip() == "---":  # the file already ends with a marker
        added = added[len(marker):]
    return text + added


def _verify(doc: Document, new_chunk: str, ops: list[dict[str, Any]], codes: str) -> None:
    """The edited text must parse to exactly the original data with the operations applied."""
    try:
        expected = jsonpatch.apply_patch(unshared_copy(doc.data), ops)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise FixFailed(f"fix {codes} has an invalid patch: {exc}") from None
    reparsed = list(parse_documents(doc.file, new_chunk))
    if len(reparsed) != 1 or reparsed[0].error is not None or reparsed[0].data != expected:
        raise FixFailed(f"fix {codes} produced text that does not match its patch in document {doc.index}; "
                        "file left unchanged (please report this cslint bug)")


def unshared_copy(value: Any) -> Any:
    """A deep copy in which no two places hold one object. `copy.deepcopy` keeps the sharing an
    alias or a merge key made, so a patch applied to the copy changed every aliased place, just
    as a wrong edit at the anchor does, and `_verify` could not tell them apart."""
    if isinstance(value, dict):
        return {k: unshared_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unshared_copy(v) for v in value]
    return copy.deepcopy(value)


def _lint_text(linter: Linter, path: str, text: str) -> FileResult:
    from .sources import SourceText
    return linter.lint_in_run(SourceText(path, text))  # set rules (CS301, CS504) see the whole run


def write_atomic(path: str, text: str, expected_original: str, bom: bool = False) -> None:
    """Replace the file only if it still holds what was read; keep its mode. A symlink is
    followed (its target is replaced, the link stays), and a read-only file is refused even when
    its directory would allow the rename. The content is compared again right before the rename,
    so an editor's save during the write is kept, not clobbered."""
    try:
        mode = os.stat(path).st_mode  # follows a link, as realpath below does
    except FileNotFoundError:
        raise OSError(f"{path} was removed while it was being fixed; not written") from None
    if not stat.S_ISREG(mode):  # a pipe was read once and cannot be replaced
        raise OSError(f"{path} is not a regular file; not written")
    path = os.path.realpath(path)
    original = (b"\xef\xbb\xbf" if bom else b"") + expected_original.encode("utf-8")
    _still_as_read(path, original)
    if not os.access(path, os.W_OK) or not mode & 0o222:  # root ignores the bits
        raise PermissionError(13, "file is read-only", path)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    with Replacement(path, stat.S_IMODE(mode), check=partial(_still_as_read, path, original)) as fh:
        fh.write(data)


def _still_as_read(path: str, original: bytes) -> None:
    try:
        with open(path, "rb") as fh:
            current = fh.read()
    except FileNotFoundError:
        raise OSError(f"{path} was removed while it was being fixed; not written") from None
    if current != original:
        raise OSError(f"{path} changed on disk while it was being fixed; not written")
