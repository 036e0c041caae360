"""The plugin contract: every hook a cellgate plugin may implement, in one place.

Hooks are synchronous and do no I/O: they hand component *classes* to the core, which
validates the YAML against each class's ``Config`` model, creates the instances the file
names, and drives their async ``start()``/``stop()``. Installing a plugin makes a
component type available; naming it in the YAML makes an instance.

Each registration hook receives ``register(name, cls)``; calling it twice with one name,
or with a class of the wrong kind, fails at load time with the plugin's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "cellgate"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[str, type[Any]], None]


@hookspec
def cellgate_register_transports(register: Register) -> None:
    """Register :class:`~gateway.core.components.Transport` classes by URL scheme.

    Fires once, when the plugin manager loads plugins. ``register("socket", SocketTransport)``
    makes ``lines[].url: socket://host:port`` open that class; a bare device path such as
    ``/dev/ttyUSB0`` means scheme ``serial``. The class's ``Config`` validates ``lines[].options``.
    """


@hookspec
def cellgate_register_monitor_drivers(register: Register) -> None:
    """Register :class:`~gateway.core.components.MonitorDriver` classes by model name.

    Fires once at load. ``register("C20", C20Driver)`` makes ``units.model: C20`` valid and
    tells the bus master how to read and command that model.
    """


@hookspec
def cellgate_register_services(register: Register) -> None:
    """Register northbound :class:`~gateway.core.components.Service` classes by ``type``.

    Fires once at load. ``register("snmp", SnmpService)`` makes ``services: [{type: snmp, ...}]``
    valid; the entry is validated by ``SnmpService.Config``. Services are started after the
    engine, in file order, and stopped first, in reverse order.
    """


@hookspec
def cellgate_register_authenticators(register: Register) -> None:
    """Register :class:`~gateway.core.components.Authenticator` classes by ``type``.

    Fires once at load. The ``authenticators:`` list of the YAML is the chain, tried in
    order, that every login (web, API, OPC UA) goes through.
    """


@hookspec
def cellgate_register_alarm_actions(register: Register) -> None:
    """Register :class:`~gateway.core.components.AlarmAction` classes by ``type``.

    Fires once at load. Each ``actions: [{type: ..., on: [...]}]`` entry becomes an instance
    that receives the events it subscribes to (log, mail, command, trap, ...).
    """


@hookspec
def cellgate_register_history_sinks(register: Register) -> None:
    """Register :class:`~gateway.core.components.HistorySink` classes by ``type``.

    Fires once at load. ``history: {type: sqlite}`` (the default) or a third party's
    ``postgres`` sink receives every published snapshot and event.
    """


@hookspec
def cellgate_register_cli_commands(register: Register) -> None:
    """Register :class:`~gateway.core.components.CliCommand` classes as ``cellgate`` subcommands.

    Fires once, when the CLI builds its parser. ``register("simulate", SimulateCommand)``
    adds ``cellgate simulate``. A name that a built-in command already has is an error.
    """


#: every hook above, in the order ``cellgate plugins`` lists them, with the kind it registers
REGISTRATION_HOOKS: dict[str, str] = {
    "cellgate_register_transports": "transport",
    "cellgate_register_monitor_drivers": "monitor",
    "cellgate_register_services": "service",
    "cellgate_register_authenticators": "authenticator",
    "cellgate_register_alarm_actions": "action",
    "cellgate_register_history_sinks": "history",
    "cellgate_register_cli_commands": "cli",
}
