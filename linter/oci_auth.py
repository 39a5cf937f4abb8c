"""Registry credentials and authentication challenges for `cslint.oci`.

Credentials come from the Docker client configuration (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`), the way the Docker CLI reads it:

- `auths`: `{"host": {"auth": base64("user:password")}}`, or `username`/`password`, or an
  `identitytoken` (an OAuth2 refresh token, exchanged at the bearer realm);
- `credHelpers`: `{"host": "NAME"}` runs `docker-credential-NAME get` for that host;
- `credsStore`: `"NAME"`, the helper for every host without an `auths`/`credHelpers` entry
  that carries credentials.

Helpers are run with an argument list (never a shell), the server URL on stdin, and only when
the `docker-credential-NAME` executable is installed.

Also here: the `RegistryError` family and the answer to a 401 challenge (bearer-token flow or
basic auth), written against a `send` callable so that nothing in this module imports httpx.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from typing import Any, Callable, Mapping, Protocol

from .images import DOCKER_HUB, DOCKER_HUB_API

# The key the Docker CLI files Docker Hub credentials under, and its aliases.
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, DOCKER_HUB_API, "index.docker.io", "docker.io"})
_HELPER_TIMEOUT = 30.0


# --- errors ----------------------------------------------------------------------------

class RegistryError(Exception):
    """A reference could not be resolved. `str(err)` is one line naming the reference."""

    def __init__(self, reference: str, detail: str, *, registry: str | None = None,
                 status: int | None = None):
        self.reference = reference
        self.detail = " ".join(str(detail).split())  # one line, always
        self.registry = registry
        self.status = status
        super().__init__(f"{reference}: {self.detail}")


class UnknownTag(RegistryError):
    """The registry has no such tag / manifest (or no such repository)."""


class AuthError(RegistryError):
    """Authentication was required and failed, or access was denied."""


class RegistryUnreachable(RegistryError):
    """No HTTP conversation with the registry (DNS, refused connection, TLS failure)."""


class RegistryTimeout(RegistryError):
    """The registry (or its token service) did not answer within the timeout."""


class InvalidReference(RegistryError, ValueError):
    """The string is not an image reference that can be resolved."""


class PlatformNotFound(RegistryError):
    """The image index has no manifest for the requested platform."""


class CredentialError(Exception):
    """A credential source is unusable (broken config, failing helper)."""


@dataclass(frozen=True)
class Credential:
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str | None = field(default=None, repr=False)

    @property
    def has_basic(self) -> bool:
        return bool(self.username) and bool(self.password)


class CredentialSource(Protocol):
    def lookup(self, registry: str) -> Credential | None: ...


def normalize_host(key: str) -> str:
    """`https://Host:5000/v1/` → `host:5000`; Docker Hub aliases → `docker.io`."""
    host = key.strip()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].lower()
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def server_url(registry: str) -> str:
    """The server URL a credential helper is asked about (Docker Hub's historical key)."""
    return DOCKER_HUB_CONFIG_KEY if normalize_host(registry) == DOCKER_HUB else normalize_host(registry)


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("DOCKER_CONFIG")
    if base:
        return Path(base).expanduser() / "config.json"
    return Path.home() / ".docker" / "config.json"


def _decode_auth(value: str, where: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CredentialError(f"{where}: 'auth' is not base64 of user:password ({exc})") from None
    user, sep, password = raw.partition(":")
    if not sep:
        raise CredentialError(f"{where}: 'auth' does not decode to user:password")
    return user, password.strip("\x00")


def run_credential_helper(helper: str, registry: str, *, timeout: float = _HELPER_TIMEOUT) -> Credential | None:
    """`docker-credential-<helper> get`; None when the helper is absent or has no entry."""
    exe = shutil.which(f"docker-credential-{helper}")
    if exe is None:
        return None
    url = server_url(registry)
    try:
        proc = subprocess.run([exe, "get"], input=url.encode(), capture_output=True,
                              timeout=timeout, check=False, shell=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialError(f"docker-credential-{helper} get failed for {url}: {exc}") from None
    out = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        text = (out or proc.stderr.decode("utf-8", "replace")).strip()
        if "credentials not found" in text.lower():
            return None
        first = text.splitlines()[0] if text else f"exit status {proc.returncode}"
        raise CredentialError(f"docker-credential-{helper} get failed for {url}: {first}")
    try:
        data = json.loads(out)
    except ValueError:
        raise CredentialError(f"docker-credential-{helper} returned invalid JSON for {url}") from None
    user, secret = str(data.get("Username") or ""), str(data.get("Secret") or "")
    if not secret:
        return None
    if user == "<token>":  # helpers store identity tokens under this username
        return Credential(identity_token=secret)
    return Credential(user, secret)


class DockerConfigCredentials:
    """Credential lookup over one Docker client configuration; helper results are cached."""

    def __init__(self, config: Mapping[str, Any] | None = None, *, path: Path | None = None):
        self.path = path
        self.config: Mapping[str, Any] = config or {}
        self._cache: dict[str, Credential | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "DockerConfigCredentials":
        p = Path(path) if path is not None else docker_config_path()
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls({}, path=p)
        except OSError as exc:
            raise CredentialError(f"{p}: cannot read Docker config: {exc}") from None
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise CredentialError(f"{p}: invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CredentialError(f"{p}: Docker config is not a JSON object")
        return cls(data, path=p)

    def _section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name)
        if not isinstance(value, dict):
            return {}
        return {normalize_host(k): v for k, v in value.items()}

    def _from_auths(self, host: str) -> Credential | None:
        entry = self._section("auths").get(host)
        if not isinstance(entry, dict):
            return None
        where = f"{self.path or 'docker config'}: auths[{host}]"
        user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
        if entry.get("auth"):
            user, password = _decode_auth(str(entry["auth"]), where)
        token = entry.get("identitytoken") or None
        if not (user and password) and not token:
            return None
        return Credential(user, password, str(token) if token else None)

    def lookup(self, registry: str) -> Credential | None:
        host = normalize_host(registry)
        with self._lock:
            if host in self._cache:
                return self._cache[host]
        helper = self._section("credHelpers").get(host)
        if isinstance(helper, str) and helper:
            cred = run_credential_helper(helper, host)
        else:
            cred = self._from_auths(host)
            store = self.config.get("credsStore")
            if cred is None and isinstance(store, str) and store:
                cred = run_credential_helper(store, host)
        with self._lock:
            self._cache[host] = cred
        return cred


class StaticCredentials:
    """Credentials given in code: `{"host[:port]": (user, password) | Credential}`."""

    def __init__(self, mapping: Mapping[str, Any]):
        self._map: dict[str, Credential] = {}
        for key, value in mapping.items():
            if isinstance(value, Credential):
                cred = value
            elif isinstance(value, (tuple, list)) and len(value) == 2:
                cred = Credential(str(value[0]), str(value[1]))
            else:
                raise TypeError(f"credentials for {key!r} must be (user, password) or Credential")
            self._map[normalize_host(key)] = cred

    def lookup(self, registry: str) -> Credential | None:
        return self._map.get(normalize_host(registry))


def credential_source(credentials: Any) -> CredentialSource:
    """None → the Docker config; a mapping → static; an object with `lookup` → itself."""
    if credentials is None:
        return DockerConfigCredentials.load()
    if hasattr(credentials, "lookup"):
        return credentials
    if isinstance(credentials, Mapping):
        return StaticCredentials(credentials)
    raise TypeError("credentials must be None, a mapping host → (user, password), or have .lookup()")


# --- WWW-Authenticate ------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower-case: "bearer", "basic"
    params: Mapping[str, str]

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_www_authenticate(header: str) -> list[Challenge]:
    """Parse `Bearer realm="…",service="…",scope="…"` (several challenges allowed)."""
    challenges: list[Challenge] = []
    i, n = 0, len(header)
    scheme: str | None = None
    params: dict[str, str] = {}

    def skip(chars: str) -> None:
        nonlocal i
        while i < n and header[i] in chars:
            i += 1

    while i < n:
        skip(" \t,")
        if i >= n:
            break
        start = i
        while i < n and header[i] not in " \t,=":
            i += 1
        token = header[start:i]
        skip(" \t")
        if i < n and header[i] == "=" and scheme is not None:
            i += 1
            skip(" \t")
            if i < n and header[i] == '"':
                i += 1
                buf = []
                while i < n and header[i] != '"':
                    if header[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(header[i])
                    i += 1
                i += 1  # closing quote
                value = "".join(buf)
            else:
                vstart = i
                while i < n and header[i] not in ",":
                    i += 1
                value = header[vstart:i].strip()
            params[token.lower()] = value
        else:
            if scheme is not None:
                challenges.append(Challenge(scheme, dict(params)))
            scheme, params = token.lower(), {}
            # token68 form (`Basic abc==`) carries no parameters we need
    if scheme is not None:
        challenges.append(Challenge(scheme, dict(params)))
    return challenges


def basic_header(cred: Credential) -> str:
    raw = f"{cred.username}:{cred.password}".encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


# --- answering a 401 -------------------------------------------------------------------

Send = Callable[..., "tuple[int, bytes]"]  # send(method, url, headers, data=None) -> (status, body)


def fetch_token(reference: str, registry: str, repository: str, challenge: Challenge,
                cred: Credential | None, send: Send) -> str:
    """The bearer-token flow: GET realm?service=…&scope=… (basic credentials when known), or the
    OAuth2 refresh-token POST when the credential is an identity token."""
    realm = challenge.realm
    if not realm:
        raise AuthError(reference, f"registry {registry} sent a bearer challenge without a realm",
                        registry=registry)
    scope = challenge.params.get("scope") or f"repository:{repository}:pull"
    service = challenge.params.get("service")
    if cred is not None and cred.identity_token:
        form = {"grant_type": "refresh_token", "refresh_token": cred.identity_token,
                "client_id": "cslint", "scope": scope}
        if service:
            form["service"] = service
        status, body = send("POST", realm, {}, form)
    else:
        params = {"scope": scope, **({"service": service} if service else {})}
        sep = "&" if "?" in realm else "?"
        url = realm + sep + urlencode(sorted(params.items()))
        headers = {"Authorization": basic_header(cred)} if cred is not None and cred.has_basic else {}
        status, body = send("GET", url, headers)
    if status in (401, 403):
        who = f"as {cred.username!r}" if cred is not None and cred.username else \
            "with the identity token" if cred is not None else "anonymously"
        raise AuthError(reference, f"token service {realm} refused access {who} (HTTP {status})",
                        registry=registry, status=status)
    if status != 200:
        raise AuthError(reference, f"token service {realm} answered HTTP {status}", registry=registry,
                        status=status)
    try:
        data = json.loads(body)
        token = data.get("token") or data.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise AuthError(reference, f"token service {realm} returned no token", registry=registry)
    return token


def answer_challenge(reference: str, registry: str, repository: str, www_authenticate: str,
                     cred: Credential | None, send: Send) -> str:
    """The `Authorization` header to retry a 401 with (bearer preferred over basic)."""
    challenges = parse_www_authenticate(www_authenticate)
    for ch in challenges:
        if ch.scheme == "bearer":
            return "Bearer " + fetch_token(reference, registry, repository, ch, cred, send)
    for ch in challenges:
        if ch.scheme == "basic":
            if cred is None or not cred.has_basic:
                raise AuthError(reference, f"registry {registry} requires authentication and no "
                                f"credentials were found (docker login {registry})", registry=registry,
                                status=401)
            return basic_header(cred)
    raise AuthError(reference, f"registry {registry} requires authentication with an unsupported scheme "
                    f"({www_authenticate or 'no challenge'!r})", registry=registry, status=401)
