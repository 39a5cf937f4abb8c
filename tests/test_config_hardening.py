"""Hostile YAML outside manifests: the configuration, the lock file and kustomize's origin
annotation are read with the manifests' guards (documents.load_bounded), so a bomb, a recursive
alias, a duplicate key or deep nesting is a one-line exit-2 error (or an ignored annotation),
never minutes, gigabytes, a traceback or a crash. Runs that could blow up go through a child
process with a memory cap, so a regression fails the test instead of the suite."""
from __future__ import annotations

import pytest

from cslint.config import ConfigError, load_settings
from cslint.custom_rules import parse_custom_rules
from cslint.documents import DocumentError, load_bounded
from cslint.kustomize import origin_path
from cslint.lockfile import LockFile, LockFileError
from test_hardening_audit import _levels, child_run

OK_MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
BIG = "x" * 200_000
HOSTILE_CONFIGS = {
    # billion laughs under keys other than rules:, where a value parser or message reads it
    "bomb-under-severity": "severity: {CS101: [" + ", ".join(_levels("l")) + "]}\n",
    "bomb-under-select": "select: [" + ", ".join(_levels("l")) + "]\n",
    # few nodes, one big string repeated: the node bound alone lets this through
    "quadratic-blowup": f"goal: [&s {BIG}, &a [*s, *s, *s, *s, *s, *s, *s, *s, *s, *s], "
                        "&b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]]\n",
    "recursive-alias": "rules: &r [*r]\n",
    "recursive-mapping": "rules: [&m {code: X101, match: *m}]\n",
    "duplicate-key": "select: [CS1]\nselect: [CS2]\n",
    "deep-flow": "goal: " + "[" * 50_000 + "]" * 50_000 + "\n",  # libyaml's composer crashed on this
    "deep-block": "goal:\n" + "- " * 50_000 + "x\n",
    "two-documents": "goal: auto\n---\ngoal: throughput\n",
    "python-tag": "goal: !!python/object/apply:os.system [true]\n",
}
EXPECTED = {"bomb-under-severity": "alias bomb", "bomb-under-select": "alias bomb",
            "quadratic-blowup": "characters (alias bomb?)", "recursive-alias": "recursive data",
            "recursive-mapping": "recursive data", "duplicate-key": "duplicate key 'select'",
            "deep-flow": "nested too deeply", "deep-block": "nested too deeply",
            "two-documents": "single document", "python-tag": "could not determine a constructor"}


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIGS))
def test_hostile_configuration_is_one_line_exit_2(tmp_path, name):
    config = tmp_path / ".cslint.yaml"
    config.write_text(HOSTILE_CONFIGS[name])
    ok = tmp_path / "ok.yaml"
    ok.write_text(OK_MANIFEST)
    code, out, elapsed, _ = child_run(["--config", str(config), str(ok)], timeout=10, memory_cap=400 << 20)
    assert code == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 300, out
    assert lines[0].startswith(f"cslint: error: {config}:") and "invalid YAML" in lines[0], out
    assert EXPECTED[name] in lines[0] and "internal error" not in out, out
    assert elapsed < 8


def test_the_error_points_at_the_line_of_the_problem(tmp_path):
    config = tmp_path / ".cslint.yaml"
    config.write_text("goal: auto\nselect: [CS1]\nselect: [CS2]\n")
    with pytest.raises(ConfigError, match=r"\.cslint\.yaml:3:1: invalid YAML: duplicate key 'select'"):
        load_settings(str(config))


def test_anchors_a_team_really_writes_still_work(tmp_path):
    """The bound is on expansion, not on anchors: one match block shared by two custom rules."""
    config = tmp_path / ".cslint.yaml"
    config.write_text("""\
select: &codes [CS1, X1]
extend-select: *codes
rules:
  - code: X101
    name: engine-priority-class
    match: &engines {kinds: [Deployment], engine: true}
    scope: pod
    select: $.priorityClassName
    require: {equals: llm-serving}
    message: "priority class is {value}"
  - code: X102
    name: engine-service-account
    match: *engines
    scope: pod
    select: $.serviceAccountName
    require: {equals: vllm}
    message: "service account is {value}"
""")
    settings, _ = load_settings(str(config))
    assert settings.select == ("CS1", "X1") and settings.extend_select == ("CS1", "X1")
    rules = parse_custom_rules(settings.get_extra("custom_rules"), str(config))
    assert [r.code for r in rules] == ["X101", "X102"]


