"""Suppressions: annotations (object, pod template, container-scoped), line and file comments,
per-file-ignores, --disallow-suppressions, and CS900 with its fixes."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cslint.cli import main
from cslint.engine import Linter
from cslint.fixer import fix_text
from cslint.model import Applicability
from cslint.settings import Settings, code_matches
from cslint.sources import SourceText
from cslint.suppressions import glob_regex, parse_codes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "integrations" / "suppressions"
SELECT = ("CS401", "CS402", "CS201", "CS202", "CS407", "CS900")


def lint(name: str, text: str | None = None, **changes) -> list:
    settings = Settings(select=SELECT).with_(**changes)
    src = SourceText(name, text if text is not None else (FIXTURES / name).read_text(), real_path=None)
    return Linter(settings).lint_sources([src])[0].findings


def shown(findings: list) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in findings if not f.suppressed]


def test_parse_codes_and_reason():
    assert parse_codes("CS401,CS403 -- GB200 multi-node NVLink") == (("CS401", "CS403"), "GB200 multi-node NVLink")
    assert parse_codes(" cs4  cs201 ") == (("CS4", "CS201"), None)


def test_object_and_template_container_annotations():
    findings = lint("annotations.yaml")
    codes = {f.code for f in findings if f.suppressed}
    assert codes == {"CS401", "CS402"}
    assert shown(findings) == [("CS900", 16), ("CS201", 20)]
    cs900 = next(f for f in findings if f.code == "CS900")
    assert "CS407" in cs900.message
    assert cs900.path == "/spec/template/metadata/annotations/cslint.io~1ignore.vllm"


def test_container_scope_does_not_cover_other_containers():
    text = (FIXTURES / "annotations.yaml").read_text().replace("cslint.io/ignore.vllm", "cslint.io/ignore.sidecar")
    findings = lint("annotations.yaml", text)
    assert ("CS401", 19) in shown(findings)


def test_line_and_file_comments():
    findings = lint("comments.yaml")
    assert {f.code for f in findings if f.suppressed} == {"CS401", "CS402", "CS201"}
    assert shown(findings) == [("CS900", 16)]
    assert "CS202" in findings[-1].message or any("CS202" in f.message for f in findings)


def test_file_ignore_outside_the_first_comment_block_is_not_one():
    text = (FIXTURES / "comments.yaml").read_text().replace("# cslint: file-ignore[CS402]\n", "")
    text = text.replace("kind: Deployment\n", "kind: Deployment\n# cslint: file-ignore[CS402]\n")
    assert "CS402" in {c for c, _ in shown(lint("comments.yaml", text))}


def test_disallow_suppressions_reports_everything_and_no_cs900():
    findings = lint("annotations.yaml", disallow_suppressions=True)
    assert not any(f.suppressed for f in findings)
    assert {"CS401", "CS402", "CS201"} <= {f.code for f in findings}
    assert "CS900" not in {f.code for f in findings}


def test_annotation_suppressions_can_be_turned_off():
    findings = lint("annotations.yaml", extra=(("allow_annotation_suppressions", False),))
    assert {"CS401", "CS402"} <= {c for c, _ in shown(findings)}


def test_unused_codes_of_disabled_rules_are_not_reported():
    findings = lint("annotations.yaml", select=("CS401", "CS402", "CS201", "CS900"))
    assert "CS900" not in {f.code for f in findings}


@pytest.mark.parametrize("name", ["annotations.yaml", "comments.yaml"])
def test_cs900_fix_removes_only_the_unused_part(name):
    text = (FIXTURES / name).read_text()
    linter = Linter(Settings(select=SELECT))
    outcome = fix_text(name, text, linter, Applicability.SAFE)
    assert outcome.error is None and outcome.fixed["CS900"] == 1
    if name == "annotations.yaml":
        assert 'cslint.io/ignore.vllm: "CS401 -- GB200 multi-node NVLink"' in outcome.text
    else:
        assert "# cslint: ignore[CS201]" in outcome.text and "CS202" not in outcome.text
    after = Linter(Settings(select=SELECT)).lint_sources([SourceText(name, outcome.text)])[0].findings
    assert "CS900" not in {f.code for f in after}


def test_cs900_fix_removes_a_wholly_unused_annotation_and_comment():
    text = (FIXTURES / "comments.yaml").read_text().replace("ignore[CS401]", "ignore[CS407]")
    outcome = fix_text("c.yaml", text, Linter(Settings(select=SELECT)), Applicability.SAFE)
    assert "# cslint: ignore[CS407]" not in outcome.text
    assert "      containers:\n        - name: vllm\n" in outcome.text  # the comment went with its line
    ann = (FIXTURES / "annotations.yaml").read_text().replace('"CS402 -- NCCL set by the base image"', '"CS407"')
    outcome = fix_text("a.yaml", ann, Linter(Settings(select=SELECT)), Applicability.SAFE)
    assert "cslint.io/ignore:" not in outcome.text and "team: llm" in outcome.text


@pytest.mark.parametrize("comment,kept", [
    ("  # cslint: ignore[CS202] pinned", ""),
    ("  # cslint: ignore[CS202] pinned by digest  # owner: ml", "  # owner: ml"),
    ("  # cslint: ignore[CS202]  # owner: ml", "  # owner: ml"),
    ("  # cslint: ignore[CS202] -- pinned", ""),
])
def test_cs900_fix_removes_the_words_after_the_directive_with_it(comment, kept):
    """Words after `]` without `--` belong to the directive's comment and go with it (up to a
    later `# comment`); removing only the directive made them part of the image value."""
    line = "    image: vllm/vllm-openai:v0.12.0"
    text = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: vllm\n"
            f"{line}{comment}\n    args: [--model, m/m]\n")
    outcome = fix_text("p.yaml", text, Linter(Settings(select=SELECT)), Applicability.SAFE)
    assert outcome.error is None and outcome.fixed["CS900"] == 1
    assert f"\n{line}{kept}\n" in outcome.text


def test_cs900_fix_empties_metadata_that_held_only_the_annotation():
    """The map goes with its last annotation; the pod template keeps `metadata: {}` and its comment."""
    text = (FIXTURES.parent.parent / "CS900" / "only_annotation.yaml").read_text()
    [finding] = [f for f in lint("o.yaml", text) if f.code == "CS900"]
    assert finding.fix is not None and finding.fix.operations == (
        {"op": "remove", "path": "/spec/template/metadata/annotations"},)
    outcome = fix_text("o.yaml", text, Linter(Settings(select=SELECT)), Applicability.SAFE)
    assert "    metadata: {}  # pod metadata\n    spec:\n" in outcome.text
    assert "cslint.io/ignore" not in outcome.text and "only the suppression" not in outcome.text
    assert fix_text("o.yaml", outcome.text, Linter(Settings(select=SELECT)), Applicability.SAFE).text == outcome.text


def test_per_file_ignores(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "charts").mkdir()
    target = tmp_path / "charts" / "x.yaml"
    target.write_text((FIXTURES / "annotations.yaml").read_text())
    (tmp_path / ".cslint.yaml").write_text("select: [CS201]\nper-file-ignores:\n  'charts/*.yaml': [CS2]\n")
    assert CliRunner().invoke(main, ["charts/x.yaml"]).exit_code == 0
    (tmp_path / ".cslint.yaml").write_text("select: [CS201]\nper-file-ignores:\n  '!charts/*.yaml': [CS2]\n")
    assert CliRunner().invoke(main, ["charts/x.yaml"]).exit_code == 1


@pytest.mark.parametrize("glob, path, hit", [
    ("**/templates/*.yaml", "/r/charts/a/templates/d.yaml", True),
    ("charts/*.yaml", "charts/a/d.yaml", False),
    ("/r/k8s/**", "/r/k8s/a/b.yaml", True),
    ("d?.yaml", "d1.yaml", True),
])
def test_glob(glob, path, hit):
    assert bool(glob_regex(glob).match(path)) is hit


def test_no_marker_means_no_work():
    text = (FIXTURES / "annotations.yaml").read_text().replace("cslint.io/ignore", "example.com/other")
    assert not any(f.suppressed for f in lint("x.yaml", text))
    assert code_matches("CS401", ("CS4",))


def test_an_unused_directive_in_a_file_without_findings_is_reported():
    """Directives were read only in files that had findings: with `--select CS202,CS900` a stale
    `ignore[CS202]` in an otherwise clean file went unreported."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: vllm\n"
            "    image: vllm/vllm-openai:v0.12.0  # cslint: ignore[CS202]\n    args: [\"--model\", \"m/m\"]\n")
    found = Linter(Settings(select=("CS202", "CS900"))).lint_sources([SourceText("p.yaml", text)])[0].findings
    assert [(f.code, f.position.line) for f in found] == [("CS900", 7)]


