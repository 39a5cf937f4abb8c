"""Configuration: discovery upwards, pyproject tables, validation errors naming file and key,
CLI precedence and `cslint config` origins."""
from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from cslint.cli import main
from cslint.config import CONFIG_NAMES, ConfigError, load_settings
from cslint.model import Severity
from cslint.settings import Settings

BAD_DEPLOY = Path(__file__).resolve().parent.parent / "fixtures" / "integrations" / "precommit" / "deploy.yaml"


def test_discovered_from_a_parent_directory(tmp_path, monkeypatch):
    (tmp_path / ".cslint.yaml").write_text("shm-min: 32Gi\nstartup-budget: 900\nfail-on: error\n"
                                           "gpu-memory-utilization-max: 0.85\nseverity: {CS404: info}\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    settings, origins = load_settings()
    assert settings.shm_min == 32 * 2**30 and settings.startup_budget == 900
    assert settings.fail_on == Severity.ERROR and settings.gpu_memory_utilization_max == 0.85
    assert settings.severity_overrides == (("CS404", Severity.INFO),)
    assert origins["shm_min"] == str(tmp_path / ".cslint.yaml") and origins["goal"] == "default"


@pytest.mark.parametrize("name", CONFIG_NAMES)
@pytest.mark.parametrize("below", ["", "a/b"])
def test_a_directory_named_like_the_configuration_is_an_error(tmp_path, monkeypatch, name, below):
    """`isfile` passed over it to the parent's configuration (or the defaults): the user meant a
    configuration there, so linting with settings nobody chose for this tree hides the mistake."""
    (tmp_path / ".cslint.yaml").write_text("goal: throughput\n")
    project = tmp_path / "project"
    (project / name).mkdir(parents=True)
    (project / below).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(project / below)
    message = f"{project / name}: is a directory, not a configuration file"
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == message
    result = CliRunner().invoke(main, [str(BAD_DEPLOY)])
    assert result.exit_code == 2 and result.output == f"cslint: error: {message}\n"
    shown = CliRunner().invoke(main, ["config"])
    assert shown.exit_code == 2 and shown.output == f"cslint: error: {message}\n"


def test_pyproject_table_and_isolated(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n[tool.cslint]\nengine-rss = "12Gi"\n'
                                             'ignore = ["CS105"]\n')
    monkeypatch.chdir(tmp_path)
    settings, _ = load_settings()
    assert settings.engine_rss == 12 * 2**30 and settings.ignore == ("CS105",)
    assert load_settings(isolated=True)[0].engine_rss == 8 * 2**30


def test_pyproject_without_table_is_skipped(tmp_path, monkeypatch):
    (tmp_path / ".cslint.yaml").write_text("goal: throughput\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname="x"\n')
    monkeypatch.chdir(inner)
    assert load_settings()[0].goal == "throughput"


def test_a_pyproject_changed_between_runs_is_read_again(tmp_path, monkeypatch):
    """The presence of our table is remembered per file text (a run asks twice), never past an
    edit: a long-lived process sees the table appear and go."""
    from cslint.config import find_config
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "cslint-user"\n')
    assert find_config(str(tmp_path)) is None
    pyproject.write_text('[project]\nname = "cslint-user"\n[tool.cslint]\nignore = ["CS105"]\n')
    assert find_config(str(tmp_path)) == str(pyproject)
    monkeypatch.chdir(tmp_path)
    assert load_settings()[0].ignore == ("CS105",)
    pyproject.write_text('[project]\nname = "cslint-user"\n')
    assert find_config(str(tmp_path)) is None


@pytest.mark.parametrize("raw", [b'[tool.cslint]\nignore = [\n', b'[tool.cslint]\nx = "\xff"\n'])
def test_a_broken_pyproject_holding_our_table_is_named_found_or_given(tmp_path, monkeypatch, raw):
    """A pyproject.toml that cannot be read but holds `[tool.cslint]` was meant for us: passing
    over it to a parent's configuration (or the defaults) would lint with settings nobody wrote."""
    (tmp_path / ".cslint.yaml").write_text("goal: throughput\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_bytes(raw)
    monkeypatch.chdir(inner)
    for given in (None, str(inner / "pyproject.toml")):
        with pytest.raises(ConfigError, match=r"pyproject\.toml: invalid TOML: "):
            load_settings(given)


def test_a_broken_pyproject_of_another_tool_is_skipped(tmp_path, monkeypatch):
    (tmp_path / ".cslint.yaml").write_text("goal: throughput\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_bytes(b'[project]\ndependencies = ["cslint"\n')
    monkeypatch.chdir(inner)
    assert load_settings()[0].goal == "throughput"


@pytest.mark.parametrize("text, needle", [
    ("shmmin: 1Gi\n", "shmmin: unknown key (did you mean shm-min?)"),
    ("shm-min: lots\n", "shm-min: expected a positive byte quantity"),
    ("fail-on: sometimes\n", "fail-on: unknown severity"),
    ("gpu-memory-utilization-max: 1.5\n", "gpu-memory-utilization-max: expected a number in (0, 1]"),
    ("k8s-version: 1.30\n", "k8s-version: quote the version"),
    ("select: [cs4!]\n", "select: not a rule code"),
    ("per-file-ignores: [a]\n", "per-file-ignores: expected a mapping"),
    ("rules: {a: 1}\n", "rules: expected a list"),
    ("- a\n", "expected a mapping"),
])
def test_bad_values_name_file_and_key(tmp_path, text, needle):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(str(cfg))
    assert str(err.value).startswith(str(cfg)) and needle in str(err.value)


def test_bad_config_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("startup-budget: -1\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), str(BAD_DEPLOY)])
    assert result.exit_code == 2
    assert "startup-budget" in result.output and "Traceback" not in result.output


def test_extension_keys_go_to_extra(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mode: warn\nexempt-namespaces: [kube-system]\nallow-annotation-suppressions: false\n"
                   "lock-file: cslint.lock\nrules: []\n")
    settings, _ = load_settings(str(cfg))
    assert settings.get_extra("mode") == "warn"
    assert settings.get_extra("exempt_namespaces") == ("kube-system",)
    assert settings.get_extra("allow_annotation_suppressions") is False
    assert settings.get_extra("custom_rules") == []
    assert settings.get_extra("custom_rules_source") == str(cfg)


def test_command_line_beats_file_and_config_shows_origins(tmp_path, monkeypatch):
    (tmp_path / ".cslint.yaml").write_text("profile: gke\nselect: [CS4]\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["config", "--select", "CS201", "--output-format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["select"] == {"value": ["CS201"], "origin": "command line"}
    assert data["profile"] == {"value": "gke", "origin": str(tmp_path / ".cslint.yaml")}
    assert data["shm-min"] == {"value": "16Gi", "origin": "default"}
    text = CliRunner().invoke(main, ["config"]).output
    assert "profile" in text and f"# {tmp_path / '.cslint.yaml'}" in text



def test_config_writes_output_file_and_refuses_unknown_formats(tmp_path, monkeypatch):
    """`cslint config` takes check's options: `-o FILE` was ignored (printed to stdout, exit 0,
    no file) and `--output-format sarif` or a typo printed the text table with exit 0."""
    monkeypatch.chdir(tmp_path)
    shown = CliRunner().invoke(main, ["config", "--isolated", "--output-format", "json"]).output
    done = CliRunner().invoke(main, ["config", "--isolated", "--output-format", "json", "-o", "cfg.json"])
    assert done.exit_code == 0 and done.output == ""
    assert (tmp_path / "cfg.json").read_text() == shown
    for fmt in ("sarif", "jsn"):
        bad = CliRunner().invoke(main, ["config", "--isolated", "--output-format", fmt])
        assert bad.exit_code == 2 and bad.output == \
            f"cslint: error: unknown output format {fmt!r} for `cslint config` (choose from text, json)\n"
    missing = CliRunner().invoke(main, ["config", "--isolated", "-o", str(tmp_path / "no" / "cfg.txt")])
    assert missing.exit_code == 2 and "cannot write" in missing.output

def test_file_selection_applies_to_check(tmp_path, monkeypatch):
    (tmp_path / ".cslint.yaml").write_text("select: [CS402]\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [str(BAD_DEPLOY)])
    assert "CS402" in result.output and "CS401" not in result.output
    assert "CS401" in CliRunner().invoke(main, ["--isolated", str(BAD_DEPLOY)]).output


needs_dev_null = pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.isdir("/dev/fd"), reason="no named pipes")


@contextmanager
def fed_fifo(path: Path, text: str):
    """A named pipe holding `text` for the one reader that opens it. A writer nobody read from is
    released when the test ends, so a regression fails the test instead of hanging it."""
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "w") as fh:  # blocks until a reader opens the pipe
            fh.write(text)
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield str(path)
    finally:
        if writer.is_alive():
            release = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            writer.join(5)
            os.close(release)


@needs_dev_null
def test_config_dev_null_is_the_defaults(tmp_path, monkeypatch):
    """`--config /dev/null`, the usual "no configuration", was "configuration file not found": a
    character device is not a regular file. It reads as an empty file, so the defaults apply and
    the discovered configuration does not."""
    (tmp_path / ".cslint.yaml").write_text("select: [CS402]\n")
    monkeypatch.chdir(tmp_path)
    settings, origins = load_settings("/dev/null")
    assert settings == Settings() and set(origins.values()) == {"default"}
    given = CliRunner().invoke(main, ["--config", "/dev/null", str(BAD_DEPLOY)])
    isolated = CliRunner().invoke(main, ["--isolated", str(BAD_DEPLOY)])
    assert given.exit_code == isolated.exit_code == 1 and "error:" not in given.output
    assert given.output == isolated.output and "CS401" in given.output


@needs_fifo
def test_relative_paths_of_a_device_or_pipe_configuration_are_the_working_directorys(tmp_path, monkeypatch):
    """A device or pipe has no directory in the project: /dev/cslint.lock (which `cslint pin`
    would write) and globs anchored under /dev/fd would be nobody's intent."""
    from cslint.prepare import lock_path
    monkeypatch.chdir(tmp_path)
    assert lock_path({"config_file": "/dev/null"}, Settings()) == tmp_path / "cslint.lock"
    text = 'lock-file: locks/cslint.lock\nper-file-ignores: {"charts/*.yaml": [CS401]}\n'
    with fed_fifo(tmp_path / "fifo", text) as fifo:
        settings, _ = load_settings(fifo)
    assert lock_path({"config_file": fifo}, settings) == tmp_path / "locks" / "cslint.lock"
    assert settings.per_file_ignores == ((str(tmp_path / "charts" / "*.yaml"), ("CS401",)),)


@needs_fifo
def test_a_named_pipe_given_to_config_is_read_for_its_text(tmp_path):
    with fed_fifo(tmp_path / "goal", "goal: throughput\n") as fifo:
        settings, origins = load_settings(fifo)
    assert settings.goal == "throughput" and origins["goal"] == fifo
    with fed_fifo(tmp_path / "select", "select: [CS402]\n") as fifo:
        result = CliRunner().invoke(main, ["--config", fifo, str(BAD_DEPLOY)])
    assert result.exit_code == 1 and "CS402" in result.output and "CS401" not in result.output


@needs_fifo
def test_cslint_config_reads_a_pipe_once(tmp_path):
    """`cslint config --config <(…)`: the settings and their origins come from one read; a second
    read of the pipe finds it empty and would show the defaults labelled with the pipe's name."""
    read, write = os.pipe()
    os.write(write, b"goal: throughput\n")
    os.close(write)
    try:
        result = CliRunner().invoke(main, ["config", "--config", f"/dev/fd/{read}", "--output-format", "json"])
    finally:
        os.close(read)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["goal"] == {"value": "throughput", "origin": f"/dev/fd/{read}"}


def test_a_directory_or_a_missing_file_given_to_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a directory, not a configuration file"):
        load_settings(str(tmp_path))
    directory = CliRunner().invoke(main, ["--config", str(tmp_path), str(BAD_DEPLOY)])
    assert directory.exit_code == 2 and "is a directory" in directory.output
    missing = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.yaml"), str(BAD_DEPLOY)])
    assert missing.exit_code == 2
    assert missing.output == f"cslint: error: {tmp_path / 'nope.yaml'}: configuration file not found\n"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_endless_device_given_to_config_is_refused_not_read_forever(tmp_path):
    result = CliRunner().invoke(main, ["--config", "/dev/zero", str(BAD_DEPLOY)])
    assert result.exit_code == 2 and result.output.startswith("cslint: error: /dev/zero: ")
    assert "larger than" in result.output
