"""One `cslint check` run: read sources, lint, fix when asked, report, choose the exit code."""
from __future__ import annotations

import os
import stat
import sys
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, ContextManager, TextIO

import click

from .cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, base_settings, required_applicability
from .config import ConfigError
from .engine import FileResult, Linter, RuleCrash, release
from .reporters import FORMATS, report
from .results import file_counts
from .sources import (MAX_FILE_BYTES, PendingSource, SourceError, SourceText, decode, discover, is_regular_file, loaded,
                      pending_source, read_source)

if TYPE_CHECKING:
    from .fixer import FixOutcome


def run_check(paths: list[str], opts: dict[str, Any]) -> int:
    # the fixer, the lock file and kubectl are imported only by the runs that use them: a
    # pre-commit hook linting one file pays for what it runs
    from .lockfile import LockFileError
    from .prepare import with_lock_file, with_online_inspection
    try:
        settings = with_lock_file(base_settings(opts), opts)
    except (ConfigError, LockFileError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    fmt = opts.get("output_format") or "text"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
    if paths.count("-") > 1:
        raise UsageError("'-' (stdin) can be given once")
    max_bytes = opts.get("max_file_size") or MAX_FILE_BYTES
    sources, unreadable = read_paths(paths, opts, max_bytes)
    for error in unreadable:  # each path that cannot be read is an error; the others are linted
        click.echo(f"cslint: error: {error}", err=True)
    if unreadable and not sources:
        return EXIT_ERROR
    if opts.get("online"):
        try:
            sources = [loaded(s) for s in sources]
        except SourceError as exc:
            raise UsageError(str(exc)) from None
        settings = with_online_inspection(settings, sources, opts, lambda m: click.echo(f"cslint: warning: {m}", err=True))
    fixing = opts.get("fix") or opts.get("diff")
    # the text of a file outlives its lint only for the fixer; excerpts and SARIF fingerprints
    # need only the findings' lines. Findings of a plain lint may wait on disk for the report.
    keep_data = fmt == "markdown"  # markdown's cold-start section reads data
    linter = Linter(settings, keep_data=keep_data, keep_text=bool(fixing),
                    spill=not fixing and not keep_data, lines=bool(opts.get("show_source") or fmt == "sarif"))
    from .parallel import fewer_collections
    with fewer_collections():
        results, write_errors, changed = _lint_fix_report(linter, sources, paths, fmt, opts)
    if linter.spool is not None and linter.spool.error:
        click.echo(f"cslint: warning: {linter.spool.error}", err=True)
    if write_errors or unreadable:
        return EXIT_ERROR
    if opts.get("diff"):
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    if opts.get("exit_zero"):
        return EXIT_CLEAN
    worst = (w for _, w in file_counts(results))  # a spilled run's ledger knows without reading
    return EXIT_FINDINGS if any(w is not None and w >= settings.fail_on for w in worst) else EXIT_CLEAN


def _lint_fix_report(linter: Linter, sources: list[SourceText | PendingSource], paths: list[str], fmt: str,
                     opts: dict[str, Any]) -> tuple[list[FileResult], int, bool]:
    """Lint (spread over processes unless fixing), fix when asked, write the report. Returns the
    results, the count of write errors and whether a fix changed some text."""
    fixing = opts.get("fix") or opts.get("diff")
    settings = linter.settings
    try:
        if fixing or linter.keep_data:  # the fixer re-lints within this run; the report reads data: serial
            results = linter.lint_sources(sources)
        else:
            from .parallel import lint_parallel
            results = lint_parallel(linter, sources, opts.get("jobs"))
    except RuleCrash as exc:
        raise RuntimeError(str(exc)) from None
    except SourceError as exc:  # a file became unreadable after it was found
        raise UsageError(str(exc)) from None
    write_errors, changed = 0, False
    if fixing:
        results, write_errors, changed = _fix(results, linter, opts)
    # `cslint --fix -` is a filter: stdout carries the fixed text, so the report goes to stderr
    filtering = opts.get("fix") and not opts.get("diff") and "-" in paths and not opts.get("output_file")
    if not opts.get("diff") or fmt != "text" or not fixing:
        write = partial(report, fmt, results, settings, show_source=opts.get("show_source"),
                        statistics=opts.get("statistics"))
        write_report(opts.get("output_file"), write, sys.stderr if filtering else None)
    elif opts.get("output_file"):  # the diff is the output; FILE is written empty, as it always was
        write_report(opts["output_file"], lambda out: None)
    return results, write_errors, changed


def write_report(path: str | None, write: Callable[[TextIO], None], stream: TextIO | None = None) -> None:
    """Write the report to `path` (-o FILE) or else `stream` (standard output), and flush it
    here, where a refused write (a full disk, a file size limit) is one clear error and exit 2 —
    not a crash, and not a truncated report that exits 0 because the interpreter's last flush
    failed unnoticed. A report file becomes FILE only once whole (see `open_output`): a run that
    fails midway leaves the previous report as it was, and CI never reads half a SARIF as the
    whole. A reader that left (`| head`) is not an error here."""
    out = stream or sys.stdout
    try:
        if path is None:
            write(out)
            out.flush()
            return
        with open_output(path) as out:
            write(out)
    except BrokenPipeError:
        raise
    except OSError as exc:
        where = path or ("standard error" if out is sys.stderr else "standard output")
        raise UsageError(f"cannot write the report to {where}: {exc.strerror or exc}") from None


def _kustomization(directory: str) -> bool:
    from .kustomize import kustomization_file  # only for directories: a file's run skips the module
    return bool(kustomization_file(directory))


def _render(directory: str, max_bytes: int) -> SourceText:
    from .kustomize import render
    return render(directory, max_bytes)


def read_paths(paths: list[str], opts: dict[str, Any], max_bytes: int
             ) -> tuple[list[SourceText | PendingSource], list[SourceError]]:
    """Kustomization directories are rendered with kubectl; everything else is read as is. Paths
    that cannot be read (or rendered) come back as errors beside the sources that can."""
    rendered = list(opts.get("kustomize") or ())
    plain = []
    for p in paths:
        (rendered if p != "-" and os.path.isdir(p) and _kustomization(p) else plain).append(p)
    sources: list[SourceText | PendingSource] = []
    errors: list[SourceError] = []
    for read, items in ((lambda d: _render(d, max_bytes), rendered),
                        (lambda p: _read(p, opts, max_bytes), discover(plain, errors))):
        for item in items:
            try:
                sources.append(read(item))
            except SourceError as exc:
                errors.append(exc)
    return sources, errors


def _read(path: str, opts: dict[str, Any], max_bytes: int) -> SourceText | PendingSource:
    if path == "-":
        name = opts.get("stdin_filename") or "<stdin>"
        data = sys.stdin.buffer.read(max_bytes + 1)
        return decode(name, data, max_bytes)
    if not is_regular_file(path):  # a pipe (`<(helm template …)`) can be read only once: now
        return read_source(path, max_bytes=max_bytes)
    return pending_source(path, max_bytes)  # read when linted; an unreadable path fails now


def open_output(path: str) -> ContextManager[TextIO]:
    """FILE, to write a report to. A regular file (or a new one) is replaced: the report is written
    to a temporary file beside it, which becomes FILE when the block ends and is removed if it
    raises; an existing file keeps its mode, a new one gets open()'s. What cannot be replaced is
    written in place, as open(FILE, "w") would (see `_replaceable`)."""
    try:
        try:
            st: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            st = None
        if not _replaceable(path, st):
            return open(path, "w", encoding="utf-8")
        if st is not None:
            os.close(os.open(path, os.O_WRONLY))  # refused as open() would refuse it: a read-only file
        from .atomicwrite import Replacement
        try:
            return Replacement(os.path.realpath(path), None if st is None else stat.S_IMODE(st.st_mode),
                               encoding="utf-8")
        except PermissionError:
            if st is None:
                raise
            return open(path, "w", encoding="utf-8")  # a writable file in a directory that is not
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _replaceable(path: str, st: os.stat_result | None) -> bool:
    """Not a FIFO or a device, not a stream (`/dev/stdout` is a regular file when standard output
    is redirected to one) and not a file someone else owns: the replacement would be ours, and a
    sticky /tmp refuses the rename."""
    if st is not None and (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()):
        return False
    return not _through_proc(path)


def _through_proc(path: str) -> bool:
    """Whether `path`, or a link it passes through, lands in /proc: /dev/stdout and /dev/fd/N
    name this process's descriptors, whatever file is behind them."""
    p = os.path.abspath(path)
    for _ in range(40):  # the kernel's limit on links followed
        p = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
        if p.startswith("/proc/"):
            return True
        if not os.path.islink(p):
            return False
        p = os.path.join(os.path.dirname(p), os.readlink(p))
    return False  # a loop: opening the path says so


def _fix(results: list[FileResult], linter: Linter, opts: dict[str, Any]) -> tuple[list[FileResult], int, bool]:
    """Fix each file; report what remains. Returns the new results, the count of errors (writes
    that failed, fixes a cslint bug stopped: the run exits 2) and whether any file's text changed
    (`--diff` exits 1 then)."""
    from .fixer import fix_text, without_refused
    required = required_applicability(opts)
    new_results: list[FileResult] = []
    errors = 0
    changed = False
    for result in results:
        src = result.source
        if src.text is None or not any(f.fix for f in result.findings):
            if _is_stdin(src, opts) and not opts.get("diff") and src.text is not None:
                _write_stdout(src.text, src.bom)  # a filter echoes what it cannot fix
            new_results.append(result)
            continue
        outcome = fix_text(src.path, src.text, linter, required, lint=partial(_lint_as, linter, src))
        if outcome.error:
            click.echo(f"cslint: {src.path}: {outcome.error}", err=True)
        errors += outcome.failed
        changed = changed or outcome.changed
        applied = True
        if outcome.changed or _is_stdin(src, opts):
            failed, applied = _deliver(outcome, src, opts)
            errors += failed
        # the fixer's lint of the text delivered; a file left as it was (not writable, rendered
        # output) is reported as it is, not as the fix would have made it
        final = outcome.result if outcome.changed and applied else result
        if outcome.refused:
            without_refused(final, outcome.refused)
        linter.lighten(final)
        if final is not result:
            release(result)  # the first lint's documents: nothing reads them again
        new_results.append(final)
    return new_results, errors, changed


def _deliver(outcome: "FixOutcome", src: SourceText, opts: dict[str, Any]) -> tuple[int, bool]:
    """(write errors, whether the fixed text went where it was asked to: a diff, stdout or the file)."""
    if opts.get("diff"):
        if outcome.changed:
            from .unidiff import unified_diff
            sys.stdout.write(unified_diff(src.path, outcome.original, outcome.text))
        return 0, True
    if _is_stdin(src, opts):  # the fixed text goes to stdout
        _write_stdout(outcome.text, src.bom)
    elif src.real_path is None:  # rendered (kustomize) output has no file to write back to
        click.echo(f"cslint: {src.path}: rendered manifests are not written back; use --diff", err=True)
        return 0, False
    else:
        from .fixer import write_atomic
        try:
            write_atomic(src.real_path, outcome.text, outcome.original, bom=src.bom)
        except OSError as exc:
            click.echo(f"cslint: error: {src.path}: cannot write: {exc.strerror or exc}", err=True)
            return 1, False
    if opts.get("show_fixes") and outcome.fixed:  # only what was delivered counts as fixed
        total = sum(outcome.fixed.values())
        click.echo(f"Fixed {total} finding{'s' if total != 1 else ''} in {src.path}:", err=True)
        for code, n in sorted(outcome.fixed.items()):
            click.echo(f"    {n} × {code} ({outcome.names.get(code, '')})", err=True)
    return 0, True


def _is_stdin(src: SourceText, opts: dict[str, Any]) -> bool:
    return src.real_path is None and src.path == (opts.get("stdin_filename") or "<stdin>")


def _write_stdout(text: str, bom: bool) -> None:
    """The fixed text of `cslint --fix -` (a filter): a refused write is `StdoutError`, one line
    and exit 2, like a refused report."""
    from .cli import StdoutError
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise StdoutError(exc.errno, exc.strerror or str(exc)) from None


def _lint_as(linter: Linter, src: SourceText, text: str) -> FileResult:
    """`text` linted as the file `src` (its path, BOM and real path: per-file ignores read it) within
    the run: set-rule findings (CS301, CS504) stay in the final report. The fixer lints each pass
    this way, and its last lint is the file's result."""
    fresh = SourceText(src.path, text, bom=src.bom, real_path=src.real_path)
    return linter.lint_in_run(fresh)
