"""A multi-drop RS-485 line of simulated devices: RTU frames in, RTU frames out.

The bus decides which device takes a request and stays silent for ids nobody holds
(pymodbus's server would answer exception 04 instead). It injects line faults (CRC
errors, dropped replies, garbage, an unplugged line) and computes the emulated line
timing (wire time per frame at the baud, inter-frame silence, device latency).
Framing and CRC come from pymodbus; no CRC is computed here.
"""

from __future__ import annotations

import asyncio
import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsResponse,
    ReadDiscreteInputsResponse,
    WriteMultipleCoilsResponse,
    WriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from plugins.simulator import models as m
from plugins.simulator.devices import Device, DeviceException

if TYPE_CHECKING:
    from collections.abc import Callable

BAUD_CHOICES = m.BAUD_RATES
BITS_PER_CHAR = 10  # 8N1: start, 8 data, stop (the datasheet's deliberate choice)
DEFAULT_LATENCY_S = 0.003  # datasheet: a reply starts "typically the silence + 2–5 ms"


def char_time_s(baud: int) -> float:
    return BITS_PER_CHAR / baud


def wire_time_s(n_bytes: int, baud: int) -> float:
    """Time ``n_bytes`` take on the wire at ``baud`` (8N1)."""
    return n_bytes * char_time_s(baud)


def interframe_silence_s(baud: int) -> float:
    """3.5 character times up to 19200 baud, a fixed 1.75 ms above (Modbus serial line spec)."""
    return 3.5 * char_time_s(baud) if baud <= 19200 else 0.00175


def reply_delay_s(request_len: int, reply_len: int, baud: int, latency_s: float = DEFAULT_LATENCY_S) -> float:
    """From the master handing a request to the line until the reply's last byte has arrived."""
    return (
        wire_time_s(request_len, baud) + interframe_silence_s(baud) + latency_s + wire_time_s(reply_len, baud)
    )


async def sleep_until(when: float) -> None:
    """Sleep to the event loop time ``when`` to within ~0.1 ms.

    The selector's timeout has millisecond granularity (epoll), which alone would add up to a
    millisecond to every emulated frame; the last stretch is spent yielding to the loop instead.
    """
    loop = asyncio.get_running_loop()
    if when - loop.time() > 0.0015:
        await asyncio.sleep(when - loop.time() - 0.0015)
    while loop.time() < when:  # noqa: ASYNC110 - a deadline, not an event: nothing to wait on
        await asyncio.sleep(0)


@dataclass
class BusFaults:
    """Line faults; rates are probabilities per reply."""

    crc_error_rate: float = 0.0
    drop_rate: float = 0.0
    garbage_rate: float = 0.0
    unplugged_until: float = -math.inf  # simulated time; requests vanish until then


@dataclass
class BusStats:
    requests: int = 0
    replies: int = 0
    broadcasts: int = 0
    unanswered: int = 0  # no device holds that id: silence
    bad_frames: int = 0  # requests that failed CRC or could not be framed
    collisions: int = 0  # two devices answered at once (e.g. two at 247)
    dropped: int = 0
    corrupted: int = 0
    garbage: int = 0
    lost_unplugged: int = 0


@dataclass
class Reply:
    """Bytes the line carries back, and when (seconds after the request was handed over)."""

    data: bytes
    delay_s: float


