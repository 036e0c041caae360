"""Hook implementations of the web plugin: the ``web`` service (UI and REST API)."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl


@hookimpl
def cellgate_register_services(register: Register) -> None:
    from plugins.web.service import WebService

    register("web", WebService)
