"""The stage between configuration and linting that gathers facts from outside the manifests.

Rules never read files or open sockets, so whatever they need from the lock file or from a
registry is fetched here, once per run, and handed to them through `Settings.extra`:

- `"lock"`: canonical reference → pinned digest, from `cslint.lock` (CS201/CS104 fixes);
- `"image_info"`: image as written → `cslint.oci.ImageInfo`, only with `--online` (CS210/CS211).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from .lockfile import DEFAULT_LOCK_NAME, LockFile, LockFileError, canonical_reference
from .settings import Settings

LOCK_KEY = "lock"
IMAGE_INFO_KEY = "image_info"
DEFAULT_PLATFORM = "linux/amd64"


def config_path(opts: Mapping[str, Any]) -> str | None:
    """The configuration file this run reads (None when isolated or when there is none)."""
    if opts.get("isolated"):
        return None
    if opts.get("config_file"):
        return str(opts["config_file"])
    from .config import find_config
    return find_config(os.getcwd())


def lock_path(opts: Mapping[str, Any], settings: Settings) -> Path:
    """`--lock`, else the config key `lock-file` (relative to the config), else `cslint.lock`
    beside the configuration file, else in the working directory."""
    if opts.get("lock"):
        return Path(opts["lock"])
    from .config import config_directory
    config = config_path(opts)
    base = Path(config_directory(config)) if config else Path.cwd()
    configured = settings.get_extra("lock_file")
    if configured:
        return base / configured
    return base / DEFAULT_LOCK_NAME


def lock_digests(lock: LockFile) -> Mapping[str, str]:
    return MappingProxyType({key: entry.digest for key, entry in lock})


def with_lock(settings: Settings, lock: LockFile) -> Settings:
    """Settings whose `extra["lock"]` maps each locked reference to its digest (read-only)."""
    return _with_extra(settings, LOCK_KEY, lock_digests(lock))


def with_lock_file(settings: Settings, opts: Mapping[str, Any]) -> Settings:
    """Load the lock file when it exists (a `--lock` that names no file is an error); raises
    `LockFileError` for a broken one."""
    path = lock_path(opts, settings)
    if not path.is_file():
        if opts.get("lock"):
            raise LockFileError(f"{path}: lock file not found (create it with `cslint pin --lock {path}`)")
        return settings
    return with_lock(settings, LockFile.load(path))


def _with_extra(settings: Settings, key: str, value: Any) -> Settings:
    kept = tuple((k, v) for k, v in settings.extra if k != key)
    return settings.with_(extra=kept + ((key, value),))


# --- online image inspection (CS210 / CS211 / CS212) -------------------------------

def online_references(sources: Iterable[Any]) -> list[str]:
    """Every distinct, parseable container image and OCI model artifact (modelcar, image volume;
    without the `oci://` scheme) in the sources, in order of appearance: what `--online` inspects."""
    from .documents import parse_documents
    from .images import parse_image
    from .weights import model_references
    from .workloads import iter_objects
    seen: dict[str, None] = {}
    for src in sources:
        if src.text is None:
            continue
        for doc in parse_documents(src.path, src.text):
            if doc.error is not None:
                continue
            for obj in iter_objects(doc.data, "", doc):
                found = [c.image for tpl in obj.templates for c in tpl.containers]
                found += [ref for ref, _, _ in model_references(obj)]
                for image in found:
                    image = image.strip()
                    if image and parse_image(image) is not None:
                        seen.setdefault(image, None)
    return list(seen)


def inspect_images(images: list[str], *, insecure_registries: Iterable[str] = (), timeout: float = 10.0,
                   platform: str = DEFAULT_PLATFORM, per_registry: int = 4,
                   client: Any = None) -> dict[str, Any]:
    """image → `ImageInfo` or `RegistryError`, at most `per_registry` requests per registry at once."""
    from .oci import RegistryClient, RegistryError
    from .images import parse_image
    if not images:
        return {}
    own = client is None
    c = client or RegistryClient(insecure_registries=insecure_registries, timeout=timeout)
    sems: dict[str, threading.Semaphore] = {}
    guard = threading.Lock()

    def one(image: str) -> Any:
        ref = parse_image(image)
        with guard:
            sem = sems.setdefault(ref.api_registry if ref else "", threading.Semaphore(per_registry))
        with sem:
            try:
                return c.inspect_layers(image, platform)
            except RegistryError as exc:
                return exc
    try:
        from concurrent.futures import ThreadPoolExecutor  # only with --online
        with ThreadPoolExecutor(max_workers=min(16, len(images)), thread_name_prefix="cslint-inspect") as pool:
            return dict(zip(images, pool.map(one, images)))
    finally:
        if own:
            c.close()


def with_online_inspection(settings: Settings, sources: list[Any], opts: Mapping[str, Any],
                           warn: Callable[[str], None]) -> Settings:
    """Inspect each unique image and model artifact once; failures are warnings (the rules then
    stay silent)."""
    insecure = tuple(settings.insecure_registries) + tuple(opts.get("insecure_registry") or ())
    results = inspect_images(online_references(sources), insecure_registries=insecure,
                             timeout=float(opts.get("timeout") or 10.0))
    infos: dict[str, Any] = {}
    for image, result in results.items():
        if isinstance(result, Exception):
            warn(f"--online: cannot inspect {image}: {getattr(result, 'detail', result)}")
        else:
            infos[image] = result
    return _with_extra(settings, IMAGE_INFO_KEY, MappingProxyType(infos))


def inspected(settings: Settings) -> bool:
    """Whether `--online` inspected anything: rules ask before walking an object for references."""
    return bool(settings.get_extra(IMAGE_INFO_KEY))


def image_info(settings: Settings, image: str) -> Any:
    """What `--online` found for `image` (None when offline or when it could not be inspected)."""
    infos = settings.get_extra(IMAGE_INFO_KEY)
    return infos.get(image.strip()) if infos else None


def locked_digest(settings: Settings, reference: str) -> str | None:
    """The digest the lock file records for `reference` (None when not covered or no lock)."""
    digests = settings.get_extra(LOCK_KEY)
    if not digests:
        return None
    key = canonical_reference(reference)
    return digests.get(key) if key is not None else None
