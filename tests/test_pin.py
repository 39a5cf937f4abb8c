"""`cslint pin`, the lock-backed CS201/CS104 fixes and the online CS210/CS211 rules.

The `real` tests run against the real `docker-registry` (CNCF distribution) with images built in
Python and pushed by the real `skopeo` (tests/registry_harness.py); they skip only when those
binaries are absent (Debian packages `docker-registry` and `skopeo`).
"""
from __future__ import annotations

import difflib
import json
import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

import registry_harness as h  # noqa: E402

from cslint.cli import main
from cslint.lockfile import LockFile, canonical_reference  # noqa: E402
from cslint.quantity import human_size  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pin"
MISSING = h.missing_tools()
needs_registry = pytest.mark.skipif(
    bool(MISSING), reason=f"real-registry test: {', '.join(MISSING)} not installed "
                          f"(apt-get install {' '.join(h.APT_PACKAGES)})")
USERS = {"alice": "wonderland"}
GZ = "sha256:" + "1" * 64  # digests for lock-only tests (no registry)


class Env:
    pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed (apt-get install {' '.join(h.APT_PACKAGES)})")
    work = tmp_path_factory.mktemp("pin-registry")
    e, started = Env(), []
    try:
        e.open = h.Registry(work / "storage", work, name="open").start()
        started.append(e.open)
        e.pushed = h.build_and_push(work, e.open.host)
        e.basic = h.Registry(work / "storage", work, name="basic",
                             auth=h.htpasswd_auth(work / "htpasswd", USERS)).start()
        started.append(e.basic)
        e.work = work
        yield e
    finally:
        for r in started:
            r.stop()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Run in a clean directory with an empty DOCKER_CONFIG: no user config or credentials leak in."""
    d = tmp_path / "docker-empty"
    d.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    monkeypatch.chdir(tmp_path)


def cslint(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def fill(text: str, env, host: str | None = None) -> str:
    p = env.pushed
    return (text.replace("REGISTRY", host or env.open.host)
            .replace("GZIP_DIGEST", p.gzip_image.manifest.digest)
            .replace("ZSTD_DIGEST", p.zstd_image.manifest.digest)
            .replace("MULTI_DIGEST", p.multi_index_digest))


def manifest(tmp_path: Path, env, name: str = "deployment.yaml", host: str | None = None) -> Path:
    target = tmp_path / name
    target.write_text(fill((FIXTURES / name).read_text(), env, host))
    return target


def findings_of(out: str) -> list[dict]:
    return json.loads(out)["findings"]


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


# --- pin against the real registry --------------------------------------------------------

@needs_registry
def test_pin_rewrites_only_the_references(env, tmp_path):
    path = manifest(tmp_path, env)
    before = path.read_text()
    code, out, err = cslint("pin", str(path), "--lock", str(tmp_path / "cslint.lock"),
                            "--insecure-registry", env.open.host, "--isolated")
    assert code == 0, err
    after = path.read_text()
    assert after == fill((FIXTURES / "deployment.pinned.yaml").read_text(), env)
    # six references rewritten, each on its own line; nothing else changed
    assert len(changed_lines(before, after)) == 12
    assert "Pinned 6 references in 1 file" in err and "(3 entries)" in err
    code, _, err = cslint("pin", str(path), "--lock", str(tmp_path / "cslint.lock"), "--isolated", "--offline")
    assert code == 0 and path.read_text() == after and "Pinned 0 references" in err


@needs_registry
def test_lock_digest_equals_skopeo_and_records_the_index(env, tmp_path):
    path = manifest(tmp_path, env, "online.yaml")
    lock_file = tmp_path / "pins.lock"
    code, _, err = cslint("pin", str(path), "--lock", str(lock_file), "--insecure-registry", env.open.host)
    assert code == 0, err
    lock = LockFile.load(lock_file)
    p = env.pushed
    for ref in (p.gzip_ref, p.zstd_ref, p.multi_ref):
        entry = lock.lookup(ref)
        assert entry is not None and entry.digest == h.skopeo_digest(ref)
        assert f"{ref}@{entry.digest}" in path.read_text()
    multi = lock.lookup(p.multi_ref)
    assert multi.index_digest == p.multi_index_digest == multi.digest
    assert dict(multi.platforms) == p.multi_platforms
    assert lock.lookup(p.gzip_ref).index_digest is None and lock.lookup(p.gzip_ref).platforms == ()


@needs_registry
def test_lock_round_trip_and_offline(env, tmp_path):
    lock_file = tmp_path / "cslint.lock"
    first = manifest(tmp_path, env)
    assert cslint("pin", str(first), "--insecure-registry", env.open.host, "--isolated")[0] == 0
    assert lock_file.is_file()  # default: the working directory when there is no config
    text, mtime = lock_file.read_bytes(), lock_file.stat().st_mtime_ns
    assert LockFile.load(lock_file).dumps().encode() == text
    # --offline: the lock alone pins a fresh copy; no --insecure-registry, so any request would fail
    second = manifest(tmp_path, env, "deployment.yaml")
    code, _, err = cslint("pin", str(second), "--offline", "--isolated")
    assert code == 0, err
    assert second.read_text() == fill((FIXTURES / "deployment.pinned.yaml").read_text(), env)
    assert lock_file.read_bytes() == text and lock_file.stat().st_mtime_ns == mtime
    # a reference the lock does not cover: one clear line, the file untouched
    other = tmp_path / "other.yaml"
    other.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: o}}\nspec:\n  containers:\n"
                     f"    - {{name: c, image: {env.open.host}/cslint/app:gzip}}\n"
                     f"    - {{name: d, image: {env.open.host}/cslint/app:not-locked}}\n")
    before = other.read_bytes()
    code, _, err = cslint("pin", str(other), "--offline", "--isolated")
    assert code == 1 and other.read_bytes() == before
    assert f"other.yaml:7:24: {env.open.host}/cslint/app:not-locked: not in " in err
    assert "without --offline" in err and "left unchanged (1 of 2 references" in err


@needs_registry
def test_lock_beside_the_config_file(env, tmp_path):
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    (project / ".cslint.yaml").write_text(f"insecure-registries: ['{env.open.host}']\n")
    path = manifest(project / "deploy", env, "online.yaml")
    os.chdir(project / "deploy")
    code, _, err = cslint("pin", "online.yaml")
    assert code == 0, err
    assert (project / "cslint.lock").is_file() and not (project / "deploy" / "cslint.lock").exists()
    assert "@sha256:" in path.read_text()


@needs_registry
def test_update_follows_a_moved_tag(env, tmp_path):
    layout = h.OCILayout(tmp_path / "layout")
    ref = f"{env.open.host}/cslint/moving:v1"
    first = layout.image([(h.tar_bytes({"v": b"1"}), h.LAYER_GZIP)], label="first")
    layout.tag("v1", first.manifest)
    h.skopeo_copy(layout.root, "v1", ref, all_platforms=False)
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(f"kind: Pod\napiVersion: v1\nmetadata: {{name: m}}\nspec:\n  containers:\n"
                      f"    - name: c\n      image: {ref}  # moves\n")
    lock = ["--lock", str(tmp_path / "cslint.lock"), "--insecure-registry", env.open.host, "--isolated"]
    assert cslint("pin", str(pinned), *lock)[0] == 0
    assert pinned.read_text().endswith(f"image: {ref}@{first.manifest.digest}  # moves\n")
    second = layout.image([(h.tar_bytes({"v": b"2"}), h.LAYER_GZIP)], label="second")
    layout.tag("v1", second.manifest)
    h.skopeo_copy(layout.root, "v1", ref, all_platforms=False)
    assert h.skopeo_digest(ref) == second.manifest.digest != first.manifest.digest
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(pinned.read_text().replace(f"@{first.manifest.digest}", ""))
    # without --update: the lock wins (reproducible), pinned references stay
    assert cslint("pin", str(pinned), str(fresh), *lock)[0] == 0
    assert f"@{first.manifest.digest}" in pinned.read_text() and f"@{first.manifest.digest}" in fresh.read_text()
    # --update: re-resolved, re-pinned, recorded
    code, _, err = cslint("pin", str(pinned), str(fresh), "--update", *lock)
    assert code == 0, err
    for f in (pinned, fresh):
        assert f.read_text().endswith(f"image: {ref}@{second.manifest.digest}  # moves\n")
    assert LockFile.load(tmp_path / "cslint.lock").lookup(ref).digest == second.manifest.digest


@needs_registry
def test_auth_registry_through_docker_config(env, tmp_path, monkeypatch):
    path = manifest(tmp_path, env, "online.yaml", host=env.basic.host)
    before = path.read_bytes()
    args = ["pin", str(path), "--lock", str(tmp_path / "cslint.lock"), "--insecure-registry", env.basic.host]
    code, _, err = cslint(*args)  # no credentials: every reference fails, the file is untouched
    assert code == 1 and path.read_bytes() == before
    assert "left unchanged (3 of 3 references" in err, err
    assert err.count("requires authentication and no credentials were found") == 3, err
    conf = tmp_path / "docker-auth"
    h.write_docker_config(conf, {"auths": {env.basic.host: h.basic_auth_entry("alice", USERS["alice"])}})
    monkeypatch.setenv("DOCKER_CONFIG", str(conf))
    code, _, err = cslint(*args)
    assert code == 0, err
    assert path.read_text() == fill((FIXTURES / "online.yaml").read_text(), env, env.basic.host).replace(
        ":gzip\n", f":gzip@{env.pushed.gzip_image.manifest.digest}\n").replace(
        ":zstd\n", f":zstd@{env.pushed.zstd_image.manifest.digest}\n").replace(
        ":v1\n", f":v1@{env.pushed.multi_index_digest}\n")


@needs_registry
def test_missing_tag_leaves_that_file_exactly_as_it_was(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"kind: Pod\napiVersion: v1\nmetadata: {{name: b}}\nspec:\n  containers:\n"
                   f"    - {{name: ok, image: {env.pushed.gzip_ref}}}\n"
                   f"    - {{name: gone, image: \"{env.open.host}/cslint/app:no-such-tag\"}}\n")
    good = manifest(tmp_path, env, "online.yaml")
    before = bad.read_bytes()
    code, _, err = cslint("pin", str(bad), str(good), "--lock", str(tmp_path / "cslint.lock"),
                          "--insecure-registry", env.open.host)
    assert code == 1
    assert bad.read_bytes() == before
    lines = [line for line in err.splitlines() if "no-such-tag" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:7:")
    assert "not found" in lines[0]
    assert "@sha256:" in good.read_text()  # other files are pinned all the same
    assert "1 error" in err


@needs_registry
def test_stopped_registry_is_a_clear_error(tmp_path):
    host = h.stopped_host(tmp_path, "stopped")
    path = tmp_path / "p.yaml"
    path.write_text(f"kind: Pod\napiVersion: v1\nmetadata: {{name: s}}\nspec:\n  containers:\n"
                    f"    - name: c\n      image: {host}/cslint/app:v1\n")
    before = path.read_bytes()
    t0 = time.monotonic()
    code, _, err = cslint("pin", str(path), "--lock", str(tmp_path / "cslint.lock"),
                          "--insecure-registry", host, "--timeout", "3")
    assert time.monotonic() - t0 < 10
    assert code == 1 and path.read_bytes() == before
    assert f"p.yaml:7:14: {host}/cslint/app:v1: cannot reach registry {host}" in err
    assert not (tmp_path / "cslint.lock").exists()


@needs_registry
def test_diff_previews_and_writes_nothing(env, tmp_path):
    path = manifest(tmp_path, env, "online.yaml")
    before = path.read_bytes()
    code, out, err = cslint("pin", str(path), "--diff", "--lock", str(tmp_path / "cslint.lock"),
                            "--insecure-registry", env.open.host)
    assert code == 0 and path.read_bytes() == before and not (tmp_path / "cslint.lock").exists()
    assert out.count("\n+      image: ") == 3 and out.count("\n-      image: ") == 3
    assert "Would pin 3 references" in err


# --- cslint --fix from the lock -----------------------------------------------------------

@needs_registry
def test_fix_applies_cs201_and_cs104_from_the_lock(env, tmp_path):
    lock_file = tmp_path / "cslint.lock"
    assert cslint("pin", str(manifest(tmp_path, env, "online.yaml")), "--lock", str(lock_file),
                  "--insecure-registry", env.open.host)[0] == 0
    (tmp_path / "fix").mkdir()
    target = manifest(tmp_path / "fix", env, "deployment.yaml")
    code, out, err = cslint("check", str(target), "--select", "CS201,CS104", "--lock", str(lock_file),
                            "--isolated", "--fix", "--output-format", "json")
    assert code == 0, err
    assert target.read_text() == fill((FIXTURES / "deployment.pinned.yaml").read_text(), env)
    assert findings_of(out) == []


def _pod(image: str) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
            f"    - name: c\n      image: \"{image}\"   # keep me\n")


def test_fix_is_offered_only_when_the_lock_covers_the_reference(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(_pod("registry.example.com/app:v1") + "  volumes:\n    - name: w\n      image:\n"
                    "        reference: registry.example.com/models/qwen:v2\n")
    code, out, _ = cslint("check", str(path), "--select", "CS201,CS104", "--isolated", "--output-format", "json")
    findings = findings_of(out)
    assert code == 1 and {f["code"] for f in findings} == {"CS201", "CS104"}
    assert all(f["fix"] is None and "run `cslint pin`" in f["message"] for f in findings)
    lock = LockFile(tmp_path / "cslint.lock")
    lock.record("registry.example.com/app:v1", _entry(GZ))
    lock.save()
    code, out, _ = cslint("check", str(path), "--select", "CS201,CS104", "--isolated", "--output-format", "json")
    findings = findings_of(out)
    by_code = {f["code"]: f for f in findings}
    assert by_code["CS201"]["fix"]["applicability"] == "safe"
    assert by_code["CS201"]["fix"]["patch"] == [{"op": "replace", "path": "/spec/containers/0/image",
                                                 "value": f"registry.example.com/app:v1@{GZ}"}]
    assert "cslint --fix" in by_code["CS201"]["message"] and by_code["CS104"]["fix"] is None
    code, _, err = cslint("check", str(path), "--select", "CS201", "--isolated", "--fix")
    assert code == 0, err
    assert path.read_text().startswith(_pod(f"registry.example.com/app:v1@{GZ}"))


def _entry(digest: str):
    from cslint.lockfile import LockEntry
    return LockEntry(digest=digest, resolved_at="2025-01-01T00:00:00Z", media_type=h.OCI_MANIFEST)


def test_lock_keys_are_canonical_for_docker_hub(tmp_path):
    lock = LockFile(tmp_path / "cslint.lock")
    lock.record("docker.io/library/busybox:latest", _entry(GZ))
    lock.save()
    path = tmp_path / "p.yaml"
    path.write_text(_pod("busybox"))
    code, _, err = cslint("pin", str(path), "--offline", "--isolated")
    assert code == 0, err
    assert path.read_text() == _pod(f"busybox@{GZ}")
    assert canonical_reference("busybox") == "docker.io/library/busybox:latest"


# --- usage errors -------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--offline", "--update"], "contradict"),
    (["-"], "stdin"),
    (["no-such-dir"], "no such file"),
])
def test_pin_usage_errors(tmp_path, args, message):
    code, _, err = cslint("pin", *args, "--isolated")
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 1, "images": {"\xff": {}}}'], ids=["json", "not utf-8"])
@pytest.mark.parametrize("command", [["pin", "--offline"], ["check"]])
def test_broken_lock_file_is_a_usage_error(tmp_path, command, content):
    """A lock file that is not UTF-8 was reported as a bare codec error, without the file's name."""
    (tmp_path / "cslint.lock").write_bytes(content)
    (tmp_path / "p.yaml").write_text(_pod("registry.example.com/app:v1"))
    code, _, err = cslint(*command, "p.yaml", "--isolated")
    assert code == 2 and "cslint.lock" in err and "not valid JSON" in err and len(err.strip().splitlines()) == 1


