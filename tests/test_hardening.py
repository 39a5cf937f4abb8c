"""Hostile input, hostile filesystems and leaks: cslint answers with a finding or one clear
line, never a traceback, never unbounded time or memory, never a credential in its output."""
from __future__ import annotations

import json
import os
import re
import resource
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fuzzing import examples
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from refused_writes import run_limited

from cslint.cli import main
from cslint.documents import parse_documents
from cslint.engine import Linter
from cslint.settings import Settings
from cslint.sources import SourceText
from corpus_paths import CORPUS
from manifests import VLLM_DEPLOYMENT

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, stdin: str | bytes | None = None):
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    return result


def lint_json(path: Path, *extra: str) -> list[dict]:
    result = cli("--output-format", "json", "--no-schema", *extra, str(path))
    return json.loads(result.stdout)["findings"]


# -- hostile YAML ---------------------------------------------------------------------------------
BILLION_LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
) + "\n"


def test_billion_laughs_is_cs000_in_bounded_time_and_memory(tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_text(BILLION_LAUGHS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    findings = lint_json(f)
    assert time.perf_counter() - start < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB
    assert [x["code"] for x in findings] == ["CS000"]
    assert "alias" in findings[0]["message"]


def test_small_aliases_still_work(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: &n x, labels: {a: *n}}\n")
    assert lint_json(f) == []


@pytest.mark.parametrize("text", [
    "[" * 20000 + "]" * 20000,
    "{a: " * 20000 + "1" + "}" * 20000,
    "".join("  " * i + "k:\n" for i in range(3000)) + "  " * 3000 + "v\n",
    "- " * 5000 + "x\n",
])
def test_deep_nesting_never_raises_recursion_error(tmp_path, text):
    f = tmp_path / "deep.yaml"
    f.write_text(text)
    result = cli("--output-format", "json", str(f))
    assert "RecursionError" not in result.output
    assert result.exit_code in (0, 1)


@pytest.mark.parametrize("text", ["[" * 60000, "- " * 60000 + "x\n", "{a: " * 30000 + "1"])
def test_nesting_deep_enough_to_overflow_libyaml_is_cs000_not_a_crash(tmp_path, text):
    """libyaml's composer recurses in C: ~50,000 levels used to kill the process (exit 139)."""
    import subprocess
    f = tmp_path / "deeper.yaml"
    f.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "cslint", "--output-format", "json", str(f)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert [x["code"] for x in findings] == ["CS000"] and "nested too deeply" in findings[0]["message"]


def test_file_over_the_size_limit_is_refused_with_a_clear_message(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:  # sparse: 51 MiB without writing them
        fh.truncate(51 * 1024 * 1024)
    findings = lint_json(big)
    assert [x["code"] for x in findings] == ["CS000"]
    assert "--max-file-size" in findings[0]["message"]
    small = tmp_path / "small.yaml"
    small.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + "# pad\n" * 400)
    limited = lint_json(small, "--max-file-size", "1000")
    assert [x["code"] for x in limited] == ["CS000"] and "limit" in limited[0]["message"]


def test_binary_file_and_invalid_utf8_are_cs000(tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  k: \xff\xfe\n")
    found = {Path(x["file"]).name: x for x in lint_json(tmp_path)}
    assert found["bin.yaml"]["code"] == "CS000" and "binary" in found["bin.yaml"]["message"]
    assert found["bad.yaml"]["code"] == "CS000" and "UTF-8" in found["bad.yaml"]["message"]
    assert found["bad.yaml"]["line"] == 4


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!!python/module:os"])
def test_python_tags_are_never_constructed(tmp_path, tag):
    marker = tmp_path / "pwned"
    f = tmp_path / "evil.yaml"
    f.write_text(f"apiVersion: v1\nkind: ConfigMap\ndata:\n  x: {tag} [\"touch {marker}\"]\n")
    findings = lint_json(f)
    assert [x["code"] for x in findings] == ["CS000"]
    assert not marker.exists()


def test_duplicate_keys_are_cs000_at_the_second_key(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    findings = lint_json(f)
    assert [(x["code"], x["line"]) for x in findings] == [("CS000", 5)]
    assert "duplicate key" in findings[0]["message"]


def test_merge_keys_are_expanded_like_pyyaml(tmp_path):
    text = ("base: &base {image: 'vllm/vllm-openai:v0.14.0', name: a}\n"
            "merged:\n  <<: *base\n  name: b\n")
    docs = list(parse_documents("m.yaml", text))
    assert docs[0].error is None
    assert docs[0].data["merged"] == {"image": "vllm/vllm-openai:v0.14.0", "name": "b"}


@pytest.mark.parametrize("value", ["!!bool maybe", "!!timestamp nope", '!!int ""', '!!float ""', "!!int x",
                                   "&a !!bool maybe\n  again: *a"])
def test_a_value_its_explicit_tag_does_not_fit_is_cs000_at_the_value(tmp_path, value):
    """PyYAML's scalar constructors raise KeyError, AttributeError or IndexError on these: they
    ended the whole run as an internal error. Now CS000 where the value is, and the next file is
    still linted (the second case goes through PyYAML's own construction: an alias)."""
    bad = tmp_path / "a.yaml"
    bad.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata:\n  k: {value}\n")
    (tmp_path / "b.yaml").write_text(VLLM_DEPLOYMENT)
    result = cli("--output-format", "json", "--no-schema", str(tmp_path))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    cs000 = [f for f in report["findings"] if f["code"] == "CS000"]
    assert [(f["file"].endswith("a.yaml"), f["line"], f["column"]) for f in cs000] == [(True, 5, 6)]
    assert "cannot read" in cs000[0]["message"]
    assert any(f["file"].endswith("b.yaml") for f in report["findings"])


_TAGS = ["bool", "int", "float", "timestamp", "null", "binary", "str", "seq", "map", "set", "omap", "pairs"]


@hsettings(max_examples=examples(200), deadline=None)
@given(st.sampled_from(_TAGS), st.text(alphabet=st.sampled_from(list("ab01:-.eE+_xT ~'\"")), max_size=12))
def test_any_explicitly_tagged_value_lints_without_raising(tag, value):
    text = f"kind: ConfigMap\ndata:\n  k: !!{tag} {value}\n"
    results = Linter(Settings()).lint_sources([SourceText("x.yaml", text)])
    assert all(f.position is not None and 1 <= f.position.line <= 4 for f in results[0].findings)


def test_very_long_lines_are_linear(tmp_path):
    f = tmp_path / "long.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  k: " + "a" * 5_000_000 + "\n")
    start = time.perf_counter()
    assert lint_json(f) == []
    assert time.perf_counter() - start < 20


# -- filesystem ------------------------------------------------------------------------------------
@pytest.mark.parametrize("allowed_opens", [0, 1], ids=["at-discovery", "after-discovery"])
def test_unreadable_file_is_one_clear_error(tmp_path, monkeypatch, allowed_opens):
    """Root reads any file, so permission is denied by patching `os.open` for this one path: at
    discovery, or only when it is read to be linted (a file made unreadable in between)."""
    import cslint.sources as sources
    f = tmp_path / "secret.yaml"
    f.write_text("a: 1\n")
    real_open, opens = os.open, []

    def denied(path, *args, **kwargs):
        if os.fspath(path) == str(f):
            opens.append(path)
            if len(opens) > allowed_opens:
                raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(sources.os, "open", denied)
    result = cli(str(f))
    assert len(opens) > allowed_opens  # it was denied (the pre-pass and the read each try)
    assert result.exit_code == 2
    assert "Permission denied" in result.output and len(result.output.strip().splitlines()) == 1


def test_unreadable_directory_is_one_clear_error(tmp_path, monkeypatch):
    import cslint.sources as sources
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)
    monkeypatch.setattr(sources.os, "scandir", scandir)
    result = cli(str(tmp_path))
    assert result.exit_code == 2 and "cannot read directory" in result.output


def test_a_missing_path_or_unreadable_directory_is_an_error_but_the_rest_is_linted(tmp_path, monkeypatch):
    import cslint.sources as sources
    (tmp_path / "locked").mkdir()
    (tmp_path / "good.yaml").write_text(VLLM_DEPLOYMENT)
    real_scandir = os.scandir
    monkeypatch.setattr(sources.os, "scandir", lambda path: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if str(path).endswith("locked") else real_scandir(path))
    result = cli("--output-format", "json", "--no-schema", str(tmp_path), str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2  # an unreadable path is an error, whatever the findings
    assert "locked: cannot read directory: Permission denied" in result.stderr
    assert "missing.yaml: no such file or directory" in result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 1 and report["findings"]


def test_a_fifo_or_broken_link_in_a_directory_is_skipped_not_waited_for(tmp_path):
    (tmp_path / "good.yaml").write_text(VLLM_DEPLOYMENT)
    os.mkfifo(tmp_path / "pipe.yaml")  # nobody writes: opening it would block the run forever
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    proc = subprocess.run([sys.executable, "-m", "cslint", "--isolated", "--output-format", "json", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["files"] == 1


def test_a_pipe_is_read_once(tmp_path):
    """`cslint <(helm template …)` names a pipe: the context pre-pass read it first and the lint
    then saw an empty file, so every finding was lost and the run passed."""
    read_end, write_end = os.pipe()
    os.write(write_end, VLLM_DEPLOYMENT.encode())
    os.close(write_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "cslint", "--isolated", "--output-format", "json",
                               f"/dev/fd/{read_end}"], pass_fds=(read_end,), capture_output=True, text=True, timeout=60)
    finally:
        os.close(read_end)
    assert proc.returncode == 1, proc.stderr
    expected = lint_json_text(VLLM_DEPLOYMENT)
    assert sorted(f["code"] for f in json.loads(proc.stdout)["findings"]) == expected


def test_fix_refuses_to_write_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "cslint", "--isolated", "--fix", str(fifo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "w") as fh:  # the writer end: cslint reads the text once, then must not wait again
        fh.write(VLLM_DEPLOYMENT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "is not a regular file; not written" in err and "Traceback" not in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def lint_json_text(text: str) -> list[str]:
    results = Linter(Settings()).lint_sources([SourceText("x.yaml", text)])
    return sorted(f.code for r in results for f in r.findings)


def test_symlink_loops_terminate(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = cli("--output-format", "json", "--no-schema", str(tmp_path))
    assert result.exit_code == 0  # looping links are skipped in a walk, the loop dir visited once
    assert json.loads(result.stdout)["summary"]["files"] >= 1


FIXABLE = VLLM_DEPLOYMENT


def test_read_only_file_is_not_written_by_fix(tmp_path):
    f = tmp_path / "ro.yaml"
    f.write_text(FIXABLE)
    f.chmod(0o444)
    result = cli("--fix", str(f))
    assert f.read_text() == FIXABLE
    assert result.exit_code == 2 and "read-only" in result.output


def test_file_changed_while_being_fixed_is_not_clobbered(tmp_path, monkeypatch):
    import cslint.fixer as fixer
    f = tmp_path / "racy.yaml"
    f.write_text(FIXABLE)
    concurrent = FIXABLE + "# edited by someone else\n"
    real = fixer.fix_text

    def fix_then_edit(*args, **kwargs):
        outcome = real(*args, **kwargs)
        f.write_text(concurrent)
        return outcome
    monkeypatch.setattr(fixer, "fix_text", fix_then_edit)
    result = cli("--fix", str(f))
    assert f.read_text() == concurrent
    assert result.exit_code == 2 and "changed on disk" in result.output


# -- properties over arbitrary text ----------------------------------------------------------------

YAMLISH = st.text(alphabet=st.sampled_from(list("abk: -[]{}&*!|>'\"#\n\t,?%@`<=.0123456789~\\")), max_size=200)


@hsettings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_any_text_lints_without_raising_and_positions_are_inside(text):
    linter = Linter(Settings())
    results = linter.lint_sources([SourceText("x.yaml", text)])
    lines = text.split("\n")
    for f in results[0].findings:
        assert f.position is not None
        assert 1 <= f.position.line <= len(lines) and f.position.line <= f.position.end_line <= len(lines)
        assert 1 <= f.position.column <= len(lines[f.position.line - 1]) + 1


@hsettings(max_examples=examples(40), deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_exit_code_is_0_1_or_2(data):
    result = CliRunner().invoke(main, ["--output-format", "json", "-"], input=data, catch_exceptions=False)
    assert result.exit_code in (0, 1, 2)
    assert "Traceback" not in result.output


# -- security ----------------------------------------------------------------------------------------
SOURCES = [p for d in ("linter", "rules") for p in (ROOT / d).rglob("*.py")]


def test_only_safe_yaml_loading_anywhere():
    unsafe = re.compile(r"yaml\.(?:load|load_all|unsafe_load|full_load|full_load_all)\((?![^)]*Loader=(?:yaml\.)?C?SafeLoader)"
                        r"|Loader=(?:yaml\.)?(?:C?Loader|C?FullLoader|C?UnsafeLoader)\b|UnsafeConstructor|FullConstructor")
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in SOURCES
                 for i, line in enumerate(p.read_text().splitlines(), 1) if unsafe.search(line)]
    assert offenders == []


def test_no_shell_true_and_kubectl_gets_an_argument_list():
    offenders = []
    for p in SOURCES:
        text = p.read_text()
        for i, line in enumerate(text.splitlines(), 1):
            if re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(", line):
                offenders.append(f"{p.relative_to(ROOT)}:{i}")
            if re.search(r"subprocess\.\w+\(\s*f?[\"']", line):  # a command string, not a list
                offenders.append(f"{p.relative_to(ROOT)}:{i}")
    assert offenders == []


SECRET = "hf_SuperSecretValue1234567890"
LEAKY = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: vllm}}
spec:
  selector: {{matchLabels: {{app: vllm}}}}
  template:
    metadata: {{labels: {{app: vllm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          command: ["sh", "-c", "HF_TOKEN={SECRET} vllm serve meta-llama/Llama-3.1-8B --hf-token {SECRET}"]
          env:
            - name: HF_TOKEN
              value: {SECRET}
            - name: DB_PASSWORD
              value: {SECRET}x
            - name: HUGGING_FACE_HUB_TOKEN
              valueFrom: {{secretKeyRef: {{name: hf, key: token}}}}
          resources: {{limits: {{nvidia.com/gpu: 1}}}}
"""


@pytest.fixture
def echo_rule():
    """A rule that quotes every env value and the whole command: the worst case for leaks."""
    from cslint import registry
    from cslint.model import Lever, RuleMeta, Scope, Severity, Violation

    meta = RuleMeta(code="CSX99", name="echo", lever=Lever.INPUT, severity=Severity.WARNING,
                    summary="echo", scope=Scope.CONTAINER)

    def check(container, settings):
        for name, (i, value) in container.env.items():
            yield Violation(f"{name} is {value!r}", container.pointer + f"/env/{i}")
        yield Violation(f"runs {container.data.get('command')}", container.pointer + "/command")

    def provider(settings):
        return (registry.Rule(meta, check, __name__),)
    registry.register_provider(provider)
    yield
    registry._extra_providers.remove(provider)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_literal_secret_values_never_reach_any_output(tmp_path, echo_rule, fmt):
    f = tmp_path / "leaky.yaml"
    f.write_text(LEAKY)
    result = cli("--output-format", fmt, "--extend-select", "CSX99", "--show-source"
                 if fmt == "text" else "--statistics", str(f))
    body = result.stdout
    assert "CSX99" in body or "echo" in body
    shown = body if fmt != "text" else "\n".join(line for line in body.splitlines() if not re.match(r"\s*\d+ \|", line))
    assert SECRET not in shown
    assert "hf-token ****" in body or fmt in ("junit",) or "****" in body


# -- the fast paths keep the reference behaviour ---------------------------------------------------
PARITY_FILES = sorted((ROOT / "fixtures").rglob("*.y*ml")) + sorted(
    CORPUS.rglob("*.y*ml"))
PARITY_TEXTS = ["a: 2001-12-14t21:59:43.10-05:00\nb: !!binary aGVsbG8=\nc: 0o17\nd: 0x1F\ne: 1_000\nf: .inf\n"
                "g: ~\nh: yes\ni: 1:30\nj: !!set {x, y}\nk: !!omap [{a: 1}]\nl: '1'\nm: -.5e3\n",
                "x: &a {p: 1}\ny: {<<: *a, q: 2}\n", "? [1, 2]\n: v\n", "k: !custom 1\n"]


def _reference(text: str):
    try:
        return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    except (yaml.YAMLError, ValueError, TypeError):
        return None


import yaml  # noqa: E402


@pytest.mark.parametrize("text", PARITY_TEXTS + [p.read_text(encoding="utf-8", errors="replace") for p in PARITY_FILES])
def test_fast_builder_yields_pyyaml_data(text):
    expected = _reference(text)
    docs = list(parse_documents("p.yaml", text))
    if expected is None or any(d.error for d in docs):
        return  # errors are compared by the CS000 tests; here only data
    assert [d.data for d in docs] == expected


def test_parallel_run_reports_exactly_what_a_serial_run_does(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from corpus import write_corpus
    finally:
        sys.path.pop(0)
    from cslint.parallel import MIN_FILES, lint_parallel
    files = write_corpus(tmp_path, 400)
    assert len(files) >= MIN_FILES
    from cslint.sources import read_source

    def key(results):
        return [(f.file, f.code, f.position, f.message, f.suppressed) for r in results for f in r.findings]
    sources = [read_source(p) for p in files]
    serial = Linter(Settings()).lint_sources(sources)
    parallel = lint_parallel(Linter(Settings()), sources, 2)
    assert [r.source.path for r in parallel] == files
    assert key(serial) == key(parallel) and key(serial)


def test_files_read_when_linted_give_the_same_report_and_are_not_held(tmp_path):
    """`PendingSource`: a large run reads each file when it lints it, serial or in workers, and
    without keep_text a finished file keeps its findings, not its text or documents."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from corpus import write_corpus
    finally:
        sys.path.pop(0)
    from cslint.parallel import lint_parallel
    from cslint.sources import PendingSource, read_source
    files = write_corpus(tmp_path, 400)
    (tmp_path / "keda.yaml").write_text(KEDA_SCALE_TO_ZERO)  # the context pre-pass must still see it
    files.append(str(tmp_path / "keda.yaml"))

    def key(results):
        return [(f.file, f.code, f.position, f.message, f.suppressed) for r in results for f in r.findings]
    eager = Linter(Settings()).lint_sources([read_source(p) for p in files])
    for lazy in (Linter(Settings(), keep_text=False).lint_sources([PendingSource(p) for p in files]),
                 lint_parallel(Linter(Settings(), keep_text=False), [PendingSource(p) for p in files], 2)):
        assert key(lazy) == key(eager) and key(eager)
        assert [r.source.path for r in lazy] == files
        assert all(r.source.text is None for r in lazy)
        assert all(not r.documents for r in lazy if not r.for_set)
        assert all("document" not in f.extra for r in lazy if not r.for_set for f in r.findings)
    kept = Linter(Settings()).lint_sources([PendingSource(p) for p in files])
    assert all(r.source.text is not None for r in kept)  # the fixer and excerpts read it


KEDA_SCALE_TO_ZERO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: ai}
spec:
  template:
    spec:
      containers:
      - name: vllm
        image: vllm/vllm-openai:v0.14.0
        args: [--model, /models/m]
        resources: {limits: {nvidia.com/gpu: 1}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: ai}
spec:
  scaleTargetRef: {name: llm}
  minReplicaCount: 0
"""


def test_finished_documents_drop_their_trees_and_data():
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    docs = list(parse_documents("r.yaml", text))
    assert docs[0]._composed  # the tree from parsing is kept for positions: no second compose
    docs[0].release()
    assert docs[0].data is None and docs[0]._root is None
    assert docs[0].position("/metadata/name").line == 3  # rebuilt on demand


def test_a_mount_whose_name_is_a_list_is_not_looked_up():
    """Found by the every-kind hypothesis test: `name: [x]` on a volumeMount crashed CS401/CS405
    (an unhashable key for the volume lookup). It is a schema error, nothing more."""
    text = VLLM_DEPLOYMENT + "          volumeMounts: [{name: [dshm], mountPath: /dev/shm}]\n"
    [result] = Linter(Settings()).lint_sources([SourceText("m.yaml", text)])
    codes = {f.code for f in result.findings}
    assert "CS001" in codes and "CS401" in codes  # the bad mount does not count as /dev/shm


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs a character device")
def test_device_reporting_size_zero_is_read_up_to_the_limit():
    """A device's stat size is 0: the reader reads past it, up to the limit, and stops there
    (/dev/zero never ends)."""
    result = cli("--max-file-size", "1000", "/dev/zero")
    assert result.exit_code == 1
    assert "CS000" in result.output and "over the 1000-byte limit" in result.output
    assert cli("/dev/null").exit_code == 0


def test_file_growing_past_its_stat_size_is_read_whole(tmp_path, monkeypatch):
    """The first read asks for the size fstat gave; a file that grew meanwhile is read to its
    end (an fstat that lags behind the writer is simulated by halving the size it reports)."""
    import cslint.sources as sources
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n" + "".join(
        f"  k{i}: v{i}\n" for i in range(500))
    f = tmp_path / "grows.yaml"
    f.write_text(text)
    real_fstat = os.fstat

    class Stat:
        def __init__(self, st):
            self.st_size = st.st_size // 2
    monkeypatch.setattr(sources.os, "fstat", lambda fd: Stat(real_fstat(fd)))
    assert sources.read_source(str(f)).text == text
    over = sources.read_source(str(f), max_bytes=len(text) - 1)
    assert over.text is None and "limit" in over.error


# --- writes the OS refuses (a full disk, simulated by RLIMIT_FSIZE in a child process) ----------

def _fixtures_report(fmt: str) -> bytes:
    return CliRunner().invoke(main, ["--output-format", fmt, str(FIXTURES)]).stdout_bytes


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize("short_by", ["most", "one byte"])
def test_a_report_file_the_disk_refuses_is_one_error_and_no_half_report(tmp_path, short_by):
    """`--output-file` on a full disk: exit 2, one line saying where, and no truncated report left
    for CI to read as the whole one — also when only the last flush fails (one byte short)."""
    size = len(_fixtures_report("sarif"))
    limit = 1000 if short_by == "most" else size - 1
    out = tmp_path / "cslint.sarif"
    done = run_limited(limit, "--output-format", "sarif", "-o", str(out), str(FIXTURES))
    assert done.returncode == 2 and not out.exists()
    assert done.stderr == f"cslint: error: cannot write the report to {out}: File too large\n"
    done = run_limited(size, "--output-format", "sarif", "-o", str(out), str(FIXTURES))  # room enough
    assert done.returncode == 1 and out.stat().st_size == size


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_report_to_a_device_the_disk_refuses_removes_nothing(tmp_path):
    """A refused `--output-file` removes the half report only when it is a regular file: the
    removal unlinked whatever the path named — `-o /dev/full` run as root deleted the device node,
    `-o link` (a symlink to a device or to a file elsewhere) deleted the link."""
    link = tmp_path / "report.sarif"
    link.symlink_to("/dev/full")
    done = run_limited(0, "--output-format", "sarif", "-o", str(link), str(FIXTURES))
    assert done.returncode == 2
    assert done.stderr == f"cslint: error: cannot write the report to {link}: No space left on device\n"
    assert link.is_symlink() and os.readlink(link) == "/dev/full"


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("short_by", ["most", "one byte"])
def test_stdout_the_disk_refuses_is_an_error_not_a_truncated_success(tmp_path, short_by, unbuffered):
    """`cslint > report.json` on a full disk: the interpreter's own last flush would fail unseen and
    leave a truncated report with exit 0 or 1; the report is flushed where the failure is an error.
    Unbuffered (CI images often set PYTHONUNBUFFERED) a short last write was lost silently, exit 1."""
    size = len(_fixtures_report("json"))
    target = tmp_path / "report.json"
    with open(target, "w") as fh:
        done = run_limited(1000 if short_by == "most" else size - 1, "--output-format", "json", str(FIXTURES),
                        stdout=fh, unbuffered=unbuffered)
    assert done.returncode == 2
    assert done.stderr == "cslint: error: cannot write the report to standard output: File too large\n"


def test_a_fix_the_disk_refuses_leaves_the_file_as_it_was(tmp_path):
    """`--fix` writes a temporary file and renames it: refused midway, the original is untouched,
    no temporary file is left, and the error names the file (exit 2)."""
    src = (FIXTURES / "CS402" / "missing.yaml").read_text() if (FIXTURES / "CS402" / "missing.yaml").exists() \
        else next(p for p in sorted((FIXTURES / "CS402").glob("*.yaml"))).read_text()
    target = tmp_path / "deploy.yaml"
    target.write_text(src)
    done = run_limited(len(src) + 1, "--fix", str(target))  # the fixed text is longer than the original
    assert done.returncode == 2, done.stderr
    assert f"cslint: error: {target}: cannot write: File too large" in done.stderr
    assert target.read_text() == src and sorted(os.listdir(tmp_path)) == ["deploy.yaml"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("command", [["rules"], ["rule", "CS401"], ["config"], ["webhook", "manifests"],
                                     ["explain-cold-start", str(FIXTURES / "CS401")]], ids=" ".join)
def test_every_command_whose_output_the_disk_refuses_says_so_once(tmp_path, command, unbuffered):
    """Not only `check`: any command's standard output refused midway was a traceback, or — the
    webhook's manifests — a truncated YAML with exit 0. Now one line and exit 2."""
    target = tmp_path / "out"
    with open(target, "w") as fh:
        full = run_limited(10**9, *command, stdout=fh, unbuffered=unbuffered)
    assert full.returncode in (0, 1) and full.stderr == "", full.stderr
    size = target.stat().st_size
    assert size > 300
    with open(target, "w") as fh:
        done = run_limited(size - 1, *command, stdout=fh, unbuffered=unbuffered)
    assert (done.returncode, done.stderr) == (2, "cslint: error: cannot write to standard output: File too large\n")


# --- -o FILE is replaced whole or not at all ------------------------------------------------------

PREVIOUS_REPORT = b'{"a previous": "good report"}\n'


def _half_a_report_then(exc: BaseException):
    """A reporter that writes (and flushes) the first half of the real report, then fails."""
    from cslint.reporters import report

    def half_then_fail(fmt, results, settings, out, **options):
        import io
        whole = io.StringIO()
        report(fmt, results, settings, whole, **options)
        out.write(whole.getvalue()[:len(whole.getvalue()) // 2])
        out.flush()
        raise exc
    return half_then_fail


@pytest.mark.parametrize("failure", [RuntimeError("a reporter bug"), OSError(28, "No space left on device"),
                                     KeyboardInterrupt()], ids=["internal error", "write error", "interrupt"])
def test_a_report_that_fails_midway_leaves_the_previous_report_file_as_it_was(tmp_path, monkeypatch, failure):
    """`-o FILE` was opened with open(FILE, "w"): a run that failed while writing the report left
    FILE truncated to half a report, and the previous good one was gone. The report is written
    beside FILE and renamed onto it only once whole; a failure removes the temporary file."""
    import cslint.runner
    report = tmp_path / "report.json"
    report.write_bytes(PREVIOUS_REPORT)
    monkeypatch.setattr(cslint.runner, "report", _half_a_report_then(failure))
    args = ["--output-format", "json", "-o", str(report), str(ROOT / "examples" / "vllm-deployment.yaml")]
    result = cli(*args)
    assert (result.exit_code, result.stderr) == {
        RuntimeError: (2, "cslint: internal error: RuntimeError: a reporter bug\n"),
        OSError: (2, f"cslint: error: cannot write the report to {report}: No space left on device\n"),
        KeyboardInterrupt: (1, "\nAborted!\n"),  # click's own answer to Ctrl-C
    }[type(failure)]
    assert report.read_bytes() == PREVIOUS_REPORT
    assert os.listdir(tmp_path) == ["report.json"]


def test_a_report_file_the_disk_refuses_leaves_the_previous_one(tmp_path):
    """A full disk (RLIMIT_FSIZE in a child) midway through the report: one error line, exit 2,
    the previous report untouched and no temporary file left."""
    report = tmp_path / "cslint.sarif"
    report.write_bytes(PREVIOUS_REPORT)
    done = run_limited(1000, "--output-format", "sarif", "-o", str(report), str(FIXTURES))
    assert done.returncode == 2
    assert done.stderr == f"cslint: error: cannot write the report to {report}: File too large\n"
    assert report.read_bytes() == PREVIOUS_REPORT and os.listdir(tmp_path) == ["cslint.sarif"]


def test_a_report_file_is_replaced_whole_keeping_its_mode_and_its_link(tmp_path):
    """A finished report replaces the previous one; an existing file keeps its mode (as open()'s
    truncation kept it), and a link to the report file stays a link: its target is replaced."""
    manifest = str(ROOT / "examples" / "vllm-deployment.yaml")
    expected = cli("--output-format", "json", manifest).stdout_bytes
    report = tmp_path / "report.json"
    report.write_bytes(PREVIOUS_REPORT)
    report.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(report.name)
    for target in (report, link):
        report.write_bytes(PREVIOUS_REPORT)
        result = cli("--output-format", "json", "-o", str(target), manifest)
        assert result.exit_code == 1 and result.stdout == ""
        assert report.read_bytes() == expected and stat.S_IMODE(report.stat().st_mode) == 0o640
        assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["latest.json", "report.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_report_file_gets_the_mode_open_would_give_it(tmp_path, umask):
    """The temporary file behind the replacement is created 0600: the report is given what
    open(FILE, "w") gives a new file under the umask, not that."""
    old = os.umask(umask)
    try:
        with open(tmp_path / "plain", "w"):
            pass
        result = cli("--output-format", "json", "-o", str(tmp_path / "report.json"), str(ROOT / "examples"))
    finally:
        os.umask(old)
    assert result.exit_code == 1
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


def test_a_report_to_a_device_or_a_stream_is_written_in_place(tmp_path):
    """What cannot be replaced is written as before: /dev/null stays the device, and /dev/stdout
    redirected to a file writes into that file (the one the shell opened), not a file replacing it."""
    manifest = str(ROOT / "examples" / "vllm-deployment.yaml")
    assert cli("-o", "/dev/null", manifest).exit_code == 1 and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    expected = cli("--output-format", "json", manifest).stdout_bytes
    target = tmp_path / "out.json"
    with open(target, "w") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        done = subprocess.run([sys.executable, "-m", "cslint", "--output-format", "json", "-o", "/dev/stdout", manifest],
                              stdout=fh, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr == ""
    assert target.stat().st_ino == inode and target.read_bytes() == expected
    assert os.listdir(tmp_path) == ["out.json"]


def test_docs_the_disk_refuses_is_one_error_and_no_half_page(tmp_path):
    out = tmp_path / "rules.md"
    done = run_limited(1000, "docs", "--output", str(out))
    assert (done.returncode, done.stderr) == (2, f"cslint: error: cannot write {out}: File too large\n")
    assert not out.exists()


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
def test_a_fix_filter_whose_stdout_the_disk_refuses_says_so(tmp_path, unbuffered):
    """`cslint --fix - < in.yaml > out.yaml`: the fixed text refused midway is an error (exit 2),
    not a traceback and not a truncated manifest with exit 0."""
    src = next(p for p in sorted((FIXTURES / "CS402").glob("*.yaml"))).read_text()
    target = tmp_path / "fixed.yaml"
    with open(target, "w") as out:
        done = run_limited(len(src) // 2, "--fix", "-", input=src, stdout=out, unbuffered=unbuffered)
    assert done.returncode == 2, done.stderr
    assert "cslint: error: cannot write to standard output: File too large\n" in done.stderr
    assert "Traceback" not in done.stderr
