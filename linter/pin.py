"""`cslint pin`: resolve every unpinned image and `oci://` model reference to its digest, record
it in the lock file and rewrite the reference as `repo:tag@sha256:…`.

Pinning is a fix like any other: each rewrite is a JSON Patch `replace` handed to the fixer
(`cslint.fixer.fix_text` → `cslint.textedit`), so only the reference's text changes, the
scalar's quoting is kept, the result is verified against the patch and written atomically. The
"linter" the fixer re-runs is `pin_findings`: one finding per reference whose text differs from
its pin, so the loop reaches its fixed point when every reference is pinned.

A file is written only when every reference in it could be pinned; each failure is one line
(`file:line:col: reference: why`) and makes the exit code 1.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

import click

from .cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError, base_settings, exit_with
from .documents import Document, parse_documents
from .engine import FileResult
from .images import parse_image
from .lockfile import LockFile, LockFileError, canonical_reference, pin_reference
from .model import Applicability, Finding, Fix, Severity
from .patches import op_replace
from .prepare import lock_path
from .settings import Settings
from .sources import SourceError, SourceText, discover, read_source
from .weights import model_references
from .workloads import iter_objects

PIN_CODE = "PIN"


@dataclass(frozen=True)
class Reference:
    """One image or model reference in a document, where it is and what it says."""

    document: Document
    pointer: str
    written: str
    key: str | None  # canonical lock key; None when it cannot be locked (digest only, invalid)
    pinned: bool  # already carries an @sha256 digest
    valid: bool
    code: str = "CS201"  # the rule whose lock fix this pin is: its suppressions stop the pin
    container: str | None = None

    def location(self, path: str) -> str:
        pos = self.document.position(self.pointer)
        return f"{path}:{pos.line}:{pos.column}"


def references(documents: Iterable[Document]) -> Iterator[Reference]:
    """Container and init-container images, then modelcar / image-volume references (CS104's)."""
    for doc in documents:
        if doc.error is not None:
            continue
        for obj in iter_objects(doc.data, "", doc):
            for tpl in obj.templates:
                for c in tpl.containers:
                    if isinstance(c.data.get("image"), str):
                        yield _reference(doc, c.at("image"), c.data["image"], "CS201", c.name)
            for _, written, pointer in model_references(obj):
                yield _reference(doc, pointer, written, "CS104", None)


def _reference(doc: Document, pointer: str, written: str, code: str, container: str | None) -> Reference:
    text = written.strip()
    image = parse_image(text[len("oci://"):] if text.lower().startswith("oci://") else text)
    return Reference(doc, pointer, written, canonical_reference(written) if image else None,
                     pinned=bool(image and image.is_pinned), valid=image is not None, code=code,
                     container=container)


def unsuppressed(source: SourceText, docs: list[Document], refs: list[Reference],
                 settings: Settings | None) -> list[Reference]:
    """The references no directive covers. Each stands in for the CS201/CS104 finding whose lock
    fix its pin is and goes through the linter's own filter (per-file-ignores, `# cslint:
    ignore[…]` lines and file headers, `cslint.io/ignore` annotations), so whatever stops
    `--fix` from pinning a reference stops `cslint pin` too."""
    if settings is None or not refs:
        return refs
    from .suppressions import apply_per_file_ignores, suppress_file
    result = FileResult(source, docs)
    stand_ins = [Finding(ref.code, "pin", Severity.INFO, "", source.path, ref.document.index, ref.pointer,
                         container=ref.container, extra={"document": ref.document}) for ref in refs]
    result.findings = list(stand_ins)
    apply_per_file_ignores([result], settings)
    kept = {id(f) for f in result.findings}
    suppress_file(result, settings)
    return [ref for ref, f in zip(refs, stand_ins) if id(f) in kept and not f.suppressed]


def is_template(written: str) -> bool:
    return "{{" in written or "${" in written


def wanted(ref: Reference, update: bool) -> bool:
    """Unpinned references always; with --update also pinned ones that keep a tag."""
    if is_template(ref.written):
        return False
    return not ref.pinned or (update and ref.key is not None)


def pin_findings(path: str, text: str, digests: Mapping[str, str], update: bool,
                 settings: Settings | None = None, real_path: str | None = None) -> FileResult:
    """The fixer's view of a file: one SAFE `replace` per unsuppressed reference that differs from
    its pin (re-checked on every pass, so a suppressed twin of a pinned image stays as it is)."""
    docs = list(parse_documents(path, text))
    source = SourceText(path, text, real_path=real_path)
    result = FileResult(source, docs)
    for ref in unsuppressed(source, docs, list(references(docs)), settings):
        digest = digests.get(ref.key) if ref.key and wanted(ref, update) else None
        if digest is None:
            continue
        new = pin_reference(ref.written, digest)
        if new != ref.written:
            fix = Fix(Applicability.SAFE, (op_replace(ref.pointer, new),), f"Pin to {digest}")
            result.findings.append(Finding(PIN_CODE, "pin", Severity.INFO, f"pin {ref.written!r}", path,
                                           ref.document.index, ref.pointer, fix=fix,
                                           extra={"document": ref.document}))
    return result


# --- resolution ------------------------------------------------------------------------

def resolve_into(lock: LockFile, keys: Iterable[str], *, offline: bool, update: bool,
                 insecure: Iterable[str], timeout: float) -> dict[str, str]:
    """Fill `lock` for `keys` (lock first unless `update`); returns key → why it failed."""
    todo = sorted({k for k in keys if update or k not in lock})
    if not todo:
        return {}
    if offline:
        where = lock.path or "the lock file"
        return {k: f"not in {where} (run `cslint pin` without --offline to resolve it)" for k in todo}
    try:
        from .oci import resolve_many
        results = resolve_many(todo, insecure_registries=tuple(insecure), timeout=timeout)
    except ImportError as exc:
        raise UsageError(f"resolving digests needs httpx ({exc.name or exc}): pip install httpx") from None
    errors: dict[str, str] = {}
    for key, result in results.items():
        if isinstance(result, Exception):
            errors[key] = getattr(result, "detail", None) or str(result)
        else:
            lock.record(key, result)
    return errors


# --- the command -------------------------------------------------------------------------

@dataclass
class PinReport:
    pinned: int = 0
    files: int = 0
    failures: int = 0
    suppressed: int = 0  # references a suppression directive keeps as written
    write_error: bool = False


@click.command("pin")
@click.argument("paths", nargs=-1)
@click.option("--lock", "lock", type=click.Path(dir_okay=False), default=None,
              help="Lock file (default: cslint.lock beside the configuration, else in the working directory).")
@click.option("--offline", is_flag=True, help="Use only the lock file; report references it does not cover.")
@click.option("--update", is_flag=True, help="Re-resolve every tag, also of pinned references, and re-pin.")
@click.option("--diff", is_flag=True, help="Print the rewrites as a diff; write nothing (lock included).")
@click.option("--insecure-registry", "insecure_registry", multiple=True, metavar="HOST[:PORT]",
              help="Registry to reach over plain HTTP (repeatable; config key insecure-registries).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for a registry.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--debug", is_flag=True, hidden=True)
def pin_cmd(paths: tuple[str, ...], **opts: Any) -> None:
    """Pin images and oci:// models to digests (lock file + rewrite)."""
    exit_with(lambda: run_pin(list(paths) or ["."], opts), opts.get("debug"))


def run_pin(paths: list[str], opts: dict[str, Any]) -> int:
    from .config import ConfigError
    if opts.get("offline") and opts.get("update"):
        raise UsageError("--offline and --update contradict each other (--update asks the registries)")
    if "-" in paths:
        raise UsageError("`cslint pin` rewrites files; it does not read stdin")
    try:
        settings = base_settings(opts)
        lock = LockFile.load(lock_path(opts, settings))
        sources = [read_source(p) for p in discover(paths)]
    except (ConfigError, LockFileError, SourceError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    update = bool(opts.get("update"))
    report = PinReport()
    found = {src.path: _wanted_in(src, settings, update, report) for src in sources if src.text is not None}
    before = lock.dumps()
    errors = resolve_into(lock, (r.key for refs in found.values() for r in refs if r.key),
                          offline=bool(opts.get("offline")), update=update,
                          insecure=tuple(settings.insecure_registries) + tuple(opts.get("insecure_registry") or ()),
                          timeout=float(opts.get("timeout") or 10.0))
    if not opts.get("diff") and lock.dumps() != before:
        try:
            lock.save()
        except LockFileError as exc:
            raise UsageError(f"{exc}; no file was rewritten") from None
    digests = {key: entry.digest for key, entry in lock}
    for src in sources:
        _pin_source(src, found.get(src.path, []), errors, digests, opts, report, settings)
    _summary(report, lock, bool(opts.get("diff")))
    if report.write_error:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.failures else EXIT_CLEAN


def _wanted_in(src: SourceText, settings: Settings, update: bool, report: PinReport) -> list[Reference]:
    """The references of one file to resolve and pin: suppressed ones are neither looked up nor reported."""
    docs = list(parse_documents(src.path, src.text or ""))
    refs = [r for r in references(docs) if wanted(r, update)]
    kept = unsuppressed(src, docs, refs, settings)
    report.suppressed += len(refs) - len(kept)
    return _sorted(kept)


def _sorted(refs: list[Reference]) -> list[Reference]:
    """In reading order, so error lines follow the file."""
    def key(ref: Reference) -> tuple[int, int, int]:
        pos = ref.document.position(ref.pointer)
        return ref.document.index, pos.line, pos.column
    return sorted(refs, key=key)


def _fail(line: str, report: PinReport) -> None:
    click.echo(line, err=True)
    report.failures += 1


def _pin_source(src: SourceText, refs: list[Reference], errors: Mapping[str, str], digests: Mapping[str, str],
                opts: dict[str, Any], report: PinReport, settings: Settings) -> None:
    """Pin one file, all or nothing."""
    if src.text is None:
        _fail(f"{src.path}: not pinned: {src.error or 'unreadable'}", report)
        return
    if not refs:
        return
    failed = 0
    for ref in refs:
        why = "not a valid image reference" if not ref.valid else errors.get(ref.key or "")
        if why:
            _fail(f"{ref.location(src.path)}: {ref.written.strip()}: {why}", report)
            failed += 1
    if failed:
        click.echo(f"{src.path}: left unchanged ({failed} of {len(refs)} reference"
                   f"{'s' if len(refs) != 1 else ''} could not be pinned)", err=True)
        return
    update = bool(opts.get("update"))
    lint: Callable[[str], FileResult] = lambda text: pin_findings(src.path, text, digests, update, settings,
                                                                  src.real_path)
    from .fixer import fix_text
    outcome = fix_text(src.path, src.text, None, Applicability.SAFE, lint=lint)  # type: ignore[arg-type]
    if outcome.error:
        _fail(f"{src.path}: not pinned: {outcome.error}", report)
        return
    if outcome.changed:
        _deliver(src, outcome.original, outcome.text, sum(outcome.fixed.values()), opts, report)


def _deliver(src: SourceText, before: str, after: str, count: int, opts: dict[str, Any], report: PinReport) -> None:
    if opts.get("diff"):
        from .unidiff import unified_diff
        sys.stdout.write(unified_diff(src.path, before, after))
    else:
        from .fixer import write_atomic
        try:
            write_atomic(src.real_path or src.path, after, before, bom=src.bom)
        except OSError as exc:
            click.echo(f"cslint: error: {src.path}: cannot write: {exc.strerror or exc}", err=True)
            report.write_error = True
            return
    report.pinned += count
    report.files += 1


def _summary(report: PinReport, lock: LockFile, diff: bool) -> None:
    verb = "Would pin" if diff else "Pinned"
    s = "s" if report.pinned != 1 else ""
    line = f"{verb} {report.pinned} reference{s} in {report.files} file{'s' if report.files != 1 else ''}"
    line += f"; lock file {lock.path} ({len(lock)} entr{'ies' if len(lock) != 1 else 'y'})"
    if report.suppressed:
        line += f"; {report.suppressed} suppressed"
    if report.failures:
        line += f"; {report.failures} error{'s' if report.failures != 1 else ''}"
    click.echo(line, err=True)


__all__ = ["pin_cmd", "run_pin", "references", "unsuppressed", "pin_findings", "resolve_into", "Reference", "PIN_CODE"]
