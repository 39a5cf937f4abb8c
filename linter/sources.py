"""Where manifests come from: paths walked into files, stdin, and their text.

Reading never raises for bad content: binary data, bad UTF-8 and oversized files become a
`SourceText` with an `error` (reported as CS000); only an unreadable path is a usage error.
"""
from __future__ import annotations

import os
import stat
import sys
from typing import Callable, Iterator, NamedTuple

EXTENSIONS = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 50 * 1024 * 1024


class SourceError(Exception):
    """A path that cannot be read at all (exit code 2)."""


class SourceText(NamedTuple):
    """A file's identity and decoded text (or why it has none)."""
    path: str  # as shown in reports
    text: str | None  # decoded text (None when unreadable as text)
    error: str | None = None
    error_line: int = 0  # 0-based, for decode errors
    error_column: int = 0
    bom: bool = False
    real_path: str | None = None  # filesystem path (None for stdin)


class PendingSource(NamedTuple):
    """A file read only when it is linted (and dropped after): a run over a large repository does
    not hold the repository's text. Reading it can raise SourceError, as `read_source` does."""

    path: str
    max_bytes: int = MAX_FILE_BYTES

    def read(self) -> SourceText:
        return read_source(self.path, max_bytes=self.max_bytes)

    def mentions(self, words: tuple[str, ...]) -> bool:
        """Whether the raw bytes hold one of `words` (a cheap look before a pre-pass reads the
        file for real; unreadable or oversized files answer True so that `read` reports them)."""
        try:
            data = _read_bytes(self.path, self.max_bytes)
        except OSError:
            return True
        return data is None or any(w.encode() in data for w in words)


def pending_source(path: str, max_bytes: int = MAX_FILE_BYTES) -> PendingSource:
    """A file to read later, opened once now: an unreadable path fails before any work, with the
    message `read_source` would give."""
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as exc:
        raise _source_error(path, exc) from None
    return PendingSource(path, max_bytes)


def loaded(src: "SourceText | PendingSource") -> SourceText:
    return src.read() if isinstance(src, PendingSource) else src


def discover(paths: list[str], errors: list[SourceError] | None = None) -> Iterator[str]:
    """Files under the given paths: explicit files always, directory files by extension.
    Hidden directories are skipped and each real directory is visited once (no symlink loops).
    In a directory only regular files are taken (a FIFO named `x.yaml` would block the run; a
    broken link has nothing to lint), as git would. A missing path or an unreadable directory goes
    to `errors` and the rest is still found (without a list, it is raised)."""
    def fail(error: SourceError) -> None:
        if errors is None:
            raise error
        errors.append(error)

    seen_dirs: set[str] = set()
    for path in paths:
        if path == "-":
            yield path
        elif os.path.isdir(path):
            yield from _walk(path, seen_dirs, fail)
        elif os.path.exists(path) or os.path.islink(path):
            yield path
        else:
            fail(SourceError(f"{path}: no such file or directory"))


def _walk(top: str, seen: set[str], fail: Callable[[SourceError], None]) -> Iterator[str]:
    real = os.path.realpath(top)
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        fail(SourceError(f"{top}: cannot read directory: {exc.strerror}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            yield from _walk(entry.path, seen, fail)
        elif not entry.name.endswith(EXTENSIONS):
            continue
        elif _is_file(entry):  # not a FIFO, socket or device; not a broken or looping link
            yield entry.path


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def is_regular_file(path: str) -> bool:
    """False for a pipe (`<(helm template …)`, `/dev/stdin`), a device or a socket: they are
    read once, when found, not looked at by a pre-pass and then read again."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # let the read report it


def read_source(path: str, display: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> SourceText:
    shown = display or path
    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        return decode(shown, data, max_bytes, real_path=None)
    try:
        read = _read_bytes(path, max_bytes)
    except OSError as exc:
        raise _source_error(path, exc) from None
    if read is None:
        return SourceText(shown, None, f"file is {os.path.getsize(path)} bytes, over the {max_bytes}-byte "
                                       f"limit (raise it with --max-file-size)", real_path=path)
    return decode(shown, read, max_bytes, real_path=path)


def _read_bytes(path: str, max_bytes: int) -> bytes | None:
    """The file's bytes, at most max_bytes + 1 of them; None when fstat already says it is over.
    Plain `os` calls (a run reads every file twice, once for the context pre-pass): `open()`'s
    buffered reader costs ~10 µs a file more. The first read asks for the size fstat gave, later
    ones for the rest only if the file grew meanwhile (a device reports size 0)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            return None
        data = os.read(fd, size + 1)
        while len(data) <= max_bytes:
            more = os.read(fd, max_bytes + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    return data


def _source_error(path: str, exc: OSError) -> SourceError:
    if isinstance(exc, IsADirectoryError):
        return SourceError(f"{path}: is a directory")
    return SourceError(f"{path}: cannot read: {exc.strerror or exc}")


def decode(shown: str, data: bytes, max_bytes: int = MAX_FILE_BYTES, real_path: str | None = None) -> SourceText:
    if len(data) > max_bytes:
        return SourceText(shown, None, f"input is over the {max_bytes}-byte limit (raise it with --max-file-size)",
                          real_path=real_path)
    if b"\0" in data[:8192]:
        return SourceText(shown, None, "binary file (contains NUL bytes); not YAML", real_path=real_path)
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        return SourceText(shown, None, f"invalid UTF-8 at byte {exc.start}", line, column, real_path=real_path)
    return SourceText(shown, text, bom=bom, real_path=real_path)
