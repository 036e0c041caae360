"""Hook implementations of the actions plugin: log, command and email actions."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_alarm_actions(register: Register) -> None:
    from plugins.actions.command import CommandAction
    from plugins.actions.email import EmailAction
    from plugins.actions.log import LogAction

    register("log", LogAction)
    register("command", CommandAction)
    register("email", EmailAction)
