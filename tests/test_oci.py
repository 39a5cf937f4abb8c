"""Digest resolution (`cslint.oci`) and the lock file (`cslint.lockfile`).

The `real_*` tests run against the real `docker-registry` (CNCF distribution) with images built
in Python and pushed by the real `skopeo`; they skip only when those binaries are absent
(Debian packages `docker-registry` and `skopeo`). The `unit_*` tests use `httpx.MockTransport`
for what a stock registry cannot be made to do (no digest header, a lying registry, Docker Hub).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import registry_harness as h  # noqa: E402

from cslint import oci  # noqa: E402
from cslint.lockfile import LockEntry, LockFile, LockFileError, canonical_reference  # noqa: E402
from cslint.oci_auth import (  # noqa: E402
    Credential,
    CredentialError,
    DockerConfigCredentials,
    parse_www_authenticate,
)

MISSING = h.missing_tools()
needs_registry = pytest.mark.skipif(
    bool(MISSING), reason=f"real-registry test: {', '.join(MISSING)} not installed "
                          f"(apt-get install {' '.join(h.APT_PACKAGES)})")

USERS = {"alice": "wonderland"}


# --- fixtures: one registry set per session ------------------------------------------------

class Env:
    pass


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    if MISSING:
        pytest.skip(f"{', '.join(MISSING)} not installed (apt-get install {' '.join(h.APT_PACKAGES)})")
    work = tmp_path_factory.mktemp("registry")
    storage = work / "storage"
    e = Env()
    started: list = []
    token = None
    try:
        e.open = h.Registry(storage, work, name="open").start()
        started.append(e.open)
        e.pushed = h.build_and_push(work, e.open.host)
        # The same storage behind basic auth (htpasswd) and behind bearer tokens.
        e.basic = h.Registry(storage, work, name="basic",
                             auth=h.htpasswd_auth(work / "htpasswd", USERS)).start()
        started.append(e.basic)
        token = h.TokenServer(work, USERS).start()
        e.token_server = token
        e.token = h.Registry(storage, work, name="token", auth=token.registry_auth()).start()
        started.append(e.token)
        e.insecure = (e.open.host, e.basic.host, e.token.host)
        yield e
    finally:
        for r in started:
            r.stop()
        if token is not None:
            token.stop()


@pytest.fixture
def no_docker_config(tmp_path, monkeypatch):
    """An empty DOCKER_CONFIG, so the user's own ~/.docker never leaks into a test."""
    d = tmp_path / "docker-empty"
    d.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


def _on(env, registry, ref):
    """The same repository:tag on another of the session's registries."""
    return ref.replace(env.open.host, registry.host, 1)


# --- real registry: resolution --------------------------------------------------------------

@needs_registry
@pytest.mark.parametrize("which", ["gzip_ref", "zstd_ref", "multi_ref"])
def test_real_tag_digest_equals_skopeo(env, which, no_docker_config):
    ref = getattr(env.pushed, which)
    got = oci.resolve(ref, insecure_registries=env.insecure)
    assert got.digest == h.skopeo_digest(ref)
    assert got.digest == h.sha256_digest(h.skopeo_raw(ref))
    assert got.reference == ref and got.tag == ref.rsplit(":", 1)[1]
    assert got.registry == env.open.host


@needs_registry
def test_real_single_manifest(env):
    got = oci.resolve(env.pushed.gzip_ref, insecure_registries=env.insecure, credentials={})
    assert got.digest == env.pushed.gzip_image.manifest.digest  # the bytes we built, unchanged
    assert got.media_type == oci.OCI_MANIFEST
    assert not got.is_index and got.platforms == ()
    assert got.pinned == f"{env.open.host}/cslint/app:gzip@{got.digest}"


