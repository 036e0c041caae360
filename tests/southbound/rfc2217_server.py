"""A minimal RFC 2217 server for tests: pyserial's PortManager in front of a TCP serial line.

The "serial port" it controls is the simulator's TCP line; port settings the client sends
are recorded (and checked by the test) rather than applied.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from serial.rfc2217 import PortManager


class _PortSettings:
    """What PortManager reads and sets on a serial port; modem lines idle."""

    def __init__(self) -> None:
        self.baudrate, self.bytesize, self.parity, self.stopbits = 9600, 8, "N", 1
        self.rts = self.dtr = self.break_condition = False
        self.cts = self.dsr = self.ri = self.cd = False

    def reset_input_buffer(self) -> None:
        pass

    def reset_output_buffer(self) -> None:
        pass


class _ToClient:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def write(self, data: bytes) -> None:
        self.writer.write(data)


class Rfc2217Server:
    """Accepts RFC 2217 clients on 127.0.0.1 and bridges their data to ``(host, port)``."""

    def __init__(self, line_host: str, line_port: int) -> None:
        self.line = (line_host, line_port)
        self.settings = _PortSettings()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._tasks):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self._server is not None:
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        line_r, line_w = await asyncio.open_connection(*self.line)
        manager = PortManager(self.settings, _ToClient(writer))
        pump = asyncio.create_task(self._line_to_client(line_r, writer, manager))
        try:
            while data := await reader.read(1024):
                line_w.write(b"".join(manager.filter(data)))
                await line_w.drain()
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            for w in (line_w, writer):
                w.close()
                with contextlib.suppress(OSError, asyncio.CancelledError):
                    await w.wait_closed()
            self._tasks.discard(task)

    @staticmethod
    async def _line_to_client(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, manager: PortManager
    ) -> None:
        while data := await reader.read(1024):
            writer.write(b"".join(manager.escape(data)))
            await writer.drain()
