"""`cslint.lock`: what each image / model reference resolved to, so pinning works offline.

The file is JSON with sorted keys and a fixed layout, so the same content always serialises to
the same bytes and re-resolving an unchanged tag leaves the file untouched:

    {
      "images": {
        "docker.io/vllm/vllm-openai:v0.6.0": {
          "digest": "sha256:…",            # what the tag points to: pin to this
          "index_digest": "sha256:…",      # present when that is an image index / manifest list
          "media_type": "application/vnd.oci.image.index.v1+json",
          "platforms": {"linux/amd64": "sha256:…", "linux/arm64": "sha256:…"},
          "resolved_at": "2025-01-31T12:00:00Z"
        }
      },
      "version": 1
    }

Keys are canonical references (`registry/repository:tag`, Docker Hub spelled `docker.io/…`,
`library/` added, `oci://` dropped, an implicit tag written `latest`), so `ubuntu:22.04`,
`docker.io/library/ubuntu:22.04` and `oci://docker.io/library/ubuntu:22.04` share one entry.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple

from .images import parse_image

LOCK_VERSION = 1
DEFAULT_LOCK_NAME = "cslint.lock"

__all__ = ["LOCK_VERSION", "DEFAULT_LOCK_NAME", "LockFileError", "LockEntry", "LockFile", "canonical_reference",
           "pin_reference"]


class LockFileError(Exception):
    """The lock file cannot be read, parsed or written. One line, naming the file."""


def canonical_reference(ref: str) -> str | None:
    """The lock key for `ref` (any digest dropped), or None when `ref` is not a reference."""
    if not isinstance(ref, str):
        return None
    text = ref.strip()
    if text.lower().startswith("oci://"):
        text = text[len("oci://"):]
    image = parse_image(text)
    if image is None:
        return None
    if image.tag is None and image.digest is not None:
        return None  # digest-only: nothing to look up, it is already pinned
    return f"{image.registry.lower()}/{image.repository}:{image.tag or 'latest'}"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and ":" in value and value.split(":", 1)[0].isalnum()


class LockEntry(NamedTuple):
    """A resolved digest for one image or model reference (`cslint.lock`)."""
    digest: str
    resolved_at: str
    media_type: str | None = None
    index_digest: str | None = None
    platforms: tuple[tuple[str, str], ...] = ()  # sorted by platform

    @property
    def is_index(self) -> bool:
        return self.index_digest is not None

    def platform_digest(self, platform: str) -> str | None:
        return dict(self.platforms).get(platform)

    @classmethod
    def from_resolved(cls, resolved: Any, resolved_at: str | None = None) -> "LockEntry":
        """From a `cslint.oci.Resolved` (duck-typed: digest, media_type, platforms, is_index)."""
        plats: dict[str, str] = {}
        for plat, digest in resolved.platforms:
            plats.setdefault(str(plat), str(digest))  # first wins for duplicate platform strings
        return cls(digest=resolved.digest, resolved_at=resolved_at or _now(),
                   media_type=resolved.media_type or None,
                   index_digest=resolved.digest if resolved.is_index else None,
                   platforms=tuple(sorted(plats.items())))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"digest": self.digest, "resolved_at": self.resolved_at}
        if self.media_type:
            out["media_type"] = self.media_type
        if self.index_digest:
            out["index_digest"] = self.index_digest
        if self.platforms:
            out["platforms"] = dict(self.platforms)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str) -> "LockEntry":
        if not isinstance(data, Mapping) or not _is_digest(data.get("digest")):
            raise LockFileError(f"{where}: entry needs a 'digest' like sha256:…")
        plats = data.get("platforms") or {}
        if not isinstance(plats, Mapping) or not all(_is_digest(v) for v in plats.values()):
            raise LockFileError(f"{where}: 'platforms' must map platform → digest")
        index = data.get("index_digest")
        if index is not None and not _is_digest(index):
            raise LockFileError(f"{where}: 'index_digest' is not a digest")
        return cls(digest=data["digest"], resolved_at=str(data.get("resolved_at") or ""),
                   media_type=data.get("media_type") or None, index_digest=index,
                   platforms=tuple(sorted((str(k), str(v)) for k, v in plats.items())))

    def same_target(self, other: "LockEntry") -> bool:
        return (self.digest, self.index_digest, self.platforms, self.media_type) == \
               (other.digest, other.index_digest, other.platforms, other.media_type)


class LockFile:
    """In-memory lock; `load` / `save` round-trip it byte-for-byte."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 entries: Mapping[str, LockEntry] | None = None):
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, LockEntry] = dict(entries or {})

    # reading
    @classmethod
    def load(cls, path: str | os.PathLike[str], *, missing_ok: bool = True) -> "LockFile":
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls(p)
            raise LockFileError(f"{p}: lock file not found") from None
        except OSError as exc:
            raise LockFileError(f"{p}: cannot read lock file: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise LockFileError(f"{p}: not valid JSON (not UTF-8: byte {exc.start})") from None
        return cls.loads(text, path=p)

    @classmethod
    def loads(cls, text: str, *, path: str | os.PathLike[str] | None = None) -> "LockFile":
        where = str(path or "lock file")
        try:
            data = json.loads(text) if text.strip() else {"version": LOCK_VERSION, "images": {}}
        except ValueError as exc:
            raise LockFileError(f"{where}: not valid JSON ({exc})") from None
        except RecursionError:  # json's C decoder recurses per `[`/`{`: a hostile file is a usage error
            raise LockFileError(f"{where}: not valid JSON (nested too deeply)") from None
        if not isinstance(data, dict):
            raise LockFileError(f"{where}: expected a JSON object")
        version = data.get("version", LOCK_VERSION)
        if version != LOCK_VERSION:
            raise LockFileError(f"{where}: unsupported lock version {version!r} (expected {LOCK_VERSION})")
        images = data.get("images") or {}
        if not isinstance(images, dict):
            raise LockFileError(f"{where}: 'images' must be an object")
        entries: dict[str, LockEntry] = {}
        for key, value in images.items():
            canon = canonical_reference(key)
            if canon is None:
                raise LockFileError(f"{where}: {key!r} is not an image reference")
            entries[canon] = LockEntry.from_json(value, f"{where}: {key}")
        return cls(path, entries)

    def lookup(self, ref: str) -> LockEntry | None:
        key = canonical_reference(ref)
        return self.entries.get(key) if key is not None else None

    def pinned(self, ref: str) -> str | None:
        """`ref` rewritten as `ref@digest` (tag kept, as written) when the lock covers it."""
        entry = self.lookup(ref)
        if entry is None:
            return None
        return ref.strip().split("@", 1)[0] + "@" + entry.digest

    def __contains__(self, ref: object) -> bool:
        return isinstance(ref, str) and self.lookup(ref) is not None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[tuple[str, LockEntry]]:
        return iter(sorted(self.entries.items()))

    # writing
    def record(self, ref: str, resolved: Any, *, resolved_at: str | None = None) -> LockEntry:
        """Record a `Resolved` (or a `LockEntry`) for `ref`. When the target is unchanged the
        existing `resolved_at` is kept, so re-resolving leaves the file byte-identical."""
        key = canonical_reference(ref)
        if key is None:
            raise LockFileError(f"{ref!r} is not a lockable image reference (needs a tag)")
        entry = resolved if isinstance(resolved, LockEntry) else LockEntry.from_resolved(resolved, resolved_at)
        old = self.entries.get(key)
        if old is not None and old.same_target(entry) and old.resolved_at:
            entry = old
        self.entries[key] = entry
        return entry

    def remove(self, ref: str) -> bool:
        key = canonical_reference(ref)
        return self.entries.pop(key, None) is not None if key is not None else False

    def to_json(self) -> dict[str, Any]:
        return {"version": LOCK_VERSION,
                "images": {k: self.entries[k].to_json() for k in sorted(self.entries)}}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically (temp file in the same directory, fsync, rename); keeps the mode
        of an existing file. Skips the write when the bytes would not change."""
        p = Path(path) if path is not None else self.path
        if p is None:
            raise LockFileError("no path to save the lock file to")
        text = self.dumps()
        try:
            if p.read_text(encoding="utf-8") == text:
                self.path = p
                return p
        except (OSError, UnicodeDecodeError):
            pass
        from .atomicwrite import Replacement  # only when writing: a lint run reads the lock file at most
        try:
            mode = p.stat().st_mode & 0o7777 if p.exists() else None
            with Replacement(str(p), mode, encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise LockFileError(f"{p}: cannot write lock file: {exc.strerror or exc}") from None
        self.path = p
        return p


def pin_reference(written: str, digest: str) -> str:
    """`written` (tag, `oci://` scheme and any old digest as written) pinned to `digest`:
    `repo:tag@sha256:…`, keeping the tag for readers."""
    return written.strip().split("@", 1)[0] + "@" + digest
