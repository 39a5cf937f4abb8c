"""The lint's fast paths give exactly what the plain definitions give.

Each speed-up replaced a general mechanism with a cheaper one (substring search for a regex, a
cache for a recomputation); these tests hold the cheap one to the reference.
"""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings, strategies as st
from fuzzing import examples

import cslint.documents as documents
from cslint.documents import _MARKER, Chunk, Document, _markers, split_chunks
from cslint.engine import Linter
from cslint.masking import mask
from cslint.quantity import format_bytes
from cslint.settings import Settings
from cslint.sources import SourceText
from cslint.workloads import Container, K8sObject

# texts built from the characters that decide whether a line is a document marker
_MARKER_TEXT = st.text(alphabet=["-", ".", " ", "\t", "\r", "\n", "a", "#", ":"], max_size=60)


@settings(max_examples=examples(400), deadline=None)
@given(_MARKER_TEXT)
def test_marker_search_matches_the_marker_regex(text: str) -> None:
    assert _markers(text) == [(m.start(), m.group(0)) for m in _MARKER.finditer(text)]


def test_marker_search_on_the_edge_cases() -> None:
    text = "---\na: 1\n----\nx---\n--- # c\n...\n...x\n---\r\nb: 2\n..."
    assert _markers(text) == [(m.start(), m.group(0)) for m in _MARKER.finditer(text)]
    assert [c.text for c in split_chunks("a: 1\n---\nb: 2\n...\n# tail\n")] == ["a: 1\n", "---\nb: 2\n...\n", "# tail\n"]


def test_a_comment_only_document_opened_by_a_marker_stays_its_own_document() -> None:
    """Helm renders a template that yields only comments as `---` plus its `# Source:` line: an
    empty document. Joined to the next chunk, that chunk held two documents and became CS000."""
    import yaml
    for text in ("---\n# Source: a.yaml\n---\n# Source: b.yaml\nkind: ConfigMap\n",
                 "---\n---\nkind: ConfigMap\n", "--- # c\n---\nkind: ConfigMap\n",
                 "# lead\n---\nkind: ConfigMap\n", "a: 1\n...\n# tail\n---\nb: 2\n"):
        chunks = split_chunks(text)
        assert "".join(c.text for c in chunks) == text
        per_chunk = [list(yaml.safe_load_all(c.text)) for c in chunks]
        assert all(len(docs) == 1 for docs in per_chunk), text
        assert [d for docs in per_chunk for d in docs] == list(yaml.safe_load_all(text)), text
    assert [c.text for c in split_chunks("# lead\n---\nkind: ConfigMap\n")] == ["# lead\n---\nkind: ConfigMap\n"]


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.sampled_from(["---\n", "...\n", "# c\n", "a: 1\n", "\n", "--- # x\n", "b: [1,\n  2]\n"]), max_size=40))
def test_chunk_lines_and_offsets_are_those_of_the_file(parts) -> None:
    """Lines are counted on from chunk to chunk (counting from the file's start for each chunk
    was quadratic: 40k empty documents took 33 s); each chunk's line is still its own."""
    text = "".join(parts)
    chunks = split_chunks(text)
    assert "".join(c.text for c in chunks) == text
    for c in chunks:
        assert text[c.start:c.start + len(c.text)] == c.text and c.line == text.count("\n", 0, c.start)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=["a", "\n", "\r", "\u2028", "é"], max_size=40), st.data())
def test_positions_from_line_starts_are_those_counted_from_the_chunk_start(text, data) -> None:
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    pos = Document("f.yaml", 0, Chunk(text, 0, 7)).offsets_position(a, b)
    assert (pos.line, pos.column, pos.end_line, pos.end_column) == (
        8 + text.count("\n", 0, a), a - text.rfind("\n", 0, a), 8 + text.count("\n", 0, b), b - text.rfind("\n", 0, b))


def test_a_document_indexes_its_lines_once_however_many_findings(monkeypatch) -> None:
    """Each finding counted the lines from its document's start: one document of 5,000
    containers spent ~7 s of a 10 s lint in that count. A large document builds its line index once; a
    small one counts (cheaper for its few findings); both give the same positions."""
    built = []
    monkeypatch.setattr(documents, "accumulate", lambda it: built.append(1) or __import__("itertools").accumulate(it))
    containers = "".join(f"  - {{name: c{i}, image: 'vllm/vllm-openai:latest', args: [m/m]}}\n" for i in range(400))
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n{containers}"
    assert len(text) > documents._COUNTED_CHUNK
    [indexed] = Linter(Settings()).lint_sources([SourceText("p.yaml", text)])
    assert len({f.line for f in indexed.findings}) == 400 and len(built) == 1
    monkeypatch.setattr(documents, "_COUNTED_CHUNK", len(text))
    [counted] = Linter(Settings()).lint_sources([SourceText("p.yaml", text)])
    assert len(built) == 1  # counted, not indexed
    assert [f.position for f in counted.findings] == [f.position for f in indexed.findings]


def test_a_pod_sums_its_containers_resources_once(monkeypatch) -> None:
    """Each engine container's `device` summed every container of its pod (a pod of 5,000
    containers: a 37 s lint); the pod's totals are now computed once."""
    calls = []
    count = Container.resource_count
    monkeypatch.setattr(Container, "resource_count", lambda self, r: calls.append(r) or count(self, r))
    containers = "".join(f"  - {{name: c{i}, image: 'vllm/vllm-openai:latest', args: [m/m],"
                         f" resources: {{limits: {{nvidia.com/gpu: 1, memory: 16Gi}}}}}}\n" for i in range(200))
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n{containers}"
    [result] = Linter(Settings()).lint_sources([SourceText("p.yaml", text)])
    assert {f.code for f in result.findings} >= {"CS401", "CS402"}  # judged as GPU engines
    assert len(calls) <= 10 * 200  # a few per container (81,602 before)


def test_format_bytes_is_the_same_for_equal_numbers_of_any_type() -> None:
    assert format_bytes(2**34) == format_bytes(Fraction(2**34)) == "16Gi"
    assert format_bytes(Fraction(3, 2)) == "1.5"  # cached per value: the int and the Fraction agree
    assert format_bytes(1536) == "1536" and format_bytes(3 * 2**20) == "3Mi"


def test_mask_skips_only_texts_without_a_secret_word() -> None:
    assert mask("image 'x:1' is not pinned") == "image 'x:1' is not pinned"
    assert mask("run with --hf-token abcdef123") == "run with --hf-token ****"
    assert mask("HF_TOKEN=abcdef123 set") == "HF_TOKEN=**** set"
    assert mask("--API-KEY=abcdef123") == "--API-KEY=****"  # upper case still reaches the patterns


def test_object_ref_is_computed_once_and_stays_right() -> None:
    obj = K8sObject({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}}, "")
    assert obj.ref is obj.ref
    assert (obj.ref.kind, obj.ref.name, obj.ref.namespace) == ("Pod", "p", "n")
    assert [t.spec_pointer for t in obj.templates] == ["/spec"]
