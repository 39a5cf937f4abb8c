"""The `cslint` command line. Thin: it parses options, builds Settings, and hands over to the
engine, the fixer and the reporters. Exit codes: 0 clean, 1 findings, 2 usage/internal error."""
from __future__ import annotations

import io
import os
import sys
from typing import Any

import click

from . import __version__
from .model import Applicability, Severity
from .profiles import ProfileChoice  # profiles come from the rules
from .settings import GOALS, Settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


# Subcommands imported only when used, so `cslint file.yaml` pays for none of them.
LAZY_COMMANDS = {
    "pin": ("cslint.pin", "pin_cmd"),
    "config": ("cslint.config_cmd", "config_cmd"),
    "docs": ("cslint.docs", "docs_cmd"),
    "serve": ("cslint.webhook.commands", "serve_cmd"),
    "webhook": ("cslint.webhook.commands", "webhook_group"),
    "explain-cold-start": ("cslint.explain", "explain_cold_start"),
}


class DefaultGroup(click.Group):
    """`cslint PATHS` means `cslint check PATHS`, as `ruff` does."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = set(self.commands) | set(LAZY_COMMANDS) | {"--help", "-h", "--version"}
        if not args or args[0] not in known:
            args = ["check"] + list(args)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY_COMMANDS:
            import importlib
            module, attr = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return self.commands.get(name)


def _codes(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(c.strip().upper() for c in value.replace(" ", ",").split(",") if c.strip())


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cslint")
def main() -> None:
    """Cold-start linter for LLM serving on Kubernetes."""


def run_and_exit() -> None:
    """The console entry point: `main`, then exit without the interpreter's teardown. Every
    command has finished its work and closed its files when `main` returns; freeing a large run's
    findings and parsed objects one by one would add ~0.2 s per 10k documents. Standard output
    goes through `CheckedStdout`: a write the OS refuses ends the run with one line and exit 2."""
    checked_stdout()
    try:
        main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:  # a message, as Python itself would print it
            print(exc.code, file=sys.stderr)
            code = 1
    except StdoutError as exc:  # a command's own output (click.echo) refused
        print(f"cslint: error: {exc}", file=sys.stderr)
        code = EXIT_ERROR
    except Exception as exc:  # the last guard: a command that let one through (never a traceback)
        if "--debug" in sys.argv:
            raise
        print(f"cslint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = EXIT_ERROR
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that left, or a closed stream
            pass
        except OSError as exc:  # the tail of the output refused: not a success
            if code != EXIT_ERROR and stream is sys.stdout:  # said once: an error was said already
                print(f"cslint: error: {exc}", file=sys.stderr)
                code = EXIT_ERROR
    os._exit(code)


class StdoutError(OSError):
    """Standard output refused a write (a full disk, a file size limit): not a broken pipe."""

    def __str__(self) -> str:
        return f"cannot write to standard output: {self.strerror}"


class CheckedStdout(io.TextIOWrapper):
    """sys.stdout of a console run: buffered, so a short write is finished or fails (with
    `python -u` or PYTHONUNBUFFERED, common in CI images, TextIOWrapper wrote straight to the file
    and ignored a short write's count: the output's tail was lost and the run exited 0), and a
    refused write is a `StdoutError`, which every command reports as one line and exit 2."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror or str(exc)) from None


def checked_stdout() -> None:
    """Replace sys.stdout with a `CheckedStdout` on a duplicate of its descriptor (same file, same
    offset; the original is flushed first and left open). Streams without a descriptor stay."""
    out = sys.stdout
    try:
        fd = out.fileno()
        out.flush()
    except (AttributeError, OSError, ValueError):
        return
    unbuffered = isinstance(getattr(out, "buffer", None), io.RawIOBase)
    sys.stdout = CheckedStdout(io.BufferedWriter(io.FileIO(os.dup(fd), "w")), encoding=out.encoding,
                               errors=out.errors, line_buffering=out.line_buffering or unbuffered)


