"""The composite GitHub Action, executed the way the runner does: each `run:` step in order with
`bash --noprofile --norc -eo pipefail`, inputs reaching the script only through `env:`."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_REPO = ROOT / "fixtures" / "integrations" / "action" / "repo"
SCHEMA = Path("/work/shared/schemas/sarif-schema-2.1.0.json")
EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
SKIP = {".git", "__pycache__", ".pytest_cache", "build", "dist", ".hypothesis", ".benchmarks"}


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_metadata():
    meta = action()
    assert meta["runs"]["using"] == "composite"
    assert set(meta["inputs"]) >= {"paths", "fix", "args", "config", "output-format", "sarif-file", "fail-on",
                                   "version"}
    assert meta["inputs"]["fix"]["default"] == "false"
    assert meta["inputs"]["output-format"]["default"] == "github"
    assert set(meta["outputs"]) == {"findings", "sarif-file"}
    for step in meta["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs must reach scripts through env:, never interpolated"


def evaluate(text: str, inputs: dict[str, str], action_path: str) -> str:
    def value(m: re.Match) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr[len("inputs."):]]
        if expr == "github.action_path":
            return action_path
        raise AssertionError(f"unexpected expression {expr}")
    return EXPR.sub(value, text)


@pytest.fixture(scope="module")
def runner_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A venv (seeing the system's packages) standing in for the runner's Python, so installing the
    action does not replace this checkout's editable install."""
    base = tmp_path_factory.mktemp("runner")
    action_path = base / "action"
    shutil.copytree(ROOT, action_path, ignore=lambda d, names: {n for n in names if n in SKIP
                                                                  or n.endswith(".egg-info")})
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(base / "venv")
    bin_dir = str(base / "venv" / "bin")
    return {"PATH": bin_dir + os.pathsep + os.environ["PATH"], "GITHUB_ACTION_PATH": str(action_path),
            "HOME": os.environ.get("HOME", str(base))}


def run_action(workspace: Path, env: dict[str, str], installed: bool = False,
               **given: str) -> tuple[list[subprocess.CompletedProcess], dict]:
    """Run the steps in order; `installed` skips the install step when an earlier test ran it."""
    meta = action()
    inputs = {name: given.get(name.replace("-", "_"), spec.get("default", "")) for name, spec in meta["inputs"].items()}
    output_file = workspace.parent / "github_output"
    summary_file = workspace.parent / "step_summary"
    output_file.write_text("")
    summary_file.write_text("")
    base = {**os.environ, **env, "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTIONS": "true", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = []
    for step in meta["runs"]["steps"][1 if installed else 0:]:
        step_env = {k: evaluate(str(v), inputs, env["GITHUB_ACTION_PATH"]) for k, v in step.get("env", {}).items()}
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=workspace, env={**base, **step_env}, capture_output=True, text=True, timeout=600)
        done.append(proc)
        if proc.returncode != 0:
            break
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    outputs["_summary"] = summary_file.read_text()
    return done, outputs


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE_REPO, ws)
    return ws


def test_annotations_summary_sarif_and_outputs(tmp_path: Path, runner_env: dict[str, str]):
    ws = workspace(tmp_path)
    steps, outputs = run_action(ws, runner_env, sarif_file="cslint.sarif")
    install, lint = steps
    assert install.returncode == 0, install.stderr
    assert lint.returncode == 1, lint.stdout + lint.stderr
    annotations = [line for line in lint.stdout.splitlines() if line.startswith("::")]
    assert any(a.startswith("::error file=k8s/deploy.yaml,line=13,col=11,") and "title=CS401 shm-too-small::" in a
               for a in annotations), annotations
    assert int(outputs["findings"]) == len(annotations) >= 3
    assert outputs["sarif-file"] == "cslint.sarif"
    assert "## cslint" in outputs["_summary"] and "### Runtime" in outputs["_summary"]
    log = json.loads((ws / "cslint.sarif").read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"k8s/deploy.yaml"}
    if SCHEMA.exists():
        import jsonschema
        schema = json.loads(SCHEMA.read_text())
        jsonschema.validators.validator_for(schema)(schema).validate(log)


def test_fix_input_rewrites_files_and_counts_what_remains(tmp_path: Path, runner_env: dict[str, str]):
    ws = workspace(tmp_path)
    before = (ws / "k8s" / "deploy.yaml").read_text()
    steps, outputs = run_action(ws, runner_env, installed=True, fix="true", args="--select CS401,CS402")
    assert steps[-1].returncode == 0, steps[-1].stdout + steps[-1].stderr
    assert (ws / "k8s" / "deploy.yaml").read_text() != before
    assert outputs["findings"] == "0"
    assert "sarif-file" not in outputs
    assert "All checks passed" in outputs["_summary"]


def test_bad_input_is_a_usage_error_not_a_pass(tmp_path: Path, runner_env: dict[str, str]):
    ws = workspace(tmp_path)
    steps, outputs = run_action(ws, runner_env, installed=True, fail_on="sometimes")
    assert steps[-1].returncode == 2
    assert "findings" not in outputs
    assert "fail-on" in steps[-1].stderr or "sometimes" in steps[-1].stderr


