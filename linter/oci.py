"""Resolve image references to digests over the OCI Distribution API.

`resolve("vllm/vllm-openai:v0.6.0")` asks the registry what the tag points to now:
`HEAD /v2/<name>/manifests/<tag>` for the digest and media type (a HEAD does not count against
Docker Hub's pull limit), then a `GET` when the body is needed: an image index / manifest list
(its per-platform manifests), or a HEAD without `Docker-Content-Digest` (the digest is then the
sha256 of the body). Authentication follows the registry's `WWW-Authenticate` challenge: the
bearer-token flow (anonymous, or with credentials / an identity token) or basic auth, with
credentials from the Docker config (see `cslint.oci_auth`). Plain HTTP is used only for
registries named in `insecure_registries` (`HOST[:PORT]`).

httpx is imported lazily: `import cslint.oci` stays cheap for offline runs.
"""
from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .images import ImageRef, parse_image
from .oci_auth import (
    AuthError,
    Credential,
    CredentialError,
    CredentialSource,
    InvalidReference,
    PlatformNotFound,
    RegistryError,
    RegistryTimeout,
    RegistryUnreachable,
    UnknownTag,
    answer_challenge,
    credential_source,
    normalize_host,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = [
    "ACCEPT", "OCI_INDEX", "OCI_MANIFEST", "DOCKER_LIST", "DOCKER_MANIFEST",
    "LAYER_GZIP_TYPES", "LAYER_ZSTD_TYPES",
    "RegistryError", "UnknownTag", "AuthError", "RegistryUnreachable", "RegistryTimeout",
    "InvalidReference", "PlatformNotFound",
    "Resolved", "ImageInfo", "RegistryClient",
    "resolve", "resolve_many", "inspect_layers", "strip_oci_scheme",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

LAYER_GZIP_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
})
LAYER_ZSTD_TYPES = frozenset({
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
})

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # the distribution registry's own limit
USER_AGENT = "cslint (+oci-distribution)"
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "i386": "386"}


# --- results ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    reference: str  # as given
    digest: str  # what the reference points to now: the index digest for multi-platform images
    media_type: str
    platforms: tuple[tuple[str, str], ...]  # (os/arch[/variant], manifest digest), index order
    is_index: bool
    registry: str = ""  # host[:port] as written (docker.io for Docker Hub)
    repository: str = ""  # normalised (library/ubuntu)
    tag: str | None = None

    @property
    def pinned(self) -> str:
        """`registry/repository:tag@digest` in canonical form."""
        return f"{self.registry}/{self.repository}" + (f":{self.tag}" if self.tag else "") + f"@{self.digest}"

    def platform_digest(self, platform: str) -> str | None:
        want = _parse_platform(platform)
        for plat, digest in self.platforms:
            if _platform_matches(_parse_platform(plat), want):
                return digest
        return None


@dataclass(frozen=True)
class ImageInfo:
    reference: str
    digest: str  # the platform's image manifest
    media_type: str
    total_compressed_size: int  # sum of the layer descriptors' sizes, bytes
    layer_media_types: tuple[str, ...]
    layer_sizes: tuple[int, ...] = ()
    platform: str | None = None  # the index entry chosen; None for a single-manifest image
    index_digest: str | None = None  # the index the platform manifest was found in
    config_media_type: str | None = None

    @property
    def gzip_layers(self) -> int:
        return sum(1 for t in self.layer_media_types if t in LAYER_GZIP_TYPES)

    @property
    def gzip_size(self) -> int:
        """Compressed bytes in gzip layers (sizes and media types come from the same descriptors)."""
        return sum(size for size, t in zip(self.layer_sizes, self.layer_media_types) if t in LAYER_GZIP_TYPES)

    @property
    def zstd_layers(self) -> int:
        return sum(1 for t in self.layer_media_types if t in LAYER_ZSTD_TYPES)

    @property
    def all_zstd(self) -> bool:
        return bool(self.layer_media_types) and self.zstd_layers == len(self.layer_media_types)


# --- references and platforms ----------------------------------------------------------

