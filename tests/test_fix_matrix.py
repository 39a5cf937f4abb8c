"""Style matrix: each fixtures/fix/NAME.yaml fixed with `--fix --unsafe-fixes` must give exactly
NAME.fixed.yaml, changing no more lines than the bound below (removed + added lines).

Regenerate the goldens after a deliberate change with `python tests/test_fix_matrix.py --regen`
and review the diff: the golden files are the spec of what a fix may touch.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cslint.sources import read_source

from fix_support import MATRIX, changed_lines, fix_source, lint, matrix_linter

# fixture → max changed lines (as difflib counts them): every line over the count of lines a careful human
# would write is a regression. Most fixes here add a few lines; none rewrites a neighbour.
BOUNDS = {
    "anchors_aliases": 19,  # 1 rewritten + 18 added, 5 fixes
    "bom": 20,  # 2 rewritten + 18 added, 6 fixes
    "comments_and_markers": 13,  # 2 rewritten + 11 added, 6 fixes (CS404 adds --enforce-eager: no CS405)
    "crlf": 29,  # 3 rewritten + 26 added, 8 fixes
    "flow_collections": 10,  # 4 rewritten + 6 added, 5 fixes
    "helm_source": 23,  # 3 rewritten + 2 removed (CS503) + 18 added, 7 fixes
    "indented_sequences": 29,  # 3 rewritten + 26 added, 8 fixes
    "list_kind_non_ascii": 16,  # 1 rewritten + 15 added, 6 fixes
    "multi_document": 14,  # 2 rewritten + 12 added, 5 fixes
    "no_final_newline": 10,  # 4 rewritten + 6 added, 5 fixes (the old last line gains its newline)
    "non_indented_sequences": 20,  # 2 rewritten + 18 added, 6 fixes
    "shell_strings": 40,  # 3 rewritten + 37 added, 10 fixes in two documents
    "single_quoted_and_plain": 15,  # 7 rewritten + 8 added, 7 fixes
    "tabs_in_strings": 10,  # 1 rewritten + 9 added, 4 fixes
}
MAX_LINES_PER_FIX = 6  # the largest single fix (CS401's volume + mount, CS408's probe) adds 6 lines


def golden_path(path: Path) -> Path:
    return path.with_name(path.stem + ".fixed.yaml")


def fixed_bytes(path: Path) -> tuple[bytes, object]:
    src, outcome = fix_source(path, using=matrix_linter())
    return (b"\xef\xbb\xbf" if src.bom else b"") + outcome.text.encode("utf-8"), outcome


@pytest.mark.parametrize("path", MATRIX, ids=lambda p: p.stem)
def test_fixture_fixes_to_its_golden(path: Path):
    data, outcome = fixed_bytes(path)
    assert outcome.error is None, outcome.error
    assert data == golden_path(path).read_bytes(), f"{path.name}: fix output differs from its golden"


@pytest.mark.parametrize("path", MATRIX, ids=lambda p: p.stem)
def test_fixture_changes_only_the_lines_its_fixes_need(path: Path):
    src, outcome = fix_source(path, using=matrix_linter())
    removed, added = changed_lines(outcome.original, outcome.text)
    fixes = sum(outcome.fixed.values())
    assert fixes >= 1
    assert len(removed) + len(added) <= BOUNDS[path.stem]
    assert len(removed) <= fixes  # a fix rewrites at most one existing line in these fixtures
    assert len(added) <= MAX_LINES_PER_FIX * fixes


def test_every_fixture_has_a_bound_and_a_golden():
    assert {p.stem for p in MATRIX} == set(BOUNDS)
    assert all(golden_path(p).is_file() for p in MATRIX)


@pytest.mark.parametrize("path", MATRIX, ids=lambda p: p.stem)
def test_golden_is_clean_of_fixable_findings(path: Path):
    """The golden is a fixed point: linting it offers nothing more to fix."""
    golden = golden_path(path)
    src = read_source(str(golden))
    result = lint(str(golden), src.text, matrix_linter())
    assert [f.code for f in result.findings if f.fix and f.fix.operations and not f.suppressed] == []


def _regen() -> None:
    for path in MATRIX:
        data, outcome = fixed_bytes(path)
        golden_path(path).write_bytes(data)
        print(f"{path.name}: {dict(outcome.fixed)} {outcome.error or ''}")


if __name__ == "__main__" and "--regen" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parent))
    _regen()