@needs_registry
def test_real_multi_platform_index(env):
    got = oci.resolve(env.pushed.multi_ref, insecure_registries=env.insecure, credentials={})
    assert got.is_index and got.media_type == oci.OCI_INDEX
    assert got.digest == env.pushed.multi_index_digest
    assert dict(got.platforms) == env.pushed.multi_platforms
    assert got.platform_digest("linux/amd64") == env.pushed.multi_platforms["linux/amd64"]
    assert got.platform_digest("linux/arm64") == env.pushed.multi_platforms["linux/arm64/v8"]
    assert got.platform_digest("linux/aarch64") == env.pushed.multi_platforms["linux/arm64/v8"]
    assert got.platform_digest("linux/s390x") is None
    # Each platform manifest is addressable by the digest recorded for it.
    for digest in env.pushed.multi_platforms.values():
        pinned = oci.resolve(f"{env.open.host}/cslint/multi@{digest}", insecure_registries=env.insecure,
                             credentials={})
        assert pinned.digest == digest and not pinned.is_index


@needs_registry
def test_real_pinned_and_oci_scheme_references(env):
    digest = env.pushed.gzip_image.manifest.digest
    kw = dict(insecure_registries=env.insecure, credentials={})
    assert oci.resolve(f"{env.pushed.gzip_ref}@{digest}", **kw).digest == digest
    model = oci.resolve(f"oci://{env.pushed.gzip_ref}", **kw)  # KServe modelcar spelling
    assert model.digest == digest and model.reference == f"oci://{env.pushed.gzip_ref}"
    missing = "sha256:" + "0" * 64
    with pytest.raises(oci.UnknownTag):
        oci.resolve(f"{env.open.host}/cslint/app@{missing}", **kw)


@needs_registry
def test_real_unknown_tag(env):
    ref = f"{env.open.host}/cslint/app:no-such-tag"
    with pytest.raises(oci.UnknownTag) as info:
        oci.resolve(ref, insecure_registries=env.insecure, credentials={})
    msg = str(info.value)
    assert msg.startswith(ref + ": ") and "no-such-tag" in msg and "\n" not in msg
    assert info.value.reference == ref and info.value.status == 404
    with pytest.raises(oci.UnknownTag):
        oci.resolve(f"{env.open.host}/cslint/no-such-repo:v1", insecure_registries=env.insecure, credentials={})


@needs_registry
def test_real_stopped_registry_is_unreachable(tmp_path):
    host = h.stopped_host(tmp_path, "stopped")
    ref = f"{host}/cslint/app:v1"
    t0 = time.monotonic()
    with pytest.raises(oci.RegistryUnreachable) as info:
        oci.resolve(ref, insecure_registries=[host], credentials={}, timeout=5)
    assert time.monotonic() - t0 < 5
    assert str(info.value).startswith(ref + ": ") and "\n" not in str(info.value)


@needs_registry
def test_real_plain_http_only_when_insecure(env):
    """Without --insecure-registry the client speaks TLS and fails clearly; never plain HTTP."""
    with pytest.raises(oci.RegistryUnreachable) as info:
        oci.resolve(env.pushed.gzip_ref, credentials={}, timeout=5)
    assert "--insecure-registry" in str(info.value)
    # scheme and trailing slash in the insecure list are tolerated
    assert oci.resolve(env.pushed.gzip_ref, insecure_registries=[f"http://{env.open.host}/"],
                       credentials={}).digest == env.pushed.gzip_image.manifest.digest


