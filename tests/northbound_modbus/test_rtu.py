"""The RTU slave on a serial line: a socat pty pair, mbpoll as the RTU master on the other end."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import serial
from pymodbus.framer.rtu import FramerRTU

from tests.northbound_modbus.peers import Site, mbpoll
from tests.northbound_modbus.synthetic import LAYOUT
from tests.northbound_modbus.test_tcp import check_every_value
from tests.processes import stop_async


@pytest.fixture
async def pty_pair() -> AsyncIterator[tuple[str, str]]:
    assert shutil.which("socat"), "socat comes from scripts/peers/modbus-tools.sh"
    proc = await asyncio.create_subprocess_exec(
        "socat",
        "-d",
        "-d",
        "pty,raw,echo=0",
        "pty,raw,echo=0",
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    paths: list[str] = []
    try:
        while len(paths) < 2:
            line = (await asyncio.wait_for(proc.stderr.readline(), 10)).decode()
            if m := re.search(r"PTY is (\S+)", line):
                paths.append(m[1])
        yield paths[0], paths[1]
    finally:
        await stop_async(proc)


async def raw_exchange(master: str, unit: int, pdu: bytes) -> bytes:
    """Send one RTU frame from the master's pty and return what comes back within 0.5 s."""
    frame = bytes([unit]) + pdu
    frame += FramerRTU.compute_CRC(frame).to_bytes(2, "big")

    def exchange() -> bytes:
        with serial.Serial(master, 19200, timeout=0.5) as port:
            port.write(frame)
            return bytes(port.read(64))

    return await asyncio.to_thread(exchange)


# A pty takes no parity setting (termios refuses it), so the pair runs 8N1.
async def rtu(master: str, *args: str, values: tuple[str, ...] = ()) -> Any:
    return await mbpoll("-m", "rtu", "-b", "19200", "-P", "none", *args, master, *values)


async def test_rtu_slave_answers_from_the_snapshot(
    start_service: Callable[..., Any],
    pty_pair: tuple[str, str],
    site: Site,
) -> None:
    slave, master = pty_pair
    await start_service(
        tcp={"enabled": False},
        rtu={"port": slave, "parity": "N"},
        unit_ids=[3],
        writes={"enabled": True, "allow": ["rtu"]},
    )
    r = await rtu(master, "-a", "3", "-t", "3", "-r", "1003", "-c", "2")
    assert r.values() == {1003: str(sum(LAYOUT)), 1004: "3"}, r.exception
    r = await rtu(master, "-a", "3", "-t", "3", "-r", "10000", "-c", "6")
    assert list(r.values().values()) == ["13200", "13201", "13202", "13203", "13204", "65535"]
    r = await rtu(master, "-a", "3", "-t", "3", "-r", "20000")
    assert "Illegal data address" in r.exception
    # another slave's id on the shared line: silence, not an exception
    r = await rtu(master, "-a", "4", "-t", "3", "-r", "1003", "-o", "0.5")
    assert r.returncode != 0
    assert "timed out" in r.exception.lower()
    # the master on the RTU line may write when "rtu" is in the allow-list
    r = await rtu(master, "-a", "3", "-t", "0", "-r", "1", values=("1",))
    assert r.returncode == 0, r.exception
    assert [(c.kind, c.args, c.actor.user, c.actor.via) for c in site.commands] == [
        ("set_equalization", {"enabled": True, "string": 0}, f"modbus:rtu:{slave}", "modbus"),
    ]
    r = await rtu(master, "-a", "3", "-t", "3", "-r", "1003")
    assert r.values() == {1003: str(sum(LAYOUT))}  # still answering after all that
    # broadcast (id 0) is never answered; the same request to id 3 is (mbpoll cannot send id 0)
    assert await raw_exchange(master, 0, b"\x04\x03\xeb\x00\x01") == b""
    answer = await raw_exchange(master, 3, b"\x04\x03\xeb\x00\x01")
    assert answer[:3] == b"\x03\x04\x02"
    assert int.from_bytes(answer[3:5], "big") == sum(LAYOUT)


async def test_every_value_of_the_default_map_over_rtu(
    start_service: Callable[..., Any],
    pty_pair: tuple[str, str],
    site: Site,
) -> None:
    slave, master = pty_pair
    await start_service(tcp={"enabled": False}, rtu={"port": slave, "parity": "N"})
    target = ("-m", "rtu", "-b", "19200", "-P", "none", "-a", "1", master)
    assert await check_every_value(target, site) > 4000
