"""Malformed and hostile requests: exceptions or silence, never a stuck or growing server."""

from __future__ import annotations

import asyncio
import gc
import random
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from tests.northbound_modbus.peers import mbpoll


def mbap(pdu: bytes, unit: int = 1, tid: int = 1, length: int | None = None) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1 if length is None else length, unit) + pdu


async def exchange(port: int, frame: bytes, timeout: float = 1.0) -> bytes:
    """Send one frame on a fresh connection; the answer, or b"" when the server stays silent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frame)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(300), timeout)
        except TimeoutError:
            return b""
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("function", [0x07, 0x08, 0x0B, 0x11, 0x14, 0x15, 0x16, 0x18, 0x2B, 0x41, 0x7F])
async def test_unsupported_function_codes_answer_exception_01(
    start_service: Callable[..., Any], function: int
) -> None:
    service = await start_service()
    answer = await exchange(service.port, mbap(bytes([function]) + b"\x00\x00\x00\x01", tid=77))
    assert answer == mbap(bytes([function | 0x80, 0x01]), tid=77)


@pytest.mark.parametrize(
    ("pdu", "code"),
    [
        (b"\x04\x03\xe8\x00\x00", 0x03),  # read 0 registers
        (b"\x04\x03\xe8\x00\xc8", 0x03),  # read 200 registers (max 125)
        (b"\x03\xff\xf0\x00\x7d", 0x02),  # runs past 65535 / unmapped
        (b"\x10\x0b\xb8\x00\x02\x02\x00\x07", 0x03),  # byte count says 2 registers' worth, count 2
    ],
)
async def test_malformed_requests_answer_an_exception(
    start_service: Callable[..., Any], pdu: bytes, code: int
) -> None:
    service = await start_service()
    answer = await exchange(service.port, mbap(pdu, tid=5))
    assert answer[7] == pdu[0] | 0x80
    assert answer[8] == code


async def test_truncated_and_mislabelled_frames_do_not_stop_the_server(
    start_service: Callable[..., Any],
) -> None:
    service = await start_service()
    frames = [
        mbap(b"\x04\x03\xe8\x00\x01")[:9],  # truncated, then the connection closes
        mbap(b"\x04\x03\xe8\x00\x01", length=200),  # says 200 bytes follow, sends 5
        mbap(b"\x04\x03\xe8", length=2),  # says fewer bytes than the PDU needs
        b"\x00\x01\x12\x34\x00\x06\x01\x04\x03\xe8\x00\x01",  # protocol id not 0
        b"\xff" * 300,  # longer than any Modbus frame
        b"",
    ]
    for frame in frames:
        answer = await exchange(service.port, frame, timeout=0.3)
        assert answer == b"" or answer[7] & 0x80  # silence or an exception, never a wrong answer
    r = await mbpoll("-t", "3", "-r", "1003", "-p", str(service.port), "127.0.0.1")
    assert r.returncode == 0


async def _random_frames(port: int, rng: random.Random, frames: int, connections: int) -> None:
    """Blast random frames: most connections send valid MBAP headers around random PDUs, the
    last one raw garbage (which loses the framing for good, as it would on a real stream)."""

    async def one(n: int, garbage: bool) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)

        async def drain() -> None:
            while await reader.read(65536):
                pass

        task = asyncio.create_task(drain())
        for i in range(n):
            if garbage:
                frame = rng.randbytes(rng.randrange(1, 40))
            else:
                pdu = bytes([rng.choice([1, 2, 3, 4, 5, 6, 15, 16, 23, 8, 43, rng.randrange(256)])])
                pdu += rng.randbytes(rng.randrange(0, 12))
                frame = mbap(pdu, unit=rng.choice([1, 1, 1, 0, 255]), tid=i & 0xFFFF)
            writer.write(frame)
            if i % 20 == 0:
                await writer.drain()
                await asyncio.sleep(0.001)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(task, 5)

    per = frames // connections
    await asyncio.gather(*(one(per, garbage=k == connections - 1) for k in range(connections)))


async def test_ten_thousand_random_frames(
    start_service: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service(writes={"enabled": True, "allow": ["10.9.9.9"]})
    rng = random.Random(8)
    tracemalloc.start()
    try:
        await _random_frames(service.port, rng, 5000, 10)
        await asyncio.sleep(0.2)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        await _random_frames(service.port, rng, 5000, 10)
        await asyncio.sleep(0.2)
        gc.collect()
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert second - first < 1_000_000, f"memory grew by {second - first} bytes over 5,000 frames"
    # the log is not flooded: pymodbus's complaints come in small bursts, the rest are counted
    assert sum(r.name.startswith("pymodbus") for r in caplog.records) <= 10
    assert service.tcp.stats["bad_frames"] + service.store.exceptions > 1000  # refused, not ignored
    assert not service.tcp.tasks  # every request task finished
    assert not service.tcp.active_connections  # every hostile connection was closed and forgotten
    r = await mbpoll("-t", "3", "-r", "10000", "-c", "3", "-p", str(service.port), "127.0.0.1")
    assert list(r.values().values()) == ["13200", "13201", "13202"]
