"""Prometheus text exposition for the webhook, written by hand.

Five families (requests by endpoint and verdict, findings by code, certificate reloads, the
served certificate's expiry, a latency histogram) do not justify a dependency: prometheus_client would add a registry, a second HTTP server option
and multiprocess-mode caveats, while the text format (version 0.0.4) is a few lines.
"""
from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from typing import Callable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)  # seconds


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (endpoint, verdict)
        self.findings: Counter[str] = Counter()  # code
        self.cert_reloads: Counter[str] = Counter()  # result
        self._buckets: dict[str, list[int]] = {}  # endpoint → count per bucket (+Inf last)
        self._sums: Counter[str] = Counter()
        self.cert_not_after: Callable[[], float] | None = None  # the served certificate's notAfter

    def observe(self, endpoint: str, verdict: str, seconds: float, codes: list[str] = ()) -> None:
        with self._lock:
            self.requests[(endpoint, verdict)] += 1
            self.findings.update(codes)
            counts = self._buckets.setdefault(endpoint, [0] * (len(BUCKETS) + 1))
            counts[bisect_left(BUCKETS, seconds)] += 1
            self._sums[endpoint] += seconds

    def render(self) -> str:
        with self._lock:
            lines = ["# HELP cslint_webhook_requests_total Admission requests by endpoint and verdict.",
                     "# TYPE cslint_webhook_requests_total counter"]
            for (endpoint, verdict), n in sorted(self.requests.items()):
                lines.append(f'cslint_webhook_requests_total{{endpoint="{endpoint}",verdict="{verdict}"}} {n}')
            lines += ["# HELP cslint_webhook_findings_total Findings reported at admission, by rule code.",
                      "# TYPE cslint_webhook_findings_total counter"]
            lines += [f'cslint_webhook_findings_total{{code="{code}"}} {n}' for code, n in sorted(self.findings.items())]
            lines += ["# HELP cslint_webhook_certificate_reloads_total Serving certificate reloads by result.",
                      "# TYPE cslint_webhook_certificate_reloads_total counter"]
            lines += [f'cslint_webhook_certificate_reloads_total{{result="{r}"}} {n}'
                      for r, n in sorted(self.cert_reloads.items())]
            if self.cert_not_after is not None:
                lines += [("# HELP cslint_webhook_certificate_not_after_timestamp_seconds When the served "
                           "certificate expires (Unix time)."),
                          "# TYPE cslint_webhook_certificate_not_after_timestamp_seconds gauge",
                          f"cslint_webhook_certificate_not_after_timestamp_seconds {self.cert_not_after():.0f}"]
            lines += ["# HELP cslint_webhook_request_duration_seconds Time to answer an admission request.",
                      "# TYPE cslint_webhook_request_duration_seconds histogram"]
            for endpoint, counts in sorted(self._buckets.items()):
                lines += _histogram(endpoint, counts, self._sums[endpoint])
        return "\n".join(lines) + "\n"


def _histogram(endpoint: str, counts: list[int], total: float) -> list[str]:
    name = "cslint_webhook_request_duration_seconds"
    out, cumulative = [], 0
    for bound, n in zip(BUCKETS + (float("inf"),), counts):
        cumulative += n
        le = "+Inf" if bound == float("inf") else repr(bound)
        out.append(f'{name}_bucket{{endpoint="{endpoint}",le="{le}"}} {cumulative}')
    out.append(f'{name}_sum{{endpoint="{endpoint}"}} {total:.6f}')
    out.append(f'{name}_count{{endpoint="{endpoint}"}} {cumulative}')
    return out