def _k8s_version(value: str | None) -> str | None:
    """The configuration file's check, for the command line: a bad version is a usage error,
    not a crash of CS001 later."""
    if value is None:
        return None
    from .config import parse_k8s_version as check
    try:
        return check(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


CHECK_OPTIONS = [
    click.option("--output-format", "output_format", default=None,
                 help="text (default), json, sarif, github, junit or markdown."),
    click.option("-o", "--output-file", "output_file", type=click.Path(dir_okay=False), default=None,
                 help="Write the report to FILE instead of standard output. FILE is replaced atomically once the "
                      "report is complete; what cannot be replaced (a pipe, a device, another user's file) "
                      "is written in place."),
    click.option("--select", default=None, help="Codes or prefixes to check (e.g. CS4,CS201)."),
    click.option("--ignore", default=None, help="Codes or prefixes to skip."),
    click.option("--extend-select", default=None, help="Codes or prefixes to check on top of --select."),
    click.option("--profile", type=ProfileChoice(), default=None,
                 help="Also run the rules of a cloud profile (gke: Image Streaming, Hyperdisk ML, compute classes)."),
    click.option("--goal", type=click.Choice(GOALS), default=None,
                 help="What --enforce-eager should serve (CS404); auto: cold-start for workloads that can "
                      "scale to zero, else throughput."),
    click.option("--region", default=None, help="Cloud region of the cluster (for CS203 registry-out-of-region)."),
    click.option("--k8s-version", default=None, callback=lambda ctx, param, value: _k8s_version(value),
                 help="Kubernetes minor version of the schema (CS001), e.g. 1.33."),
    click.option("--no-schema", is_flag=True, help="Skip Kubernetes schema validation (CS001)."),
    click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
                 help="Lowest severity that exits 1 (default: warning)."),
    click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (2 still means an error)."),
    click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them (text output)."),
    click.option("--show-source", is_flag=True, help="Show the offending line under each finding (text output)."),
    click.option("--fix", is_flag=True, help="Apply safe fixes."),
    click.option("--unsafe-fixes", is_flag=True, help="Also apply unsafe fixes."),
    click.option("--diff", is_flag=True, help="Print the fixes as a diff; write nothing."),
    click.option("--show-fixes", is_flag=True, help="With --fix, list the fixes applied per file."),
    click.option("--stdin-filename", default=None, help="The path to report for input read from - (stdin)."),
    click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                 help="Configuration file (.cslint.yaml or pyproject.toml) instead of the one found upwards."),
    click.option("--isolated", is_flag=True, help="Ignore configuration files."),
    click.option("--disallow-suppressions", is_flag=True, help="Report suppressed findings anyway."),
    click.option("--max-file-size", type=click.IntRange(min=1), default=None,
                 help="Bytes; larger files are a CS000 finding."),
    click.option("--lock", "lock", type=click.Path(dir_okay=False), default=None,
                 help="Lock file for CS201/CS104 fixes (default cslint.lock beside the config)."),
    click.option("--online", is_flag=True, help="Inspect images and model artifacts in their registries (CS210-CS212)."),
    click.option("--insecure-registry", "insecure_registry", multiple=True, metavar="HOST[:PORT]",
                 help="Registry to reach over plain HTTP (repeatable)."),
    click.option("--kustomize", "kustomize", multiple=True, type=click.Path(file_okay=False),
                 help="Render DIR with `kubectl kustomize` and lint the output (repeatable)."),
    click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
                 help="Worker processes for large runs (default: CPU count; 1 = serial)."),
    click.option("--debug", is_flag=True, hidden=True),
]


def check_options(fn: Any) -> Any:
    for option in reversed(CHECK_OPTIONS):
        fn = option(fn)
    return fn


@main.command()
@click.argument("paths", nargs=-1)
@check_options
def check(paths: tuple[str, ...], **opts: Any) -> None:
    """Lint manifests (files, directories, or - for stdin)."""
    from .runner import run_check
    exit_with(lambda: run_check(list(paths) or ([] if opts.get("kustomize") else ["."]), opts), opts.get("debug"))


def exit_with(run: Any, debug: bool = False) -> None:
    """Run a command body and exit with its code: usage errors and crashes become one line on
    stderr and exit 2 — never a traceback unless --debug."""
    try:
        code = run()
    except click.exceptions.Exit:
        raise
    except BrokenPipeError:  # `cslint … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_FINDINGS
    except (UsageError, StdoutError) as exc:
        click.echo(f"cslint: error: {exc}", err=True)
        code = EXIT_ERROR
    except Exception as exc:
        if debug:
            raise
        click.echo(f"cslint: internal error: {type(exc).__name__}: {exc}", err=True)
        code = EXIT_ERROR
    sys.exit(code)