def strip_oci_scheme(ref: str) -> str:
    """`oci://quay.io/x/model:tag` (KServe modelcar) → `quay.io/x/model:tag`."""
    ref = ref.strip()
    return ref[len("oci://"):] if ref.lower().startswith("oci://") else ref


def _parse_ref(reference: str) -> ImageRef:
    image = parse_image(strip_oci_scheme(reference)) if isinstance(reference, str) else None
    if image is None:
        raise InvalidReference(str(reference), "not a resolvable image reference")
    return image


def _parse_platform(text: str) -> tuple[str, str, str]:
    parts = [p.strip().lower() for p in str(text).split("/")]
    os_ = parts[0] if parts and parts[0] else "linux"
    arch = _ARCH_ALIASES.get(parts[1], parts[1]) if len(parts) > 1 else "amd64"
    variant = parts[2] if len(parts) > 2 else ""
    return os_, arch, variant


def _platform_matches(have: tuple[str, str, str], want: tuple[str, str, str]) -> bool:
    if have[:2] != want[:2]:
        return False
    if not want[2]:
        return True
    default = {"arm64": "v8"}.get(have[1], "")
    return (have[2] or default) == want[2]


def _platform_str(p: Mapping[str, Any] | None) -> str:
    if not isinstance(p, Mapping):
        return "unknown"
    s = f"{p.get('os') or 'unknown'}/{p.get('architecture') or 'unknown'}"
    return s + (f"/{p['variant']}" if p.get("variant") else "")


def _is_attestation(entry: Mapping[str, Any]) -> bool:
    ann = entry.get("annotations")
    return isinstance(ann, Mapping) and ann.get("vnd.docker.reference.type") == "attestation-manifest"


def _sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _normalize_insecure(entries: Iterable[str]) -> frozenset[str]:
    out = set()
    for e in entries or ():
        host = normalize_host(str(e))
        if host:
            out.add(host)
    return frozenset(out)


# --- client ----------------------------------------------------------------------------

@dataclass
class _Manifest:
    digest: str
    media_type: str
    body: bytes | None  # None after a HEAD


@dataclass
class _AuthState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    headers: dict[tuple[str, str], str] = field(default_factory=dict)  # (registry, repo) → Authorization
    basic: dict[str, str] = field(default_factory=dict)  # registry → Authorization (basic realms)


