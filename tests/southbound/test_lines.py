"""Transports against the simulator in its own process: TCP (``socket://``), a pty (serial), RFC 2217.

Decoded values are checked against the registers read by pymodbus's own client, an
independent Modbus master.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.framer import FramerType

from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import MonitorBinding
from gateway.core.model import ChannelReading, Quality
from plugins.transport_serial.serial_port import SerialOptions, SerialTransport
from plugins.transport_serial.tcp import SocketOptions, SocketTransport
from tests.southbound.helpers import DRIVERS, make_ctx
from tests.southbound.simproc import simulator

BINDINGS = [MonitorBinding(a, "C20") for a in (1, 2, 3, 4)] + [
    MonitorBinding(100, "CS"),
    MonitorBinding(110, "THS"),
    MonitorBinding(120, "AUX"),
]


def _master(transport, baud: int = 19200) -> BusMaster:
    line = SimpleNamespace(name="bus1", url=transport.url, baud=baud, polling={})
    m = BusMaster(
        line,
        transport,
        BINDINGS,
        DRIVERS,
        transport.ctx,
        lambda r: None,
        BusSettings(cycle_s=0, timeout_s=0.2),
    )
    m.ri_permitted = lambda a: False
    return m


async def _poll_and_compare(master: BusMaster, client) -> None:
    """One cycle; then pymodbus reads unit 1..4's measurement block: same SEQ → same numbers."""
    for _attempt in range(3):
        r = await master.run_once()
        assert r.line_stats.state == "up"
        assert {x.address for x in r.readings if x.quality is Quality.GOOD} == {1, 2, 3, 4, 100, 110, 120}
        same = True
        for x in r.readings:
            if isinstance(x, ChannelReading):
                rr = await client.read_input_registers(0, count=10, device_id=x.address)
                assert not rr.isError()
                regs = rr.registers
                if regs[1] != x.seq:
                    same = False  # the monitor measured on its own in between: try again
                    break
                assert x.voltage_v == pytest.approx(regs[2] / 1000)
                assert x.temperature_c == pytest.approx((regs[3] - (65536 if regs[3] & 0x8000 else 0)) / 10)
        if same:
            return
    pytest.fail("SEQ kept moving between our poll and pymodbus's read")


async def test_socket_transport_against_simulator_over_tcp():
    with simulator("--listen", "tcp://127.0.0.1:0", "--units", "4", "--strings", "1") as where:
        port = int(where.rsplit(":", 1)[1])
        ctx = make_ctx()
        transport = SocketTransport(f"socket://127.0.0.1:{port}", SocketOptions(), ctx)
        master = _master(transport)
        client = AsyncModbusTcpClient("127.0.0.1", port=port, framer=FramerType.RTU, timeout=1, retries=1)
        try:
            r = await master.run_once()  # first: the master has the line alone
            assert r.unit_stats[1].serial is not None
            await master.stop()
            await client.connect()
            await _poll_and_compare(master, client)
        finally:
            client.close()
            await master.stop()


async def test_serial_transport_against_simulator_on_a_pty():
    with simulator("--pty", "--units", "4", "--strings", "1") as path:
        ctx = make_ctx()
        transport = SerialTransport(path, SerialOptions(), ctx)
        master = _master(transport)
        try:
            r = await master.run_once()
            assert r.line_stats.state == "up"
            assert {x.address for x in r.readings if x.quality is Quality.GOOD} == {1, 2, 3, 4, 100, 110, 120}
            volts = [x.voltage_v for x in r.readings if isinstance(x, ChannelReading)]
            assert all(9.7 < v < 17.0 for v in volts)
        finally:
            await master.stop()
        # an independent master on the same pty sees the same monitors
        client = AsyncModbusSerialClient(path, framer=FramerType.RTU, baudrate=19200, timeout=1, retries=1)
        try:
            await client.connect()
            rr = await client.read_input_registers(100, count=6, device_id=2)
            assert rr.registers[0] == 20
            assert (rr.registers[3] << 16 | rr.registers[4]) == r.unit_stats[2].serial
        finally:
            client.close()


async def test_vanished_converter_is_reopened_and_recovers_in_one_cycle():
    with simulator("--listen", "tcp://127.0.0.1:0", "--units", "4", "--strings", "1") as where:
        port = int(where.rsplit(":", 1)[1])
        ctx = make_ctx()
        transport = SocketTransport(f"socket://127.0.0.1:{port}", SocketOptions(), ctx)
        master = _master(transport)
        try:
            r = await master.run_once()
            assert r.line_stats.state == "up"
        except BaseException:
            await master.stop()
            raise
    try:
        # the converter is gone: the master notices, keeps cycling, announces it once
        events = []
        for _ in range(3):
            r = await master.run_once()
            events += [e.code for e in r.events]
            assert r.line_stats.state == "reconnecting"
            assert all(x.quality is Quality.COMM_LOST for x in r.readings)
        assert events == ["line_down"]
        # it comes back on the same address: the next cycle reopens and reads everyone
        with simulator("--listen", f"tcp://127.0.0.1:{port}", "--units", "4", "--strings", "1"):
            master._next_open = 0.0  # the real-time backoff is not what this test waits for
            r = await master.run_once()
            assert r.line_stats.state == "up"
            assert all(x.quality is Quality.GOOD for x in r.readings)
            assert [(e.code, e.state) for e in r.events] == [("line_down", "cleared")]
    finally:
        await master.stop()


async def test_rfc2217_transport_sets_the_port_and_polls():
    from plugins.transport_serial.rfc2217 import Rfc2217Options, Rfc2217Transport
    from tests.southbound.rfc2217_server import Rfc2217Server

    with simulator("--listen", "tcp://127.0.0.1:0", "--units", "4", "--strings", "1") as where:
        port = int(where.rsplit(":", 1)[1])
        server = Rfc2217Server("127.0.0.1", port)
        rfc_port = await server.start()
        ctx = make_ctx()
        transport = Rfc2217Transport(f"rfc2217://127.0.0.1:{rfc_port}", Rfc2217Options(), ctx)
        master = _master(transport, baud=19200)
        try:
            r = await master.run_once()
            assert server.settings.baudrate == 19200  # the client set the remote port's speed
            assert r.line_stats.state == "up"
            assert {x.address for x in r.readings if x.quality is Quality.GOOD} == {1, 2, 3, 4, 100, 110, 120}
        finally:
            await master.stop()
            await server.close()
