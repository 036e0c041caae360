"""Hook implementations of the northbound_snmp plugin: the ``snmp`` service and ``cellgate snmp``."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_services(register: Register) -> None:
    from plugins.northbound_snmp.agent import SnmpService

    register("snmp", SnmpService)


@hookimpl
def cellgate_register_cli_commands(register: Register) -> None:
    from plugins.northbound_snmp.cli import SnmpCommand

    register("snmp", SnmpCommand)
