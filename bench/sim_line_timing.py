"""Emulated line timing of ``cellgate simulate --baud``: measured request→reply time vs the wire formula.

For each baud, sends reads of 10 and 100 registers over TCP (raw RTU) and compares the median
time until the whole reply has arrived with wire(request) + inter-frame silence + device
latency + wire(reply) at 10 bits per character (8N1). The issue asks for agreement within 10 %.
Run: .venv/bin/python bench/sim_line_timing.py
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import ReadInputRegistersRequest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from plugins.simulator.bus import reply_delay_s

LATENCY_S = 0.003
ROOT = Path(__file__).resolve().parents[1]


def transaction(sock: socket.socket, frame: bytes, reply_len: int) -> float:
    t0 = time.perf_counter()
    sock.sendall(frame)
    got = b""
    while len(got) < reply_len:
        got += sock.recv(512)
    return time.perf_counter() - t0


def median_time(baud: int | None, frame: bytes, reply_len: int, rounds: int = 30) -> float:
    """Median request→whole-reply time against a fresh simulator (``baud`` None: no timing)."""
    exe = Path(sys.executable).parent / "cellgate"
    timing = ["--baud", str(baud), "--latency-ms", str(LATENCY_S * 1000)] if baud else []
    proc = subprocess.Popen(
        [str(exe), "simulate", "--listen", "tcp://127.0.0.1:0", "--units", "24", *timing],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])  # type: ignore[union-attr]
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return statistics.median(transaction(sock, frame, reply_len) for _ in range(rounds))
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    framer = FramerRTU(DecodePDU(is_server=True))
    frames = {n: framer.buildFrame(ReadInputRegistersRequest(address=0, count=n, dev_id=1)) for n in (10, 6)}
    # identity block (6 registers) and a full measurement (10): reply = id, fc, count, data, CRC
    sizes = {n: 5 + 2 * n for n in frames}
    overhead = {n: median_time(None, frames[n], sizes[n]) for n in frames}
    print(f"reference (no line timing, same run): {overhead[10] * 1000:.2f} ms per transaction on loopback")
    print(f"{'baud':>7} {'regs':>5} {'formula ms':>11} {'measured ms':>12} {'raw ratio':>10} {'ratio':>6}")
    worst = 0.0
    for baud in (9600, 19200, 38400, 115200):
        for n, frame in frames.items():
            measured = median_time(baud, frame, sizes[n])
            formula = reply_delay_s(len(frame), sizes[n], baud, LATENCY_S)
            ratio = (measured - overhead[n]) / formula  # the emulated part, without Python/TCP overhead
            worst = max(worst, abs(ratio - 1))
            print(
                f"{baud:>7} {n:>5} {formula * 1000:>11.2f} {measured * 1000:>12.2f} "
                f"{measured / formula:>10.3f} {ratio:>6.3f}"
            )
    print(
        f"worst deviation of the emulated time from the wire-time formula: {worst * 100:.1f} % (goal: < 10 %)"
    )


if __name__ == "__main__":
    main()
