"""The serving certificate, re-read when cert-manager rotates it, without a restart.

The listening `SSLContext` never changes; its SNI callback (called for every handshake, with or
without a server name) hands each new connection the newest context. A reload builds a complete
new context first, so a half-written or mismatched pair is refused and the old one keeps serving.
Established connections keep the certificate they were opened with.

Readiness (`problem`) follows what is served: not ready while the served certificate is outside
its validity window, or while the files on disk hold a pair that could not be loaded — with a
self-signed cert-manager issuer the CA rotates with the certificate, so the API server no longer
trusts the old one and requests should go to replicas that did reload.
"""
from __future__ import annotations

import logging
import os
import ssl
import threading
from datetime import datetime, timezone
from typing import Callable

log = logging.getLogger("cslint.webhook")


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile, keyfile)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def certificate_window(certfile: str) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of the first certificate in a PEM file: the served leaf.

    Read from the DER with a few lines of ASN.1 walking, since the standard library exposes no
    public parser and `cryptography` is not a runtime dependency."""
    with open(certfile, encoding="ascii", errors="replace") as fh:
        text = fh.read()
    begin = text.find(PEM_BEGIN)
    end = text.find(PEM_END, begin)
    if begin < 0 or end < 0:
        raise ValueError(f"{certfile}: no PEM certificate")
    try:
        der = ssl.PEM_cert_to_DER_cert(text[begin:end + len(PEM_END)])
        _, start, stop = _tlv(der, 0)
        _, start, stop = _tlv(der, start)  # tbsCertificate
        fields = _children(der, start, stop)
        if fields[0][0] == 0xA0:  # [0] EXPLICIT version
            fields = fields[1:]
        _, start, stop = fields[3]  # serialNumber, signature, issuer, validity
        (tag1, s1, e1), (tag2, s2, e2) = _children(der, start, stop)[:2]
        return _asn1_time(tag1, der[s1:e1]), _asn1_time(tag2, der[s2:e2])
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{certfile}: cannot read the certificate's validity: {exc}") from None


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at `at`."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        width = length & 0x7F
        length = int.from_bytes(data[at:at + width], "big")
        at += width
    if at + length > len(data):
        raise ValueError("truncated DER")
    return tag, at, at + length


def _children(data: bytes, start: int, stop: int) -> list[tuple[int, int, int]]:
    out = []
    while start < stop:
        out.append(_tlv(data, start))
        start = out[-1][2]
    return out


def _asn1_time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; RFC 5280: YY < 50 is 20YY
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError(f"unexpected ASN.1 time tag {tag:#x}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)


def _signature(path: str) -> tuple[int, int, int]:
    st = os.stat(path)  # follows symlinks: a Secret volume swaps its `..data` link on update
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class CertReloader:
    def __init__(self, certfile: str, keyfile: str, interval: float = 5.0,
                 on_reload: Callable[[str], None] | None = None):
        self.certfile, self.keyfile, self.interval = certfile, keyfile, interval
        self.on_reload = on_reload or (lambda result: None)
        self._seen = self._signatures()
        self.window = certificate_window(certfile)
        self.current = server_context(certfile, keyfile)  # raises on a bad pair: startup fails loudly
        self.listener = server_context(certfile, keyfile)
        self.listener.sni_callback = self._choose
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed_for: tuple | None = None
        self.error: str | None = None  # why the files on disk are not what is served, if they are not

    def problem(self, now: datetime | None = None) -> str | None:
        """Why this server should not get traffic now, or None."""
        if self.error:
            return f"certificate reload failed ({self.error})"
        now = now or datetime.now(timezone.utc)
        not_before, not_after = self.window
        if now < not_before:
            return f"certificate is not valid before {not_before:%Y-%m-%dT%H:%M:%SZ}"
        if now >= not_after:
            return f"certificate expired at {not_after:%Y-%m-%dT%H:%M:%SZ}"
        return None

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
            if self.error:  # the files are back to the pair being served
                log.info("certificate files at %s match the served certificate again", self.certfile)
            self._failed_for = self.error = None
            return False
        try:
            window = certificate_window(self.certfile)
            fresh = server_context(self.certfile, self.keyfile)
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._fail(seen, f"new certificate/key not loaded, still serving the old one: {exc}")
            return False
        self.current, self.window, self._seen = fresh, window, seen
        self._failed_for = self.error = None
        log.info("serving certificate reloaded from %s", self.certfile)
        self.on_reload("success")
        return True

    def _fail(self, key: tuple, message: str) -> None:
        self.error = message
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
