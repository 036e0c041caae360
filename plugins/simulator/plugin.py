"""Hook implementations of the simulator plugin: the ``sim://`` transport and ``cellgate simulate``."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl
from plugins.simulator.cli import SimulateCommand
from plugins.simulator.transport import SimTransport


@hookimpl
def cellgate_register_transports(register: Register) -> None:
    register("sim", SimTransport)


@hookimpl
def cellgate_register_cli_commands(register: Register) -> None:
    register("simulate", SimulateCommand)