def test_timeout_is_reported_per_reference():
    """A registry that accepts the connection and never answers → RegistryTimeout."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)  # the kernel completes the handshake; nobody reads or answers
        host = f"127.0.0.1:{srv.getsockname()[1]}"
        t0 = time.monotonic()
        with pytest.raises(oci.RegistryTimeout) as info:
            oci.resolve(f"{host}/a/b:c", insecure_registries=[host], timeout=0.4, credentials={})
        assert time.monotonic() - t0 < 3
        assert str(info.value).startswith(f"{host}/a/b:c: ") and "0.4s" in str(info.value)


# --- real registry: layers (CS210 / CS211) ----------------------------------------------------

@needs_registry
def test_real_inspect_gzip_layers(env):
    info = oci.inspect_layers(env.pushed.gzip_ref, insecure_registries=env.insecure, credentials={})
    assert info.layer_media_types == (h.LAYER_GZIP, h.LAYER_GZIP)
    assert info.total_compressed_size == env.pushed.gzip_image.compressed_size
    assert info.layer_sizes == tuple(l.size for l in env.pushed.gzip_image.layers)
    assert info.gzip_layers == 2 and info.zstd_layers == 0 and not info.all_zstd
    assert info.digest == env.pushed.gzip_image.manifest.digest
    assert info.platform is None and info.index_digest is None
    assert info.config_media_type == h.OCI_CONFIG


@needs_registry
def test_real_inspect_zstd_layers(env):
    info = oci.inspect_layers(env.pushed.zstd_ref, insecure_registries=env.insecure, credentials={})
    assert info.layer_media_types == (h.LAYER_ZSTD, h.LAYER_ZSTD) and info.all_zstd
    assert info.total_compressed_size == env.pushed.zstd_image.compressed_size


@needs_registry
def test_real_inspect_per_platform(env):
    kw = dict(insecure_registries=env.insecure, credentials={})
    amd = oci.inspect_layers(env.pushed.multi_ref, "linux/amd64", **kw)
    arm = oci.inspect_layers(env.pushed.multi_ref, "linux/arm64", **kw)
    assert amd.platform == "linux/amd64" and arm.platform == "linux/arm64/v8"
    assert amd.index_digest == arm.index_digest == env.pushed.multi_index_digest
    assert amd.digest == env.pushed.multi_platforms["linux/amd64"]
    assert amd.layer_media_types == (h.LAYER_GZIP,) and arm.all_zstd
    assert arm.total_compressed_size == env.pushed.multi_images["linux/arm64/v8"].compressed_size
    with pytest.raises(oci.PlatformNotFound) as err:
        oci.inspect_layers(env.pushed.multi_ref, "linux/s390x", **kw)
    assert "linux/amd64" in str(err.value) and "linux/arm64/v8" in str(err.value)


# --- real registry: authentication ------------------------------------------------------------

def _docker_config(tmp_path, monkeypatch, config) -> Path:
    d = tmp_path / "docker"
    h.write_docker_config(d, config)
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


@needs_registry
def test_real_basic_auth_from_docker_config(env, tmp_path, monkeypatch):
    ref = _on(env, env.basic, env.pushed.multi_ref)
    _docker_config(tmp_path, monkeypatch, {"auths": {env.basic.host: h.basic_auth_entry("alice", USERS["alice"])}})
    got = oci.resolve(ref, insecure_registries=env.insecure)
    assert got.digest == env.pushed.multi_index_digest and dict(got.platforms) == env.pushed.multi_platforms
    info = oci.inspect_layers(ref, "linux/arm64", insecure_registries=env.insecure)
    assert info.all_zstd


@needs_registry
def test_real_basic_auth_username_password_and_url_keys(env, tmp_path, monkeypatch):
    ref = _on(env, env.basic, env.pushed.gzip_ref)
    _docker_config(tmp_path, monkeypatch, {"auths": {f"https://{env.basic.host}/v1/": {
        "username": "alice", "password": USERS["alice"]}}})
    assert oci.resolve(ref, insecure_registries=env.insecure).digest == env.pushed.gzip_image.manifest.digest


@needs_registry
def test_real_basic_auth_failures(env, tmp_path, monkeypatch, no_docker_config):
    ref = _on(env, env.basic, env.pushed.gzip_ref)
    with pytest.raises(oci.AuthError) as none:
        oci.resolve(ref, insecure_registries=env.insecure)
    assert "no credentials" in str(none.value) and str(none.value).startswith(ref + ": ")
    with pytest.raises(oci.AuthError) as wrong:
        oci.resolve(ref, insecure_registries=env.insecure, credentials={env.basic.host: ("alice", "nope")})
    assert "401" in str(wrong.value)


def _fake_helper(tmp_path, monkeypatch, name, answers: dict[str, dict]) -> Path:
    """`docker-credential-<name>` on PATH: answers per server URL, logs argv and stdin."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / f"{name}.log"
    script = bindir / f"docker-credential-{name}"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        url = sys.stdin.read().strip()
        with open({str(log)!r}, "a") as fh:
            fh.write(json.dumps({{"argv": sys.argv[1:], "url": url}}) + "\\n")
        answers = {json.dumps(answers)!r}
        answers = json.loads(answers)
        if url not in answers:
            print("credentials not found in native keychain")
            sys.exit(1)
        print(json.dumps(answers[url]))
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


