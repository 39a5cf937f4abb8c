"""Every real manifest of ../shared/corpus lints without a crash, with positions inside the file."""

import pytest

from cslint.engine import Linter
from cslint.settings import Settings
from cslint.sources import read_source

from corpus_paths import CORPUS
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not present in this clone")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("profile", ["portable", "gke"])
def test_corpus_file_lints(path, profile):
    src = read_source(str(path))
    results = Linter(Settings(profile=profile)).lint_sources([src])
    lines = src.text.splitlines() if src.text is not None else []
    for f in results[0].findings:
        assert 1 <= f.line <= max(1, len(lines)), f
        if lines and f.line <= len(lines):
            assert 1 <= f.column <= len(lines[f.line - 1]) + 1, f
        assert f.message and "Traceback" not in f.message


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not present in this clone")
def test_malformed_corpus_files_are_cs000():
    """The corpus holds files malformed by their authors: each yields CS000, never an exception."""
    broken = 0
    for path in FILES:
        results = Linter(Settings()).lint_sources([read_source(str(path))])
        if any(f.code == "CS000" for f in results[0].findings):
            broken += 1
    assert broken >= 1


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not present in this clone")
def test_corpus_engines_are_found():
    """Most corpus files deploy vLLM: the workload model must see their engine containers."""
    engines = 0
    for path in FILES:
        src = read_source(str(path))
        from cslint.documents import parse_documents
        from cslint.workloads import iter_objects
        for doc in parse_documents(src.path, src.text or ""):
            for obj in iter_objects(doc.data):
                engines += sum(1 for t in obj.templates for c in t.containers if c.is_engine)
    assert engines >= 45
