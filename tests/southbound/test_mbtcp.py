"""``mbtcp://``: RTU frames translated to Modbus TCP for an RS-485 gateway (Moxa MGate, USR).

Byte-exact checks against a scripted gateway, then pymodbus's Modbus TCP server as the
independent peer: ``cellgate bus scan`` finds its C20-shaped devices and a bus master polls them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
import structlog
from pymodbus.constants import ExcCodes
from pymodbus.pdu import ExceptionResponse
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

import gateway.cli.common
from gateway.core.bus.cli import BusCommand
from gateway.core.bus.master import BusMaster
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import MonitorBinding
from gateway.core.model import ChannelReading, Quality
from gateway.plugins import load_plugins
from plugins.monitors import plugin as monitors_plugin
from plugins.transport_serial import plugin as transport_plugin
from plugins.transport_serial.mbtcp import MbtcpOptions, MbtcpTransport
from tests.southbound.helpers import DRIVERS, make_ctx

# Frames with their CRCs written out (the classic examples of the Modbus documents), not computed here.
RTU_REQUEST = bytes.fromhex("01030000000AC5CD")  # unit 1, read 10 holding registers from 0
RTU_REPLY = bytes.fromhex("01030200017984")  # unit 1, one register holding 1


class ScriptedGateway:
    """A TCP peer that records what arrives and sends back exactly the bytes a test gives it."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.writer: asyncio.StreamWriter | None = None
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        while data := await reader.read(1024):
            await self.received.put(data)

    async def request(self, size: int) -> bytes:
        """Exactly ``size`` bytes of what the transport sent."""
        data = b""
        while len(data) < size:
            data += await asyncio.wait_for(self.received.get(), 2)
        return data

    def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    async def stop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def gateway_and_transport() -> AsyncIterator[tuple[ScriptedGateway, MbtcpTransport]]:
    gw = ScriptedGateway()
    port = await gw.start()
    transport = MbtcpTransport(f"mbtcp://127.0.0.1:{port}", MbtcpOptions(), make_ctx())
    await transport.open()
    try:
        yield gw, transport
    finally:
        await transport.close()
        await gw.stop()


async def test_rtu_request_becomes_mbap_and_reply_becomes_rtu(gateway_and_transport):
    gw, transport = gateway_and_transport
    assert transport.char_time_s == 0.0
    await transport.write(RTU_REQUEST)
    # tid 1, protocol 0, length 6 (unit + PDU of 5), unit 1, PDU without the CRC
    assert await gw.request(12) == bytes.fromhex("0001 0000 0006 01 030000000A")
    # the reply arrives in two TCP segments; the RTU frame comes back whole and exact
    gw.send(bytes.fromhex("0001 0000 0005 01"))
    await asyncio.sleep(0.01)
    gw.send(bytes.fromhex("03020001"))
    got = b""
    while len(got) < len(RTU_REPLY):
        chunk = await transport.read(256, 1.0)
        assert chunk, "no reply handed back"
        got += chunk
    assert got == RTU_REPLY
    await transport.write(RTU_REQUEST)
    assert (await gw.request(12))[:2] == b"\x00\x02"  # next transaction id


async def test_stale_reply_is_dropped_and_the_awaited_one_delivered(gateway_and_transport):
    gw, transport = gateway_and_transport
    transport.config = MbtcpOptions(gateway_timeout_s=0)  # send at once, whatever is outstanding
    await transport.write(RTU_REQUEST)
    await gw.request(12)  # tid 1: the master gives up on it
    await transport.write(RTU_REQUEST)
    await gw.request(12)  # tid 2
    transport.reset_input()
    gw.send(bytes.fromhex("0001 0000 0005 01 03020009") + bytes.fromhex("0002 0000 0005 01 03020001"))
    assert await transport.read(256, 1.0) == RTU_REPLY
    assert transport.dropped == 1


@pytest.mark.parametrize("code", [0x0A, 0x0B])
async def test_gateway_no_response_exception_is_silence(gateway_and_transport, code: int):
    gw, transport = gateway_and_transport
    await transport.write(RTU_REQUEST)
    await gw.request(12)
    gw.send(bytes.fromhex("0001 0000 0003 01 83") + bytes([code]))
    assert await transport.read(256, 0.2) == b""  # the master counts a timeout, not an exception
    assert transport.dropped == 1


