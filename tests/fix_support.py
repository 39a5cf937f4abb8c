"""Shared helpers of the autofix tests: fix a file in process, measure what changed."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import jsonpatch
import yaml

from cslint.documents import parse_documents
from cslint.engine import Linter
from cslint.fixer import FixOutcome, _lint_text, fix_text, plan_operations, select_fixes, unshared_copy
from cslint.model import Applicability
from cslint.settings import Settings
from cslint.sources import SourceText, read_source
from corpus_paths import CORPUS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fix"
MATRIX = sorted(p for p in FIXTURES.glob("*.yaml") if not p.name.endswith(".fixed.yaml"))
CORPUS_FILES = (sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
                if CORPUS.is_dir() else [])
# The fixes issue 3 specifies: the style-matrix goldens are made with these only, so that a rule
# added later does not rewrite every golden (the property tests run every rule).
FIX_CODES = ("CS101", "CS202", "CS401", "CS402", "CS403", "CS404", "CS405", "CS406", "CS408",
             "CS501", "CS502", "CS503")


def linter() -> Linter:
    """A fresh Linter with every rule (each lint run keeps per-run state for set rules)."""
    return Linter(Settings())


def matrix_linter() -> Linter:
    return Linter(Settings(select=FIX_CODES))


def fix(path: str, text: str, unsafe: bool = True, using: Linter | None = None) -> FixOutcome:
    return fix_text(path, text, using or linter(), Applicability.UNSAFE if unsafe else Applicability.SAFE)


def fix_source(path: Path, unsafe: bool = True, using: Linter | None = None) -> tuple[SourceText, FixOutcome]:
    src = read_source(str(path))
    assert src.text is not None, src.error
    return src, fix(str(path), src.text, unsafe, using)


@dataclass
class Step:
    """One pass of the fix loop, replayed from outside: the text before, the operations chosen
    per document, the text after."""
    before: str
    operations: dict[int, list[dict]]
    codes: list[str]
    after: str
    comment_edits: dict[int, list[tuple[int, int, str]]]  # offsets in the document's chunk
    new_documents: list[dict]


def replay(path: str, text: str, unsafe: bool = True) -> list[Step]:
    """The fix loop's passes, each step's text produced by the real engine (fix_text with one pass)."""
    import cslint.fixer as fixer
    required = Applicability.UNSAFE if unsafe else Applicability.SAFE
    steps: list[Step] = []
    saved = fixer.MAX_ITERATIONS
    fixer.MAX_ITERATIONS = 1
    try:
        for _ in range(saved):
            result = _lint_text(linter(), path, text)
            plan = select_fixes(result.findings, required)
            if not plan or any(d.error for d in result.documents):
                return steps
            out = fix_text(path, text, linter(), required)
            ops = {i: plan_operations(fs) for i, fs in plan.items()}
            comments = {i: [e for f in fs for e in getattr(f.fix, "comment_edits", ())] for i, fs in plan.items()}
            new_docs = []
            for d in (d for fs in plan.values() for f in fs for d in getattr(f.fix, "new_documents", ())):
                if d not in new_docs:
                    new_docs.append(d)
            codes = sorted({f.code for fs in plan.values() for f in fs})
            steps.append(Step(text, ops, codes, out.text, comments, new_docs))
            if out.error and "did not converge" not in out.error or out.text == text:
                return steps
            text = out.text
    finally:
        fixer.MAX_ITERATIONS = saved
    return steps


def expected_data(step: Step) -> list:
    """Data of every document before the step, with each document's operations applied by
    jsonpatch, followed by the documents the step appends."""
    out = []
    for doc in parse_documents("x", step.before):
        data = unshared_copy(doc.data)  # deepcopy keeps what aliases share
        if doc.index in step.operations:
            data = jsonpatch.apply_patch(data, step.operations[doc.index])
        out.append(data)
    return out + list(step.new_documents)


def documents_data(text: str) -> list:
    return [d.data for d in parse_documents("x", text)]


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) between two texts, line endings included."""
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line[0] == "-" else added).append(line[1:])
    return removed, added


def parses(text: str) -> bool:
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return False
    return True


def lint(path: str, text: str, using: Linter | None = None):
    return _lint_text(using or linter(), path, text)


