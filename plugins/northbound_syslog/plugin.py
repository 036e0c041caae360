"""Hook implementations of the northbound_syslog plugin: the ``syslog`` service."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_services(register: Register) -> None:
    from plugins.northbound_syslog.service import SyslogService

    register("syslog", SyslogService)