def test_values_in_error_messages_are_cut_short(tmp_path):
    """A wrong value shared through aliases is named, not printed whole."""
    config = tmp_path / ".cslint.yaml"
    config.write_text("goal: &a [" + ", ".join(["lol" * 30] * 50) + "]\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(config))
    message = str(caught.value)
    shown = message.split(", got ", 1)[1]
    assert "goal: expected one of" in message and shown.endswith("...]") and len(shown) < 200, message


class _NoRepr(list):
    def __repr__(self) -> str:  # the old cache key: it expanded whatever anchors shared
        raise AssertionError("the custom-rules cache must not repr the declarations")


def test_custom_rules_cache_never_reprs_the_declarations():
    raw = _NoRepr([{"code": "X301", "name": "cache-key-check", "scope": "pod", "select": "$.x",
                    "require": {"equals": "y"}, "message": "x is {value}"}])
    first = parse_custom_rules(raw, "cache.yaml")
    assert parse_custom_rules(raw, "cache.yaml") is first  # the provider runs per registry lookup
    other = _NoRepr(raw)  # equal content, another object: parsed on its own, same rule
    assert [r.code for r in parse_custom_rules(other, "cache.yaml")] == ["X301"]


@pytest.mark.parametrize("text, problem", [
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ("a: &a [*a]", "recursive data"),
    ("a: 1\na: 2", "duplicate key"),
    ("\n".join(f"x{i}: {item}" for i, item in enumerate(_levels("l"))), "alias bomb"),
    ("t: 2020-13-45 10:00:00", "cannot read value"),
])
def test_load_bounded_raises_document_errors_only(text, problem):
    with pytest.raises(DocumentError, match=problem):
        load_bounded(text)


def test_load_bounded_keeps_ordinary_data():
    assert load_bounded("") is None and load_bounded("# only a comment\n") is None
    assert load_bounded("a: &x {k: v}\nb: *x\nc: [1, 1.5, true, null]\n") == \
        {"a": {"k": "v"}, "b": {"k": "v"}, "c": [1, 1.5, True, None]}


# -- the lock file (JSON: no aliases, but json's decoder recurses) ---------------------------------
@pytest.mark.parametrize("text, problem", [
    ('{"version": 1, "images": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("\n".join(f"x{i}: {item}" for i, item in enumerate(_levels("l"))), "not valid JSON"),  # a YAML bomb
    ('{"version": 1, "images": {"vllm/vllm-openai:v1": {"digest": ' + "1" * 10_000 + "}}}", "not valid JSON"),
])
def test_hostile_lock_file_is_a_lock_file_error(text, problem):
    with pytest.raises(LockFileError, match=problem):
        LockFile.loads(text, path="cslint.lock")


def test_deep_lock_file_is_exit_2_from_the_cli(tmp_path):
    (tmp_path / "deep.lock").write_text('{"version": 1, "images": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / ".cslint.yaml").write_text(f"lock-file: {tmp_path / 'deep.lock'}\n")
    (tmp_path / "ok.yaml").write_text(OK_MANIFEST)
    code, out, _, _ = child_run(["--config", str(tmp_path / ".cslint.yaml"), str(tmp_path / "ok.yaml")],
                                timeout=10, memory_cap=400 << 20)
    assert code == 2 and "nested too deeply" in out and "internal error" not in out, out


# -- kustomize's origin annotation: user text inside a manifest -------------------------------------
@pytest.mark.parametrize("annotation", [
    "[" * 5000 + "]" * 5000,  # was a RecursionError out of yaml.safe_load: "internal error"
    "\n".join(f"x{i}: {item}" for i, item in enumerate(_levels("l"))) + "\npath: *l8\n",
    "path: &p [*p]\n",
    "path: a.yaml\npath: b.yaml\n",
])
def test_hostile_origin_annotation_is_ignored(annotation):
    assert origin_path({"metadata": {"annotations": {"config.kubernetes.io/origin": annotation}}}) is None


def test_deep_origin_annotation_in_a_linted_file(tmp_path):
    f = tmp_path / "deploy.yaml"
    f.write_text(f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
  annotations:
    config.kubernetes.io/origin: '{"[" * 5000 + "]" * 5000}'
spec:
  selector: {{matchLabels: {{app: vllm}}}}
  template:
    metadata: {{labels: {{app: vllm}}}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:latest
          args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
          resources: {{limits: {{nvidia.com/gpu: 1}}}}
""")
    code, out, _, _ = child_run(["--isolated", str(f)], timeout=20)
    assert code == 1 and "internal error" not in out and "CS" in out, out


# -- codes that name no rule ------------------------------------------------------------------------
@pytest.mark.parametrize("args,config,where", [
    (["--select", "CS99999"], "", "'CS99999' in select"),
    (["--ignore", "CS4O1"], "", "'CS4O1' in ignore"),  # a letter O: ignored nothing, silently
    (["--extend-select", "FOO"], "", "'FOO' in extend-select"),
    ([], "select: [CS4, CS299]\n", "'CS299' in select"),
    ([], "severity: {CS999: info}\n", "'CS999' in severity"),
    ([], "per-file-ignores: {'x.yaml': [NONSENSE]}\n", "'NONSENSE' in per-file-ignores"),
])
def test_a_code_that_names_no_rule_is_a_usage_error(tmp_path, args, config, where):
    """A typo in `select` turned the linter into a check that always passes (exit 0)."""
    from click.testing import CliRunner

    from cslint.cli import main
    (tmp_path / ".cslint.yaml").write_text(config or "goal: auto\n")
    (tmp_path / "ok.yaml").write_text(OK_MANIFEST)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / ".cslint.yaml"), *args, str(tmp_path / "ok.yaml")])
    assert result.exit_code == 2, result.output
    assert "no rule has the code or prefix" in result.output and where in result.output


def test_severity_overrides_take_prefixes_the_most_specific_winning():
    from cslint.model import Severity
    from cslint.settings import Settings
    s = Settings(severity_overrides=(("CS4", Severity.INFO), ("CS403", Severity.ERROR)))
    assert s.severity_for("CS401", Severity.ERROR) is Severity.INFO
    assert s.severity_for("CS403", Severity.WARNING) is Severity.ERROR
    assert s.severity_for("CS201", Severity.ERROR) is Severity.ERROR
    assert Settings(severity_overrides=(("ALL", Severity.INFO),)).severity_for("CS201", Severity.ERROR) is Severity.INFO


def test_a_bad_k8s_version_on_the_command_line_is_a_usage_error(tmp_path):
    """It reached CS001 and ended the run as an internal error; the same value in the
    configuration file was already a usage error."""
    from click.testing import CliRunner

    from cslint.cli import main
    (tmp_path / "ok.yaml").write_text(OK_MANIFEST)
    result = CliRunner().invoke(main, ["--isolated", "--k8s-version", "abc", str(tmp_path / "ok.yaml")])
    assert result.exit_code == 2 and "internal error" not in result.output
    assert "expected a Kubernetes minor version" in result.output


def test_a_broken_pyproject_holding_our_table_is_an_error_not_a_silent_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.cslint\nselect = ["CS4"]\n')
    with pytest.raises(ConfigError, match=r"pyproject\.toml: invalid TOML"):
        load_settings()
    (tmp_path / "pyproject.toml").write_text('[project\ndependencies = ["cslint"]\n')  # not ours to report
    settings, _ = load_settings()
    assert settings.select == ("CS",)


def test_config_and_isolated_together_are_a_usage_error(tmp_path):
    (tmp_path / ".cslint.yaml").write_text("select: [CS4]\n")
    with pytest.raises(ConfigError, match="contradict"):
        load_settings(str(tmp_path / ".cslint.yaml"), isolated=True)
