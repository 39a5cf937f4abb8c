"""`cslint pin` honours the same suppressions as `--fix`: a reference whose CS201 (image) or CS104
(model artifact) finding is suppressed is neither resolved, reported nor rewritten.

The lock-only tests need no registry; the `real` one reuses test_pin's registry fixture.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_pin import GZ, _entry, cslint, env, isolated_home, needs_registry  # noqa: E402,F401

from cslint.lockfile import LockFile  # noqa: E402

APP = "registry.example.com/app:v1"
MODEL = "registry.example.com/models/qwen:v2"
ZSTD = "sha256:" + "2" * 64


def _lock(tmp_path: Path) -> Path:
    lock = LockFile(tmp_path / "cslint.lock")
    lock.record(APP, _entry(GZ))
    lock.record(MODEL, _entry(ZSTD))
    lock.save()
    return tmp_path / "cslint.lock"


POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    cslint.io/ignore.annotated: CS201
spec:
  containers:
    - name: trailing
      image: {APP}  # cslint: ignore[CS201] -- follows the tag on purpose
    - name: plain
      image: {APP}
    # cslint: ignore[CS2]
    - {{name: own-line, image: "{APP}"}}
    - name: annotated
      image: {APP}
    - name: other-code
      image: {APP}  # cslint: ignore[CS104]
  volumes:
    - name: weights
      image:
        reference: {MODEL}  # cslint: ignore[CS104]
    - name: weights-pinned
      image:
        reference: {MODEL}
"""


def _expected_pin(text: str) -> str:
    """What pinning leaves: only `plain`, `other-code` and `weights-pinned` change."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("      image: ") and i > 0 and lines[i - 1].strip() in ("- name: plain", "- name: other-code"):
            lines[i] = line.replace(APP, f"{APP}@{GZ}")
        if lines[i - 1].strip() == "image:" and lines[i - 2].strip() == "- name: weights-pinned":
            lines[i] = line.replace(MODEL, f"{MODEL}@{ZSTD}")
    return "".join(lines)


def test_pin_skips_every_kind_of_suppressed_reference(tmp_path):
    _lock(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text(POD)
    code, _, err = cslint("pin", "p.yaml", "--offline", "--isolated")
    assert code == 0, err
    assert path.read_text() == _expected_pin(POD)
    assert path.read_text().count("@sha256:") == 3
    assert "Pinned 3 references in 1 file" in err and "; 4 suppressed" in err


def test_pin_and_fix_agree_on_suppressed_references(tmp_path):
    """The same file, the same lock: `cslint pin --offline` writes what `cslint --fix` writes."""
    _lock(tmp_path)
    (tmp_path / "a.yaml").write_text(POD)
    (tmp_path / "b.yaml").write_text(POD)
    assert cslint("pin", "a.yaml", "--offline", "--isolated")[0] == 0
    code, _, err = cslint("check", "b.yaml", "--select", "CS201,CS104", "--isolated", "--fix")
    assert code == 0, err
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text() != POD


def test_suppressed_reference_the_lock_lacks_is_no_failure(tmp_path):
    """Offline, an unlocked reference fails the whole file, unless a directive suppresses it."""
    _lock(tmp_path)
    path = tmp_path / "p.yaml"
    text = (f"kind: Pod\napiVersion: v1\nmetadata: {{name: p}}\nspec:\n  containers:\n"
            f"    - {{name: a, image: {APP}}}\n"
            f"    - {{name: b, image: registry.example.com/dev:latest}}  # cslint: ignore[CS201]\n")
    path.write_text(text)
    code, _, err = cslint("pin", "p.yaml", "--offline", "--isolated")
    assert code == 0, err
    assert path.read_text() == text.replace(f"image: {APP}}}", f"image: {APP}@{GZ}}}")
    assert "dev:latest" not in err
    path.write_text(text.replace("  # cslint: ignore[CS201]", ""))
    code, _, err = cslint("pin", "p.yaml", "--offline", "--isolated")
    assert code == 1 and "registry.example.com/dev:latest: not in" in err


def test_file_header_and_per_file_ignores(tmp_path):
    _lock(tmp_path)
    pod = (f"kind: Pod\napiVersion: v1\nmetadata: {{name: p}}\nspec:\n  containers:\n"
           f"    - {{name: a, image: {APP}}}\n")
    header = tmp_path / "header.yaml"
    header.write_text("# cslint: file-ignore[CS201] -- dev overlay\n" + pod)
    (tmp_path / "dev").mkdir()
    overlay = tmp_path / "dev" / "pod.yaml"
    overlay.write_text(pod)
    plain = tmp_path / "pod.yaml"
    plain.write_text(pod)
    (tmp_path / ".cslint.yaml").write_text("per-file-ignores:\n  'dev/*.yaml': [CS201]\n")
    code, _, err = cslint("pin", "header.yaml", "dev", "pod.yaml", "--offline")
    assert code == 0, err
    assert header.read_text() == "# cslint: file-ignore[CS201] -- dev overlay\n" + pod
    assert overlay.read_text() == pod
    assert plain.read_text() == pod.replace(APP, f"{APP}@{GZ}")
    assert "Pinned 1 reference in 1 file" in err and "2 suppressed" in err


def test_disallow_suppressions_pins_them_all(tmp_path):
    """With suppressions disallowed `--fix` pins every reference, and so does `cslint pin`."""
    _lock(tmp_path)
    (tmp_path / ".cslint.yaml").write_text("disallow-suppressions: true\n")
    path = tmp_path / "p.yaml"
    path.write_text(POD)
    code, _, err = cslint("pin", "p.yaml", "--offline")
    assert code == 0, err
    assert path.read_text().count("@sha256:") == 7 and "suppressed" not in err


@needs_registry
def test_suppressed_reference_is_never_resolved(env, tmp_path):  # noqa: F811 - the fixture imported above
    """Against the real registry: a suppressed tag that does not exist is not even asked for."""
    good = env.pushed.gzip_ref
    missing = f"{env.open.host}/cslint/app:no-such-tag"
    path = tmp_path / "p.yaml"
    text = (f"kind: Pod\napiVersion: v1\nmetadata: {{name: p}}\nspec:\n  containers:\n"
            f"    - name: ok\n      image: {good}\n"
            f"    - name: dev\n      # cslint: ignore[CS201] -- rebuilt on every push\n      image: {missing}\n"
            f"    - name: twin\n      image: {good}  # cslint: ignore[CS201]\n")
    path.write_text(text)
    code, _, err = cslint("pin", str(path), "--lock", str(tmp_path / "cslint.lock"),
                          "--insecure-registry", env.open.host, "--isolated")
    assert code == 0, err
    digest = env.pushed.gzip_image.manifest.digest
    assert path.read_text() == text.replace(f"image: {good}\n", f"image: {good}@{digest}\n", 1)
    assert LockFile.load(tmp_path / "cslint.lock").lookup(missing) is None
    assert "no-such-tag" not in err and "2 suppressed" in err