class RegistryClient:
    """A reusable, thread-safe client: one connection pool, cached tokens and credentials.

    `credentials`: None reads the Docker config; a mapping `{"host[:port]": (user, password)}`;
    or any object with `lookup(registry) -> Credential | None`. `transport` is an httpx
    transport (tests inject `httpx.MockTransport`).
    """

    def __init__(self, *, insecure_registries: Iterable[str] = (), timeout: float = 10.0,
                 credentials: Any = None, transport: Any = None):
        self.insecure = _normalize_insecure(insecure_registries)
        self.timeout = float(timeout)
        self._credentials_arg = credentials
        self._credentials: CredentialSource | None = None
        self._transport = transport
        self._client: "httpx.Client | None" = None
        self._init_lock = threading.Lock()
        self._auth = _AuthState()

    # lifecycle
    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> "httpx.Client":
        with self._init_lock:
            if self._client is None:
                import httpx
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout), follow_redirects=True,
                    headers={"User-Agent": USER_AGENT}, transport=self._transport,
                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))
            return self._client

    def _creds(self, reference: str, registry: str) -> Credential | None:
        try:
            with self._init_lock:
                if self._credentials is None:
                    self._credentials = credential_source(self._credentials_arg)
            return self._credentials.lookup(registry)
        except CredentialError as exc:
            raise AuthError(reference, f"credentials for {registry}: {exc}", registry=registry) from None

    def base_url(self, image: ImageRef) -> str:
        host = image.api_registry
        scheme = "http" if normalize_host(image.registry) in self.insecure or host.lower() in self.insecure else "https"
        return f"{scheme}://{host}"

    # transport with error mapping
    def _send(self, reference: str, registry: str, method: str, url: str, *, headers: Mapping[str, str],
              body_limit: int | None = MAX_MANIFEST_BYTES, auth: Any = None, data: Any = None
              ) -> tuple["httpx.Response", bytes]:
        import httpx
        try:
            with self._http().stream(method, url, headers=dict(headers), auth=auth, data=data) as resp:
                chunks: list[bytes] = []
                size = 0
                if method != "HEAD":
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if body_limit is not None and size > body_limit:
                            raise RegistryError(reference, f"response from {registry} larger than "
                                                f"{body_limit} bytes ({url})", registry=registry)
                        chunks.append(chunk)
                return resp, b"".join(chunks)
        except httpx.TimeoutException:
            raise RegistryTimeout(reference, f"registry {registry} did not answer within "
                                  f"{self.timeout:g}s ({method} {url})", registry=registry) from None
        except httpx.UnsupportedProtocol as exc:
            raise RegistryUnreachable(reference, f"cannot reach {registry}: {exc}", registry=registry) from None
        except (httpx.TransportError, OSError) as exc:
            why = str(exc) or type(exc).__name__
            hint = ""
            if url.startswith("https://") and ("SSL" in why or "ssl" in why.lower() or "TLS" in why):
                hint = " (for a plain-HTTP registry pass --insecure-registry)"
            raise RegistryUnreachable(reference, f"cannot reach registry {registry}: {why}{hint}",
                                      registry=registry) from None

    def _sender(self, reference: str, image: ImageRef) -> Any:
        """`send(method, url, headers, data) -> (status, body)` for the token handshake."""
        def send(method: str, url: str, headers: Mapping[str, str], data: Any = None) -> tuple[int, bytes]:
            resp, body = self._send(reference, image.registry, method, url, headers=headers, data=data)
            return resp.status_code, body
        return send

    def _request(self, reference: str, image: ImageRef, method: str, path: str,
                 headers: Mapping[str, str]) -> tuple["httpx.Response", bytes]:
        url = self.base_url(image) + path
        key = (image.registry, image.repository)
        with self._auth.lock:
            authz = self._auth.headers.get(key) or self._auth.basic.get(image.registry)
        hdrs = dict(headers)
        if authz:
            hdrs["Authorization"] = authz
        resp, body = self._send(reference, image.registry, method, url, headers=hdrs)
        if resp.status_code == 401:
            authz = answer_challenge(reference, image.registry, image.repository,
                                     resp.headers.get("www-authenticate", ""),
                                     self._creds(reference, image.registry), self._sender(reference, image))
            hdrs["Authorization"] = authz
            resp, body = self._send(reference, image.registry, method, url, headers=hdrs)
            if resp.status_code == 401 and authz.startswith("Bearer ") and \
                    self._creds(reference, image.registry) is None:
                raise AuthError(reference, f"anonymous access to {image.registry}/{image.repository} "
                                f"denied and no credentials were found (docker login {image.registry}); the "
                                f"repository may also not exist",
                                registry=image.registry, status=401)
            if resp.status_code not in (401, 403):
                with self._auth.lock:
                    if authz.startswith("Basic "):
                        self._auth.basic[image.registry] = authz
                    else:
                        self._auth.headers[key] = authz
        return resp, body

    def _raise_for(self, reference: str, image: ImageRef, what: str, resp: "httpx.Response", body: bytes) -> None:
        status, registry = resp.status_code, image.registry
        codes, message = [], ""
        try:
            errs = json.loads(body).get("errors") or []
            codes = [str(e.get("code", "")) for e in errs if isinstance(e, dict)]
            message = next((str(e.get("message")) for e in errs if isinstance(e, dict) and e.get("message")), "")
        except (ValueError, AttributeError):
            pass
        where = f"{registry}/{image.repository}"
        if status == 404 or "MANIFEST_UNKNOWN" in codes or "NAME_UNKNOWN" in codes:
            if "NAME_UNKNOWN" in codes:
                raise UnknownTag(reference, f"repository {where} not found", registry=registry, status=status)
            raise UnknownTag(reference, f"{what} not found in {where}", registry=registry, status=status)
        if status in (401, 403):
            extra = f": {message}" if message else ""
            raise AuthError(reference, f"access to {where} denied (HTTP {status}){extra}; the repository may "
                            f"not exist or needs credentials", registry=registry, status=status)
        if status == 429:
            raise RegistryError(reference, f"registry {registry} rate limit reached (HTTP 429)",
                                registry=registry, status=status)
        extra = f": {message}" if message else ""
        raise RegistryError(reference, f"registry {registry} answered HTTP {status} for {what}{extra}",
                            registry=registry, status=status)

    def fetch_manifest(self, reference: str, image: ImageRef, ref: str, *, need_body: bool,
                       accept: str = ACCEPT) -> _Manifest:
        """HEAD (and GET when the body is needed or the digest header is absent) one manifest."""
        path = f"/v2/{image.repository}/manifests/{ref}"
        what = f"manifest {ref}" if ref.startswith("sha256:") else f"tag {ref!r}"
        headers = {"Accept": accept}
        digest = media_type = None
        if not need_body:
            resp, body = self._request(reference, image, "HEAD", path, headers)
            if resp.status_code == 200:
                digest = resp.headers.get("docker-content-digest")
                media_type = _media_type(resp.headers.get("content-type"), None)
                if digest and media_type in INDEX_TYPES | MANIFEST_TYPES:
                    if media_type in MANIFEST_TYPES:
                        return _Manifest(digest, media_type, None)
                # an index (platforms needed), or no digest header: fall through to GET
            elif resp.status_code not in (404, 405, 501):  # 405/501: no HEAD support;
                self._raise_for(reference, image, what, resp, body)  # 404: GET has the error code
        resp, body = self._request(reference, image, "GET", path, headers)
        if resp.status_code != 200:
            self._raise_for(reference, image, what, resp, body)
        actual = _sha256(body)
        header = resp.headers.get("docker-content-digest")
        if header and header.startswith("sha256:") and header != actual:
            raise RegistryError(reference, f"registry {image.registry} sent a manifest whose sha256 "
                                f"{actual} does not match Docker-Content-Digest {header}",
                                registry=image.registry)
        if ref.startswith("sha256:") and actual != ref:
            raise RegistryError(reference, f"manifest {ref} from {image.registry} hashes to {actual}",
                                registry=image.registry)
        try:
            doc = json.loads(body)
        except ValueError:
            raise RegistryError(reference, f"{what} in {image.registry}/{image.repository} is not JSON",
                                registry=image.registry) from None
        media_type = _media_type(resp.headers.get("content-type"), doc)
        return _Manifest(header if header and not header.startswith("sha256:") else actual, media_type, body)

    # public operations
    def resolve(self, reference: str) -> Resolved:
        image = _parse_ref(reference)
        ref = image.digest or image.tag or "latest"
        m = self.fetch_manifest(reference, image, ref, need_body=False)
        platforms: tuple[tuple[str, str], ...] = ()
        is_index = m.media_type in INDEX_TYPES
        if is_index and m.body is not None:
            doc = json.loads(m.body)
            platforms = tuple((_platform_str(e.get("platform")), str(e.get("digest")))
                              for e in doc.get("manifests") or []
                              if isinstance(e, dict) and e.get("digest") and not _is_attestation(e))
        return Resolved(reference=reference, digest=m.digest, media_type=m.media_type, platforms=platforms,
                        is_index=is_index, registry=image.registry, repository=image.repository,
                        tag=image.tag)

    def inspect_layers(self, reference: str, platform: str = "linux/amd64") -> ImageInfo:
        image = _parse_ref(reference)
        ref = image.digest or image.tag or "latest"
        m = self.fetch_manifest(reference, image, ref, need_body=True)
        index_digest, chosen = None, None
        if m.media_type in INDEX_TYPES:
            doc = json.loads(m.body or b"{}")
            want = _parse_platform(platform)
            entries = [e for e in doc.get("manifests") or [] if isinstance(e, dict) and not _is_attestation(e)]
            match = next((e for e in entries if _platform_matches(_parse_platform(_platform_str(e.get("platform"))), want)), None)
            if match is None:
                have = ", ".join(sorted({_platform_str(e.get("platform")) for e in entries})) or "none"
                raise PlatformNotFound(reference, f"no {platform} manifest in index {m.digest} (has: {have})",
                                       registry=image.registry)
            index_digest, chosen = m.digest, _platform_str(match.get("platform"))
            m = self.fetch_manifest(reference, image, str(match["digest"]), need_body=True)
            if m.media_type in INDEX_TYPES:
                raise RegistryError(reference, f"nested image index {m.digest} is not supported",
                                    registry=image.registry)
        if m.media_type not in MANIFEST_TYPES:
            raise RegistryError(reference, f"unsupported manifest media type {m.media_type!r}",
                                registry=image.registry)
        doc = json.loads(m.body or b"{}")
        layers = [l for l in doc.get("layers") or [] if isinstance(l, dict)]
        sizes = tuple(int(l.get("size") or 0) for l in layers)
        config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
        return ImageInfo(reference=reference, digest=m.digest, media_type=m.media_type,
                         total_compressed_size=sum(sizes),
                         layer_media_types=tuple(str(l.get("mediaType") or "") for l in layers),
                         layer_sizes=sizes, platform=chosen, index_digest=index_digest,
                         config_media_type=config.get("mediaType"))


