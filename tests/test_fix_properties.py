"""Properties of `--fix --unsafe-fixes` over every style fixture and every file of
../shared/corpus (skipped when absent), plus hypothesis-generated variations:

(a) equivalence: each pass's text parses to the previous data with that pass's JSON Patch applied
    (by jsonpatch, not by cslint), and the passes chain to the fixer's final text;
(b) idempotence; (c) fixed codes are not reported again; (d) own-line comments all survive and
every rewritten line lies inside a node a replace/remove operation targets; (e) no new CS001.
A file that does not parse is left untouched.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from fuzzing import examples

from fix_support import (CORPUS_FILES, MATRIX, documents_data, expected_data, fix, lint, own_line_comments,
                         replay, rewritten_lines, touched_lines)
from cslint.sources import read_source

FILES = MATRIX + CORPUS_FILES


def _count(result, code: str) -> int:
    return sum(1 for f in result.findings if f.code == code and not f.suppressed)


def _fixable(f) -> bool:
    return f.fix is not None and bool(f.fix.operations) and not f.suppressed


def check_fix_properties(path: str, text: str):
    """Asserts (a)–(e) for one text; returns the outcome for further checks."""
    before = lint(path, text)
    outcome = fix(path, text)
    if any(d.error for d in before.documents):
        assert outcome.text == text, "a file that does not parse must be left untouched"
        return outcome
    assert outcome.error is None, outcome.error  # nothing reverted, converged
    current, comments_removed = text, False
    for step in replay(path, text):
        assert step.before == current
        assert documents_data(step.after) == expected_data(step), step.codes  # (a)
        comments_removed |= any(step.comment_edits.values())
        touched = touched_lines(step.before, step.operations, step.comment_edits)
        outside = rewritten_lines(step.before, step.after, touched)
        assert not outside, (step.codes, [step.before.splitlines()[i] for i in sorted(outside)])  # (d)
        current = step.after
    assert current == outcome.text
    if not comments_removed:  # only a suppression fix (CS900) may edit comments
        assert not Counter(own_line_comments(text)) - Counter(own_line_comments(outcome.text))  # (d)
    again = fix(path, outcome.text)
    assert again.text == outcome.text and not again.fixed  # (b)
    after = lint(path, outcome.text)
    for code in outcome.fixed:  # (c): only findings that had no fix may remain
        unfixable = sum(1 for f in before.findings if f.code == code and not _fixable(f))
        assert _count(after, code) <= unfixable, code
    assert not [f for f in after.findings if _fixable(f)]
    assert _count(after, "CS001") <= _count(before, "CS001")  # (e)
    return outcome


@pytest.mark.parametrize("path", MATRIX, ids=lambda p: p.stem)
def test_fixture_properties(path: Path):
    src = read_source(str(path))
    outcome = check_fix_properties(str(path), src.text)
    assert outcome.changed


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus is not present in this clone")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_properties(path: Path):
    src = read_source(str(path))
    if src.text is None:
        pytest.skip(f"not text: {src.error}")  # binary/oversized: no fix is ever attempted
    check_fix_properties(str(path), src.text)


def _vary(text: str, crlf: bool, final_newline: bool) -> str:
    text = text.rstrip("\n") + ("\n" if final_newline else "")
    return text.replace("\n", "\r\n") if crlf else text


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(FILES), crlf=st.booleans(), final_newline=st.booleans())
def test_line_ending_variations_of_every_file(path: Path, crlf: bool, final_newline: bool):
    src = read_source(str(path))
    if src.text is None or "\r" in src.text:
        return
    text = _vary(src.text, crlf, final_newline)
    outcome = check_fix_properties(str(path), text)
    assert outcome.text.endswith("\n") == text.endswith("\n") or not outcome.changed
    if crlf:
        assert "\n" not in outcome.text.replace("\r\n", ""), "a bare LF in a CRLF file"


def test_the_kept_lines_check_sees_rewrites_and_tolerates_repeated_lines():
    assert rewritten_lines("a\nb\nc\n", "a\nX\nc\n") == {1}
    assert rewritten_lines("a\nb\nc\n", "a\nc\n") == {1}
    assert rewritten_lines("a\nb\nc\n", "a\nX\nc\n", touched={1}) == set()
    assert rewritten_lines("c\nb\n", "b\nc\n") == {1}  # reordered: one of them moved
    # insertions that repeat an existing line (two containers with the same probe) keep everything
    before = "- a\n  probe:\n    get: x\n- b\n  probe:\n    get: x\n"
    after = "- a\n  probe:\n    get: x\n    failureThreshold: 60\n- b\n  probe:\n    get: x\n    failureThreshold: 60\n"
    assert rewritten_lines(before, after) == set()


def test_emptying_a_block_collection_keeps_the_properties():
    """CS900 removes a pod template's only annotation map: the parent's key line is rewritten to
    `metadata: {}` (its comment kept), which (d) must count as touched, not as collateral."""
    path = Path(__file__).resolve().parent.parent / "fixtures" / "CS900" / "only_annotation.yaml"
    outcome = check_fix_properties(str(path), path.read_text())
    assert "    metadata: {}  # pod metadata\n" in outcome.text and outcome.fixed.get("CS900") == 1
