"""Hook implementations of the northbound_modbus plugin: the ``modbus`` service and ``cellgate modbus``."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_services(register: Register) -> None:
    from plugins.northbound_modbus.service import ModbusService

    register("modbus", ModbusService)


@hookimpl
def cellgate_register_cli_commands(register: Register) -> None:
    from plugins.northbound_modbus.cli import ModbusCommand

    register("modbus", ModbusCommand)
