"""Modbus RTU transactions over a :class:`~gateway.core.components.Transport` byte stream.

pymodbus builds and parses the frames (PDUs, CRC); this module adds what a bus master needs
on a half-duplex line: inter-frame silence, reply timeouts from wire time, typed errors and
counters. Line timing here is real time, whatever speed the gateway clock runs at.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteMultipleCoilsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

from gateway.core.bus.driver import BROADCAST, ReadBlock, WriteOp
from gateway.core.components import Transport

#: the monitors answer within 10 ms after the request's last byte (datasheet)
TURNAROUND_MAX_S = 0.010
BITS_PER_CHAR = 10  # 8N1 on the wire: start + 8 data + stop
MODBUS_CHAR_BITS = 11  # the RTU spec's character for timing rules


class BusError(Exception):
    """A transaction that failed; the subclass says how."""


class ReplyTimeout(BusError):
    """No (complete) reply in time."""


class CrcError(BusError):
    """A reply arrived garbled (bad CRC, wrong unit, impossible frame)."""


class ExceptionReply(BusError):
    """The device answered with a Modbus exception."""

    def __init__(self, unit: int, function: int, code: int) -> None:
        super().__init__(f"unit {unit} answered function {function} with exception {code:02d}")
        self.code = code


class LineDown(BusError):
    """The transport failed (device unplugged, connection closed): reopen the line."""


@dataclass
class Counters:
    """Request counters of a line or of one unit."""

    requests: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    latency_total_s: float = 0.0
    latency_count: int = 0
    last_latency_s: float | None = None

    @property
    def latency_ms(self) -> float | None:
        return self.latency_total_s / self.latency_count * 1000 if self.latency_count else None

    def add_latency(self, seconds: float) -> None:
        self.latency_total_s += seconds
        self.latency_count += 1
        self.last_latency_s = seconds


@dataclass
class LineTiming:
    """Wire timing of a line at ``baud`` (8N1)."""

    baud: int
    emulated: bool = True  # False: the link (pty, TCP) carries no baud timing, skip the silences

    @property
    def char_s(self) -> float:
        return BITS_PER_CHAR / self.baud

    @property
    def silence_s(self) -> float:
        """Inter-frame silence: 3.5 characters up to 19200 baud, 1.75 ms above (datasheet)."""
        return 3.5 * MODBUS_CHAR_BITS / self.baud if self.baud <= 19200 else 0.00175

    def wire_s(self, nbytes: int) -> float:
        return nbytes * self.char_s


def request_pdu(unit: int, op: ReadBlock | WriteOp) -> ModbusPDU:
    """The pymodbus request PDU for a read block or a write."""
    if isinstance(op, ReadBlock):
        cls = {
            1: ReadCoilsRequest,
            2: ReadDiscreteInputsRequest,
            3: ReadHoldingRegistersRequest,
            4: ReadInputRegistersRequest,
        }[op.function]
        return cls(address=op.address, count=op.count, dev_id=unit)
    if op.function == 6:
        return WriteSingleRegisterRequest(address=op.address, registers=[op.values[0]], dev_id=unit)
    if op.function == 16:
        return WriteMultipleRegistersRequest(address=op.address, registers=list(op.values), dev_id=unit)
    if op.function == 5:
        return WriteSingleCoilRequest(address=op.address, bits=[bool(op.values[0])], dev_id=unit)
    if op.function == 15:
        return WriteMultipleCoilsRequest(address=op.address, bits=[bool(v) for v in op.values], dev_id=unit)
    raise ValueError(f"unsupported function {op.function}")


def reply_size(op: ReadBlock | WriteOp) -> int:
    """Bytes of a normal reply (address + function + data + CRC)."""
    if isinstance(op, ReadBlock):
        data = 2 * op.count if op.function in (3, 4) else (op.count + 7) // 8
        return 5 + data
    return 8


@dataclass
class RtuClient:
    """The master side of Modbus RTU on one line: one transaction at a time."""

    transport: Transport
    timing: LineTiming
    timeout_s: float = 0.05
    line: Counters = field(default_factory=Counters)
    units: dict[int, Counters] = field(default_factory=dict)
    log_frames: list[tuple[bytes, bytes]] | None = None  # (request, reply) pairs when capturing

    def __post_init__(self) -> None:
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._builder = FramerRTU(DecodePDU(is_server=True))
        self._quiet_since = 0.0  # real monotonic time the line went quiet

    def unit(self, address: int) -> Counters:
        c = self.units.get(address)
        if c is None:
            c = self.units[address] = Counters()
        return c

    def frame(self, unit: int, op: ReadBlock | WriteOp) -> bytes:
        return self._builder.buildFrame(request_pdu(unit, op))

    async def read(self, unit: int, block: ReadBlock) -> list[int]:
        """Registers (functions 3, 4) or bits (1, 2) of one read."""
        pdu = await self.execute(unit, block)
        if block.function in (1, 2):
            return [int(b) for b in list(pdu.bits)[: block.count]]
        regs = list(pdu.registers)
        if len(regs) != block.count:
            self._count(unit, "crc_errors")
            raise CrcError(f"unit {unit}: {len(regs)} registers in reply, asked {block.count}")
        return regs

    async def write(self, unit: int, op: WriteOp) -> None:
        """A write; to unit 0 (broadcast) nothing answers and nothing is awaited."""
        await self.execute(unit, op)

    async def execute(self, unit: int, op: ReadBlock | WriteOp) -> ModbusPDU:
        request = self.frame(unit, op)
        await self._wait_silence()
        self.transport.reset_input()
        self._count(unit, "requests")
        started = time.monotonic()
        try:
            await self.transport.write(request)
        except (OSError, EOFError) as e:
            raise LineDown(str(e) or type(e).__name__) from e
        wire_req = self.timing.wire_s(len(request))
        if unit == BROADCAST:
            self._quiet_since = started + wire_req
            if self.log_frames is not None:
                self.log_frames.append((request, b""))
            return request_pdu(unit, op)
        deadline = started + wire_req + TURNAROUND_MAX_S + self.timing.wire_s(reply_size(op)) + self.timeout_s
        raw, pdu = await self._receive(unit, deadline)
        if self.log_frames is not None:
            self.log_frames.append((request, raw))
        latency = time.monotonic() - started
        self.line.add_latency(latency)
        self.unit(unit).add_latency(latency)
        if isinstance(pdu, ExceptionResponse) or pdu.function_code > 0x80:
            self._count(unit, "exceptions")
            raise ExceptionReply(unit, op.function, int(getattr(pdu, "exception_code", 0)))
        if pdu.function_code != op.function:
            self._count(unit, "crc_errors")
            raise CrcError(f"unit {unit}: reply to function {pdu.function_code}, asked {op.function}")
        return pdu

    async def _receive(self, unit: int, deadline: float) -> tuple[bytes, ModbusPDU]:
        buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._quiet_since = time.monotonic()
                self._count(unit, "timeouts")
                raise ReplyTimeout(f"unit {unit}: no reply" + (f" ({len(buf)} bytes)" if buf else ""))
            try:
                chunk = await self.transport.read(256, remaining)
            except (OSError, EOFError) as e:
                raise LineDown(str(e) or type(e).__name__) from e
            if not chunk:
                continue
            buf += chunk
            used, dev_id, _tid, data = self._framer.decode(buf)
            if not used:
                continue  # not complete yet
            self._quiet_since = time.monotonic()
            pdu = self._framer.decoder.decode(data) if data else None
            if not data or dev_id != unit or pdu is None:
                # Garbled: let the rest of it pass so it cannot be taken for the next reply.
                await self._drain()
                self._count(unit, "crc_errors")
                why = "bad CRC" if not data else f"reply from unit {dev_id}" if dev_id != unit else "bad PDU"
                raise CrcError(f"unit {unit}: {why}")
            return buf, pdu

    async def _drain(self) -> None:
        """Read until the line has been quiet for a few character times."""
        quiet = max(self.timing.silence_s * 2, 0.002)
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                if not await self.transport.read(256, quiet):
                    break
            except (OSError, EOFError) as e:
                raise LineDown(str(e) or type(e).__name__) from e
        self._quiet_since = time.monotonic()

    async def _wait_silence(self) -> None:
        if not self.timing.emulated:
            return
        wait = self._quiet_since + self.timing.silence_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _count(self, unit: int, what: str) -> None:
        setattr(self.line, what, getattr(self.line, what) + 1)
        u = self.unit(unit)
        setattr(u, what, getattr(u, what) + 1)


def frames_wire_time(timing: LineTiming, sizes: Sequence[tuple[int, int]]) -> float:
    """Wire-time lower bound of transactions given as (request bytes, reply bytes; 0 = broadcast)."""
    total = 0.0
    for req, rep in sizes:
        total += timing.wire_s(req) + timing.silence_s
        if rep:
            total += timing.wire_s(rep) + timing.silence_s
    return total
