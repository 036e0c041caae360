"""The byte-stream half every line transport shares: an asyncio protocol buffering what arrives.

``read(size, timeout)`` returns as soon as bytes are there (the RTU layer assembles frames);
``reset_input()`` drops late bytes before a new request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from gateway.core.components import ComponentConfig, GatewayContext, Transport

DEFAULT_BAUD = 19200


class LineOptions(ComponentConfig):
    """Options every line transport accepts."""

    baud: int | None = Field(
        None,
        description="Line speed for timing; by default the line's own `baud:`. Only set it when "
        "a converter's serial side runs at another speed than the line entry says.",
    )


class ByteStreamProtocol(asyncio.Protocol):
    """Collects received bytes; wakes a waiting reader; remembers why the connection ended."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.arrived = asyncio.Event()
        self.closed: BaseException | None = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.arrived.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = exc or ConnectionResetError("connection closed by the other end")
        self.arrived.set()


class StreamTransport(Transport):
    """A transport whose bytes arrive through :class:`ByteStreamProtocol` on the event loop."""

    Config = LineOptions

    def __init__(self, url: str, config: ComponentConfig, ctx: GatewayContext) -> None:
        super().__init__(url, config, ctx)
        #: set by the bus master from ``lines[].baud``; ``Config.baud`` overrides it
        self.line_baud = DEFAULT_BAUD
        self._proto: ByteStreamProtocol | None = None
        self._aio: asyncio.BaseTransport | None = None

    @property
    def baud(self) -> int:
        return int(getattr(self.config, "baud", None) or self.line_baud)

    @property
    def char_time_s(self) -> float:
        return 11.0 / self.baud

    @property
    def is_open(self) -> bool:
        return self._proto is not None and self._proto.closed is None

    def _attach(self, aio: asyncio.BaseTransport, proto: ByteStreamProtocol) -> None:
        self._aio, self._proto = aio, proto

    async def close(self) -> None:
        aio, self._aio, self._proto = self._aio, None, None
        if aio is not None and not aio.is_closing():
            aio.close()
            await asyncio.sleep(0)  # let the loop run connection_lost and release the fd

    def _require(self) -> ByteStreamProtocol:
        proto = self._proto
        if proto is None:
            raise ConnectionError(f"{self.url}: line not open")
        if proto.closed is not None:
            raise ConnectionError(f"{self.url}: {proto.closed}")
        return proto

    async def write(self, data: bytes) -> None:
        self._require()
        aio: Any = self._aio
        aio.write(data)

    async def read(self, size: int, timeout: float) -> bytes:
        proto = self._require()
        if not proto.buffer:
            proto.arrived.clear()
            try:
                await asyncio.wait_for(proto.arrived.wait(), max(0.0, timeout))
            except TimeoutError:
                return b""
            if not proto.buffer:
                self._require()  # closed while waiting: raise
                return b""
        out = bytes(proto.buffer[:size])
        del proto.buffer[:size]
        return out

    def reset_input(self) -> None:
        if self._proto is not None:
            self._proto.buffer.clear()