def test_invalid_and_templated_references(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(_pod("bad ref with spaces") + "    - {name: t, image: '{{ .Values.image }}'}\n")
    before = path.read_bytes()
    code, _, err = cslint("pin", str(path), "--offline", "--isolated")
    assert code == 1 and path.read_bytes() == before
    assert "p.yaml:7:14: bad ref with spaces: not a valid image reference" in err
    assert "Values" not in err  # a template placeholder is not a reference to pin


# --- CS210 / CS211 online -------------------------------------------------------------------

@needs_registry
def test_online_layer_rules_on_pushed_images(env, tmp_path):
    path = manifest(tmp_path, env, "online.yaml")
    config = tmp_path / "cslint.yaml"
    config.write_text("image-size-max: 1Ki\n")
    args = ["check", str(path), "--select", "CS210,CS211", "--config", str(config), "--output-format", "json"]
    code, out, _ = cslint(*args)
    assert code == 0 and findings_of(out) == []  # offline: silent
    code, out, err = cslint(*args, "--online", "--insecure-registry", env.open.host)
    findings = findings_of(out)
    got = sorted((f["container"], f["code"]) for f in findings)
    assert got == [("gzip", "CS210"), ("gzip", "CS211"), ("multi", "CS210"), ("zstd", "CS211")], err
    assert code == 1  # CS211 is a warning
    p = env.pushed
    size = {f["container"]: f["message"] for f in findings if f["code"] == "CS211"}
    assert f"({p.gzip_image.compressed_size} bytes in 2 layers)" in size["gzip"]
    assert f"({p.zstd_image.compressed_size} bytes in 2 layers)" in size["zstd"]
    cs210 = {f["container"]: f["message"] for f in findings if f["code"] == "CS210"}
    assert "2 of 2 layers" in cs210["gzip"] and "(linux/amd64) has 1 of 1 layers" in cs210["multi"]
    # multi's amd64 manifest is one small layer, under the limit when it is raised a little
    config.write_text(f"image-size-max: {p.multi_images['linux/amd64'].compressed_size}\n")
    code, out, _ = cslint(*args, "--online", "--insecure-registry", env.open.host)
    assert sorted(f["container"] for f in findings_of(out) if f["code"] == "CS211") == ["gzip", "zstd"]


@needs_registry
def test_online_model_artifacts_with_gzip_layers(env, tmp_path):
    """CS212: modelcars, an LLMInferenceService's OCI model and image volumes are inspected too;
    each finding points at the reference and gives the gzip share of the artifact."""
    path = manifest(tmp_path, env, "online-models.yaml")
    args = ["check", str(path), "--select", "CS212", "--isolated", "--output-format", "json"]
    code, out, _ = cslint(*args)
    assert code == 0 and findings_of(out) == []  # offline: silent
    code, out, err = cslint(*args, "--online", "--insecure-registry", env.open.host)
    assert code == 1, err  # a warning
    lines = path.read_text().splitlines()

    def line_of(text: str) -> int:
        return next(i + 1 for i, line in enumerate(lines) if text in line)
    storage, uri = line_of("storageUri:"), line_of("uri: oci://")
    volume = line_of(f"reference: {env.open.host}/cslint/app:gzip")
    got = {(f["object"]["name"], f["line"]): f["message"] for f in findings_of(out)}
    assert sorted(got) == [("imagevol", volume), ("llm", uri), ("modelcar", storage)]
    p = env.pushed
    gz, amd = p.gzip_image.compressed_size, p.multi_images["linux/amd64"].compressed_size
    assert f"'oci://{env.open.host}/cslint/app:gzip' has 2 of 2 layers ({human_size(gz)}) compressed with gzip" \
        in got[("modelcar", storage)]
    assert f"(linux/amd64) has 1 of 1 layers ({human_size(amd)})" in got[("llm", uri)]
    assert "cannot inspect" not in err


@needs_registry
def test_online_unreachable_image_is_a_warning_not_a_finding(tmp_path):
    host = h.stopped_host(tmp_path, "gone")
    path = tmp_path / "p.yaml"
    path.write_text(_pod(f"{host}/cslint/app:v1@{GZ}"))
    code, out, err = cslint("check", str(path), "--select", "CS210,CS211", "--isolated", "--online",
                            "--insecure-registry", host)
    assert code == 0 and f"warning: --online: cannot inspect {host}/cslint/app:v1@{GZ}" in err


def test_check_with_a_missing_explicit_lock_is_a_usage_error(tmp_path):
    (tmp_path / "p.yaml").write_text(_pod("registry.example.com/app:v1"))
    code, _, err = cslint("check", "p.yaml", "--isolated", "--lock", "nope.lock")
    assert code == 2 and "nope.lock: lock file not found" in err
