"""The HTTPS front of the webhook: Starlette routes on uvicorn, TLS 1.2+, certificate reload.

Linting a Deployment takes well under a millisecond, so reviews are answered on the event loop
itself: a thread-pool hop would cost more than the work. A malformed AdmissionReview that carries a
request.uid is answered in an AdmissionReview with the reason (`Admission.malformed`); other bad
input with a 4xx and a one-line reason. Nothing a client sends can stop the server.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .admission import Admission, BadReview, Outcome, parse_review
from .metrics import CONTENT_TYPE, Metrics

log = logging.getLogger("cslint.webhook")


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@dataclass
class Endpoint:
    """POST handler for one admission decision (validate or mutate)."""

    name: str
    decide: Callable[[dict[str, Any]], Outcome]
    admission: Admission
    metrics: Metrics

    async def handle(self, request: Request) -> Response:
        start = time.perf_counter()
        policy = self.admission.policy
        try:
            body = await asyncio.wait_for(read_body(request, policy.max_body_bytes), policy.body_timeout)
            outcome = self.decide(parse_review(body))
        except BodyTooLarge:
            return self._refuse(start, 413, f"request body exceeds {policy.max_body_bytes} bytes")
        except asyncio.TimeoutError:
            return self._refuse(start, 408, f"request body not received within {policy.body_timeout:g}s")
        except BadReview as exc:
            if exc.uid is None:  # nothing says which request this is: no AdmissionReview can answer it
                return self._refuse(start, 400, str(exc))
            outcome = self.admission.malformed(exc)
        except ClientDisconnect:
            return self._refuse(start, 400, "client disconnected")
        codes = [f.code for f in outcome.findings] if outcome.verdict != "patched" else []
        self.metrics.observe(self.name, outcome.verdict, time.perf_counter() - start, codes)
        return Response(json.dumps(outcome.review, separators=(",", ":")), media_type="application/json")

    def _refuse(self, start: float, status: int, message: str) -> Response:
        self.metrics.observe(self.name, f"http_{status}", time.perf_counter() - start)
        return _error(status, message)


def create_app(admission: Admission, metrics: Metrics | None = None,
               ready: Callable[[], str | None] = lambda: None) -> Starlette:
    """The routes; `ready` gives the reason the server should get no traffic, or None."""
    metrics = metrics or Metrics()

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        problem = ready()
        return PlainTextResponse("ready") if problem is None else \
            PlainTextResponse(f"not ready: {problem}", status_code=503)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    routes = [
        Route("/validate", Endpoint("validate", admission.validate, admission, metrics).handle, methods=["POST"]),
        Route("/mutate", Endpoint("mutate", admission.mutate, admission, metrics).handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "0.0.0.0"
    port: int = 8443
    certfile: str = ""
    keyfile: str = ""
    cert_check_interval: float = 5.0
    keep_alive: int = 30  # seconds an idle connection is kept (the API server reuses them)
    header_timeout: float = 30.0  # seconds for a request head to arrive, from connect or last response
    access_log: bool = False
    log_level: str = "info"


def timed_protocol(header_timeout: float) -> type:
    """uvicorn's h11 protocol with a deadline for each request's headers.

    uvicorn times out idle keep-alive connections only after a response, and any byte resets
    that timer: a client that connects and dribbles (or sends nothing) would hold a slot forever."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(header_timeout, self._expire, self.cycle)

        def _expire(self, cycle_at_arm: Any) -> None:
            if self.cycle is cycle_at_arm and not self.transport.is_closing():
                self.transport.close()  # no complete request head arrived in time

    return TimedH11Protocol


def serve(admission: Admission, options: ServeOptions) -> None:
    """Run until SIGTERM/SIGINT; uvicorn finishes in-flight requests before exiting."""
    import uvicorn

    from .readiness import Readiness, rules_problem
    from .tls import CertReloader
    metrics = Metrics()
    reloader = CertReloader(options.certfile, options.keyfile, options.cert_check_interval,
                            on_reload=lambda result: metrics.cert_reloads.update([result]))
    metrics.cert_not_after = lambda: reloader.window[1].timestamp()
    readiness = Readiness(rules=rules_problem(admission), certificate=reloader.problem)
    if readiness.problem():
        log.warning("not ready: %s", readiness.problem())
    app = create_app(admission, metrics, ready=readiness.problem)
    config = uvicorn.Config(
        app, host=options.host, port=options.port, ssl_certfile=options.certfile, ssl_keyfile=options.keyfile,
        http=timed_protocol(options.header_timeout), lifespan="off", access_log=options.access_log, log_level=options.log_level,
        timeout_keep_alive=options.keep_alive, h11_max_incomplete_event_size=64 * 1024,
        limit_concurrency=1000, timeout_graceful_shutdown=10, server_header=False,
    )
    config.load()
    config.ssl = reloader.listener  # uvicorn's own context cannot reload; ours swaps per handshake
    reloader.start()
    try:
        uvicorn.Server(config).run()
    finally:
        reloader.stop()