def touched_lines(text: str, operations: dict[int, list[dict]],
                  comment_edits: dict[int, list[tuple[int, int, str]]] | None = None) -> set[int]:
    """0-based lines of `text` that operations may rewrite: a replaced/removed node's lines (with
    its key's line), and the lines of a flow collection that something is added to. Block
    insertions rewrite nothing: they only add lines."""
    lines: set[int] = set()
    docs = {d.index: d for d in parse_documents("x", text)}
    for index, edits in (comment_edits or {}).items():
        chunk = docs[index].chunk
        for a, b, _ in edits:
            lines.update(range(chunk.line + chunk.text.count("\n", 0, a), chunk.line + chunk.text.count("\n", 0, b) + 1))
    for index, ops in operations.items():
        doc = docs[index]
        for op in ops:
            node, key, missing = doc.node_at(op["path"])
            if op["op"] == "add":
                parent, parent_key, parent_missing = doc.node_at(op["path"].rsplit("/", 1)[0])
                if missing == "" and key is not None:  # add over an existing key replaces it
                    lines |= _node_lines(doc, node, key)
                elif not parent_missing and getattr(parent, "flow_style", False):
                    lines |= _node_lines(doc, parent, None)
                continue
            if node is not None:
                lines |= _node_lines(doc, node, key)
                lines |= _pulled_up_line(doc, op)
        lines |= _emptied_parent_lines(doc, ops)
    return lines


def _pulled_up_line(doc, op: dict) -> set[int]:
    """The line of the entry that moves up onto a dash line when the first entry there goes
    (`- name: x` / `  image: y` becomes `- image: y`)."""
    from cslint.dashline import dash_head
    from cslint.textedit import EditError
    parent, _, missing = doc.node_at(op["path"].rsplit("/", 1)[0])
    if op["op"] != "remove" or missing or getattr(parent, "flow_style", True) or len(parent.value) < 2:
        return set()
    first = parent.value[0]
    target = doc.node_at(op["path"])
    if (first[0] if isinstance(first, tuple) else first) is not (target[1] if isinstance(first, tuple) else target[0]):
        return set()
    try:
        if dash_head(doc.chunk.text, parent) is None:
            return set()
    except EditError:
        return set()
    second = parent.value[1]
    start = (second[0] if isinstance(second, tuple) else second).start_mark.index
    return {doc.chunk.line + doc.chunk.text.count("\n", 0, start)}


def _emptied_parent_lines(doc, ops: list[dict]) -> set[int]:
    """The key line of a block collection the batch removes every entry of: it becomes `{}`/`[]`
    there (`key: {}`), or on the collection's first line when it has no key (a document root)."""
    removes: dict[str, int] = {}
    for op in ops:
        if op["op"] == "remove":
            parent_path = op["path"].rsplit("/", 1)[0]
            removes[parent_path] = removes.get(parent_path, 0) + 1
    lines: set[int] = set()
    for parent_path, count in removes.items():
        parent, parent_key, missing = doc.node_at(parent_path)
        if missing or getattr(parent, "flow_style", True) or count < len(parent.value):
            continue
        start = (parent_key or parent).start_mark.index
        lines.add(doc.chunk.line + doc.chunk.text.count("\n", 0, start))
    return lines


def _node_lines(doc, node, key) -> set[int]:
    from cslint.textedit import content_end
    start = (key or node).start_mark.index
    first = doc.chunk.line + doc.chunk.text.count("\n", 0, start)
    last = doc.chunk.line + doc.chunk.text.count("\n", 0, content_end(doc.chunk.text, node))
    return set(range(first, last + 1))


def rewritten_lines(before: str, after: str, touched: set[int] = frozenset()) -> set[int]:
    """0-based lines of `before`, outside `touched`, that `after` does not keep in order (changed
    or deleted). The untouched lines must be a subsequence of `after`'s lines; matching them
    greedily is exact for that question, where a diff's alignment can pair a kept line with an
    inserted copy of it (`startupProbe:` twice in one pod) and call the original rewritten. Line
    endings are ignored: appending to a file without a final newline must end its last line."""
    old, new = before.splitlines(), after.splitlines()
    out: set[int] = set()
    j = 0
    for i, line in enumerate(old):
        if i in touched:
            continue
        k = j
        while k < len(new) and new[k] != line:
            k += 1
        if k == len(new):
            out.add(i)  # not kept (later lines are still matched from the same place)
        else:
            j = k + 1
    return out


def own_line_comments(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.split("\n") if line.lstrip().startswith("#")]
