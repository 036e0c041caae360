"""Hook implementations of the transport_serial plugin: serial ports, TCP converters, RFC 2217, MBAP."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl
from plugins.transport_serial.mbtcp import MbtcpTransport
from plugins.transport_serial.rfc2217 import Rfc2217Transport
from plugins.transport_serial.serial_port import SerialTransport
from plugins.transport_serial.tcp import SocketTransport


@hookimpl
def cellgate_register_transports(register: Register) -> None:
    register("serial", SerialTransport)
    register("socket", SocketTransport)
    register("rfc2217", Rfc2217Transport)
    register("mbtcp", MbtcpTransport)