@needs_registry
def test_real_cred_helper(env, tmp_path, monkeypatch):
    ref = _on(env, env.basic, env.pushed.gzip_ref)
    log = _fake_helper(tmp_path, monkeypatch, "cslinttest", {
        env.basic.host: {"ServerURL": env.basic.host, "Username": "alice", "Secret": USERS["alice"]}})
    _docker_config(tmp_path, monkeypatch, {"credHelpers": {env.basic.host: "cslinttest"},
                                           "auths": {env.basic.host: h.basic_auth_entry("alice", "stale")}})
    assert oci.resolve(ref, insecure_registries=env.insecure).digest == env.pushed.gzip_image.manifest.digest
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [{"argv": ["get"], "url": env.basic.host}]  # asked once, argument list, URL on stdin


@needs_registry
def test_real_creds_store(env, tmp_path, monkeypatch):
    ref = _on(env, env.token, env.pushed.multi_ref)
    _fake_helper(tmp_path, monkeypatch, "cslintstore", {
        env.token.host: {"ServerURL": env.token.host, "Username": "alice", "Secret": USERS["alice"]}})
    _docker_config(tmp_path, monkeypatch, {"credsStore": "cslintstore"})
    assert oci.resolve(ref, insecure_registries=env.insecure).digest == env.pushed.multi_index_digest
    # a host the store does not know: anonymous, then a clear auth error
    with pytest.raises(oci.AuthError):
        oci.resolve(_on(env, env.basic, env.pushed.multi_ref), insecure_registries=env.insecure)


@needs_registry
def test_real_absent_helper_means_no_credentials(env, tmp_path, monkeypatch):
    _docker_config(tmp_path, monkeypatch, {"credHelpers": {env.basic.host: "cslint-not-installed"}})
    with pytest.raises(oci.AuthError) as info:
        oci.resolve(_on(env, env.basic, env.pushed.gzip_ref), insecure_registries=env.insecure)
    assert "no credentials" in str(info.value)


@needs_registry
def test_real_bearer_token_flow(env, tmp_path, monkeypatch):
    ref = _on(env, env.token, env.pushed.multi_ref)
    _docker_config(tmp_path, monkeypatch, {"auths": {env.token.host: h.basic_auth_entry("alice", USERS["alice"])}})
    before = len(env.token_server.requests)
    with oci.RegistryClient(insecure_registries=env.insecure) as client:
        got = client.resolve(ref)
        info = client.inspect_layers(ref, "linux/amd64")
        again = client.resolve(ref)
    assert got.digest == again.digest == env.pushed.multi_index_digest
    assert dict(got.platforms) == env.pushed.multi_platforms
    assert info.layer_media_types == (h.LAYER_GZIP,)
    issued = env.token_server.requests[before:]
    assert issued == [("/token", {"scope": "repository:cslint/multi:pull", "service": env.token_server.service},
                       "alice")]  # one token, reused for every later request on the repository


@needs_registry
def test_real_bearer_token_failures(env, no_docker_config):
    ref = _on(env, env.token, env.pushed.gzip_ref)
    with pytest.raises(oci.AuthError) as anon:
        oci.resolve(ref, insecure_registries=env.insecure)
    assert "anonymous" in str(anon.value) and "docker login" in str(anon.value)
    with pytest.raises(oci.AuthError) as wrong:
        oci.resolve(ref, insecure_registries=env.insecure, credentials={env.token.host: ("alice", "bad")})
    assert "token service" in str(wrong.value) and "'alice'" in str(wrong.value)


@needs_registry
def test_real_401_challenge_is_a_bearer_challenge(env):
    """The real registry's challenge parses to what the token flow needs."""
    resp = httpx.head(f"http://{env.token.host}/v2/cslint/multi/manifests/v1")
    assert resp.status_code == 401
    (ch,) = parse_www_authenticate(resp.headers["www-authenticate"])
    assert ch.scheme == "bearer" and ch.realm == env.token_server.realm
    assert ch.params["service"] == env.token_server.service
    assert ch.params["scope"] == "repository:cslint/multi:pull"


# --- real registry: many references, lock file ------------------------------------------------