class UsageError(Exception):
    """Bad options, configuration or paths: exit code 2 with one line on stderr."""


def base_settings(opts: dict[str, Any]) -> Settings:
    """Settings from the configuration file (when one applies) overridden by the command line."""
    return settings_and_origins(opts)[0]


def settings_and_origins(opts: dict[str, Any]) -> tuple[Settings, dict[str, Any]]:
    """`base_settings` and where the configuration's values came from, from one read of the
    file: a second read of `--config <(…)` finds the pipe empty."""
    from .config import load_settings
    settings, origins = load_settings(opts.get("config_file"), isolated=bool(opts.get("isolated")))
    changes: dict[str, Any] = {}
    if opts.get("select"):
        changes["select"] = _codes(opts["select"])
    if opts.get("ignore"):
        changes["ignore"] = settings.ignore + _codes(opts["ignore"])
    if opts.get("extend_select"):
        changes["extend_select"] = settings.extend_select + _codes(opts["extend_select"])
    for key in ("profile", "goal", "k8s_version", "region"):
        if opts.get(key):
            changes[key] = opts[key]
    if opts.get("no_schema"):
        changes["schema"] = False
    if opts.get("fail_on"):
        changes["fail_on"] = Severity.parse(opts["fail_on"])
    if opts.get("disallow_suppressions"):
        changes["disallow_suppressions"] = True
    settings = settings.with_(**changes)
    from .registry import unknown_selectors
    unknown = unknown_selectors(settings)
    if unknown:
        raise ValueError(f"no rule has the code or prefix {', '.join(unknown)} (see `cslint rules`)")
    return settings, origins


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@click.option("--profile", type=ProfileChoice(), default=None)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def rules_cmd(output_format: str, profile: str | None, config_file: str | None) -> None:
    """List the rules: code, name, lever, severity, fixable."""
    import json

    from .registry import all_rules
    rows = all_rules(configured_settings(config_file))
    if output_format == "json":
        click.echo(json.dumps([{
            "code": r.code, "name": r.meta.name, "lever": r.meta.lever.value, "severity": str(r.meta.severity),
            "fixable": r.meta.fix.value, "profile": r.meta.profile, "summary": r.meta.summary,
        } for r in rows], indent=2))
        return
    for r in rows:
        prof = f" [{r.meta.profile}]" if r.meta.profile else ""
        fix = {"always": "fix", "sometimes": "fix?", "none": ""}[r.meta.fix.value]
        click.echo(f"{r.code}  {r.meta.name:<34} {r.meta.lever.value:<14} {str(r.meta.severity):<8} {fix:<5}"
                   f"{prof} {r.meta.summary}")


@main.command("rule")
@click.argument("code")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def rule_cmd(code: str, output_format: str, config_file: str | None) -> None:
    """Print a rule's documentation."""
    import json

    from .registry import get_rule
    rule = get_rule(code, configured_settings(config_file))
    if rule is None:
        click.echo(f"cslint: error: unknown rule {code!r} (see `cslint rules`)", err=True)
        sys.exit(EXIT_ERROR)
    m = rule.meta
    if output_format == "json":
        click.echo(json.dumps({"code": m.code, "name": m.name, "lever": m.lever.value, "severity": str(m.severity),
                               "fix": m.fix.value, "profile": m.profile, "summary": m.summary,
                               "explanation": m.docs}, indent=2))
        return
    fix = {"always": "Fix is always available.", "sometimes": "Fix is sometimes available.",
           "none": "No fix is available."}[m.fix.value]
    click.echo(f"# {m.name} ({m.code})\n\nLever: {m.lever.title}. Default severity: {m.severity}."
               f"{' Profile: ' + m.profile + '.' if m.profile else ''}\n{fix}\n\n{m.summary}.\n\n{m.docs.strip()}")


def configured_settings(config_file: str | None) -> Settings:
    """Settings of the configuration in effect, so custom rules are listed and documented too."""
    from .config import ConfigError, load_settings
    try:
        return load_settings(config_file)[0]
    except ConfigError as exc:
        click.echo(f"cslint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def required_applicability(opts: dict[str, Any]) -> Applicability:
    return Applicability.UNSAFE if opts.get("unsafe_fixes") else Applicability.SAFE
