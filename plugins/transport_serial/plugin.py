"""Hook implementations of the transport_serial plugin: serial ports, TCP converters, RFC 2217."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl
from plugins.transport_serial.rfc2217 import Rfc2217Transport
from plugins.transport_serial.serial_port import SerialTransport
from plugins.transport_serial.tcp import SocketTransport


@hookimpl
def cellgate_register_transports(register: Register) -> None:
    register("serial", SerialTransport)
    register("socket", SocketTransport)
    register("rfc2217", Rfc2217Transport)
