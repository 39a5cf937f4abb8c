"""Measure `--fix --unsafe-fixes` on ../shared/corpus: files changed, changed vs total lines,
largest single fix, passes needed, reverts. Run: python bench/fix_corpus.py [CORPUS_DIR]"""
from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fix_support import CORPUS, changed_lines, fix, lint, replay  # noqa: E402

from cslint.fixer import _apply_plan  # noqa: E402
from cslint.sources import read_source  # noqa: E402


def single_fix_sizes(path: str, text: str) -> list[tuple[int, str]]:
    """(changed lines, code) of every applicable fix applied alone to the original text."""
    result = lint(path, text)
    if any(d.error for d in result.documents):
        return []
    sizes = []
    for f in result.findings:
        if f.suppressed or f.fix is None or not (f.fix.operations or f.fix.comment_edits or f.fix.new_documents):
            continue
        try:
            new = _apply_plan(text, result.documents, {f.document: [f]})
        except Exception as exc:  # noqa: BLE001 - measured, not hidden
            sizes.append((-1, f"{f.code} FAILED: {exc}"))
            continue
        removed, added = changed_lines(text, new)
        sizes.append((len(removed) + len(added), f.code))
    return sizes


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    stats = Counter()
    passes, biggest, errors, per_code = Counter(), [], [], Counter()
    start = time.perf_counter()
    for p in files:
        src = read_source(str(p))
        if src.text is None:
            stats["unreadable"] += 1
            continue
        stats["files"] += 1
        stats["lines"] += len(src.text.splitlines())
        outcome = fix(str(p), src.text)
        if outcome.error:
            errors.append(f"{p.name}: {outcome.error}")
        if not outcome.changed:
            continue
        stats["changed_files"] += 1
        removed, added = changed_lines(src.text, outcome.text)
        stats["removed"] += len(removed)
        stats["added"] += len(added)
        stats["fixes"] += sum(outcome.fixed.values())
        per_code.update(outcome.fixed)
        passes[len(replay(str(p), src.text))] += 1
        biggest += [(n, code, p.name) for n, code in single_fix_sizes(str(p), src.text)]
    elapsed = time.perf_counter() - start
    print(f"files: {stats['files']} (+{stats['unreadable']} unreadable); changed: {stats['changed_files']}")
    print(f"lines: {stats['lines']} total; changed {stats['removed'] + stats['added']} "
          f"({stats['removed']} rewritten/removed, {stats['added']} added) by {stats['fixes']} fixes")
    print(f"fixes per code: {dict(sorted(per_code.items()))}")
    print(f"passes needed per changed file: {dict(sorted(passes.items()))}")
    for n, code, name in sorted(biggest, reverse=True)[:5]:
        print(f"largest single fix: {n} lines, {code} in {name}")
    print(f"reverted / not converged: {len([e for e in errors if 'parse' not in e])}; "
          f"not fixed because unparsable: {len([e for e in errors if 'parse' in e])}")
    for e in errors:
        print("   ", e)
    print(f"elapsed: {elapsed:.1f}s")


if __name__ == "__main__":
    main()
