"""``mbtcp://host:port``: an RS-485 gateway that speaks Modbus TCP (MBAP) to us and RTU on its line.

The bus master stays RTU-shaped: each RTU request is re-wrapped in an MBAP header, and the
MBAP reply with the same transaction id is handed back as the RTU frame the device sent.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import Field
from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU

from gateway.core.components import ComponentConfig, GatewayContext
from gateway.core.logging import get_logger
from plugins.transport_serial.stream import ByteStreamProtocol, LineOptions, StreamTransport
from plugins.transport_serial.tcp import connect

log = get_logger("gateway.bus")

MODBUS_TCP_PORT = 502
MBAP_HEADER = 7  # transaction id 2, protocol id 2, length 2, unit id 1
MAX_MBAP_LENGTH = 254  # the length field counts unit id + PDU (at most 253 bytes)
BROADCAST = 0
#: a gateway's "the device did not answer": on the wire that was silence, so we give silence
SILENT_DEVICE_CODES = frozenset({ExcCodes.GATEWAY_PATH_UNAVIABLE, ExcCodes.GATEWAY_NO_RESPONSE})


class MbtcpOptions(LineOptions):
    """Options of a Modbus TCP gateway line."""

    connect_timeout_s: float = Field(3.0, gt=0, le=60, description="Give up connecting after this long.")
    gateway_timeout_s: float = Field(
        1.0,
        ge=0,
        le=10,
        description="The gateway's own response timeout. A gateway serves one request at a time: "
        "before the next request, wait up to this long (from the last request) for the late answer "
        "to one the master gave up on, so that requests do not queue up behind it. 0 = never wait.",
    )


class MbapError(ConnectionError):
    """The TCP stream no longer holds MBAP frames (wrong protocol id or length): reconnect."""


class MbtcpTransport(StreamTransport):
    """RTU frames translated to and from Modbus TCP for a converter in gateway mode."""

    Config = MbtcpOptions
    summary = "RS-485 gateway translating Modbus TCP to RTU (mbtcp://host:port, Moxa MGate, USR)"

    def __init__(self, url: str, config: ComponentConfig, ctx: GatewayContext) -> None:
        super().__init__(url, config, ctx)
        # framers only encode/decode bytes here; the decoder is unused but required
        self._mbap = FramerSocket(DecodePDU(is_server=False))
        self._rtu = FramerRTU(DecodePDU(is_server=False))
        self._last_tid = 0
        self._expected_tid: int | None = None  # the transaction whose reply we are waiting for
        self._sent_at = 0.0  # monotonic time of the last request
        self._reply = bytearray()  # the rebuilt RTU reply, handed out by read()
        #: replies dropped: stale transactions and the gateway's "device silent" exceptions
        self.dropped = 0

    @property
    def char_time_s(self) -> float:
        return 0.0  # TCP carries no wire timing; the gateway keeps the RS-485 silences

    async def open(self) -> None:
        await self.close()
        assert isinstance(self.config, MbtcpOptions)
        self._attach(*await connect(self.url, MODBUS_TCP_PORT, self.config.connect_timeout_s))
        self._expected_tid = None
        self._reply.clear()

    async def write(self, data: bytes) -> None:
        unit, pdu = rtu_request_parts(data)
        self._require()
        if self._expected_tid is not None:
            await self._settle()
        self._last_tid = self._last_tid % 0xFFFF + 1  # 1..65535: never 0, which some gateways echo blindly
        self._expected_tid = None if unit == BROADCAST else self._last_tid
        self._reply.clear()
        aio: Any = self._aio
        aio.write(self._mbap.encode(pdu, unit, self._last_tid))
        self._sent_at = time.monotonic()

    async def read(self, size: int, timeout: float) -> bytes:
        end = time.monotonic() + max(0.0, timeout)
        while True:
            self._take_frames(self._require())
            if self._reply:
                out = bytes(self._reply[:size])
                del self._reply[:size]
                return out
            if not await self._more_data(end):
                return b""

    async def _settle(self) -> None:
        """Let the gateway finish the last transaction (late reply or its 0x0B) before a new one."""
        assert isinstance(self.config, MbtcpOptions)
        end = self._sent_at + self.config.gateway_timeout_s
        while self._expected_tid is not None:
            self._take_frames(self._require())
            if self._expected_tid is None or not await self._more_data(end):
                break
        if self._reply:
            self.dropped += 1  # answered after all, too late for the master
        self._expected_tid = None

    async def _more_data(self, end: float) -> bool:
        """Wait until more bytes arrive (True) or the monotonic time ``end`` passes (False)."""
        remaining = end - time.monotonic()
        if remaining <= 0:
            return False
        proto = self._require()
        proto.arrived.clear()
        try:
            await asyncio.wait_for(proto.arrived.wait(), remaining)
        except TimeoutError:
            return False
        return True

    def reset_input(self) -> None:
        # Only what was rebuilt for the caller: the TCP buffer may hold half an MBAP frame,
        # and dropping that would desynchronise the stream. Stale frames are skipped by tid.
        self._reply.clear()

    def _take_frames(self, proto: ByteStreamProtocol) -> None:
        """Consume every complete MBAP frame received; keep the reply we wait for as RTU bytes."""
        buf = proto.buffer
        while len(buf) >= MBAP_HEADER:
            protocol_id = int.from_bytes(buf[2:4], "big")
            length = int.from_bytes(buf[4:6], "big")
            if protocol_id != 0 or not 2 <= length <= MAX_MBAP_LENGTH:
                raise MbapError(
                    f"{self.url}: not a Modbus TCP reply (protocol {protocol_id}, length {length})"
                )
            used, unit, tid, pdu = self._mbap.decode(bytes(buf[: 6 + length]))
            if not used:
                return  # the rest of this frame is still on its way
            del buf[:used]
            if tid != self._expected_tid:
                self.dropped += 1  # the late reply of a request the master already gave up on
                continue
            self._expected_tid = None
            if pdu[0] & 0x80 and len(pdu) == 2 and pdu[1] in SILENT_DEVICE_CODES:
                self.dropped += 1
                log.debug("gateway reports a silent device", url=self.url, unit=unit, code=pdu[1])
                continue
            self._reply += self._rtu.encode(pdu, unit, 0)


def rtu_request_parts(frame: bytes) -> tuple[int, bytes]:
    """(unit id, PDU) of an RTU request frame after checking its CRC; ValueError if it is not one."""
    if len(frame) < FramerRTU.MIN_SIZE:
        raise ValueError(f"RTU frame too short: {frame.hex()}")
    crc = int.from_bytes(frame[-2:], "big")
    if not FramerRTU.check_CRC(frame[:-2], crc):
        raise ValueError(f"RTU frame with a bad CRC: {frame.hex()}")
    return frame[0], bytes(frame[1:-2])
