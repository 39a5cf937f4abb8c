"""`cslint serve` and `cslint webhook manifests`. The server stack is imported only when serving."""
from __future__ import annotations

import os
import sys
from typing import Any

import click

EXIT_ERROR = 2


def _fail(message: str) -> None:
    click.echo(f"cslint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.command("serve")
@click.option("--tls-cert", required=True, type=click.Path(dir_okay=False), help="PEM certificate (chain).")
@click.option("--tls-key", required=True, type=click.Path(dir_okay=False), help="PEM private key.")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--select", default=None)
@click.option("--ignore", default=None)
@click.option("--profile", default=None)
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Findings at or above this severity deny (mode enforce).")
@click.option("--mode", type=click.Choice(["enforce", "warn", "audit"]), default=None)
@click.option("--failure-mode", type=click.Choice(["open", "closed"]), default=None)
@click.option("--update-policy", type=click.Choice(["new-only", "all"]), default=None,
              help="UPDATE: deny (and patch) only findings oldObject lacked (new-only, the default), or all.")
@click.option("--exempt-namespace", "exempt_namespaces", multiple=True, help="Repeatable; replaces the configured list.")
@click.option("--exempt-object", "exempt_objects", multiple=True, help="Glob over Kind/namespace/name; repeatable.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="/mutate also applies unsafe fixes.")
@click.option("--disallow-suppressions", is_flag=True, help="Ignore cslint.io/ignore annotations.")
@click.option("--max-body-size", type=click.IntRange(1), default=None, help="Bytes (default 3 MiB).")
@click.option("--body-timeout", type=click.FloatRange(min=0.01), default=None, help="Seconds to receive a body.")
@click.option("--header-timeout", type=click.FloatRange(min=0.01), default=30.0, show_default=True)
@click.option("--keep-alive", type=click.IntRange(1), default=30, show_default=True)
@click.option("--cert-check-interval", type=click.FloatRange(min=0.05), default=5.0, show_default=True)
@click.option("--access-log", is_flag=True)
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info")
def serve_cmd(**opts: Any) -> None:
    """Run the validating (/validate) and mutating (/mutate) admission webhook over HTTPS."""
    for path in (opts["tls_cert"], opts["tls_key"]):
        if not os.path.isfile(path):
            _fail(f"{path}: no such file")
    admission = _admission(opts)
    import importlib.util
    if not all(importlib.util.find_spec(m) for m in ("uvicorn", "starlette")):
        _fail("`cslint serve` needs the serve extra: pip install 'cslint[serve]'")
    import logging
    import ssl

    from .server import ServeOptions, serve
    logging.basicConfig(level=opts["log_level"].upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = ServeOptions(host=opts["host"], port=opts["port"], certfile=opts["tls_cert"], keyfile=opts["tls_key"],
                           cert_check_interval=opts["cert_check_interval"], keep_alive=opts["keep_alive"],
                           header_timeout=opts["header_timeout"], access_log=opts["access_log"],
                           log_level=opts["log_level"])
    try:
        serve(admission, options)
    except (ssl.SSLError, ValueError) as exc:  # ValueError: a certificate whose validity cannot be read
        _fail(f"cannot load the TLS certificate/key: {exc}")
    except OSError as exc:
        _fail(f"cannot serve on {opts['host']}:{opts['port']}: {exc.strerror or exc}")


def _admission(opts: dict[str, Any]) -> Any:
    from ..cli import base_settings
    from ..config import ConfigError
    from .admission import Admission
    from .policy import WebhookPolicy
    try:
        settings = base_settings(opts)
        policy = WebhookPolicy.from_settings(settings).with_(
            mode=opts["mode"], failure_mode=opts["failure_mode"], update_policy=opts["update_policy"],
            exempt_namespaces=tuple(opts["exempt_namespaces"]) or None,
            exempt_objects=tuple(opts["exempt_objects"]) or None,
            unsafe_fixes=opts["unsafe_fixes"] or None, max_body_bytes=opts["max_body_size"],
            body_timeout=opts["body_timeout"],
        )
        return Admission(settings, policy)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))


@click.group("webhook")
def webhook_group() -> None:
    """Deploy the admission webhook."""


@webhook_group.command("manifests")
@click.option("--namespace", default="cslint", show_default=True)
@click.option("--image", default=None, help="Image reference (a version tag or a digest; never :latest).")
@click.option("--cert-manager", "cert_manager", is_flag=True, help="Certificate from cert-manager (the default).")
@click.option("--ca-bundle", type=click.Path(dir_okay=False), default=None,
              help="PEM CA that signed the serving certificate in Secret cslint-webhook-tls.")
@click.option("--failure-policy", type=click.Choice(["Ignore", "Fail"]), default="Ignore", show_default=True)
@click.option("--timeout", "timeout_seconds", type=click.IntRange(1, 5), default=5, show_default=True)
@click.option("--mode", type=click.Choice(["enforce", "warn", "audit"]), default="enforce", show_default=True)
@click.option("--update-policy", type=click.Choice(["new-only", "all"]), default="new-only", show_default=True,
              help="On UPDATE, deny only new findings (new-only) or every finding (all).")
def manifests_cmd(namespace: str, image: str | None, cert_manager: bool, ca_bundle: str | None,
                  failure_policy: str, timeout_seconds: int, mode: str, update_policy: str) -> None:
    """Print the YAML that deploys the webhook (Namespace … WebhookConfigurations)."""
    from .manifests import DEFAULT_IMAGE, ManifestError, ManifestOptions, render
    if cert_manager and ca_bundle:
        _fail("--cert-manager and --ca-bundle exclude each other")
    bundle = None
    if ca_bundle:
        try:
            with open(ca_bundle, "rb") as fh:
                bundle = fh.read()
        except OSError as exc:
            _fail(f"{ca_bundle}: cannot read: {exc.strerror}")
        if b"-----BEGIN CERTIFICATE-----" not in bundle:
            _fail(f"{ca_bundle}: not a PEM certificate")
    try:
        click.echo(render(ManifestOptions(namespace=namespace, image=image or DEFAULT_IMAGE,
                                          cert_manager=bundle is None, ca_bundle=bundle,
                                          failure_policy=failure_policy, timeout_seconds=timeout_seconds,
                                          mode=mode, update_policy=update_policy)), nl=False)
    except ManifestError as exc:
        _fail(str(exc))
