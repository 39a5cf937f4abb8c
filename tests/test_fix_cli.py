"""`cslint --fix/--diff/--show-fixes` as users run it: what is printed, what is written, exit codes."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import cslint.fixer as fixer
from cslint.cli import main
from cslint.textedit import TextEdit
from fix_support import FIX_CODES, FIXTURES
from fuzzing import examples

SELECT = ["--select", ",".join(FIX_CODES), "--isolated"]
SOURCE = FIXTURES / "indented_sequences.yaml"


def run(*args: str, stdin: bytes | None = None):
    return CliRunner().invoke(main, ["check", *SELECT, *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "deploy.yaml"
    path.write_bytes(SOURCE.read_bytes())
    return path


def test_diff_prints_a_unified_diff_and_writes_nothing(manifest: Path):
    before = manifest.read_bytes()
    result = run("--diff", "--unsafe-fixes", str(manifest))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"--- a/{manifest}\n+++ b/{manifest}\n@@ ")
    assert '-            - "0.95"\n+            - "0.8"\n' in result.stdout
    assert manifest.read_bytes() == before


def test_diff_exits_0_when_nothing_would_change(tmp_path: Path):
    clean = tmp_path / "clean.yaml"
    clean.write_bytes((FIXTURES / "indented_sequences.fixed.yaml").read_bytes())
    result = run("--diff", "--unsafe-fixes", str(clean))
    assert result.exit_code == 0 and result.stdout == ""


def test_show_fixes_lists_fixes_per_file(manifest: Path, tmp_path: Path):
    other = tmp_path / "other.yaml"
    other.write_bytes((FIXTURES / "tabs_in_strings.yaml").read_bytes())
    result = run("--fix", "--show-fixes", str(manifest), str(other))
    assert f"in {manifest}:" in result.stderr and f"in {other}:" in result.stderr
    assert "1 × CS403 (gpu-memory-utilization-too-high)" in result.stderr
    assert "CS408" not in result.stderr  # unsafe: not applied without --unsafe-fixes


def test_exit_code_after_fix_is_0_when_nothing_unfixed_remains(manifest: Path):
    result = CliRunner().invoke(main, ["check", "--isolated", "--select", "CS403,CS402", "--fix", str(manifest)])
    assert result.exit_code == 0, result.output
    assert "0.8" in manifest.read_text()


def test_exit_code_after_fix_is_1_when_findings_remain(manifest: Path):
    result = run("--fix", str(manifest))  # unsafe fixes (CS406, CS408, CS405) are left
    assert result.exit_code == 1
    assert "CS408" in result.stdout and "CS403" not in result.stdout


def test_fix_stdin_writes_fixed_text_to_stdout_and_report_to_stderr():
    result = run("--fix", "--unsafe-fixes", "-", stdin=SOURCE.read_bytes())
    assert result.stdout_bytes == (FIXTURES / "indented_sequences.fixed.yaml").read_bytes()
    assert "Found" in result.stderr or "passed" in result.stderr
    assert result.exit_code == 0


def test_fix_stdin_echoes_text_it_cannot_fix():
    text = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}  # nothing to fix\n"
    result = run("--fix", "-", stdin=text)
    assert result.stdout_bytes == text and result.exit_code == 0


def test_fix_stdin_keeps_bom_and_crlf():
    data = (FIXTURES / "bom.yaml").read_bytes()
    result = run("--fix", "--unsafe-fixes", "-", stdin=data)
    assert result.stdout_bytes == (FIXTURES / "bom.fixed.yaml").read_bytes()


def test_atomic_write_keeps_mode_and_leaves_no_temporary_file(manifest: Path):
    os.chmod(manifest, 0o640)
    result = run("--fix", str(manifest))
    assert result.exit_code in (0, 1)
    assert stat.S_IMODE(os.stat(manifest).st_mode) == 0o640
    assert sorted(p.name for p in manifest.parent.iterdir()) == ["deploy.yaml"]
    assert "0.8" in manifest.read_text()


def test_fix_through_a_symlink_replaces_the_target_and_keeps_the_link(manifest: Path):
    link = manifest.with_name("link.yaml")
    link.symlink_to(manifest.name)
    run("--fix", str(link))
    assert link.is_symlink() and "0.8" in manifest.read_text()


def test_file_with_cs000_is_never_written(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    data = SOURCE.read_bytes() + b"---\nkind: [unclosed\n"
    path.write_bytes(data)
    result = run("--fix", "--unsafe-fixes", str(path))
    assert path.read_bytes() == data
    assert result.exit_code == 1 and "CS000" in result.stdout
    assert "does not parse" in result.stderr


def test_file_changed_on_disk_during_fix_is_not_clobbered(manifest: Path, monkeypatch):
    real_fix_text = fixer.fix_text

    def fix_then_someone_edits(*args, **kwargs):
        outcome = real_fix_text(*args, **kwargs)
        manifest.write_text("# edited by someone else meanwhile\n")
        return outcome

    monkeypatch.setattr(fixer, "fix_text", fix_then_someone_edits)
    result = run("--fix", str(manifest))
    assert manifest.read_text() == "# edited by someone else meanwhile\n"
    assert result.exit_code == 2
    assert "changed on disk" in result.stderr


def test_read_only_file_is_a_clear_error_and_is_not_written(manifest: Path):
    before = manifest.read_bytes()
    os.chmod(manifest, 0o444)
    result = run("--fix", str(manifest))
    assert result.exit_code == 2
    assert f"cslint: error: {manifest}: cannot write: file is read-only" in result.stderr
    assert "Traceback" not in result.output
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in manifest.parent.iterdir()) == ["deploy.yaml"]


def test_a_file_the_fix_could_not_write_is_reported_as_it_is_on_disk(manifest: Path):
    """The report describes the files as they are: a fix that could not be written leaves every
    finding in place (and fixable), as a plain lint would report them; a writable file beside it
    is reported fixed."""
    import json
    other = manifest.parent / "other.yaml"
    other.write_bytes(manifest.read_bytes())
    plain = json.loads(run("--output-format", "json", str(manifest)).output)["findings"]
    assert any(f["fix"] for f in plain)
    os.chmod(manifest, 0o444)
    result = run("--fix", "--unsafe-fixes", "--show-fixes", "--output-format", "json", str(manifest), str(other))
    assert result.exit_code == 2 and "cannot write: file is read-only" in result.stderr
    assert f"in {other}:" in result.stderr and f"in {manifest}:" not in result.stderr  # nothing claimed fixed
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["file"] == str(manifest)] == plain
    assert not any(f["fix"] for f in findings if f["file"] == str(other))


def test_fix_whose_text_does_not_match_its_patch_is_reverted_and_reported(manifest: Path, monkeypatch):
    real_edits_for = fixer.edits_for

    def wrong_edits(text, root, ops):  # a buggy engine: writes 0.7 where the patch says 0.8 (a 7 for every 8)
        return [TextEdit(e.start, e.end, e.content.replace("8", "7"), e.order, e.depth)
                for e in real_edits_for(text, root, ops)]

    monkeypatch.setattr(fixer, "edits_for", wrong_edits)
    before = manifest.read_bytes()
    result = run("--fix", "--unsafe-fixes", str(manifest))
    assert manifest.read_bytes() == before
    assert "does not match its patch" in result.stderr and "file left unchanged" in result.stderr
    assert result.exit_code == 2 and "CS403" in result.stdout  # a cslint bug: exit 2, as an internal error
    diff = run("--diff", "--unsafe-fixes", str(manifest))  # nothing to show, but not a clean run either
    assert diff.exit_code == 2 and not diff.stdout and "does not match its patch" in diff.stderr


@pytest.mark.parametrize("text", [
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: vllm\n'
    '      image: vllm/vllm-openai:v0.11.0\n'
    '      command: ["sh", "-c", "echo a\u2028b\u0085c && vllm serve m/m --gpu-memory-utilization 0.95"]\n',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: vllm\n'
    '      image: vllm/vllm-openai:v0.11.0\n      args: ["/m", "--gpu-memory-utilization", "0.95"]',
], ids=["line-separators-in-a-line", "no-final-newline"])
def test_diff_is_a_patch_that_gives_what_fix_writes(tmp_path, monkeypatch, text):
    """str.splitlines cut lines at U+2028 and NEL, so `patch` called the diff malformed; a last
    line without a newline ran into the next diff line."""
    import shutil
    import subprocess
    target, fixed = tmp_path / "a" / "p.yaml", tmp_path / "fixed.yaml"
    target.parent.mkdir()
    target.write_bytes(text.encode())
    fixed.write_bytes(text.encode())
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    diff = cli.invoke(main, ["check", "--isolated", "--diff", "--select", "CS403", "a/p.yaml"]).stdout_bytes
    cli.invoke(main, ["check", "--isolated", "--fix", "--select", "CS403", "fixed.yaml"])
    assert fixed.read_bytes() != text.encode()  # there was something to fix
    assert shutil.which("patch"), "GNU patch is part of the test environment (Debian's patch)"
    subprocess.run(["patch", "-p1", "-s"], input=diff, cwd=tmp_path, check=True)
    assert target.read_bytes() == fixed.read_bytes()


def _diff_then_patch(tmp_path: Path, monkeypatch, text: str, *args: str) -> str:
    """`--diff` of `a/m.yaml` holding `text`; `patch` applies it, and gives exactly what `--fix`
    writes into a copy. Returns the diff (recorders installed before the call see its run)."""
    import shutil
    import subprocess
    target, fixed = tmp_path / "a" / "m.yaml", tmp_path / "fixed.yaml"
    target.parent.mkdir()
    target.write_text(text)
    fixed.write_text(text)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    diff = runner.invoke(main, ["check", "--isolated", "--diff", *args, "a/m.yaml"]).stdout
    runner.invoke(main, ["check", "--isolated", "--fix", *args, "fixed.yaml"])
    assert shutil.which("patch")
    subprocess.run(["patch", "-p1", "-s"], input=diff.encode(), cwd=tmp_path, check=True)
    assert target.read_bytes() == fixed.read_bytes() != text.encode()
    return diff


def _removed(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]


def test_diff_of_many_fixed_documents_is_matched_document_by_document(tmp_path, monkeypatch):
    """difflib's matcher over the whole file was quadratic when every document changed (2,500
    fixed documents took 30 s): its ranges now never span more than one document."""
    import difflib
    doc = ('apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers:\n    - name: vllm\n'
           '      image: vllm/vllm-openai:v0.11.0\n      args: ["/m", "--gpu-memory-utilization", "0.95"]\n')
    spans = []
    longest_match = difflib.SequenceMatcher.find_longest_match

    def recorded(self, alo=0, ahi=None, blo=0, bhi=None):
        spans.append((len(self.a) if ahi is None else ahi) - alo)
        return longest_match(self, alo, ahi, blo, bhi)

    monkeypatch.setattr(difflib.SequenceMatcher, "find_longest_match", recorded)
    diff = _diff_then_patch(tmp_path, monkeypatch, "---\n".join(doc.format(i=i) for i in range(300)),
                            "--select", "CS403")
    assert spans and max(spans) <= doc.count("\n") + 1
    assert _removed(diff) == ['-      args: ["/m", "--gpu-memory-utilization", "0.95"]'] * 300


def test_diff_inside_one_large_document_is_cut_at_lines_found_once(tmp_path, monkeypatch):
    """`kubectl get -o yaml` gives one `kind: List` document: difflib's matcher over its 32k lines
    took 3.7 s. Lines that occur once on each side cut it first (patience diff's anchors), so
    difflib only ever matches small pieces; the diff still applies with `patch` to what --fix writes."""
    import difflib
    from cslint import unidiff
    item = ('- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {{name: d{i}}}\n  spec:\n    template:\n'
            '      spec:\n        containers:\n        - name: app\n          image: nginx:latest\n'
            '          imagePullPolicy: Always\n')
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(item.format(i=i) for i in range(400))
    sizes = []
    matcher = difflib.SequenceMatcher.__init__

    def recorded(self, isjunk=None, a="", b="", autojunk=True):
        sizes.append(len(a) * len(b))
        matcher(self, isjunk, a, b, autojunk)

    monkeypatch.setattr(difflib.SequenceMatcher, "__init__", recorded)
    diff = _diff_then_patch(tmp_path, monkeypatch, text, "--unsafe-fixes", "--select", "CS202")
    assert text.count("\n") > 4000 and max(sizes) <= unidiff._MATCHED_WHOLE
    assert _removed(diff) == ["-          imagePullPolicy: Always"] * 400


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from("abcdefgh"), max_size=60), st.lists(st.sampled_from("abcdefgh"), max_size=60),
       st.lists(st.text("xyz", min_size=1, max_size=3), max_size=20))
def test_line_opcodes_turn_one_side_into_the_other(left, right, uniques):
    """Cut at anchors or matched whole, the opcodes cover both sides in order and rebuild the
    new side from the old (the bound is lowered so that the anchor path runs on small inputs)."""
    from cslint import unidiff
    a = [f"{x}\n" for x in left + uniques]
    b = [f"{x}\n" for x in uniques[::2] + right + uniques[1::2]]
    saved, unidiff._MATCHED_WHOLE = unidiff._MATCHED_WHOLE, 4
    try:
        ops = unidiff._line_opcodes(a, b, 0, len(a), 0, len(b))
    finally:
        unidiff._MATCHED_WHOLE = saved
    at_a = at_b = 0
    rebuilt = []
    for tag, i1, i2, j1, j2 in ops:
        assert (i1, j1) == (at_a, at_b) and i1 <= i2 and j1 <= j2
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
        rebuilt += b[j1:j2]
        at_a, at_b = i2, j2
    assert (at_a, at_b) == (len(a), len(b)) and rebuilt == b