def _media_type(content_type: str | None, doc: Any) -> str:
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct and ct not in ("application/json", "text/plain", "application/octet-stream"):
        return ct
    if isinstance(doc, dict):
        if isinstance(doc.get("mediaType"), str):
            return doc["mediaType"]
        if "manifests" in doc:
            return OCI_INDEX
        if "layers" in doc:
            return OCI_MANIFEST
    return ct or "application/octet-stream"


# --- module-level API ------------------------------------------------------------------

def resolve(ref: str, *, insecure_registries: Iterable[str] = (), timeout: float = 10.0,
            credentials: Any = None, client: RegistryClient | None = None) -> Resolved:
    """What `ref` points to now. The manifest asked for is the digest when `ref` has one, else its tag."""
    if client is not None:
        return client.resolve(ref)
    with RegistryClient(insecure_registries=insecure_registries, timeout=timeout,
                        credentials=credentials) as c:
        return c.resolve(ref)


def inspect_layers(ref: str, platform: str = "linux/amd64", *, insecure_registries: Iterable[str] = (),
                   timeout: float = 10.0, credentials: Any = None,
                   client: RegistryClient | None = None) -> ImageInfo:
    """Layer media types and compressed size of `ref`'s manifest for `platform` (CS210/CS211)."""
    if client is not None:
        return client.inspect_layers(ref, platform)
    with RegistryClient(insecure_registries=insecure_registries, timeout=timeout,
                        credentials=credentials) as c:
        return c.inspect_layers(ref, platform)


