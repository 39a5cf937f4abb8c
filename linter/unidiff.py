"""Unified diffs of fixed files for `--diff`: what `patch -p1` applies, found document by
document and with patience anchors, so that a diff of thousands of fixed documents stays linear."""
from __future__ import annotations

import bisect
import difflib


def unified_diff(path: str, before: str, after: str) -> str:
    """A diff `patch` applies: lines end at `\n` only (str.splitlines also splits at U+2028 and
    NEL, which patch does not), and a last line without one is marked as GNU diff marks it."""
    a, b = _lines(before), _lines(after)
    groups = _OpcodesMatcher(_document_opcodes(before, after, a, b)).get_grouped_opcodes(3)
    out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
    for group in groups:  # difflib.unified_diff's hunks, from opcodes found document by document
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        out.append(f"@@ -{_hunk_range(i1, i2)} +{_hunk_range(j1, j2)} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + line for line in a[i1:i2])
                continue
            out.extend("-" + line for line in a[i1:i2])
            out.extend("+" + line for line in b[j1:j2])
    if len(out) == 2:  # no hunk: no diff at all, as difflib
        return ""
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def _document_opcodes(before: str, after: str, a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """The n-th document of `before` matched against the n-th of `after` (a fix edits documents in
    place and appends new ones at the end): difflib's matcher over a whole file is quadratic when
    every document changes (2,500 fixed documents took 30 s)."""
    from .documents import split_chunks
    starts_a = [c.line for c in split_chunks(before)][1:]
    starts_b = [c.line for c in split_chunks(after)][1:]
    pairs = min(len(starts_a), len(starts_b))
    bounds = list(zip([0, *starts_a[:pairs]], [0, *starts_b[:pairs]], [*starts_a[:pairs], len(a)],
                      [*starts_b[:pairs], len(b)]))
    opcodes: list[tuple[str, int, int, int, int]] = []
    for lo_a, lo_b, hi_a, hi_b in bounds:
        for tag, i1, i2, j1, j2 in _line_opcodes(a, b, lo_a, hi_a, lo_b, hi_b):
            op = (tag, i1, i2, j1, j2)
            if opcodes and tag == opcodes[-1][0] == "equal":
                op = ("equal", opcodes[-1][1], op[2], opcodes[-1][3], op[4])
                opcodes.pop()
            opcodes.append(op)
    return opcodes


_MATCHED_WHOLE = 250_000  # line pairs difflib's matcher compares at most (500 × 500 lines)


def _line_opcodes(a: list[str], b: list[str], lo_a: int, hi_a: int, lo_b: int, hi_b: int
                  ) -> list[tuple[str, int, int, int, int]]:
    """Opcodes turning a[lo_a:hi_a] into b[lo_b:hi_b]. Common head and tail lines are equal as
    they are; a large middle is cut at lines that occur once on each side, in the same order
    (patience diff's anchors), before difflib matches the pieces: over one document of 32k lines
    (`kubectl get -o yaml` gives one `kind: List`) difflib alone took 3.7 s."""
    start_a, start_b = lo_a, lo_b
    while lo_a < hi_a and lo_b < hi_b and a[lo_a] == b[lo_b]:
        lo_a, lo_b = lo_a + 1, lo_b + 1
    end_a, end_b = hi_a, hi_b
    while hi_a > lo_a and hi_b > lo_b and a[hi_a - 1] == b[hi_b - 1]:
        hi_a, hi_b = hi_a - 1, hi_b - 1
    ops = [("equal", start_a, lo_a, start_b, lo_b)] if lo_a > start_a else []
    anchors = _anchors(a, b, lo_a, hi_a, lo_b, hi_b) if (hi_a - lo_a) * (hi_b - lo_b) > _MATCHED_WHOLE else []
    if anchors:
        at_a, at_b = lo_a, lo_b
        for i, j in anchors:
            ops += _line_opcodes(a, b, at_a, i, at_b, j)
            ops.append(("equal", i, i + 1, j, j + 1))
            at_a, at_b = i + 1, j + 1
        ops += _line_opcodes(a, b, at_a, hi_a, at_b, hi_b)
    elif hi_a > lo_a or hi_b > lo_b:  # small, or no anchor: difflib (with its junk heuristic when large)
        small = (hi_a - lo_a) * (hi_b - lo_b) <= _MATCHED_WHOLE
        ops += [(tag, lo_a + i1, lo_a + i2, lo_b + j1, lo_b + j2) for tag, i1, i2, j1, j2 in
                difflib.SequenceMatcher(None, a[lo_a:hi_a], b[lo_b:hi_b], autojunk=not small).get_opcodes()]
    if end_a > hi_a:
        ops.append(("equal", hi_a, end_a, hi_b, end_b))
    return ops


def _anchors(a: list[str], b: list[str], lo_a: int, hi_a: int, lo_b: int, hi_b: int) -> list[tuple[int, int]]:
    """(i, j) of lines that occur once in a[lo_a:hi_a] and once in b[lo_b:hi_b], the longest run
    of them in the same order on both sides (patience sorting)."""
    seen_a: dict[str, int | None] = {}
    for i in range(lo_a, hi_a):
        seen_a[a[i]] = None if a[i] in seen_a else i
    seen_b: dict[str, int | None] = {}
    for j in range(lo_b, hi_b):
        seen_b[b[j]] = None if b[j] in seen_b else j
    pairs = sorted((i, seen_b[line]) for line, i in seen_a.items()
                   if i is not None and seen_b.get(line) is not None)
    tops: list[int] = []  # the smallest j ending an increasing run of each length
    ends: list[int] = []  # index into pairs of that run's last pair
    back: list[int] = []  # each pair's predecessor in its run
    for k, (_, j) in enumerate(pairs):
        n = bisect.bisect_left(tops, j)
        back.append(ends[n - 1] if n else -1)
        if n == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[n], ends[n] = j, k
    run, k = [], ends[-1] if ends else -1
    while k >= 0:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


class _OpcodesMatcher(difflib.SequenceMatcher):
    """difflib's hunk grouping over opcodes found elsewhere."""

    def __init__(self, opcodes: list[tuple[str, int, int, int, int]]) -> None:
        super().__init__(None, [], [])
        self.opcodes = opcodes

    def get_opcodes(self) -> list[tuple[str, int, int, int, int]]:
        return self.opcodes


def _hunk_range(start: int, stop: int) -> str:
    """difflib's `_format_range_unified`: 1-based start, and an empty range names the line before."""
    length = stop - start
    begin = start + 1 if length else start
    return str(begin) if length == 1 else f"{begin},{length}"


def _lines(text: str) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]
