"""Benchmark: the overview API for 512 units under 20 concurrent clients while the gateway polls.

Starts the real gateway (``cellgate run``) on a simulated site of 4 strings × 128 units
(C20ex3 monitors on 4 lines, polled all along), then 20 keep-alive https clients fetch
``GET /api/v1/overview`` for a while. The reference, measured in the same run with the same
clients, is ``GET /api/v1/session`` (authentication and a tiny JSON): the ratio says what the
512-unit overview costs on top of just answering. Also reports the overview page's weight.

    .venv/bin/python bench/web_overview.py [--seconds 15] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
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


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


def page_weight() -> tuple[int, int]:
    """Bytes of the overview page's files (index.html, CSS, JS modules, icon): raw and as served
    gzipped. Its data comes on top, uncompressed over Server-Sent Events."""
    files = [
        STATIC / "index.html",
        STATIC / "app.css",
        STATIC / "favicon.svg",
        *sorted((STATIC / "js").rglob("*.js")),
    ]
    blobs = [f.read_bytes() for f in files]
    return sum(len(b) for b in blobs), sum(len(gzip.compress(b)) if len(b) >= 1024 else len(b) for b in blobs)


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
        base = f"https://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(
                base_url=base,
                verify=False,
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                units = 0
                for _ in range(120):  # until every unit has been polled once
                    try:
                        data = (await client.get("/api/v1/overview")).json()
                        units = sum(
                            1
                            for s in data["site"]["strings"]
                            for u in s["units"]
                            if u["voltage_v"] is not None
                        )
                        if units == 512:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(1)
                overview = (await client.get("/api/v1/overview")).content
                v0 = json.loads(overview)["site"]["version"]
            print(f"site up: {units} units with data, overview {len(overview) / 1024:.0f} KiB")
            await hammer(port, token, "/api/v1/overview", args.clients, 3)  # warm-up, not counted
            ref = await hammer(port, token, "/api/v1/session", args.clients, args.seconds)
            t0 = time.perf_counter()
            ovw = await hammer(port, token, "/api/v1/overview", args.clients, args.seconds)
            elapsed = time.perf_counter() - t0
            async with httpx.AsyncClient(
                base_url=base,
                verify=False,
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                v1 = (await client.get("/api/v1/overview")).json()["site"]["version"]
        finally:
            gw.terminate()
            gw.wait(20)
            errors = gw.stderr.read() if gw.stderr else ""
            if gw.stderr:
                gw.stderr.close()
    raw, gz = page_weight()
    print(f"gateway polled all along: snapshot version {v0} -> {v1} during the overview run")
    print(
        f"reference GET /api/v1/session : {len(ref):6d} requests, "
        f"p50 {p(ref, 0.5):6.1f} ms, p99 {p(ref, 0.99):6.1f} ms"
    )
    print(
        f"GET /api/v1/overview (512 units): {len(ovw):6d} requests, p50 {p(ovw, 0.5):6.1f} ms, "
        f"p99 {p(ovw, 0.99):6.1f} ms, {len(ovw) / elapsed:.0f} req/s, {args.clients} clients"
    )
    print(f"ratio overview/reference p99: {p(ovw, 0.99) / p(ref, 0.99):.2f}")
    print(
        f"overview page weight: {gz / 1024:.0f} KiB of files as served gzipped ({raw / 1024:.0f} KiB raw) "
        f"+ {len(overview) / 1024:.0f} KiB of data per live update (512 units, uncompressed over SSE); "
        "the chart library loads on the trend page only"
    )
    target = p(ovw, 0.99) <= 50.0
    print(f"target p99 <= 50 ms: {'met' if target else 'NOT met'}")
    if re.search(r"Traceback|\[error", errors):
        print(errors[-2000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=20)
    sys.exit(asyncio.run(main(parser.parse_args())))
