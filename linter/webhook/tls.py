"""The serving certificate, re-read when cert-manager rotates it, without a restart.

The listening `SSLContext` never changes; its SNI callback (called for every handshake, with or
without a server name) hands each new connection the newest context. A reload builds a complete
new context first, so a half-written or mismatched pair is refused and the old one keeps serving.
Established connections keep the certificate they were opened with.
"""
from __future__ import annotations

import logging
import os
import ssl
import threading
from typing import Callable

log = logging.getLogger("cslint.webhook")


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _signature(path: str) -> tuple[int, int, int]:
    st = os.stat(path)  # follows symlinks: a Secret volume swaps its `..data` link on update
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class CertReloader:
    def __init__(self, certfile: str, keyfile: str, interval: float = 5.0,
                 on_reload: Callable[[str], None] | None = None):
        self.certfile, self.keyfile, self.interval = certfile, keyfile, interval
        self.on_reload = on_reload or (lambda result: None)
        self._seen = self._signatures()
        self.current = server_context(certfile, keyfile)  # raises on a bad pair: startup fails loudly
        self.listener = server_context(certfile, keyfile)
        self.listener.sni_callback = self._choose
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed_for: tuple | None = None

    def _signatures(self) -> tuple:
        return (_signature(self.certfile), _signature(self.keyfile))

    def _choose(self, ssl_object: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
        current = self.current
        if current is not ctx:
            ssl_object.context = current

    def check(self) -> bool:
        """Reload when the files changed; True when a new certificate is now served."""
        try:
            seen = self._signatures()
        except OSError as exc:
            self._fail(("missing",), f"cannot stat certificate files: {exc}")
            return False
        if seen == self._seen:
            return False
        try:
            fresh = server_context(self.certfile, self.keyfile)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._fail(seen, f"new certificate/key not loaded, still serving the old one: {exc}")
            return False
        self.current, self._seen, self._failed_for = fresh, seen, None
        log.info("serving certificate reloaded from %s", self.certfile)
        self.on_reload("success")
        return True

    def _fail(self, key: tuple, message: str) -> None:
        if self._failed_for != key:  # log once per broken state, retry every interval
            log.warning(message)
            self.on_reload("failure")
            self._failed_for = key

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cslint-cert-reloader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # pragma: no cover - the watcher must outlive any surprise
                log.warning("certificate watcher: %s", exc)

    def stop(self) -> None:
        self._stop.set()
