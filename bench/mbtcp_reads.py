"""Cost of the ``mbtcp://`` translation: C20 measurement reads through it vs pymodbus's own TCP client.

Both read input registers 0–9 of unit 1, one request at a time, from the same pymodbus
Modbus TCP server on loopback; the ratio is our reads/s over the reference client's.

Run: .venv/bin/python bench/mbtcp_reads.py [--reads N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from gateway.core.bus.driver import READ_INPUT, ReadBlock
from gateway.core.bus.tools import rtu_for
from gateway.core.clock import RealClock
from gateway.core.commands import CommandQueue
from gateway.core.components import GatewayContext
from gateway.core.events import EventBus
from plugins.transport_serial.mbtcp import MbtcpOptions, MbtcpTransport


def c20() -> SimDevice:
    regs = [SimData(0, values=[1, 7, 13_500, 251, 412, 30, 0, 0, 0, 0], datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=[False], datatype=DataType.BITS)]
    return SimDevice(1, simdata=(bits, list(bits), list(regs), regs))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ours(port: int, reads: int) -> float:
    ctx = GatewayContext(RealClock(), CommandQueue(), EventBus(), Path.cwd(), Path.cwd())
    transport = MbtcpTransport(f"mbtcp://127.0.0.1:{port}", MbtcpOptions(), ctx)
    await transport.open()
    rtu = rtu_for(transport, 115200, 0.5)
    block = ReadBlock(READ_INPUT, 0, 10)
    try:
        started = time.perf_counter()
        for _ in range(reads):
            await rtu.read(1, block)
        return reads / (time.perf_counter() - started)
    finally:
        await transport.close()


async def reference(port: int, reads: int) -> float:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    await client.connect()
    try:
        started = time.perf_counter()
        for _ in range(reads):
            rr = await client.read_input_registers(0, count=10, device_id=1)
            assert not rr.isError()
        return reads / (time.perf_counter() - started)
    finally:
        client.close()


async def main(reads: int) -> None:
    port = free_port()
    server = ModbusTcpServer(c20(), address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    try:
        await ours(port, 50)  # warm-up both paths
        await reference(port, 50)
        mine = await ours(port, reads)
        ref = await reference(port, reads)
    finally:
        await server.shutdown()
    print(f"mbtcp:// through RtuClient   : {mine:8.0f} reads/s (10 registers, unit 1)")
    print(f"pymodbus AsyncModbusTcpClient: {ref:8.0f} reads/s")
    print(f"ratio ours/reference          : {mine / ref:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=2000, help="reads per client (2000)")
    asyncio.run(main(parser.parse_args().reads))