async def test_next_request_waits_for_the_gateway_to_give_up_on_the_last(gateway_and_transport):
    gw, transport = gateway_and_transport
    await transport.write(RTU_REQUEST)
    await gw.request(12)
    assert await transport.read(256, 0.05) == b""  # the master gives up; the gateway still waits
    second = asyncio.create_task(transport.write(RTU_REQUEST))
    await asyncio.sleep(0.2)
    assert gw.received.empty()  # not queued behind the gateway's pending transaction
    gw.send(bytes.fromhex("0001 0000 0003 01 830B"))  # the gateway's own timeout expires
    assert (await gw.request(12))[:2] == b"\x00\x02"
    await second


async def test_gateway_timeout_bounds_the_wait():
    gw = ScriptedGateway()
    port = await gw.start()
    options = MbtcpOptions(gateway_timeout_s=0.3)
    transport = MbtcpTransport(f"mbtcp://127.0.0.1:{port}", options, make_ctx())
    try:
        await transport.open()
        await transport.write(RTU_REQUEST)
        await gw.request(12)
        started = asyncio.get_running_loop().time()
        await transport.write(RTU_REQUEST)  # a gateway that never answers: wait 0.3 s, then go on
        waited = asyncio.get_running_loop().time() - started
        assert (await gw.request(12))[:2] == b"\x00\x02"
        assert 0.25 < waited < 0.9  # the option, not the 1 s default
    finally:
        await transport.close()
        await gw.stop()


async def test_other_exceptions_pass_through(gateway_and_transport):
    gw, transport = gateway_and_transport
    await transport.write(RTU_REQUEST)
    await gw.request(12)
    gw.send(bytes.fromhex("0001 0000 0003 01 8302"))
    assert await transport.read(256, 1.0) == bytes.fromhex("018302C0F1")  # illegal data address


async def test_broadcast_expects_no_reply_and_bad_frames_are_refused(gateway_and_transport):
    gw, transport = gateway_and_transport
    broadcast = bytes.fromhex("000600040001081A")  # MEASURE to everyone
    await transport.write(broadcast)
    assert await gw.request(12) == bytes.fromhex("0001 0000 0006 00 0600040001")
    gw.send(bytes.fromhex("0001 0000 0006 00 0600040001"))  # a gateway that echoes anyway
    assert await transport.read(256, 0.1) == b""
    with pytest.raises(ValueError, match="CRC"):
        await transport.write(RTU_REQUEST[:-1] + b"\x00")


async def test_garbled_stream_is_a_line_failure(gateway_and_transport):
    gw, transport = gateway_and_transport
    await transport.write(RTU_REQUEST)
    await gw.request(12)
    gw.send(bytes.fromhex("0001 0007 0005 01 03020001"))  # protocol id 7: not Modbus
    with pytest.raises(ConnectionError, match="not a Modbus TCP reply"):
        await transport.read(256, 1.0)


async def test_unreachable_gateway_is_an_oserror(free_port: int):
    transport = MbtcpTransport(f"mbtcp://127.0.0.1:{free_port}", MbtcpOptions(), make_ctx())
    with pytest.raises(OSError):  # refused: any OSError, on which the master retries
        await transport.open()
    await transport.close()


# --- against pymodbus's Modbus TCP server, an independent implementation ---------------------

C20_UNITS = {1: (13_512, 251, 412, 0x1000_0001), 2: (13_488, 238, 395, 0x1000_0002)}  # V mV, T 0.1 °C, RI


def c20_device(unit: int) -> SimDevice:
    """Registers shaped like a C20 monitor (monitor-bus profile v1)."""
    v, t, ri, serial = C20_UNITS[unit]
    inputs = [
        SimData(0, values=[0b1, 7, v, t, ri, 30, 0, 0, 0, 0], datatype=DataType.REGISTERS),
        SimData(100, values=[20, 2, 0x0104, serial >> 16, serial & 0xFFFF, 1], datatype=DataType.REGISTERS),
    ]
    holding = [SimData(0, values=[0] * 13, datatype=DataType.REGISTERS)]
    bits = [SimData(0, values=[False], datatype=DataType.BITS)]  # pymodbus wants all four tables
    return SimDevice(unit, simdata=(bits, list(bits), holding, inputs))