@needs_registry
def test_real_resolve_many(env, no_docker_config):
    dead = h.free_port()
    refs = [env.pushed.multi_ref, env.pushed.gzip_ref, f"{env.open.host}/cslint/app:missing",
            "not a reference", f"127.0.0.1:{dead}/x/y:z", env.pushed.gzip_ref,
            _on(env, env.basic, env.pushed.zstd_ref)]
    out = oci.resolve_many(refs, insecure_registries=[*env.insecure, f"127.0.0.1:{dead}"],
                           credentials={env.basic.host: ("alice", USERS["alice"])}, timeout=5)
    assert list(out) == list(dict.fromkeys(refs))  # input order, duplicates once
    assert out[env.pushed.multi_ref].digest == env.pushed.multi_index_digest
    assert out[env.pushed.gzip_ref].digest == env.pushed.gzip_image.manifest.digest
    assert isinstance(out[f"{env.open.host}/cslint/app:missing"], oci.UnknownTag)
    assert isinstance(out["not a reference"], oci.InvalidReference)
    assert isinstance(out[f"127.0.0.1:{dead}/x/y:z"], oci.RegistryUnreachable)
    assert out[_on(env, env.basic, env.pushed.zstd_ref)].digest == env.pushed.zstd_image.manifest.digest


@needs_registry
def test_real_lockfile_round_trip(env, tmp_path):
    kw = dict(insecure_registries=env.insecure, credentials={})
    multi, single = oci.resolve(env.pushed.multi_ref, **kw), oci.resolve(env.pushed.gzip_ref, **kw)
    lock = LockFile(tmp_path / "cslint.lock")
    lock.record(multi.reference, multi, resolved_at="2025-01-01T00:00:00Z")
    lock.record(single.reference, single, resolved_at="2025-01-01T00:00:00Z")
    path = lock.save()
    first = path.read_bytes()
    loaded = LockFile.load(path)
    entry = loaded.lookup(env.pushed.multi_ref)
    assert entry.digest == entry.index_digest == env.pushed.multi_index_digest
    assert dict(entry.platforms) == env.pushed.multi_platforms
    assert loaded.lookup(f"oci://{env.pushed.gzip_ref}").digest == env.pushed.gzip_image.manifest.digest
    assert loaded.lookup(env.pushed.gzip_ref).index_digest is None
    assert loaded.pinned(env.pushed.gzip_ref) == f"{env.pushed.gzip_ref}@{single.digest}"
    # re-resolving unchanged tags keeps the file byte-identical (resolved_at kept)
    loaded.record(env.pushed.multi_ref, oci.resolve(env.pushed.multi_ref, **kw))
    loaded.save()
    assert path.read_bytes() == first


# --- unit: the HTTP conversation, with a mock transport ----------------------------------------

INDEX_BODY = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
    {"mediaType": oci.OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 1,
     "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": oci.OCI_MANIFEST, "digest": "sha256:" + "b" * 64, "size": 1,
     "platform": {"os": "unknown", "architecture": "unknown"},
     "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
]}).encode()
MANIFEST_BODY = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                            "config": {"mediaType": h.OCI_CONFIG, "digest": "sha256:" + "c" * 64, "size": 2},
                            "layers": [{"mediaType": h.LAYER_GZIP, "digest": "sha256:" + "d" * 64,
                                        "size": 11 * 1024**3}]}).encode()


def _client(handler, **kw):
    kw.setdefault("credentials", {})
    return oci.RegistryClient(transport=httpx.MockTransport(handler), **kw)


def test_unit_digest_from_body_when_header_absent():
    seen = []

    def handler(req):
        seen.append((req.method, str(req.url), req.headers["accept"]))
        return httpx.Response(200, headers={"Content-Type": oci.OCI_MANIFEST},
                              content=b"" if req.method == "HEAD" else MANIFEST_BODY)

    with _client(handler) as c:
        got = c.resolve("quay.io/org/img:v1")
    assert got.digest == h.sha256_digest(MANIFEST_BODY) and got.media_type == oci.OCI_MANIFEST
    assert [m for m, _, _ in seen] == ["HEAD", "GET"]
    assert seen[0][1] == "https://quay.io/v2/org/img/manifests/v1"
    for media in (oci.OCI_INDEX, oci.OCI_MANIFEST, oci.DOCKER_LIST, oci.DOCKER_MANIFEST):
        assert media in seen[0][2]


