"""The published pre-commit hooks, run for real with `pre-commit run` in a scratch git repo.

pre-commit clones the hook repository at a commit, so the working tree is copied into a temporary
git repository and committed there first: the test sees uncommitted work and never touches this
repository's git. `run` (not `try-repo`, whose store is a fresh temp dir per call) installs the
hook environment once for all three runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "integrations" / "precommit"
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", "build", "dist", ".hypothesis", ".benchmarks"}

# pre-commit is a test dependency: installed beside this interpreter (`make test` runs the venv's
# python without putting its bin/ on PATH, which skipped these tests), else found on PATH
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True, capture_output=True,
                   env=env)


def snapshot_repo(dest: Path) -> Path:
    """The working tree of this repository, committed into a fresh git repository."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")}
    shutil.copytree(ROOT, dest, ignore=ignore)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return dest


def test_hook_definitions_follow_the_issue():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"cslint", "cslint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["yaml", "json"]
        assert hook["require_serial"] is True
    assert "--fix" in hooks["cslint-fix"]["entry"].split()
    assert "--fix" not in hooks["cslint"]["entry"].split()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_repo(tmp_path_factory.mktemp("hooks") / "cslint")


def head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def write_precommit_config(work: Path, hook_repo: Path) -> None:
    config = {"repos": [{"repo": str(hook_repo), "rev": head(hook_repo),
                         "hooks": [{"id": "cslint"}, {"id": "cslint-fix", "stages": ["manual"]}]}]}
    (work / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))


def run_hook(work: Path, hook: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    assert PRE_COMMIT, "pre-commit is not installed: pip install -e '.[test]'"
    args = [PRE_COMMIT, "run", hook, "--all-files", "--color=never"]
    if hook == "cslint-fix":
        args += ["--hook-stage", "manual"]
    return subprocess.run(args, cwd=work, capture_output=True, text=True, env=env, timeout=900)


def test_check_fails_fix_rewrites_then_check_passes(tmp_path: Path, hook_repo: Path):
    work = tmp_path / "work"
    (work / "k8s").mkdir(parents=True)
    shutil.copy(FIXTURE / "deploy.yaml", work / "k8s" / "deploy.yaml")
    shutil.copy(FIXTURE / "cslint.yaml", work / ".cslint.yaml")
    write_precommit_config(work, hook_repo)
    git(work, "init", "-q")
    git(work, "add", "-A")
    home = tmp_path / "pre-commit-home"

    first = run_hook(work, "cslint", home)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "CS401" in first.stdout and "CS402" in first.stdout
    before = (work / "k8s" / "deploy.yaml").read_text()

    fixed = run_hook(work, "cslint-fix", home)
    after = (work / "k8s" / "deploy.yaml").read_text()
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr  # files were modified
    assert after != before
    assert "NCCL_CUMEM_ENABLE" in after and "/dev/shm" in after

    git(work, "add", "-A")
    again = run_hook(work, "cslint", home)
    assert again.returncode == 0, again.stdout + again.stderr
