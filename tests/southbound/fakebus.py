"""A tiny in-memory RS-485 line of profile devices, for unit tests of the bus master.

Not the simulator: no physics, no timing; it answers RTU frames (pymodbus framing) from
register tables the test sets, and can drop, garble or go silent on request.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.bit_message import ReadCoilsResponse, WriteSingleCoilResponse
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from gateway.core.components import EmptyConfig, GatewayContext, Transport


@dataclass
class FakeDevice:
    """Register tables of one device; block monitors bump SEQ on MEASURE."""

    address: int
    model_code: int
    serial: int
    channels: int = 1
    firmware: int = 0x0102
    inputs: dict[int, int] = field(default_factory=dict)
    holding: dict[int, int] = field(default_factory=dict)
    coils: dict[int, int] = field(default_factory=dict)
    learn: bool = False
    dead: bool = False
    writes: list[tuple[int, int, tuple[int, ...]]] = field(default_factory=list)  # (fc, address, values)

    def __post_init__(self) -> None:
        ident = {
            100: self.model_code,
            101: 1,
            102: self.firmware,
            103: self.serial >> 16,
            104: self.serial & 0xFFFF,
            105: self.channels,
        }
        for k, v in ident.items():
            self.inputs.setdefault(k, v)
        self.inputs.setdefault(0, 1)
        self.inputs.setdefault(1, 0)

    def measure(self) -> None:
        self.inputs[1] = (self.inputs.get(1, 0) + 1) & 0xFFFF


class FakeLine(Transport):
    """A Transport whose other end is a dict of :class:`FakeDevice` by address."""

    Config = EmptyConfig

    def __init__(self, ctx: GatewayContext, devices: list[FakeDevice], seed: int = 1) -> None:
        super().__init__("fake://line", EmptyConfig(), ctx)
        self.devices = {d.address: d for d in devices}
        self._rx = bytearray()
        self._arrived = asyncio.Event()
        self._server = FramerRTU(DecodePDU(is_server=True))
        self.crc_error_rate = 0.0
        self.drop_rate = 0.0
        self.silent = False  # the whole line: cable cut, converter off
        self.fail_open = False
        self.is_open = False
        self.broadcasts = 0
        self._rng = random.Random(seed)

    async def open(self) -> None:
        if self.fail_open:
            raise OSError("no such device")
        self.is_open = True

    async def close(self) -> None:
        self.is_open = False

    async def write(self, data: bytes) -> None:
        if not self.is_open:
            raise ConnectionError("closed")
        _used, pdu = self._server.handleFrame(data, 0, 0)
        assert pdu is not None, f"master sent an undecodable frame {data.hex()}"
        reply = self._answer(pdu)
        if reply is None or self.silent or self._rng.random() < self.drop_rate:
            return
        if self._rng.random() < self.crc_error_rate:
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        self._rx += reply
        self._arrived.set()

    async def read(self, size: int, timeout: float) -> bytes:
        if not self.is_open:
            raise ConnectionError("closed")
        if not self._rx:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return b""
        out = bytes(self._rx[:size])
        del self._rx[:size]
        return out

    def reset_input(self) -> None:
        self._rx.clear()

    # ------------------------------------------------------------------ the devices' side
    def _answer(self, pdu: object) -> bytes | None:
        unit = pdu.dev_id  # type: ignore[attr-defined]
        fc = pdu.function_code  # type: ignore[attr-defined]
        if unit == 0:
            self.broadcasts += 1
            if fc == 6 and pdu.address == 4:  # type: ignore[attr-defined]
                for d in self.devices.values():
                    if not d.dead:
                        d.measure()
            return None
        targets = [
            d
            for d in self.devices.values()
            if not d.dead and (d.address == unit or (unit == 247 and d.learn))
        ]
        if not targets:
            return None
        if len(targets) > 1:
            return b"\xf7\x04\x02\xff\x13\x37\x00"  # two transmitters at once: garbage
        d = targets[0]
        resp = self._serve(d, pdu)
        resp.dev_id = unit
        return self._server.buildFrame(resp)

    def _serve(self, d: FakeDevice, pdu: object) -> object:
        fc, addr = pdu.function_code, pdu.address  # type: ignore[attr-defined]
        if fc in (3, 4):
            table = d.inputs if fc == 4 else d.holding
            count = pdu.count  # type: ignore[attr-defined]
            if fc == 4 and not all(a in table or a < 26 for a in range(addr, addr + count)):
                return ExceptionResponse(fc, 2)
            regs = [table.get(a, 0) for a in range(addr, addr + count)]
            cls = ReadInputRegistersResponse if fc == 4 else ReadHoldingRegistersResponse
            return cls(registers=regs)
        if fc == 1:
            return ReadCoilsResponse(bits=[bool(d.coils.get(a, 0)) for a in range(addr, addr + pdu.count)])  # type: ignore[attr-defined]
        if fc == 6:
            value = pdu.registers[0]  # type: ignore[attr-defined]
            d.writes.append((6, addr, (value,)))
            if addr == 7:
                if not d.learn:
                    return ExceptionResponse(6, 3)
                resp = WriteSingleRegisterResponse(address=addr, registers=[value])
                d.address, d.learn = value, False
                self.devices = {x.address: x for x in self.devices.values()}
                return resp
            if addr == 5 and any(d.holding.get(c, 0) for c in range(3)):
                return ExceptionResponse(6, 6)
            if addr == 4:
                d.measure()
            d.holding[addr] = value
            return WriteSingleRegisterResponse(address=addr, registers=[value])
        if fc == 16:
            d.writes.append((16, addr, tuple(pdu.registers)))  # type: ignore[attr-defined]
            for i, v in enumerate(pdu.registers):  # type: ignore[attr-defined]
                d.holding[addr + i] = v
            return WriteMultipleRegistersResponse(address=addr, count=len(pdu.registers))  # type: ignore[attr-defined]
        if fc == 5:
            on = bool(pdu.bits[0])  # type: ignore[attr-defined]
            d.writes.append((5, addr, (int(on),)))
            d.coils[addr] = int(on)
            return WriteSingleCoilResponse(address=addr, bits=[on])
        return ExceptionResponse(fc, 1)


def c20(address: int, serial: int = 1000, volts_mv: int = 13_500) -> FakeDevice:
    """A C20 with plausible measurement registers."""
    d = FakeDevice(address, 20, serial)
    d.inputs.update({2: volts_mv, 3: 235, 4: 0xFFFF, 5: 65535, 6: 0, 7: 0, 8: 0, 9: 0})
    return d
