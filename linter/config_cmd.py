"""`cslint config`: the effective configuration and where each value came from (default, a file,
or the command line), so "why is this rule off?" has a one-command answer."""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from .cli import EXIT_ERROR, check_options, settings_and_origins
from .config import DEFAULT_ORIGIN, KEYS, ConfigError
from .model import Severity
from .quantity import format_bytes

COMMAND_LINE = "command line"
# check option → Settings field it overrides
OPTION_FIELDS = {"select": "select", "ignore": "ignore", "extend_select": "extend_select", "profile": "profile",
                 "goal": "goal", "k8s_version": "k8s_version", "no_schema": "schema", "fail_on": "fail_on",
                 "disallow_suppressions": "disallow_suppressions"}
BYTE_FIELDS = ("shm_min", "engine_rss")


def display(name: str, value: Any) -> Any:
    """A value as it would be written in `.cslint.yaml`."""
    if name in BYTE_FIELDS and isinstance(value, int):
        return format_bytes(value)
    if isinstance(value, Severity):
        return str(value)
    if name == "severity_overrides":
        return {code: str(sev) for code, sev in value}
    if name == "per_file_ignores":
        return {glob: list(codes) for glob, codes in value}
    if isinstance(value, tuple):
        return list(value)
    return value


def effective(opts: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(key, value, origin) for every configuration key."""
    settings, origins = settings_and_origins(opts)
    for option, name in OPTION_FIELDS.items():
        if opts.get(option):
            origins[name] = COMMAND_LINE
    rows = []
    for key, spec in KEYS.items():
        if spec.extra:
            value = settings.get_extra(spec.field)
        else:
            value = getattr(settings, spec.field)
        rows.append((key, display(spec.field, value), origins.get(spec.field, DEFAULT_ORIGIN)))
    return rows


@click.command("config")
@check_options
def config_cmd(**opts: Any) -> None:
    """Print the effective configuration and where each value came from."""
    try:
        rows = effective(opts)
    except (ConfigError, ValueError) as exc:
        click.echo(f"cslint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    fmt = opts.get("output_format") or "text"
    if fmt not in ("text", "json"):
        click.echo(f"cslint: error: unknown output format {fmt!r} for `cslint config` (choose from text, json)", err=True)
        sys.exit(EXIT_ERROR)
    if fmt == "json":
        text = json.dumps({k: {"value": v, "origin": o} for k, v, o in rows}, indent=2, ensure_ascii=False) + "\n"
    else:
        width = max(len(k) for k, _, _ in rows)
        text = "".join(f"{key:<{width}} = {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
                       f"  # {origin}\n" for key, value, origin in rows)
    path = opts.get("output_file")
    if not path:
        click.echo(text, nl=False)
        return
    from .runner import UsageError, write_report  # -o FILE, as `cslint check` writes it
    try:
        write_report(path, lambda out: out.write(text))
    except UsageError as exc:
        click.echo(f"cslint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
