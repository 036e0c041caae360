"""The generic register-map driver against pymodbus's own server (RTU frames over TCP).

Raw register values are written here by hand from the datasheet-style examples, so a
wrong byte/word order or scale in the driver cannot cancel out.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import MonitorBinding
from gateway.core.model import ChannelReading, SensorReading
from plugins.monitors.generic import RegisterMap, load_map, plan_blocks
from plugins.transport_serial.tcp import SocketOptions, SocketTransport
from tests.southbound.helpers import DRIVERS, make_ctx

MAPS = Path(__file__).resolve().parents[2] / "config" / "maps"


def _regs(address: int, values: list[int]) -> SimData:
    return SimData(address, values=values, datatype=DataType.REGISTERS)


def _bit(value: bool = False) -> SimData:
    # pymodbus wants every one of the four tables to hold something
    return SimData(0, values=[value], datatype=DataType.BITS)


async def _serve(
    device: SimDevice, port: int, requests: list[tuple[int, int, int]], times: list[float] | None = None
) -> ModbusTcpServer:
    def trace(sending: bool, pdu):
        if not sending:
            requests.append((pdu.function_code, pdu.address, pdu.count))
            if times is not None:
                times.append(time.monotonic())
        return pdu

    server = ModbusTcpServer(device, framer=FramerType.RTU, address=("127.0.0.1", port), trace_pdu=trace)
    await server.serve_forever(background=True)
    return server


async def _poll(port: int, map_file: str, unit: int) -> list:
    ctx = make_ctx(config_dir=MAPS.parent)
    transport = SocketTransport(f"socket://127.0.0.1:{port}", SocketOptions(), ctx)
    line = SimpleNamespace(name="bus9", url=transport.url, baud=19200, polling={})
    binding = MonitorBinding(unit, "generic", options={"map": f"maps/{map_file}"})
    m = BusMaster(
        line,
        transport,
        [binding],
        DRIVERS,
        ctx,
        lambda r: None,
        BusSettings(cycle_s=0, timeout_s=0.5, broadcast_measure=False),
    )
    try:
        for _ in range(20):  # the server may need a moment to accept
            r = await m.run_once()
            if r.line_stats.state == "up":
                return r.readings
            await asyncio.sleep(0.05)
        pytest.fail("no reply from the pymodbus server")
    finally:
        await m.stop()


async def test_lfp_bms_map(free_port: int):
    cells = [3300 + i for i in range(16)]  # mV
    current = -1234  # 10 mA units: -12.34 A, int32 with the LOW word first
    cur = current & 0xFFFF_FFFF
    holding = [
        _regs(0, cells),
        _regs(16, [cur & 0xFFFF, cur >> 16, 5312, 87, 251, (-15) & 0xFFFF]),
        _regs(40, [0b0101]),
    ]
    device = SimDevice(7, simdata=([_bit()], [_bit()], holding, [_regs(1000, [0])]))
    requests: list[tuple[int, int, int]] = []
    times: list[float] = []
    server = await _serve(device, free_port, requests, times)
    try:
        readings = await _poll(free_port, "example-lfp-bms-16s.yaml", 7)
    finally:
        await server.shutdown()
    cells_read = {r.channel: r.voltage_v for r in readings if isinstance(r, ChannelReading)}
    assert cells_read == {i: pytest.approx(v / 1000) for i, v in enumerate(cells)}
    pack = next(r for r in readings if isinstance(r, SensorReading))
    assert pack.values == pytest.approx(
        {
            "pack_current_a": -12.34,
            "pack_voltage_v": 53.12,
            "soc_pct": 87.0,
            "cell_temperature_max_c": 25.1,
            "cell_temperature_min_c": -1.5,
        }
    )
    assert pack.flags == {"cell_over_voltage", "over_current"}
    assert max(count for _fc, _a, count in requests) <= 16  # the device's limit per request
    # the map's pause_s (20 ms) is kept between two requests to the device
    assert len(times) >= 3
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.018


async def test_float_monitor_map_byte_swapped(free_port: int):
    # IEEE 754: 54.5 = 0x425A0000, 12.25 = 0x41440000, 13.5 = 0x41580000; each word byte-swapped
    def swapped(hi: int, lo: int) -> list[int]:
        return [((w & 0xFF) << 8) | (w >> 8) for w in (hi, lo)]

    inputs = [
        _regs(0, swapped(0x425A, 0) + swapped(0xC120, 0) + swapped(0x3F00, 0) + swapped(0x41BC, 0)),
        _regs(10, swapped(0x4158, 0) * 2 + swapped(0x4144, 0) * 2),
        _regs(20, [231]),
    ]
    device = SimDevice(3, simdata=([_bit()], [_bit(True)], [_regs(1000, [0])], inputs))
    requests: list[tuple[int, int, int]] = []
    server = await _serve(device, free_port, requests)
    try:
        readings = await _poll(free_port, "example-float-string-monitor.yaml", 3)
    finally:
        await server.shutdown()
    s = next(r for r in readings if isinstance(r, SensorReading))
    assert s.values == pytest.approx(
        {
            "string_voltage_v": 54.5,
            "string_current_a": -10.0,
            "ripple_a": 0.5,
            "ambient_c": 23.5,
            "breaker_closed": 1.0,
        }
    )
    blocks = {r.channel: (r.voltage_v, r.temperature_c) for r in readings if isinstance(r, ChannelReading)}
    assert blocks == {0: (13.5, pytest.approx(23.1)), 1: (13.5, None), 2: (12.25, None), 3: (12.25, None)}
    assert max(count for fc, _a, count in requests if fc == 4) <= 8


def test_blocks_are_contiguous_and_split_at_the_limit():
    m = RegisterMap.model_validate(
        {
            "device": "t",
            "max_registers_per_request": 4,
            "points": [{"name": f"p{a}", "address": a} for a in (0, 1, 2, 3, 4, 5, 9)]
            + [{"name": "f", "address": 20, "type": "float32"}],
        }
    )
    assert [(b.address, b.count) for b in plan_blocks(m.points, 4)] == [(0, 4), (4, 2), (9, 1), (20, 2)]


def test_shipped_maps_validate():
    for f in MAPS.glob("*.yaml"):
        assert load_map({"map": f.name}, MAPS).points
