"""A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution) and `skopeo`.

- `Registry`: one `docker-registry` process on a free loopback port, with a temporary config and
  filesystem storage (several processes may share one storage directory: an open one to push
  to, and htpasswd- or token-protected ones reading the same content).
- `OCILayout`: builds small OCI images in an OCI image layout directory in pure Python
  (blobs, config, manifests, `index.json`): gzip and zstd layers, multi-platform indexes.
- `skopeo_copy` / `skopeo_digest` / `skopeo_raw`: push and inspect with the real skopeo.
- `TokenServer`: a bearer-token issuer (stdlib `http.server`, loopback, plain HTTP) signing
  RS256 JWTs with an x5c chain the registry trusts through `auth.token.rootcertbundle`.

Needs the Debian packages `docker-registry` and `skopeo`; `missing_tools()` says which are absent.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

REGISTRY_BINARY_CANDIDATES = ("docker-registry", "registry")
APT_PACKAGES = ("docker-registry", "skopeo")


def registry_binary() -> str | None:
    for name in REGISTRY_BINARY_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/docker-registry" if os.access("/usr/bin/docker-registry", os.X_OK) else None


def missing_tools() -> list[str]:
    missing = []
    if registry_binary() is None:
        missing.append("docker-registry")
    if shutil.which("skopeo") is None:
        missing.append("skopeo")
    return missing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- the registry ----------------------------------------------------------------------

class Registry:
    """`docker-registry serve CONFIG` on 127.0.0.1:<free port>."""

    def __init__(self, storage: Path, workdir: Path, *, auth: dict[str, Any] | None = None, name: str = "open"):
        self.storage = Path(storage)
        self.workdir = Path(workdir)
        self.auth = auth
        self.name = name
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"registry-{name}.log"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _config(self) -> str:
        # JSON is YAML: no YAML writer needed.
        cfg: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}, "fields": {"service": f"test-{self.name}"}},
            "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": self.host, "secret": "cslint-test-secret", "headers": {"X-Content-Type-Options": ["nosniff"]}},
        }
        if self.auth:
            cfg["auth"] = self.auth
        return json.dumps(cfg, indent=2)

    def start(self, timeout: float = 20.0) -> "Registry":
        binary = registry_binary()
        if binary is None:
            raise RuntimeError("docker-registry binary not found (apt-get install docker-registry)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        for _ in range(5):
            self.port = free_port()
            cfg = self.workdir / f"registry-{self.name}.yml"
            cfg.write_text(self._config())
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([binary, "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
            log.close()
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise RuntimeError(f"docker-registry did not start; log:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False  # exited (e.g. port taken in the race): caller retries
            try:
                with urllib.request.urlopen(self.url + "/v2/", timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "Registry":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stopped_host(workdir: Path, name: str) -> str:
    """The host:port of a registry that ran and was stopped: a real address where nothing answers now."""
    reg = Registry(workdir / "storage", workdir, name=name).start()
    reg.stop()
    return reg.host


def htpasswd_auth(path: Path, users: dict[str, str], realm: str = "cslint-test") -> dict[str, Any]:
    """Write an htpasswd file (bcrypt, as the registry requires) and return the auth config."""
    import bcrypt
    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=5)).decode()}" for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n")
    return {"htpasswd": {"realm": realm, "path": str(path)}}


# --- building OCI images ---------------------------------------------------------------

def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A deterministic tar archive (mtime 0, root-owned, sorted)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def zstd_raw_frame(data: bytes) -> bytes:
    """A valid zstd frame made of raw (stored) blocks: what any zstd decoder accepts."""
    out = bytearray(struct.pack("<I", 0xFD2FB528))
    out.append(0b1010_0000)  # FCS field 4 bytes, single segment, no checksum, no dictionary
    out += struct.pack("<I", len(data))
    chunk = 128 * 1024
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    for i, piece in enumerate(pieces):
        last = 1 if i == len(pieces) - 1 else 0
        header = last | (0 << 1) | (len(piece) << 3)  # block type 0 = raw
        out += header.to_bytes(3, "little") + piece
    return bytes(out)


def zstd_bytes(data: bytes) -> bytes:
    try:
        import zstandard
    except ImportError:
        return zstd_raw_frame(data)
    return zstandard.ZstdCompressor(level=3).compress(data)


@dataclass
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            d["platform"] = self.platform
        if self.annotations:
            d["annotations"] = self.annotations
        return d


@dataclass
class BuiltImage:
    manifest: Descriptor
    manifest_bytes: bytes
    layers: list[Descriptor]
    config: Descriptor

    @property
    def compressed_size(self) -> int:
        return sum(l.size for l in self.layers)


@dataclass
class OCILayout:
    """An OCI image layout directory; `tag()` names a manifest or index in `index.json`."""

    root: Path
    refs: list[Descriptor] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self.write_index()

    def add_blob(self, data: bytes, media_type: str) -> Descriptor:
        digest = sha256_digest(data)
        (self.root / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
        return Descriptor(media_type, digest, len(data))

    @staticmethod
    def _json(doc: dict[str, Any]) -> bytes:
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()

    def image(self, layers: Iterable[tuple[bytes, str]], *, os_: str = "linux", arch: str = "amd64",
              variant: str | None = None, label: str = "") -> BuiltImage:
        """One image manifest. `layers`: (uncompressed tar, layer media type)."""
        descs, diff_ids = [], []
        for tar, media_type in layers:
            diff_ids.append(sha256_digest(tar))
            blob = zstd_bytes(tar) if media_type.endswith("+zstd") else gzip_bytes(tar) \
                if media_type.endswith("gzip") else tar
            descs.append(self.add_blob(blob, media_type))
        config = {"architecture": arch, "os": os_, "created": "2024-01-01T00:00:00Z",
                  "config": {"Labels": {"cslint.test": label}} if label else {},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        if variant:
            config["variant"] = variant
        config_desc = self.add_blob(self._json(config), OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc.to_json(),
                    "layers": [d.to_json() for d in descs]}
        raw = self._json(manifest)
        mdesc = self.add_blob(raw, OCI_MANIFEST)
        mdesc.platform = {"architecture": arch, "os": os_, **({"variant": variant} if variant else {})}
        return BuiltImage(mdesc, raw, descs, config_desc)

    def index(self, images: Iterable[BuiltImage]) -> tuple[Descriptor, bytes]:
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [i.manifest.to_json() for i in images]}
        raw = self._json(doc)
        return self.add_blob(raw, OCI_INDEX), raw

    def tag(self, name: str, desc: Descriptor) -> None:
        ref = Descriptor(desc.media_type, desc.digest, desc.size,
                         annotations={"org.opencontainers.image.ref.name": name})
        self.refs = [r for r in self.refs if (r.annotations or {}).get("org.opencontainers.image.ref.name") != name]
        self.refs.append(ref)
        self.write_index()

    def write_index(self) -> None:
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [r.to_json() for r in self.refs]}
        (self.root / "index.json").write_bytes(self._json(doc))


# --- skopeo ----------------------------------------------------------------------------

def _skopeo(args: list[str], *, timeout: float = 120.0) -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which("skopeo")
    if exe is None:
        raise RuntimeError("skopeo not found (apt-get install skopeo)")
    proc = subprocess.run([exe, "--insecure-policy", *args], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo {' '.join(args)} failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    return proc


def skopeo_copy(layout: Path, tag: str, dest: str, *, all_platforms: bool = True) -> None:
    args = ["copy", "--quiet", "--dest-tls-verify=false", "--dest-no-creds", "--preserve-digests"]
    if all_platforms:
        args.append("--all")
    _skopeo([*args, f"oci:{layout}:{tag}", f"docker://{dest}"])


def skopeo_raw(ref: str) -> bytes:
    return _skopeo(["inspect", "--raw", "--tls-verify=false", "--no-creds", f"docker://{ref}"]).stdout


def skopeo_digest(ref: str) -> str:
    out = _skopeo(["inspect", "--tls-verify=false", "--no-creds", "--format", "{{.Digest}}",
                   f"docker://{ref}"]).stdout
    return out.decode().strip()


# --- a bearer-token issuer -------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Issues registry bearer tokens at `http://127.0.0.1:PORT/token` to users with a password.

    The registry is configured with `auth.token` (realm = `self.realm`, `service`, `issuer`,
    `rootcertbundle` = `self.cert_path`). Every request is logged in `self.requests`
    (path, query dict, authorization user or None).
    """

    def __init__(self, workdir: Path, users: dict[str, str], *, service: str = "cslint-test-registry",
                 issuer: str = "cslint-test-issuer"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        import datetime as dt

        self.users = dict(users)
        self.service, self.issuer = service, issuer
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cslint test token issuer")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(self._key, hashes.SHA256()))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.cert_path = Path(workdir) / "token-issuer.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        sig = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(sig)

    def issue(self, user: str, service: str, scope: str) -> str:
        access = []
        parts = scope.split(":")
        if len(parts) >= 3 and parts[0] == "repository":
            actions = [a for a in parts[-1].split(",") if a in ("pull",)]
            access.append({"type": "repository", "name": ":".join(parts[1:-1]), "actions": actions})
        now = int(time.time())
        return self.sign({"iss": self.issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 30,
                          "iat": now, "jti": os.urandom(8).hex(), "access": access})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                user = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    try:
                        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    except (ValueError, UnicodeDecodeError):
                        user, password = None, ""
                    if user is not None and server.users.get(user) != password:
                        server.requests.append((url.path, query, user))
                        self._reply(401, {"details": "bad credentials"},
                                    {"WWW-Authenticate": 'Basic realm="cslint-token"'})
                        return
                server.requests.append((url.path, query, user))
                if url.path != "/token":
                    self._reply(404, {"details": "not found"})
                    return
                if user is None:  # anonymous: a token with no access (the registry then says 401)
                    self._reply(200, {"token": server.issue("", query.get("service", ""), "")})
                    return
                token = server.issue(user, query.get("service", ""), query.get("scope", ""))
                self._reply(200, {"token": token, "expires_in": 300})

        return Handler

    @property
    def realm(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_auth(self) -> dict[str, Any]:
        return {"token": {"realm": self.realm, "service": self.service, "issuer": self.issuer,
                          "rootcertbundle": str(self.cert_path)}}

    def start(self) -> "TokenServer":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="token-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def write_docker_config(directory: Path, config: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def basic_auth_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@dataclass
class PushedImages:
    """What the session fixture pushed, with the digests computed while building."""

    host: str
    gzip_ref: str
    zstd_ref: str
    multi_ref: str
    gzip_image: BuiltImage
    zstd_image: BuiltImage
    multi_index_digest: str
    multi_platforms: dict[str, str]
    multi_images: dict[str, BuiltImage]


def build_and_push(workdir: Path, host: str) -> PushedImages:
    """Build the test images in an OCI layout under `workdir` and push them to `host`."""
    layout = OCILayout(Path(tempfile.mkdtemp(prefix="oci-layout-", dir=workdir)))
    base = tar_bytes({"etc/os-release": b"ID=cslint-test\n", "app/hello.txt": b"hello\n" * 100})
    extra = tar_bytes({"app/data.bin": os.urandom(4096)})
    gz = layout.image([(base, LAYER_GZIP), (extra, LAYER_GZIP)], label="gzip")
    zs = layout.image([(base, LAYER_ZSTD), (extra, LAYER_ZSTD)], label="zstd")
    amd = layout.image([(base, LAYER_GZIP)], arch="amd64", label="multi-amd64")
    arm = layout.image([(base, LAYER_ZSTD), (extra, LAYER_ZSTD)], arch="arm64", variant="v8", label="multi-arm64")
    idx, _ = layout.index([amd, arm])
    layout.tag("gzip", gz.manifest)
    layout.tag("zstd", zs.manifest)
    layout.tag("multi", idx)
    pushed = PushedImages(host=host, gzip_ref=f"{host}/cslint/app:gzip", zstd_ref=f"{host}/cslint/app:zstd",
                          multi_ref=f"{host}/cslint/multi:v1", gzip_image=gz, zstd_image=zs,
                          multi_index_digest=idx.digest,
                          multi_platforms={"linux/amd64": amd.manifest.digest, "linux/arm64/v8": arm.manifest.digest},
                          multi_images={"linux/amd64": amd, "linux/arm64/v8": arm})
    skopeo_copy(layout.root, "gzip", pushed.gzip_ref, all_platforms=False)
    skopeo_copy(layout.root, "zstd", pushed.zstd_ref, all_platforms=False)
    skopeo_copy(layout.root, "multi", pushed.multi_ref, all_platforms=True)
    return pushed