def resolve_many(refs: Iterable[str], *, insecure_registries: Iterable[str] = (), timeout: float = 10.0,
                 credentials: Any = None, per_registry: int = 4, max_workers: int = 16,
                 client: RegistryClient | None = None) -> dict[str, Resolved | RegistryError]:
    """Resolve every distinct reference; a result or a `RegistryError` per reference, in input order.

    At most `per_registry` requests run against one registry at a time; exceptions other than
    `RegistryError` (bugs) propagate.
    """
    order = list(dict.fromkeys(refs))
    if not order:
        return {}
    own = client is None
    c = client or RegistryClient(insecure_registries=insecure_registries, timeout=timeout,
                                 credentials=credentials)
    sems: dict[str, threading.Semaphore] = {}
    sem_lock = threading.Lock()

    def one(ref: str) -> Resolved | RegistryError:
        try:
            image = _parse_ref(ref)
        except RegistryError as exc:
            return exc
        with sem_lock:
            sem = sems.setdefault(image.api_registry, threading.Semaphore(max(1, per_registry)))
        with sem:
            try:
                return c.resolve(ref)
            except RegistryError as exc:
                return exc

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(order))),
                                thread_name_prefix="cslint-oci") as pool:
            results = list(pool.map(one, order))
    finally:
        if own:
            c.close()
    return dict(zip(order, results))
