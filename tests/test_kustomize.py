"""Kustomize rendering with the real kubectl: positions in the rendered stream, origins mapped
back to the base file, and a clear exit-2 error without kubectl."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cslint.cli import main

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = "fixtures/integrations/kustomize/overlay"
BASE_FILE = "fixtures/integrations/kustomize/base/deployment.yaml"

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(ROOT))


@needs_kubectl
def test_directory_with_kustomization_is_rendered():
    result = CliRunner().invoke(main, ["--isolated", "--select", "CS201,CS401", "--output-format", "json", OVERLAY])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    image = next(f for f in findings if f["code"] == "CS201")
    assert image["file"] == f"{OVERLAY}/kustomization.yaml (rendered)"
    assert image["object"]["name"] == "prod-vllm"  # namePrefix applied: the rendered object
    assert (image["line"], image["column"]) == (24, 16)  # `image:` value in kubectl kustomize's output
    assert image["source"] == BASE_FILE


@needs_kubectl
def test_ci_formats_point_at_the_origin_file():
    out = CliRunner().invoke(main, ["--isolated", "--select", "CS201", "--output-format", "github", OVERLAY]).output
    # line 15 col 18 is the image in the base file, found by pointer in the origin object
    assert out.startswith(f"::error file={BASE_FILE},line=15,col=18,")


@needs_kubectl
def test_kustomize_option_and_no_default_path():
    result = CliRunner().invoke(main, ["--isolated", "--select", "CS201", "--kustomize", OVERLAY])
    assert result.exit_code == 1
    assert all("(rendered)" in line for line in result.output.splitlines()[:-1] if "CS201" in line)


@needs_kubectl
def test_broken_kustomization_is_exit_2(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    result = CliRunner().invoke(main, ["--isolated", str(tmp_path)])
    assert result.exit_code == 2 and "kubectl kustomize failed" in result.output


def test_missing_kubectl_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(main, ["--isolated", OVERLAY])
    assert result.exit_code == 2
    assert "needs kubectl on PATH" in result.output and "Traceback" not in result.output


def test_origin_annotation_without_kustomize_run():
    from cslint.kustomize import origin_path
    data = {"metadata": {"annotations": {"config.kubernetes.io/origin": "path: base/d.yaml\n"}}}
    assert origin_path(data) == "base/d.yaml"
    remote = {"metadata": {"annotations": {"config.kubernetes.io/origin": "path: d.yaml\nrepo: https://x\n"}}}
    assert origin_path(remote) is None
    assert origin_path({"metadata": {"annotations": {"config.kubernetes.io/origin": "[: bad"}}}) is None




@needs_kubectl
def test_fix_on_rendered_output_writes_nothing_and_reports_the_findings_as_they_are():
    """Rendered output has no file to write back: `--fix` says so, changes no file, and its report
    is the plain lint's (the fixes it could not deliver are still listed as fixable)."""
    before = {p: p.read_bytes() for p in (ROOT / "fixtures/integrations/kustomize").rglob("*.yaml")}
    plain = CliRunner().invoke(main, ["--isolated", "--output-format", "json", OVERLAY])
    fixed = CliRunner().invoke(main, ["--isolated", "--fix", "--output-format", "json", OVERLAY])
    assert "rendered manifests are not written back; use --diff" in fixed.stderr
    assert json.loads(fixed.stdout) == json.loads(plain.stdout)
    assert any(f["fix"] for f in json.loads(plain.stdout)["findings"])
    assert {p: p.read_bytes() for p in before} == before