def test_unit_head_is_enough_for_a_single_manifest():
    methods = []

    def handler(req):
        methods.append(req.method)
        return httpx.Response(200, headers={"Content-Type": oci.DOCKER_MANIFEST,
                                            "Docker-Content-Digest": "sha256:" + "e" * 64})

    with _client(handler) as c:
        got = c.resolve("quay.io/org/img:v1")
    assert methods == ["HEAD"] and got.digest == "sha256:" + "e" * 64 and got.media_type == oci.DOCKER_MANIFEST


def test_unit_digest_mismatch_is_an_error():
    def handler(req):
        return httpx.Response(200, headers={"Content-Type": oci.OCI_INDEX,
                                            "Docker-Content-Digest": "sha256:" + "f" * 64}, content=INDEX_BODY)

    with _client(handler) as c, pytest.raises(oci.RegistryError) as info:
        c.resolve("quay.io/org/img:v1")
    assert "does not match" in str(info.value)


def test_unit_head_not_allowed_falls_back_to_get_and_skips_attestations():
    def handler(req):
        if req.method == "HEAD":
            return httpx.Response(405)
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=INDEX_BODY)

    with _client(handler) as c:
        got = c.resolve("quay.io/org/img:v1")
    assert got.is_index and got.media_type == oci.OCI_INDEX and got.digest == h.sha256_digest(INDEX_BODY)
    assert got.platforms == (("linux/amd64", "sha256:" + "a" * 64),)