@pytest.fixture
async def modbus_tcp_server(free_port: int) -> AsyncIterator[tuple[int, list[tuple[int, int, int]]]]:
    requests: list[tuple[int, int, int]] = []  # (unit, function, address) as the server saw them

    def trace(sending: bool, pdu):
        if not sending:
            requests.append((pdu.dev_id, pdu.function_code, pdu.address))
        elif isinstance(pdu, ExceptionResponse) and pdu.dev_id not in C20_UNITS:
            # pymodbus answers an unknown unit with 0x04 (see PITFALLS); a gateway whose
            # RS-485 device stays silent answers 0x0B: make the server behave like one
            pdu.exception_code = ExcCodes.GATEWAY_NO_RESPONSE
        return pdu

    server = ModbusTcpServer(
        [c20_device(1), c20_device(2)],
        address=("127.0.0.1", free_port),
        broadcast_enable=True,
        trace_pdu=trace,
    )
    await server.serve_forever(background=True)
    try:
        yield free_port, requests
    finally:
        await server.shutdown()


@pytest.fixture
def _cli_plugins(monkeypatch):
    """The bus tools with this area's transports and drivers; the CLI's logging put back after."""
    plugins = load_plugins(
        use_entry_points=False, extra={"monitors": monitors_plugin, "transport_serial": transport_plugin}
    )
    monkeypatch.setattr(gateway.cli.common, "plugins", lambda: plugins)
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def run_bus(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cmd = BusCommand()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(list(argv)))


@pytest.mark.usefixtures("_cli_plugins")
async def test_bus_scan_over_mbtcp_finds_the_devices(modbus_tcp_server, capsys):
    port, _requests = modbus_tcp_server
    # the command runs its own event loop: give it a thread while the server runs on ours
    code = await asyncio.to_thread(
        run_bus, "scan", f"mbtcp://127.0.0.1:{port}", "--json", "--addresses", "1-3", "--timeout", "0.2"
    )
    assert code == 0
    found = json.loads(capsys.readouterr().out)
    assert [(d["address"], d["model"], d["serial"], d["firmware"], d["channels"]) for d in found] == [
        (1, "C20", 0x1000_0001, "1.4", 1),
        (2, "C20", 0x1000_0002, "1.4", 1),
    ]


async def test_bus_master_polls_over_mbtcp(modbus_tcp_server):
    port, requests = modbus_tcp_server
    transport = MbtcpTransport(f"mbtcp://127.0.0.1:{port}", MbtcpOptions(), make_ctx())
    line = SimpleNamespace(name="bus1", url=transport.url, baud=19200, polling={})
    bindings = [MonitorBinding(a, "C20") for a in (1, 2, 3)]  # 3: absent, the gateway says 0x0B
    master = BusMaster(
        line,
        transport,
        bindings,
        DRIVERS,
        transport.ctx,
        lambda r: None,
        BusSettings(cycle_s=0, timeout_s=0.2),
    )
    master.ri_permitted = lambda a: False
    try:
        r = await master.run_once()
        assert r.line_stats.state == "up"
        readings = {x.address: x for x in r.readings if isinstance(x, ChannelReading)}
        assert r.unit_stats[1].serial == 0x1000_0001
        assert r.unit_stats[2].serial == 0x1000_0002
        # the absent unit is silence to the master (timeouts), not a device answering exceptions
        assert r.unit_stats[3].timeouts >= 1
        assert r.unit_stats[3].exceptions == 0
        assert r.line_stats.exceptions == 0
        assert transport.dropped >= 1
    finally:
        await master.stop()
    for unit, (v, t, ri, _serial) in C20_UNITS.items():
        x = readings[unit]
        assert x.quality is Quality.GOOD
        assert x.voltage_v == pytest.approx(v / 1000)
        assert x.temperature_c == pytest.approx(t / 10)
        assert x.ri_ohm == pytest.approx(ri * 10e-6)
        assert x.seq == 7
    # the cycle's broadcast MEASURE reached the server as unit 0, HR4; each unit was read at IR 0
    assert (0, 6, 4) in requests
    assert {(1, 4, 0), (2, 4, 0)} <= set(requests)