@dataclass
class SimBus:
    """One RS-485 line with its devices; ``clock_now`` gives simulated time."""

    name: str
    clock_now: Callable[[], float]
    baud: int = 19200
    latency_s: float = DEFAULT_LATENCY_S
    devices: list[Device] = field(default_factory=list)
    faults: BusFaults = field(default_factory=BusFaults)
    seed: int = 0
    before_request: Callable[[float], None] | None = None  # the world catches up with time here
    stats: BusStats = field(default_factory=BusStats)

    def __post_init__(self) -> None:
        self.decoder = DecodePDU(is_server=True)
        self.framer = FramerRTU(self.decoder)  # builds replies (CRC from pymodbus)
        self.rng = np.random.default_rng([self.seed, 4855])
        self._buffer = b""

    # ------------------------------------------------------------------ byte stream
    @property
    def has_partial_frame(self) -> bool:
        """Bytes wait for the rest of their frame (or for the line's silence)."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[Reply]:
        """Bytes from the master; returns the replies to every complete request in them."""
        self._buffer += data
        replies: list[Reply] = []
        while len(self._buffer) >= 4:
            pdu_class = self.decoder.lookupPduClass(self._buffer)
            if pdu_class is None:
                break  # a function pymodbus cannot size: the frame ends at the line's silence (flush)
            # pymodbus's framer assumes one frame per read; a line may carry several back to back
            size = pdu_class.calculateRtuFrameSize(self._buffer)
            if not size or len(self._buffer) < size:
                break  # wait for more bytes
            frame = self._buffer[:size]
            if not FramerRTU.check_CRC(frame[:-2], int.from_bytes(frame[-2:], "big")):
                self.stats.bad_frames += 1
                self._buffer = b""  # noise: everything up to the next silence is lost
                break
            self._buffer = self._buffer[size:]
            reply = self.process(frame[0], frame[1:-2], size)
            if reply is not None:
                replies.append(reply)
        return replies

    def flush(self) -> list[Reply]:
        """The line fell silent: what is left in the buffer is one frame (or noise)."""
        data, self._buffer = self._buffer, b""
        if len(data) < 4:
            if data:
                self.stats.bad_frames += 1
            return []
        if not FramerRTU.check_CRC(data[:-2], int.from_bytes(data[-2:], "big")):
            self.stats.bad_frames += 1
            return []
        reply = self.process(data[0], data[1:-2], len(data))
        return [reply] if reply is not None else []

    def request(self, frame: bytes) -> list[Reply]:
        """One whole request frame, as a master sends it (then the line falls silent)."""
        return self.feed(frame) + self.flush()

    # ------------------------------------------------------------------ requests
    def process(self, dev_id: int, pdu: bytes, request_len: int) -> Reply | None:
        """Run one request on the devices; ``pdu`` is function code + data (no id, no CRC)."""
        now = self.clock_now()
        if self.before_request is not None:
            self.before_request(now)  # physics and scenario events (which may unplug the line) first
        if now < self.faults.unplugged_until:
            self.stats.lost_unplugged += 1
            return None
        self.stats.requests += 1
        if dev_id == m.BROADCAST_ID:
            self.stats.broadcasts += 1
            for device in self.devices:
                if device.hears_broadcast(now) and device.baud == self.baud:
                    self._run(device, pdu, now, broadcast=True)
            return None
        responders = [d for d in self.devices if d.answers_at(dev_id, now) and d.baud == self.baud]
        if not responders:
            self.stats.unanswered += 1
            return None  # a multi-drop slave never answers for another id
        frames = []
        for device in responders:
            response = self._run(device, pdu, now, broadcast=False)
            response.dev_id = dev_id
            frames.append(self.framer.buildFrame(response))
            device.after_reply(now)
        data = frames[0]
        if len(frames) > 1:
            # two drivers on the line at once: the master sees a wired mix that fails its CRC
            self.stats.collisions += 1
            data = bytes(a | b for a, b in zip(frames[0], frames[1], strict=False))
            data += b"".join(f[len(data) :] for f in frames[1:])
        return self._deliver(data, request_len)

    def _deliver(self, data: bytes, request_len: int) -> Reply | None:
        f = self.faults
        if f.drop_rate and self.rng.random() < f.drop_rate:
            self.stats.dropped += 1
            return None
        if f.crc_error_rate and self.rng.random() < f.crc_error_rate:
            self.stats.corrupted += 1
            pos = int(self.rng.integers(1, len(data)))
            data = data[:pos] + bytes([data[pos] ^ (1 << int(self.rng.integers(0, 8)))]) + data[pos + 1 :]
        if f.garbage_rate and self.rng.random() < f.garbage_rate:
            self.stats.garbage += 1
            noise = self.rng.integers(0, 256, int(self.rng.integers(1, 6)), dtype=np.uint8).tobytes()
            data = noise + data if self.rng.random() < 0.5 else data + noise
        self.stats.replies += 1
        return Reply(data, reply_delay_s(request_len, len(data), self.baud, self.latency_s))

    def _run(self, device: Device, pdu: bytes, now: float, *, broadcast: bool) -> ModbusPDU:
        fc = pdu[0]
        try:
            if fc not in device.functions:
                raise DeviceException(m.ILLEGAL_FUNCTION)
            request = self.decoder.decode(pdu)
            if request is None:
                raise DeviceException(m.ILLEGAL_VALUE)  # e.g. a quantity of 0 or above the maximum
            return self._dispatch(device, fc, request, pdu, now, broadcast)
        except DeviceException as e:
            return ExceptionResponse(fc, e.code)
        except (struct.error, IndexError, ValueError):
            return ExceptionResponse(fc, m.ILLEGAL_VALUE)

    def _dispatch(
        self, device: Device, fc: int, req: ModbusPDU, pdu: bytes, now: float, broadcast: bool
    ) -> ModbusPDU:
        if broadcast and fc not in (6, 16):
            return ExceptionResponse(fc, 0)  # broadcast reads are meaningless; never sent anyway
        if fc in (3, 4):
            regs = device.read("holding" if fc == 3 else "input", req.address, req.count, now)
            cls = ReadHoldingRegistersResponse if fc == 3 else ReadInputRegistersResponse
            return cls(registers=regs)
        if fc in (1, 2):
            bits = device.read_bits("coil" if fc == 1 else "discrete", req.address, req.count, now)
            cls_b = ReadCoilsResponse if fc == 1 else ReadDiscreteInputsResponse
            return cls_b(bits=bits)
        if fc == 5:
            raw = int.from_bytes(pdu[3:5], "big")
            if raw not in (0x0000, 0xFF00):
                raise DeviceException(m.ILLEGAL_VALUE)
            device.write_bits(req.address, [raw == 0xFF00], now)
            return WriteSingleCoilResponse(address=req.address, bits=[raw == 0xFF00])
        if fc == 6:
            device.write(req.address, list(req.registers), now, broadcast=broadcast)
            return WriteSingleRegisterResponse(address=req.address, registers=list(req.registers))
        if fc == 15:
            if req.byte_count != (req.count + 7) // 8 or req.data_byte_count != req.byte_count:
                raise DeviceException(m.ILLEGAL_VALUE)
            device.write_bits(req.address, list(req.bits), now)
            return WriteMultipleCoilsResponse(address=req.address, count=req.count)
        if fc == 16:
            if (
                not 1 <= req.count <= 123
                or req.byte_count != 2 * req.count
                or len(req.registers) != req.count
            ):
                raise DeviceException(m.ILLEGAL_VALUE)
            device.write(req.address, list(req.registers), now, broadcast=broadcast)
            return WriteMultipleRegistersResponse(address=req.address, count=req.count)
        raise DeviceException(m.ILLEGAL_FUNCTION)
