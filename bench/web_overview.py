"""Benchmark: the overview API and the live stream for 512 units, 20 clients, while the gateway polls.

Starts the real gateway (``cellgate run``) on a simulated site of 4 strings × 128 units
(C20ex3 monitors on 4 lines, polled all along), then:

- overview: 20 keep-alive https clients fetch ``GET /api/v1/overview`` for a while. The
  reference, measured in the same run with the same clients, is ``GET /api/v1/session``
  (authentication and a tiny JSON): the ratio says what the 512-unit overview costs on top.
- live: 20 clients hold ``GET /api/v1/live`` open, first plain, then gzipped; bytes on the
  wire per client per second, and the gateway's CPU per client per second (its process CPU
  time minus that of an equal window with no client). Then zlib levels 1, 5 and 6 on the
  overviews the stream carried.

    .venv/bin/python bench/web_overview.py [--part all|overview|live] [--seconds 15] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STATIC = ROOT / "plugins" / "web" / "static"


def config(port: int) -> str:
    lines, strings = [], []
    for i in range(4):
        lines.append(f"  - {{name: bus{i + 1}, url: 'sim://bench', baud: 115200}}")
        strings.append(
            f"  - {{name: 'String {i + 1}', chemistry: vrla, nominal_voltage_v: 12.0,\n"
            "     rated_capacity_ah: 100.0,\n"
            f"     units: {{model: C20ex3, count: 128, bus: bus{i + 1}, first_address: 1}}}}"
        )
    return (
        "site: {name: bench}\ndata_dir: var\nlines:\n"
        + "\n".join(lines)
        + "\nstrings:\n"
        + "\n".join(strings)
        + "\nauthenticators: [{type: local}]\n"
        + f"services:\n  - {{type: web, host: 127.0.0.1, port: {port}}}\n"
        "logging: {level: warning}\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def hammer(port: int, token: str, path: str, clients: int, seconds: float) -> list[float]:
    """``clients`` keep-alive https connections requesting ``path`` back to back; latencies in ms.

    A minimal HTTP/1.1 client (asyncio streams): on a 2-core machine the load generator shares
    the CPU with the gateway, so it must cost as little as possible.
    """
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the gateway's self-signed certificate
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept-Encoding: gzip\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                if not head.startswith(b"HTTP/1.1 200") or length is None:
                    raise RuntimeError(f"unexpected answer: {head[:200]!r}")
                await reader.readexactly(int(length.group(1)))
                latencies.append((time.perf_counter() - t0) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


@dataclass
class LiveRun:
    wire_bytes: int = 0  # HTTP bytes received (headers, chunk framing, bodies), before TLS
    overviews: int = 0  # overview messages received, all clients
    cpu_s: float = 0.0  # the gateway's CPU time during the window
    seconds: float = 0.0


def process_cpu_s(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def live_clients(
    port: int, token: str, clients: int, seconds: float, gzipped: bool, pid: int, keep: list[bytes]
) -> LiveRun:
    """``clients`` https connections holding ``/api/v1/live`` open for ``seconds``; the first
    keeps each overview it decoded in ``keep``. Each SSE message is one HTTP chunk."""
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # the gateway's self-signed certificate
    encoding = "gzip" if gzipped else "identity"
    request = (
        f"GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept-Encoding: {encoding}\r\n\r\n"
    ).encode()
    run = LiveRun(seconds=seconds)
    deadline = time.perf_counter() + seconds

    async def one(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls, limit=1 << 20)
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200") or (b"content-encoding: gzip" in head.lower()) != gzipped:
                raise RuntimeError(f"unexpected answer: {head[:300]!r}")
            run.wire_bytes += len(head)
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
            while (left := deadline - time.perf_counter()) > 0:
                try:
                    size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), left)
                except TimeoutError:
                    break
                chunk = await reader.readexactly(int(size_line, 16) + 2)
                run.wire_bytes += len(size_line) + len(chunk)
                message = inflater.decompress(chunk[:-2]) if inflater else chunk[:-2]
                if message.startswith(b"event: overview\n"):
                    run.overviews += 1
                    if index == 0:
                        keep.append(message)
        finally:
            writer.close()

    cpu0 = process_cpu_s(pid)
    await asyncio.gather(*(one(i) for i in range(clients)))
    run.cpu_s = process_cpu_s(pid) - cpu0
    return run


def gzip_levels(messages: list[bytes], levels: tuple[int, ...] = (1, 5, 6)) -> list[tuple[int, float, float]]:
    """For each zlib level: KiB and CPU ms per overview, compressed as the live stream does
    (one compressor for the sequence, a sync flush after each message)."""
    results = []
    for level in levels:
        compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        t0, size, rounds = time.process_time(), 0, 5
        for message in messages * rounds:
            size += len(compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH))
        cpu = time.process_time() - t0
        count = len(messages) * rounds
        results.append((level, size / count / 1024, cpu / count * 1000))
    return results


async def live_part(port: int, token: str, pid: int, clients: int, seconds: float) -> None:
    await asyncio.sleep(seconds)  # an idle window: what polling 512 units costs by itself
    cpu0 = process_cpu_s(pid)
    await asyncio.sleep(seconds)
    idle_cpu = process_cpu_s(pid) - cpu0
    overviews: list[bytes] = []
    plain = await live_clients(port, token, clients, seconds, False, pid, [])
    gzipped = await live_clients(port, token, clients, seconds, True, pid, overviews)
    per = clients * seconds
    print(
        f"live stream, {clients} clients x {seconds:.0f} s each way; "
        f"gateway idle CPU {idle_cpu / seconds:.3f} s/s"
    )
    for name, run in (("plain", plain), ("gzip ", gzipped)):
        print(
            f"  {name}: {run.wire_bytes / per / 1024:7.1f} KiB/s per client "
            f"({run.overviews / per:.2f} overviews/s), "
            f"gateway CPU {run.cpu_s / seconds:.3f} s/s, "
            f"{(run.cpu_s - idle_cpu) / per * 1000:5.2f} ms/s per client above idle"
        )
    print(f"  ratio plain/gzip bytes on the wire: {plain.wire_bytes / gzipped.wire_bytes:.1f}")
    print(
        f"  ratio gzip/plain gateway CPU per client: "
        f"{(gzipped.cpu_s - idle_cpu) / max(plain.cpu_s - idle_cpu, 1e-9):.2f}"
    )
    if overviews:
        raw = sum(len(m) for m in overviews) / len(overviews) / 1024
        print(f"  zlib levels on {len(overviews)} real overviews of {raw:.0f} KiB (sync flush after each):")
        for level, kib, ms in gzip_levels(overviews):
            print(
                f"    level {level}: {kib:5.1f} KiB ({raw / kib:4.1f}x smaller), "
                f"{ms:5.2f} ms CPU per overview"
            )


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


def page_weight() -> tuple[int, int]:
    """Bytes of the overview page's files (index.html, CSS, JS modules, icon): raw and as served
    gzipped. Its data comes on top, over Server-Sent Events."""
    files = [
        STATIC / "index.html",
        STATIC / "app.css",
        STATIC / "favicon.svg",
        *sorted((STATIC / "js").rglob("*.js")),
    ]
    blobs = [f.read_bytes() for f in files]
    return sum(len(b) for b in blobs), sum(len(gzip.compress(b)) if len(b) >= 1024 else len(b) for b in blobs)


async def overview_part(port: int, token: str, clients: int, seconds: float, overview: bytes) -> None:
    base = f"https://127.0.0.1:{port}"
    await hammer(port, token, "/api/v1/overview", clients, 3)  # warm-up, not counted
    v0 = json.loads(overview)["site"]["version"]
    ref = await hammer(port, token, "/api/v1/session", clients, seconds)
    t0 = time.perf_counter()
    ovw = await hammer(port, token, "/api/v1/overview", clients, seconds)
    elapsed = time.perf_counter() - t0
    async with httpx.AsyncClient(
        base_url=base, verify=False, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        v1 = (await c.get("/api/v1/overview")).json()["site"]["version"]
    raw, gz = page_weight()
    print(f"gateway polled all along: snapshot version {v0} -> {v1} during the overview run")
    print(
        f"reference GET /api/v1/session : {len(ref):6d} requests, "
        f"p50 {p(ref, 0.5):6.1f} ms, p99 {p(ref, 0.99):6.1f} ms"
    )
    print(
        f"GET /api/v1/overview (512 units): {len(ovw):6d} requests, p50 {p(ovw, 0.5):6.1f} ms, "
        f"p99 {p(ovw, 0.99):6.1f} ms, {len(ovw) / elapsed:.0f} req/s, {clients} clients"
    )
    print(f"ratio overview/reference p99: {p(ovw, 0.99) / p(ref, 0.99):.2f}")
    print(
        f"overview page weight: {gz / 1024:.0f} KiB of files as served gzipped ({raw / 1024:.0f} KiB raw) "
        f"+ {len(overview) / 1024:.0f} KiB of JSON per live update (512 units; gzipped on the wire, see "
        "--part live); the chart library loads on the trend page only"
    )
    target = p(ovw, 0.99) <= 50.0
    print(f"target p99 <= 50 ms: {'met' if target else 'NOT met'}")


async def wait_for_site(port: int, token: str) -> bytes:
    """The overview JSON once every unit has been polled (at most two minutes)."""
    async with httpx.AsyncClient(
        base_url=f"https://127.0.0.1:{port}", verify=False, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        units = 0
        for _ in range(120):
            try:
                data = (await client.get("/api/v1/overview")).json()
                units = sum(
                    1 for s in data["site"]["strings"] for u in s["units"] if u["voltage_v"] is not None
                )
                if units == 512:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        overview = (await client.get("/api/v1/overview")).content
    print(f"site up: {units} units with data, overview {len(overview) / 1024:.0f} KiB")
    return overview


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = Path(tmp) / "bench.yaml"
        cfg.write_text(config(port))
        made = subprocess.run(
            [str(BIN / "cellgate"), "token", "create", "bench", "--role", "viewer", "-c", str(cfg)],
            capture_output=True,
            text=True,
            check=True,
        )
        token = made.stdout.strip()
        gw = subprocess.Popen(
            [str(BIN / "cellgate"), "run", "-c", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            overview = await wait_for_site(port, token)
            if args.part in ("all", "overview"):
                await overview_part(port, token, args.clients, args.seconds, overview)
            if args.part in ("all", "live"):
                await live_part(port, token, gw.pid, args.clients, args.live_seconds)
        finally:
            gw.terminate()
            gw.wait(20)
            errors = gw.stderr.read() if gw.stderr else ""
            if gw.stderr:
                gw.stderr.close()
    if re.search(r"Traceback|\[error", errors):
        print(errors[-2000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "overview", "live"), default="all")
    parser.add_argument("--seconds", type=float, default=15.0, help="each overview window")
    parser.add_argument("--live-seconds", type=float, default=10.0, help="each live-stream window")
    parser.add_argument("--clients", type=int, default=20)
    sys.exit(asyncio.run(main(parser.parse_args())))
