"""``rfc2217://host:port``: a serial port served over Telnet with RFC 2217 port control (ser2net, converters).

pyserial's RFC 2217 client is blocking with its own reader thread; its calls run in
worker threads here so the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any, Literal

import serial
from pydantic import Field

from gateway.core.components import ComponentConfig, GatewayContext, Transport
from plugins.transport_serial.stream import DEFAULT_BAUD, LineOptions

POLL_S = 0.0005  # how often a waiting read looks at the receive queue (in its worker thread)


class Rfc2217Options(LineOptions):
    """Options of an RFC 2217 line: the server sets its serial port as told."""

    parity: Literal["N", "E", "O"] = Field("N", description="Parity the server's port is set to.")
    stopbits: Literal[1, 2] = Field(1, description="Stop bits the server's port is set to.")
    connect_timeout_s: float = Field(5.0, gt=0, le=60, description="Give up negotiating after this long.")


class Rfc2217Transport(Transport):
    """A remote serial port over RFC 2217 (pyserial's client)."""

    Config = Rfc2217Options
    summary = "remote serial port over RFC 2217 (rfc2217://host:port)"

    def __init__(self, url: str, config: ComponentConfig, ctx: GatewayContext) -> None:
        super().__init__(url, config, ctx)
        self.line_baud = DEFAULT_BAUD
        self._port: Any = None

    @property
    def baud(self) -> int:
        return int(getattr(self.config, "baud", None) or self.line_baud)

    @property
    def char_time_s(self) -> float:
        return 11.0 / self.baud

    async def open(self) -> None:
        await self.close()
        opts = self.config
        assert isinstance(opts, Rfc2217Options)

        def connect() -> Any:
            url = self.url if "?" in self.url else f"{self.url}?timeout={opts.connect_timeout_s}"
            with warnings.catch_warnings():
                # pyserial 3.5 names its reader thread with deprecated setName()/setDaemon(): harmless
                warnings.filterwarnings("ignore", r"set(Daemon|Name)\(\) is deprecated", DeprecationWarning)
                return serial.serial_for_url(
                    url, baudrate=self.baud, parity=opts.parity, stopbits=opts.stopbits, timeout=0
                )

        try:
            self._port = await asyncio.to_thread(connect)
        except (serial.SerialException, ValueError) as e:
            raise OSError(f"{self.url}: {e}") from e

    async def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            await asyncio.to_thread(port.close)

    def _require(self) -> Any:
        if self._port is None or not self._port.is_open:
            raise ConnectionError(f"{self.url}: line not open")
        return self._port

    async def write(self, data: bytes) -> None:
        port = self._require()
        try:
            await asyncio.to_thread(port.write, data)
        except serial.SerialException as e:
            raise ConnectionError(f"{self.url}: {e}") from e

    async def read(self, size: int, timeout: float) -> bytes:
        port = self._require()

        def read_some() -> bytes:
            # Polls the client's receive queue: changing port.timeout would renegotiate the
            # remote port's settings (a blocking round trip) on every read.
            end = time.monotonic() + max(0.0, timeout)
            while True:
                waiting = port.in_waiting
                if waiting:
                    return bytes(port.read(min(waiting, size)))
                if time.monotonic() >= end:
                    return b""
                time.sleep(POLL_S)

        try:
            return await asyncio.to_thread(read_some)
        except serial.SerialException as e:
            raise ConnectionError(f"{self.url}: {e}") from e

    def reset_input(self) -> None:
        # Not reset_input_buffer(): over RFC 2217 that is a PURGE round trip the caller would
        # block on. Dropping what has arrived locally is what a new request needs.
        port = self._port
        if port is not None and port.is_open and port.in_waiting:
            port.read(port.in_waiting)
