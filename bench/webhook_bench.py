"""Throughput and latency of `cslint serve` for a typical Deployment review, on loopback.

Starts the server as a subprocess with a throwaway CA, then measures
  * closed loop: N keep-alive connections each sending back-to-back (max sustained throughput);
  * open loop: a fixed arrival rate (the API server does not wait for us), p50/p99 latency.
The client is a minimal asyncio HTTP/1.1 loop over TLS, so that client overhead stays small next
to the server's. Request counts are bounded; everything stays on 127.0.0.1.

    python bench/webhook_bench.py [--quick] [--endpoint validate|mutate]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path) -> tuple[subprocess.Popen, int, ssl.SSLContext]:
    from webhook_tls import issue, make_ca
    ca = make_ca()
    (tmp / "ca.crt").write_bytes(ca.pem())
    issue(ca, "bench", tmp / "tls.crt", tmp / "tls.key")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cslint", "serve", "--isolated", "--tls-cert", str(tmp / "tls.crt"),
                             "--tls-key", str(tmp / "tls.key"), "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", "warning", "--fail-on", "error"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    ctx = ssl.create_default_context(cafile=str(tmp / "ca.crt"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw, \
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                return proc, port, ctx
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start: {(tmp / 'server.log').read_text()}")


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes):
        self.reader, self.writer, self.request = reader, writer, request

    @classmethod
    async def open(cls, port: int, ctx: ssl.SSLContext, request: bytes) -> "Connection":
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1")
        return cls(reader, writer, request)

    async def roundtrip(self) -> tuple[float, bool]:
        start = time.perf_counter()
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await self.reader.readexactly(length)
        ok = head.startswith(b"HTTP/1.1 200") and b'"uid":"bench"' in body
        return time.perf_counter() - start, ok

    def close(self) -> None:
        self.writer.close()


async def closed_loop(port: int, ctx: ssl.SSLContext, request: bytes, concurrency: int, total: int) -> dict:
    conns = [await Connection.open(port, ctx, request) for _ in range(concurrency)]
    for c in conns:
        await c.roundtrip()  # warm up each connection
    latencies: list[float] = []
    errors = 0
    remaining = total

    async def worker(conn: Connection) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            seconds, ok = await conn.roundtrip()
            latencies.append(seconds)
            errors += not ok
    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    return summary(f"closed c={concurrency}", latencies, errors, elapsed)


async def open_loop(port: int, ctx: ssl.SSLContext, request: bytes, rate: float, seconds: float) -> dict:
    """Requests arrive every 1/rate s whatever happens; each takes a free connection (pool of 64)."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(await Connection.open(port, ctx, request))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        _, ok = await conn.roundtrip()
        latencies.append(time.perf_counter() - scheduled)  # includes any queueing behind the server
        errors += not ok
        pool.put_nowait(conn)
    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    return summary(f"open {rate:g}/s", latencies, errors, elapsed)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process (Linux /proc), robust to a noisy machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(label: str, latencies: list[float], errors: int, elapsed: float) -> dict:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"run": label, "requests": len(ordered), "errors": errors, "rps": len(ordered) / elapsed,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": ordered[-1] * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000}


def review_body(endpoint: str) -> bytes:
    import yaml

    from cslint.webhook.admission import review_for
    obj = yaml.safe_load((ROOT / "fixtures" / "webhook" / "deployment-fixable.yaml").read_text())
    body = json.dumps(review_for(obj, uid="bench")).encode()
    return (f"POST /{endpoint} HTTP/1.1\r\nHost: cslint-webhook.cslint.svc:443\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def run(pid: int, port: int, ctx: ssl.SSLContext, endpoint: str, quick: bool) -> list[dict]:
    request = review_body(endpoint)
    scale = 0.25 if quick else 1.0
    runs = [closed_loop(port, ctx, request, c, int(2000 * scale)) for c in (1, 4, 16, 64)]
    runs += [open_loop(port, ctx, request, rate, 10 * scale) for rate in (100, 200, 300)]
    rows = []
    for coro in runs:
        before = cpu_seconds(pid)
        row = await coro
        row["server_cpu_ms"] = (cpu_seconds(pid) - before) / max(1, row["requests"]) * 1000
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=["validate", "mutate"], default="validate")
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, ctx = start_server(Path(tmp))
        try:
            rows = asyncio.run(run(proc.pid, port, ctx, args.endpoint, args.quick))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"cslint serve /{args.endpoint}, typical Deployment review, {os.cpu_count()} CPUs, loopback TLS 1.3, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':<14}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'srv cpu ms':>11}")
    for r in rows:
        print(f"{r['run']:<14}{r['requests']:>9}{r['errors']:>8}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}"
              f"{r['p99_ms']:>9.2f}{r['max_ms']:>9.2f}{r['server_cpu_ms']:>11.2f}")


if __name__ == "__main__":
    main()
