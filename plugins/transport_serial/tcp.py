"""``socket://host:port``: raw RTU frames over TCP, as a transparent RS-485 converter passes them."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from pydantic import Field

from plugins.transport_serial.stream import ByteStreamProtocol, LineOptions, StreamTransport


class SocketOptions(LineOptions):
    """Options of a TCP converter line."""

    connect_timeout_s: float = Field(3.0, gt=0, le=60, description="Give up connecting after this long.")


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url}: no host (expected scheme://host:port)")
    return parts.hostname, parts.port or default_port


async def connect(
    url: str, default_port: int, timeout_s: float
) -> tuple[asyncio.BaseTransport, ByteStreamProtocol]:
    """A TCP connection to the host and port of ``url``; OSError when none comes within ``timeout_s``."""
    host, port = host_port(url, default_port)
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.create_connection(ByteStreamProtocol, host, port), timeout_s)
    except TimeoutError as e:
        raise OSError(f"{url}: no connection within {timeout_s} s") from e


class SocketTransport(StreamTransport):
    """A TCP connection to a transparent converter; its serial side does the wire timing."""

    Config = SocketOptions
    summary = "RS-485-to-Ethernet converter in transparent mode (socket://host:port)"

    async def open(self) -> None:
        await self.close()
        assert isinstance(self.config, SocketOptions)
        self._attach(*await connect(self.url, 4001, self.config.connect_timeout_s))