def test_unit_docker_hub_normalisation_and_anonymous_token():
    calls = []

    def handler(req):
        calls.append((req.method, req.url.host, req.url.path, dict(req.url.params),
                      req.headers.get("authorization")))
        if req.url.host == "auth.docker.io":
            return httpx.Response(200, json={"token": "tok-123"})
        if req.headers.get("authorization") != "Bearer tok-123":
            return httpx.Response(401, headers={"WWW-Authenticate":
                'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                'scope="repository:library/ubuntu:pull"'})
        return httpx.Response(200, headers={"Content-Type": oci.OCI_MANIFEST,
                                            "Docker-Content-Digest": "sha256:" + "1" * 64})

    with _client(handler) as c:
        got = c.resolve("ubuntu:22.04")
    assert got.registry == "docker.io" and got.repository == "library/ubuntu"
    assert calls[0][:3] == ("HEAD", "registry-1.docker.io", "/v2/library/ubuntu/manifests/22.04")
    assert calls[1][:4] == ("GET", "auth.docker.io", "/token",
                            {"scope": "repository:library/ubuntu:pull", "service": "registry.docker.io"})
    assert calls[1][4] is None  # anonymous
    assert calls[2][4] == "Bearer tok-123"


def test_unit_docker_hub_credentials_and_identity_token(tmp_path, monkeypatch):
    d = tmp_path / "docker"
    h.write_docker_config(d, {"auths": {"https://index.docker.io/v1/": {"identitytoken": "refresh-xyz"}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    posts = []

    def handler(req):
        if req.url.host == "auth.docker.io":
            posts.append((req.method, dict(x.split("=", 1) for x in req.content.decode().split("&"))))
            return httpx.Response(200, json={"access_token": "acc"})
        if req.headers.get("authorization") != "Bearer acc":
            return httpx.Response(401, headers={"WWW-Authenticate":
                'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'})
        return httpx.Response(200, headers={"Content-Type": oci.OCI_MANIFEST,
                                            "Docker-Content-Digest": "sha256:" + "2" * 64})

    with oci.RegistryClient(transport=httpx.MockTransport(handler)) as c:
        assert c.resolve("vllm/vllm-openai:v0.12.0").repository == "vllm/vllm-openai"
    (method, form), = posts
    assert method == "POST" and form["grant_type"] == "refresh_token" and form["refresh_token"] == "refresh-xyz"
    assert form["service"] == "registry.docker.io"


@pytest.mark.parametrize("status,cls,text", [
    (429, oci.RegistryError, "rate limit"),
    (500, oci.RegistryError, "HTTP 500"),
    (403, oci.AuthError, "denied"),
    (404, oci.UnknownTag, "not found"),
])
def test_unit_http_errors(status, cls, text):
    def handler(req):
        body = b"" if req.method == "HEAD" else b'{"errors":[{"code":"X","message":"line one\\nline two"}]}'
        return httpx.Response(status, content=body)

    with _client(handler) as c, pytest.raises(cls) as info:
        c.resolve("ghcr.io/o/i:t")
    assert type(info.value) is cls
    assert str(info.value).startswith("ghcr.io/o/i:t: ") and text in str(info.value)
    assert "\n" not in str(info.value)


def test_unit_resolve_many_limits_concurrency_per_registry():
    lock = threading.Lock()
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    overall = {"now": 0, "peak": 0}

    def handler(req):
        host = req.url.host
        with lock:
            active[host] = active.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), active[host])
            overall["now"] += 1
            overall["peak"] = max(overall["peak"], overall["now"])
        time.sleep(0.05)
        with lock:
            active[host] -= 1
            overall["now"] -= 1
        return httpx.Response(200, headers={"Content-Type": oci.OCI_MANIFEST,
                                            "Docker-Content-Digest": "sha256:" + "3" * 64})

    refs = [f"reg{r}.example/img:{i}" for r in range(3) for i in range(6)]
    with _client(handler) as c:
        out = oci.resolve_many(refs, per_registry=2, max_workers=16, client=c)
    assert all(isinstance(v, oci.Resolved) for v in out.values()) and list(out) == refs
    assert max(peak.values()) <= 2
    assert overall["peak"] > 2  # registries are resolved in parallel


def test_unit_import_is_cheap():
    code = "import sys, cslint.oci, cslint.lockfile; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unit_invalid_reference():
    with pytest.raises(oci.InvalidReference):
        oci.resolve("{{ .Values.image }}", credentials={})
    assert isinstance(oci.InvalidReference("x", "y"), ValueError)


# --- unit: credentials and challenges ---------------------------------------------------------

def test_unit_parse_www_authenticate():
    (b,) = parse_www_authenticate('Bearer realm="https://a.io/token",service="a.io",'
                                  'scope="repository:x/y:pull,push",error="insufficient_scope"')
    assert b.scheme == "bearer" and b.realm == "https://a.io/token"
    assert b.params["scope"] == "repository:x/y:pull,push" and b.params["error"] == "insufficient_scope"
    two = parse_www_authenticate('Basic realm="r\\"q", Bearer realm=https://t/x, service=s')
    assert [c.scheme for c in two] == ["basic", "bearer"]
    assert two[0].realm == 'r"q' and two[1].realm == "https://t/x" and two[1].params["service"] == "s"
    assert parse_www_authenticate("") == []


def test_unit_docker_config_forms(tmp_path):
    b64 = base64.b64encode(b"u1:p:w").decode()
    cfg = DockerConfigCredentials({"auths": {
        "https://index.docker.io/v1/": {"auth": b64},
        "http://reg.example:5000/v2/": {"username": "u2", "password": "p2"},
        "tok.example": {"identitytoken": "it"},
        "empty.example": {},
    }})
    assert cfg.lookup("registry-1.docker.io") == Credential("u1", "p:w")
    assert cfg.lookup("docker.io") == Credential("u1", "p:w")
    assert cfg.lookup("REG.example:5000") == Credential("u2", "p2")
    assert cfg.lookup("tok.example").identity_token == "it"
    assert cfg.lookup("empty.example") is None and cfg.lookup("other.example") is None
    assert "p:w" not in repr(cfg.lookup("docker.io"))  # secrets stay out of logs
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(CredentialError):
        DockerConfigCredentials.load(bad)
    assert DockerConfigCredentials.load(tmp_path / "absent.json").lookup("x.io") is None


def test_unit_broken_docker_config_is_an_auth_error_for_the_reference(tmp_path, monkeypatch):
    d = tmp_path / "docker"
    d.mkdir()
    (d / "config.json").write_text("[")
    monkeypatch.setenv("DOCKER_CONFIG", str(d))

    def handler(req):
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="x"'})

    with oci.RegistryClient(transport=httpx.MockTransport(handler)) as c, pytest.raises(oci.AuthError) as info:
        c.resolve("quay.io/a/b:c")
    assert "invalid JSON" in str(info.value)


# --- unit: lock file --------------------------------------------------------------------------

def test_unit_canonical_reference():
    assert canonical_reference("ubuntu") == "docker.io/library/ubuntu:latest"
    assert canonical_reference("docker.io/library/ubuntu:22.04") == "docker.io/library/ubuntu:22.04"
    assert canonical_reference("ubuntu:22.04@sha256:" + "0" * 64) == "docker.io/library/ubuntu:22.04"
    assert canonical_reference("oci://Quay.io/org/model:v1") == "quay.io/org/model:v1"
    assert canonical_reference("localhost:5000/m:1") == "localhost:5000/m:1"
    assert canonical_reference("ubuntu@sha256:" + "0" * 64) is None
    assert canonical_reference("${IMAGE}") is None


def test_unit_lockfile_deterministic_and_atomic(tmp_path):
    res = oci.Resolved("vllm/vllm-openai:v0.12.0", "sha256:" + "9" * 64, oci.OCI_INDEX,
                       (("linux/arm64", "sha256:" + "8" * 64), ("linux/amd64", "sha256:" + "7" * 64)), True)
    lock = LockFile()
    lock.record("quay.io/z/z:1", LockEntry("sha256:" + "1" * 64, "2025-01-01T00:00:00Z"))
    lock.record(res.reference, res, resolved_at="2025-01-02T00:00:00Z")
    text = lock.dumps()
    data = json.loads(text)
    assert list(data["images"]) == ["docker.io/vllm/vllm-openai:v0.12.0", "quay.io/z/z:1"]
    assert list(data["images"]["docker.io/vllm/vllm-openai:v0.12.0"]["platforms"]) == ["linux/amd64", "linux/arm64"]
    assert data["images"]["docker.io/vllm/vllm-openai:v0.12.0"]["index_digest"] == res.digest
    assert "index_digest" not in data["images"]["quay.io/z/z:1"]
    path = tmp_path / "sub" / "cslint.lock"
    path.parent.mkdir()
    lock.save(path)
    assert path.read_text() == text and sorted(os.listdir(path.parent)) == ["cslint.lock"]
    again = LockFile.load(path)
    assert again.dumps() == text and len(again) == 2 and "docker.io/vllm/vllm-openai:v0.12.0" in again
    assert again.lookup("vllm/vllm-openai:v0.12.0").platform_digest("linux/amd64") == "sha256:" + "7" * 64
    # a changed digest updates resolved_at
    moved = oci.Resolved(res.reference, "sha256:" + "6" * 64, oci.OCI_MANIFEST, (), False)
    entry = again.record(res.reference, moved)
    assert entry.resolved_at != "2025-01-02T00:00:00Z" and entry.index_digest is None
    assert again.remove("docker.io/vllm/vllm-openai:v0.12.0") and not again.remove("nope:1")


def test_unit_lockfile_errors(tmp_path):
    assert len(LockFile.load(tmp_path / "absent.lock")) == 0
    with pytest.raises(LockFileError):
        LockFile.load(tmp_path / "absent.lock", missing_ok=False)
    for text in ("{", "[]", '{"version": 2}', '{"images": {"a:1": {"digest": "nope"}}}',
                 '{"images": {"{{x}}": {"digest": "sha256:00"}}}'):
        p = tmp_path / "bad.lock"
        p.write_text(text)
        with pytest.raises(LockFileError) as info:
            LockFile.load(p)
        assert str(p) in str(info.value)
    with pytest.raises(LockFileError):
        LockFile().record("ubuntu@sha256:" + "0" * 64, LockEntry("sha256:00", "t"))


# --- harness self-checks ----------------------------------------------------------------------

def test_harness_zstd_raw_frame_is_valid_zstd():
    zstandard = pytest.importorskip("zstandard")
    data = os.urandom(300_000)
    assert zstandard.ZstdDecompressor().decompress(h.zstd_raw_frame(data)) == data
