"""Replacing a file whole or not at all: what `--fix`, the lock file and `-o FILE` write.

The new text goes to a temporary file beside the old one (same directory, so the rename cannot
cross file systems), is flushed and fsynced, and is renamed onto the path only once it is
complete. A reader sees the old file or the new one, never part of either; a write the OS refuses,
a crash or an interrupt midway leaves the old file as it was and removes the temporary one.
"""
from __future__ import annotations

import os
from types import TracebackType
from typing import IO, Any, Callable


class Replacement:
    """A new version of `path`, written through `file` and renamed onto `path` by `commit()`.

    `mode` is the file's permission bits: an existing file's, kept; None for a new file, which gets
    what `open(path, "w")` would give (0o666 less the umask), not mkstemp's 0o600. `check` runs
    right before the rename and may refuse it by raising (the fixer compares the file again, so an
    editor's save during the write wins). As a context manager: committed when the block ends,
    discarded when it raises."""

    def __init__(self, path: str, mode: int | None = None, check: Callable[[], None] | None = None,
                 encoding: str | None = None, newline: str | None = None) -> None:
        import tempfile  # only when writing: most runs write no file
        self.path, self.mode, self.check = path, mode, check
        directory = os.path.dirname(os.path.abspath(path))
        fd, self.tmp = tempfile.mkstemp(prefix=f".cslint-{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        try:
            self.file: IO[Any] = os.fdopen(fd, "w" if encoding else "wb", encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            os.unlink(self.tmp)
            raise

    def commit(self) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.chmod(self.tmp, self.mode if self.mode is not None else new_file_mode())
            if self.check is not None:
                self.check()
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Close and remove the temporary file, quietly: the error that got here is the one to report."""
        for step in (self.file.close, lambda: os.unlink(self.tmp)):
            try:
                step()  # a close flushes what is buffered: refused again, as the write was
            except OSError:
                pass

    def __enter__(self) -> IO[Any]:
        return self.file

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def new_file_mode() -> int:
    """The mode `open(path, "w")` gives a new file. The umask can be read only by setting it: a
    strict one stands in for the instant before the old one is put back."""
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask
