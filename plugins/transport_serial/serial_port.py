"""Local serial ports (``/dev/ttyUSB0``, ``serial:///dev/ttyS1``, a pty): pyserial-asyncio-fast.

Parity, stop bits and the kernel's RS-485 mode (RTS drives the transceiver) are options.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import serial
import serial.rs485
from pydantic import Field
from serial_asyncio_fast import connection_for_serial

from plugins.transport_serial.stream import ByteStreamProtocol, LineOptions, StreamTransport


class SerialOptions(LineOptions):
    """Options of a local serial port."""

    parity: Literal["N", "E", "O"] = Field("N", description="Parity: N (the monitors' 8N1), E or O.")
    stopbits: Literal[1, 2] = Field(1, description="Stop bits: 1 (8N1) or 2.")
    rs485: bool = Field(
        False,
        description="Switch the port into the kernel's RS-485 mode (RTS drives the driver enable). "
        "Only for adapters that need it; most USB adapters switch direction themselves.",
    )
    rts_level_for_tx: bool = Field(True, description="RS-485 mode: RTS level while transmitting.")
    rts_level_for_rx: bool = Field(False, description="RS-485 mode: RTS level while receiving.")
    delay_before_tx_s: float = Field(0.0, ge=0, le=0.1, description="RS-485 mode: delay after raising RTS.")
    delay_before_rx_s: float = Field(0.0, ge=0, le=0.1, description="RS-485 mode: delay before dropping RTS.")


def device_of(url: str) -> str:
    """``serial:///dev/ttyUSB0`` → ``/dev/ttyUSB0``; a bare path stays as it is."""
    return url[len("serial://") :] if url.startswith("serial://") else url


class SerialTransport(StreamTransport):
    """A serial device path, opened 8N1 (or as configured) at the line's baud."""

    Config = SerialOptions
    summary = "local serial port or pty (/dev/ttyUSB0), optional kernel RS-485 mode"

    async def open(self) -> None:
        await self.close()
        opts = self.config
        assert isinstance(opts, SerialOptions)
        port = serial.Serial()
        port.port = device_of(self.url)
        port.baudrate = self.baud
        port.bytesize = serial.EIGHTBITS
        port.parity = opts.parity
        port.stopbits = opts.stopbits
        port.timeout = 0
        if opts.rs485:
            port.rs485_mode = serial.rs485.RS485Settings(
                rts_level_for_tx=opts.rts_level_for_tx,
                rts_level_for_rx=opts.rts_level_for_rx,
                delay_before_tx=opts.delay_before_tx_s or None,
                delay_before_rx=opts.delay_before_rx_s or None,
            )
        try:
            port.open()  # a tty opens at once: no executor thread needed
        except serial.SerialException as e:
            raise OSError(f"{self.url}: {e}") from e
        aio, proto = await connection_for_serial(asyncio.get_running_loop(), ByteStreamProtocol, port)
        assert isinstance(proto, ByteStreamProtocol)
        self._attach(aio, proto)
