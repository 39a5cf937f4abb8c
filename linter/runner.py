"""One `cslint check` run: read sources, lint, fix when asked, report, choose the exit code."""
from __future__ import annotations

import sys
from typing import Any, TextIO

import click

from .cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, base_settings, required_applicability, unified_diff
from .config import ConfigError
from .engine import FileResult, Linter, RuleCrash
from .fixer import FixOutcome, fix_text, write_atomic
from .reporters import FORMATS, report
from .sources import MAX_FILE_BYTES, SourceError, SourceText, decode, discover, read_source


def run_check(paths: list[str], opts: dict[str, Any]) -> int:
    try:
        settings = base_settings(opts)
    except (ConfigError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    fmt = opts.get("output_format") or "text"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")
    if paths.count("-") > 1:
        raise UsageError("'-' (stdin) can be given once")
    max_bytes = opts.get("max_file_size") or MAX_FILE_BYTES
    try:
        sources = [_read(p, opts, max_bytes) for p in discover(paths)]
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    linter = Linter(settings)
    try:
        results = linter.lint_sources(sources)
    except RuleCrash as exc:
        raise RuntimeError(str(exc)) from None
    fixing = opts.get("fix") or opts.get("diff")
    write_errors = 0
    if fixing:
        results, write_errors = _fix(results, linter, opts)
    out = _open_output(opts.get("output_file"))
    try:
        if not opts.get("diff") or fmt != "text" or not fixing:
            report(fmt, results, settings, out, show_source=opts.get("show_source"),
                   statistics=opts.get("statistics"))
    finally:
        if out is not sys.stdout:
            out.close()
    if write_errors:
        return EXIT_ERROR
    if opts.get("diff"):
        return EXIT_FINDINGS if getattr(run_check, "_diff_changed", False) else EXIT_CLEAN
    if opts.get("exit_zero"):
        return EXIT_CLEAN
    failing = [f for r in results for f in r.findings if not f.suppressed and f.severity >= settings.fail_on]
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _read(path: str, opts: dict[str, Any], max_bytes: int) -> SourceText:
    if path == "-":
        name = opts.get("stdin_filename") or "<stdin>"
        data = sys.stdin.buffer.read(max_bytes + 1)
        return decode(name, data, max_bytes)
    return read_source(path, max_bytes=max_bytes)


def _open_output(path: str | None) -> TextIO:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _fix(results: list[FileResult], linter: Linter, opts: dict[str, Any]) -> tuple[list[FileResult], int]:
    """Fix each file; report what remains. Returns the new results and the count of write errors."""
    required = required_applicability(opts)
    new_results: list[FileResult] = []
    errors = 0
    run_check._diff_changed = False  # type: ignore[attr-defined]
    for result in results:
        src = result.source
        if src.text is None or not any(f.fix for f in result.findings):
            new_results.append(result)
            continue
        outcome = fix_text(src.path, src.text, linter, required)
        if outcome.error:
            click.echo(f"cslint: {src.path}: {outcome.error}", err=True)
        if outcome.changed:
            errors += _deliver(outcome, src, opts)
        new_results.append(_relint(linter, src, outcome.text) if outcome.changed else result)
    return new_results, errors


def _deliver(outcome: FixOutcome, src: SourceText, opts: dict[str, Any]) -> int:
    if opts.get("diff"):
        run_check._diff_changed = True  # type: ignore[attr-defined]
        sys.stdout.write(unified_diff(src.path, outcome.original, outcome.text))
        return 0
    if opts.get("show_fixes"):
        total = sum(outcome.fixed.values())
        click.echo(f"Fixed {total} finding{'s' if total != 1 else ''} in {src.path}:", err=True)
        for code, n in sorted(outcome.fixed.items()):
            click.echo(f"    {n} × {code} ({outcome.names.get(code, '')})", err=True)
    if src.real_path is None:  # stdin: the fixed text goes to stdout
        sys.stdout.write(outcome.text)
        return 0
    try:
        write_atomic(src.real_path, outcome.text, outcome.original, bom=src.bom)
    except OSError as exc:
        click.echo(f"cslint: error: {src.path}: cannot write: {exc.strerror or exc}", err=True)
        return 1
    return 0


def _relint(linter: Linter, src: SourceText, text: str) -> FileResult:
    fresh = SourceText(src.path, text, bom=src.bom, real_path=src.real_path)
    result = linter.lint_file(fresh)
    linter.finish([result])
    return result