def test_each_finding_is_matched_only_against_directives_that_can_reach_it(monkeypatch):
    """Every finding was matched against every directive of its file: 2,000 documents with three
    directives each took 15 s. Line directives are looked up by line, annotations by document."""
    import cslint.suppressions as suppressions
    matched = []
    covers = suppressions.covers
    monkeypatch.setattr(suppressions, "covers", lambda s, f: matched.append(1) or covers(s, f))
    doc = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  annotations: {{cslint.io/ignore.c: CS401}}\n"
           "spec:\n  containers:\n  # cslint: ignore[CS402]\n  - name: c\n"
           "    image: vllm/vllm-openai:latest  # cslint: ignore[CS201]\n    args: [m/m]\n")
    findings = lint("many.yaml", "---\n".join(doc.format(i=i) for i in range(100)))
    assert {(f.code, f.suppressed) for f in findings} == {("CS401", True), ("CS402", True), ("CS201", True),
                                                          ("CS202", False)}
    assert len(findings) == 400 and len(matched) <= 2 * len(findings)


def test_a_block_of_directive_lines_covers_the_next_content_line():
    """Own-line directives find their content line from the last one found (each split and
    searched its document from the start)."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
            "  # cslint: ignore[CS401]\n  # cslint: ignore[CS402]\n  # a remark\n\n  - name: c\n"
            "    # cslint: ignore[CS201]\n    image: vllm/vllm-openai:latest\n    args: [m/m]\n")
    findings = lint("block.yaml", text)
    assert shown(findings) == [("CS202", 12)]
    assert {f.code for f in findings if f.suppressed} == {"CS401", "CS402", "CS201"}


class _CountedDirectives(list):
    reads = 0

    def __iter__(self):
        _CountedDirectives.reads += 1
        return super().__iter__()


def test_cs900_reads_the_directives_of_a_file_a_fixed_number_of_times(monkeypatch):
    """Each unused annotation gathered the file's wholly unused ones again (10,000 documents:
    4 s), and each unused comment counted its line from the document's start."""
    import cslint.suppressions as suppressions
    suppress_file = suppressions.suppress_file
    monkeypatch.setattr(suppressions, "suppress_file", lambda r, s: _CountedDirectives(suppress_file(r, s)))
    monkeypatch.setattr(_CountedDirectives, "reads", 0)
    doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  annotations: {{cslint.io/ignore: CS401{more}}}\n"
           "data:  # cslint: ignore[CS402]\n  k: v\n")
    text = "---\n".join(doc.format(i=i, more=", other: x" if i % 2 else "") for i in range(100))
    findings = lint("c.yaml", text)
    removals = {f.fix.operations[0]["path"] for f in findings if f.code == "CS900" and f.fix.operations}
    assert removals == {"/metadata/annotations", "/metadata/annotations/cslint.io~1ignore"}
    assert [(f.line, f.column) for f in findings if f.code == "CS900" and not f.fix.operations][:2] == [(6, 8), (14, 8)]
    assert len(findings) == 200 and _CountedDirectives.reads <= 3
